"""A number as a table cell of a page: "—" when missing, the page's decimal mark (render/numbers.py),
plain "-" so that a column still sorts. The templates' number filters and the tables built in Python
(render/views.py) both write cells through these."""

from __future__ import annotations

from reportgen.render import numbers


def number(value, language: str, digits: int = 3) -> str:
    if value is None:
        return numbers.MISSING
    if isinstance(value, int):
        return str(value)
    return numbers.in_table(numbers.number(value, language, digits))


def signed(value, language: str, digits: int = 3) -> str:
    """A difference of two numbers, with its sign."""
    if value is None:
        return numbers.MISSING
    return ("+" if round(value, digits) >= 0 else "") + number(value + 0.0, language, digits)


def percent(value, language: str, digits: int = 1) -> str:
    return numbers.MISSING if value is None else numbers.in_table(numbers.percent(value, language, digits))


def points(value, language: str, digits: int = 1) -> str:
    """A difference of two fractions, in percentage points with its sign."""
    return numbers.MISSING if value is None else numbers.in_table(
        numbers.points(value, language, sign=True, digits=digits))

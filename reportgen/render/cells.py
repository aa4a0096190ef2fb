"""A number as a table cell of a page: "—" when missing, otherwise as render/numbers.py writes it (the
page's decimal mark, the one minus sign "−", which the site's table sorting reads). The templates'
number filters and the tables built in Python (render/views.py) both write cells through these."""

from __future__ import annotations

from reportgen.render import numbers


def number(value, language: str, digits: int = 3) -> str:
    if value is None:
        return numbers.MISSING
    if isinstance(value, int):
        return str(value)
    return numbers.number(value, language, digits)


def signed(value, language: str, digits: int = 3) -> str:
    """A difference of two numbers, with its sign."""
    return numbers.MISSING if value is None else numbers.signed(value, language, digits)


def percent(value, language: str, digits: int = 1) -> str:
    return numbers.MISSING if value is None else numbers.percent(value, language, digits)


def points(value, language: str, digits: int = 1) -> str:
    """A difference of two fractions, in percentage points with its sign."""
    return numbers.MISSING if value is None else numbers.points(value, language, sign=True, digits=digits)


def metric(value, name: str | None, language: str) -> str:
    """One of the practice's numbers in the one form its quantity reads everywhere (numbers.QUANTITIES);
    any other number as `number` writes it."""
    if value is None or name not in numbers.QUANTITIES:
        return number(value, language)
    return numbers.value(name, value, language)


def difference(after, before, name: str, language: str) -> str:
    """after − before of a metric, computed from the two values as shown beside it."""
    if after is None or before is None:
        return numbers.MISSING
    return numbers.difference(name, after, before, language)


def duration(seconds, language: str) -> str:
    """A measured time: "< 1 s", "67 s", "9,0 min" (the page's decimal mark)."""
    if seconds is None:
        return numbers.MISSING
    seconds = float(seconds)
    if round(seconds) < 1:  # 0.5 rounds to 0: still "< 1 s", never "0 s"
        return "< 1 s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return numbers.number(seconds / 60, language, 1) + " min"

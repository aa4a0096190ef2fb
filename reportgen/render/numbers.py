"""How a number reads on a page, decided in one place: the decimal mark and the spacing of "%"
follow the page's language; sentences use the minus sign (−), tables plain "-" so that a column
still sorts as numbers (tablesort reads ASCII signs only)."""

from __future__ import annotations

MINUS = "\u2212"
MISSING = "—"


def number(value: float, language: str, digits: int = 1) -> str:
    text = f"{value:.{digits}f}".replace("-", MINUS)
    return text.replace(".", ",") if language == "es" else text


def general(value: float, language: str) -> str:
    """A setting as written (0.001, 1e-05, 0.5), with the language's decimal mark."""
    text = f"{value:g}"
    return text.replace(".", ",") if language == "es" else text


def percent(fraction: float, language: str, digits: int = 1) -> str:
    """A fraction (0.873) as a percentage ("87,3 %" in Spanish, "87.3%" in English)."""
    return number(100 * fraction, language, digits) + (" %" if language == "es" else "%")


def points(fraction: float, language: str, sign: bool = False, digits: int = 1) -> str:
    """A difference of two fractions in percentage points, with its sign when asked."""
    value = round(100 * fraction, digits) + 0.0  # + 0.0: no "-0.0"
    text = number(value, language, digits)
    return ("+" + text if sign and value >= 0 else text) + " pp"


def in_table(text: str) -> str:
    """A formatted number as a sortable table cell."""
    return text.replace(MINUS, "-")

"""How a number reads on a page, decided in one place.

The language's strings file says how (its `numbers:` section: decimal mark, thousands separator,
"87,3 %" or "87.3%"); every number is written with one minus sign, "−" (U+2212), in sentences,
tables and cards alike (the site's table sorting reads it, docs/javascripts/site.js).

One quantity, one form: `QUANTITIES` says how each of the practice's metrics reads (a percentage
with one decimal, or a plain number with three; the headline metrics as the contract's
`SeedMetrics` fields declare), and a difference shown next to two values is
the difference of the values as shown (`shown_difference`), so 53,2 % and 35,8 % read −17,4 pp,
never the −17,5 pp of the unrounded means.
"""

from __future__ import annotations

from reportgen.facts import PERCENT, PLAIN, headline_metrics
from reportgen.render.strings import strings

MINUS = "\u2212"
MISSING = "—"

# metric -> (form, digits): how the practice's numbers read wherever they are shown.
QUANTITIES = {
    **{name: (shown["form"], shown["digits"]) for name, shown in headline_metrics().items()},
    "pointing_game": (PERCENT, 1), "energy_in_mask": (PERCENT, 1),  # the explanation checks
}
DEFAULT_QUANTITY = (PLAIN, 3)  # a notebook's own metric: as recorded, three decimals


def formats(language: str) -> dict:
    """The language's number formats (its strings file's `numbers:` section)."""
    return strings(language)["numbers"]


def number(value: float, language: str, digits: int = 1) -> str:
    """A number rounded to `digits`, with the language's decimal mark and thousands separator."""
    found = formats(language)
    value = round(float(value), digits) + 0.0  # + 0.0: no "−0,0"
    text = f"{abs(value):,.{digits}f}".translate({ord(","): found.get("thousands", ""), ord("."): found["decimal"]})
    return (MINUS if value < 0 else "") + text


def general(value: float, language: str) -> str:
    """A setting as written (0.001, 1e-05, 0.5), with the language's decimal mark."""
    return f"{value:g}".replace("-", MINUS).replace(".", formats(language)["decimal"])


def percent(fraction: float, language: str, digits: int = 1) -> str:
    """A fraction (0.873) as a percentage ("87,3 %" in Spanish, "87.3%" in English)."""
    return formats(language)["percent"].format(value=number(100 * fraction, language, digits))


def points(fraction: float, language: str, sign: bool = False, digits: int = 1) -> str:
    """A difference of two fractions in percentage points, with its sign when asked."""
    return formats(language)["points"].format(value=signed(100 * fraction, language, digits) if sign
                                              else number(100 * fraction, language, digits))


def signed(value: float, language: str, digits: int = 3) -> str:
    """A difference, always with its sign ("+0,048", "−0,048", "+0,000")."""
    text = number(value, language, digits)
    return text if text.startswith(MINUS) else "+" + text


# ------------------------------------------------------------------ one quantity, one form

def quantity(metric: str) -> tuple[str, int]:
    return QUANTITIES.get(metric, DEFAULT_QUANTITY)


def value(metric: str, x: float, language: str) -> str:
    """One of the practice's numbers as it reads everywhere (table, card, sentence, comparison)."""
    form, digits = quantity(metric)
    return percent(x, language, digits) if form == PERCENT else number(x, language, digits)


def rounded(metric: str, x: float) -> float:
    """The metric's value as shown, as a fraction (0.8846 -> 0.885 for a percentage with one decimal)."""
    form, digits = quantity(metric)
    return round(100 * x, digits) / 100 if form == PERCENT else round(x, digits)


def shown_difference(metric: str, after: float, before: float) -> float:
    """after − before as the reader would compute it from the two values shown."""
    form, digits = quantity(metric)
    scale = 100 if form == PERCENT else 1
    return round(round(scale * after, digits) - round(scale * before, digits), digits) / scale


def difference(metric: str, after: float, before: float, language: str) -> str:
    """The difference of two shown values, with its sign: "−17,4 pp" for percentages, "+0,048" otherwise."""
    return delta(metric, shown_difference(metric, after, before), language)


def delta(metric: str, x: float, language: str) -> str:
    """A difference of the metric with its sign, in its unit (points for a percentage)."""
    form, digits = quantity(metric)
    return points(x, language, sign=True, digits=digits) if form == PERCENT else signed(x, language, digits)


def bound(metric: str, x: float, language: str) -> str:
    """An interval bound of a difference of the metric, in its unit, without a forced sign."""
    form, digits = quantity(metric)
    return points(x, language, digits=digits) if form == PERCENT else number(x, language, digits)


def distinct(low: float, high: float, language: str, digits: int) -> tuple[str, str]:
    """Two bounds with `digits`, or a digit more (up to two) where those would show a zero-width
    interval ("[13,3; 13,3]")."""
    for extra in range(3):
        shown = number(low, language, digits + extra), number(high, language, digits + extra)
        if shown[0] != shown[1]:
            break
    return shown


def bounds(metric: str, low: float, high: float, language: str) -> tuple[str, str]:
    """An interval's two bounds in the metric's unit (points for a percentage), never zero-width as shown."""
    form, digits = quantity(metric)
    if form == PERCENT:
        return tuple(formats(language)["points"].format(value=x) for x in distinct(100 * low, 100 * high, language, digits))
    return distinct(low, high, language, digits)

"""Every number a built page shows, read back and checked against what the run recorded.

`page_problems(html, language, recorded)` reads the numbers of a page in its language (decimal
mark and units from the language's strings file) and returns what is wrong with them, one line each:

- a number that is no recorded value (nor a mean, extreme or spread of recorded values, nor a
  number the page's method or words fix) rounded to the digits shown;
- a difference that is not the difference of the two values shown before it (in a table's
  difference column, or a signed number / points after "difference" in a sentence);
- an interval whose bounds read the same (zero width as shown);
- an ASCII "-" as a minus sign (the pages write "−"), or a decimal mark of the other language.

`recorded_numbers(run)` gathers what a number may be: every number in the run's JSON files, the
means, extremes and spreads of their lists, and what the page computes from them at render time
(the comparisons' intervals and the explanation checks' bootstrap intervals).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np

from reportgen.render.strings import strings

MINUS = "\u2212"
TOLERANCE = 0.5 + 1e-6  # of the last digit shown: x shown with d digits is within half of 10^-d of a value
DATES = re.compile(r"\d{4}-\d{2}-\d{2}(T[\d:.+]+)?")


@dataclass(frozen=True)
class Number:
    """One number as shown: its value in the unit shown, its digits and what it is next to."""

    text: str
    value: float
    digits: int
    unit: str  # "percent", "points" (pp or the explanations' points) or ""
    signed: bool  # written with "+" or a minus
    start: int
    in_brackets: bool = False  # an interval bound
    spread: bool = False  # after "±"
    level: bool = False  # the confidence level of an interval ("IC 95 % [", "95% CI [")


def _formats(language: str) -> dict:
    words = strings(language)
    found = words["numbers"]
    percent = found["percent"].replace("{value}", "")
    points = found["points"].replace("{value}", "")
    explained = words["explanations"]["interval"].split("{mean}", 1)[1].split(",", 1)[0]
    return {"decimal": found["decimal"], "percent": percent, "points": [points, explained],
            "difference": words["page"]["diferencia"].lower()}


def numbers_in(text: str, language: str) -> list[Number]:
    """The numbers of a text in the page's language, in order (dates left out)."""
    f = _formats(language)
    text = DATES.sub(lambda m: " " * len(m.group()), text)
    units = "|".join(re.escape(u) for u in [*f["points"], f["percent"]] if u.strip())
    pattern = re.compile(rf"(?<![\w.,\u2212+-])(?P<sign>[+\u2212-](?=\d))?(?<![\w.,])(?P<int>\d+)"
                         rf"(?:{re.escape(f['decimal'])}(?P<frac>\d+))?(?![\w])(?![.,]\d)(?P<unit>{units})?")
    found = []
    for match in pattern.finditer(text):
        sign, frac, unit = match["sign"] or "", match["frac"] or "", match["unit"] or ""
        value = float(f"{match['int']}.{frac or 0}") * (-1 if sign in ("-", MINUS) else 1)
        kind = "percent" if unit and unit == f["percent"] else ("points" if unit else "")
        before, after = text[:match.start()], text[match.end():]
        found.append(Number(match.group(), value, len(frac), kind, bool(sign), match.start(),
                            in_brackets=before.rfind("[") > before.rfind("]"),
                            spread=before.rstrip().endswith("±"),
                            level=bool(re.match(r"\s*(\[|CI\b)", after))))
    return found


def format_problems(text: str, language: str) -> list[str]:
    """An ASCII minus before a number, or the other language's decimal mark between digits."""
    problems = [f"ASCII minus in {text[max(0, m.start() - 30):m.end() + 10]!r}"
                for m in re.finditer(r"(?:^|(?<=[\s(\[;:|]))-\d", DATES.sub(" ", text))]
    other = "." if _formats(language)["decimal"] == "," else ","
    problems += [f"decimal mark {other!r} in a {language} page: {text[max(0, m.start() - 30):m.end() + 10]!r}"
                 for m in re.finditer(rf"(?<![\w.]){'[0-9]+'}{re.escape(other)}\d+(?![.\d])", DATES.sub(" ", text))
                 if other == "." or not re.search(r"\d,\d{3}(?!\d)", m.group())]
    return problems


def matches(number: Number, recorded: np.ndarray) -> bool:
    """Whether some recorded value, rounded to the digits shown, reads as the number (a percentage
    or points read as 100 times a fraction, or as themselves)."""
    half = TOLERANCE * 10.0 ** -number.digits
    value = abs(number.value)
    return bool(np.any(np.abs(np.abs(recorded) - value) <= half) or np.any(np.abs(100 * np.abs(recorded) - value) <= half))


def _shown_difference(first: Number, second: Number) -> float:
    return round(second.value - first.value, max(first.digits, second.digits))


def difference_problem(difference: Number, values: list[Number], order: str) -> str | None:
    """A difference against the two values shown before it: `order` "after-before" (tables, the
    verdicts: the second minus the first) or "either" (the explanations: the first minus the second)."""
    if len(values) < 2:
        return None
    first, second = values[-2], values[-1]
    wanted = _shown_difference(first, second)
    allowed = [wanted] if order == "after-before" else [wanted, -wanted]
    digits = difference.digits
    if any(abs(round(w, digits) - difference.value) <= TOLERANCE * 10.0 ** -digits for w in allowed):
        return None
    return f"{difference.text} is not the difference of {first.text} and {second.text}"


def _is_difference(number: Number, text: str, language: str) -> bool:
    """A signed number outside an interval, or points named a difference just before them."""
    if number.in_brackets or number.level or number.spread:
        return False
    if number.signed:
        return True
    return number.unit == "points" and _formats(language)["difference"] in text[max(0, number.start - 40):number.start].lower()


def block_problems(text: str, language: str, recorded: np.ndarray, difference_column: int | None = None,
                   cells: list[str] | None = None) -> list[str]:
    """What is wrong with the numbers of one sentence block or table row (`cells`, with the index of
    its difference column)."""
    problems = format_problems(text, language)
    if cells is not None:
        return problems + _row_problems(cells, language, recorded, difference_column)
    shown = numbers_in(text, language)
    values: dict[str, list[Number]] = {"percent": [], "": []}  # the values a difference is of, by unit
    for number in shown:
        of = values["percent" if number.unit == "points" else ""]
        if _is_difference(number, text, language) and len(of) >= 2:
            problem = difference_problem(number, of, "either")
            if problem:
                problems.append(f"{problem}: {text[:160]!r}")
            continue
        if not matches(number, recorded):
            problems.append(f"{number.text} matches no recorded value: {text[:160]!r}")
        if not (number.spread or number.level or number.in_brackets or number.unit == "points") \
                and (number.unit == "percent" or number.digits):
            values[number.unit].append(number)
    problems += _interval_problems(shown, text)
    return problems


def _row_problems(cells: list[str], language: str, recorded: np.ndarray, difference_column: int | None) -> list[str]:
    problems, values = [], []
    for index, cell in enumerate(cells):
        found = numbers_in(cell, language)
        if index == difference_column and found:
            problem = difference_problem(found[0], values, "after-before")
            if problem:
                problems.append(f"{problem} in row {' | '.join(cells)!r}")
            continue
        for number in found:
            if not matches(number, recorded):
                problems.append(f"{number.text} matches no recorded value in row {' | '.join(cells)!r}")
        if found and not found[0].spread:
            values.append(found[0])
    return problems


def _interval_problems(shown: list[Number], text: str) -> list[str]:
    bounds = [n for n in shown if n.in_brackets]
    return [f"zero-width interval [{a.text}, {b.text}]: {text[:160]!r}"
            for a, b in zip(bounds[::2], bounds[1::2]) if a.text.lstrip("+") == b.text.lstrip("+")]


# ------------------------------------------------------------------ a built page

def page_blocks(html: str, skip_sections: tuple[str, ...] = ()) -> list[tuple[str, list[str] | None, int | None]]:
    """(text, cells, difference column) of every sentence block and table row of a page, without
    code, external links, the provenance box and the sections named in `skip_sections` (h2 titles)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for heading in soup.find_all("h2"):
        if heading.get_text(" ", strip=True) in skip_sections:
            for sibling in list(heading.find_next_siblings()):
                if sibling.name == "h2":
                    break
                sibling.decompose()
    for element in soup.find_all("code") + soup.find_all("a", href=re.compile(r"^https?://")) \
            + soup.find_all("details", class_="abstract"):
        element.decompose()
    blocks = []
    for table in soup.find_all("table"):
        header = [th.get_text(" ", strip=True) for th in table.find_all("th")]
        for row in table.find_all("tr"):
            cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
            if cells:
                blocks.append((" | ".join(cells), cells, header))
        table.decompose()
    for element in soup.find_all(["p", "li", "figcaption", "h1", "h2", "h3", "h4", "h5", "summary"]):
        if element.name == "li" and element.find("p"):
            continue
        text = " ".join(element.get_text(" ").split())
        if text:
            blocks.append((text, None, None))
    return blocks


def page_problems(html: str, language: str, recorded: np.ndarray, skip_sections: tuple[str, ...] = ()) -> list[str]:
    """Everything wrong with the numbers of one built page (see the module's docstring)."""
    difference = strings(language)["page"]["diferencia"]
    problems = []
    for text, cells, header in page_blocks(html, skip_sections):
        column = header.index(difference) if cells is not None and difference in (header or []) else None
        problems += block_problems(text, language, recorded, column, cells)
    return problems


# ------------------------------------------------------------------ what a number may be

def _walk(value, found: list[float]) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            _walk(getattr(value, item.name), found)
    elif isinstance(value, dict):
        for item in value.values():
            _walk(item, found)
    elif isinstance(value, (list, tuple, np.ndarray)):
        items = [x for x in np.ravel(np.asarray(value, dtype=object)) if x is not None]
        plain = [float(x) for x in items if isinstance(x, (int, float, np.number)) and not isinstance(x, bool)]
        found.append(len(items))
        if plain:
            array = np.asarray(plain)
            found += [array.mean(), array.min(), array.max(), array.sum()] + plain
            if len(plain) > 1:
                found += [array.std(ddof=1), array.std()]
        for x in items:
            if not isinstance(x, (int, float, np.number)):
                _walk(x, found)
    elif isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        found.append(float(value))


def recorded_numbers(run, *computed) -> np.ndarray:
    """Every number the run's results hold, with the means, extremes and spreads of their lists,
    and the numbers of `computed` (dataclasses, dicts, lists the page computes from them)."""
    found: list[float] = []
    _walk(run.facts, found)
    _walk(run.record, found)
    _walk([t.get("seconds") for t in run.timings], found)
    found += [float(t["seconds"]) / 60 for t in run.timings if t.get("seconds")]
    if run.record.get("seconds"):
        found.append(float(run.record["seconds"]) / 60)
    for item in computed:
        _walk(item, found)
    return np.asarray([x for x in found if np.isfinite(x)], dtype=float)


def words_numbers(language: str) -> list[float]:
    """Numbers the language's words themselves write (a year of a reference, "5 %", "12 clases")."""
    found: list[float] = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.extend(abs(n.value) for n in numbers_in(value, language))

    walk(strings(language))
    return found

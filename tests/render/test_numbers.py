"""One number, one value: how a number reads (reportgen/render/numbers.py), and every number the
shipped runs' pages show (run page, home card, comparison) checked against their results."""

from __future__ import annotations

import re

import numpy as np
import pytest

from number_checks import block_problems, numbers_in, page_blocks, page_problems, recorded_numbers, words_numbers
from reportgen.render import numbers
from reportgen.render.strings import languages, strings

MARKDOWN_EXTENSIONS = ["tables", "md_in_html", "attr_list", "admonition", "pymdownx.details",
                       "pymdownx.superfences", "pymdownx.tabbed"]


# ------------------------------------------------------------------ how a number reads

def test_a_difference_is_the_difference_of_the_values_shown():
    before, after = 0.53249, 0.35751  # 53,2 % and 35,8 %; unrounded, they differ by 17,498 points
    assert numbers.value("accuracy", before, "es") == "53,2 %" and numbers.value("accuracy", after, "es") == "35,8 %"
    assert numbers.points(after - before, "es", sign=True) == "\u221217,5 pp"  # what the pages used to show
    assert numbers.difference("accuracy", after, before, "es") == "\u221217,4 pp"
    assert numbers.difference("ece", 0.1354, 0.0866, "en") == "+0.048"  # 0.135 − 0.087, not 0.0488 → 0.049


def test_one_quantity_reads_in_one_unit():
    assert numbers.value("ece", 0.0867, "es") == "0,087" and numbers.value("accuracy", 0.0867, "es") == "8,7 %"
    assert numbers.bounds("ece", -0.057, 0.153, "es") == ("\u22120,057", "0,153")
    assert numbers.bounds("accuracy", -0.176, 0.007, "en") == ("\u221217.6 pp", "0.7 pp")


def test_one_minus_sign_and_no_negative_zero():
    for language in languages():
        shown = [numbers.number(-0.5, language), numbers.points(-0.0851, language, sign=True),
                 numbers.signed(-0.048, language), numbers.general(-1e-05, language), numbers.percent(-0.1, language)]
        assert all("-" not in text and "\u2212" in text for text in shown), shown
        assert numbers.number(-0.0004, language, 3) == "0" + strings(language)["numbers"]["decimal"] + "000"
        assert numbers.signed(-0.0004, language) .startswith("+")


def test_an_interval_never_reads_zero_width():
    assert numbers.bounds("accuracy", 0.13301, 0.13349, "es") == ("13,30 pp", "13,35 pp")
    assert numbers.distinct(13.3, 13.3, "en", 1) == ("13.300", "13.300")  # truly zero: nothing to widen


# ------------------------------------------------------------------ the checker can fail

RECORDED = np.array([0.532, 0.358, 0.087, 0.135, 0.1354, 500, 3])


@pytest.mark.parametrize("text, wrong", [
    ("| Accuracy | 53,2 % | 35,8 % | \u221217,4 pp |", None),
    ("| Accuracy | 53,2 % | 35,8 % | \u221217,5 pp |", "is not the difference of 53,2 % and 35,8 %"),
    ("| Accuracy | 53,3 % | 35,8 % | \u221217,5 pp |", "53,3 % matches no recorded value"),
    ("| Accuracy | 53,2 % | 35,8 % | -17,4 pp |", "ASCII minus"),
    ("| ECE | 0,087 | 0,135 | +0,048 |", None),
    ("| ECE | 0,087 | 0,135 | +0,049 |", "is not the difference"),
    ("La accuracy de test pasó de 53,2 % a 35,8 %: \u221217,4 pp (IC 95 % [\u221220,1 pp; \u221214,0 pp]; 3 semillas "
     "× 500 imágenes).", "\u221220,1 pp matches no recorded value"),
    ("El ECE pasó de 0,087 a 0,135: +0,048 (IC 95 % [13,5 pp; 13,5 pp]; 3 semillas × 500 imágenes).",
     "zero-width interval"),
    ("El ECE pasó de 0,087 a 0,135: +0,049.", "is not the difference of 0,087 and 0,135"),
    ("ECE 0.087", "decimal mark '.'"),
])
def test_the_checker_catches_a_wrong_number(text, wrong):
    cells = [c.strip() for c in text.strip("|").split("|")] if text.startswith("|") else None
    problems = block_problems(text, "es", RECORDED, 3 if cells else None, cells)
    if wrong is None:
        assert problems == []
    else:
        assert any(wrong in problem for problem in problems), problems


def test_numbers_are_read_in_the_page_language():
    es = numbers_in("pasó de 88,5 % a 80,0 %: \u22128,5 pp (IC 95 % [\u221217,6 pp; 0,7 pp]", "es")
    assert [(n.value, n.unit, n.level, n.in_brackets) for n in es] == [
        (88.5, "percent", False, False), (80.0, "percent", False, False), (-8.5, "points", False, False),
        (95.0, "percent", True, False), (-17.6, "points", False, True), (0.7, "points", False, True)]
    assert [n.value for n in numbers_in("red_round_5, Top-5, 2026-12-07, 64×64 px, 88.5%", "en")] == [64, 64, 88.5]


# ------------------------------------------------------------------ the shipped runs

@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The shipped runs' generated pages (as the site builds them) and their harvested results."""
    import shutil

    import markdown

    from reportgen.harvest import harvest_run
    from reportgen.project import Project
    from reportgen.render import Renderer
    from reportgen.runs import discover
    from reportgen.site import site_language

    from conftest import committed_project

    project = Project.at(committed_project(tmp_path_factory.mktemp("numbers") / "portfolio"))
    shutil.rmtree(project.docs_dir / "runs")  # the reflection is the student's text, seeded from the results
    runs = [harvest_run(project, found) for found in discover(project, ["demo", "shortcut"])]
    language = site_language(project)
    pages = {item.path: markdown.markdown(item.content, extensions=MARKDOWN_EXTENSIONS)
             for item in Renderer(project, language=language).files(runs)
             if item.path.endswith(".md") and not item.path.endswith("notebook.md")}
    return {"runs": {run.id: run for run in runs}, "pages": pages, "language": language}


def computed_numbers(run) -> list:
    """What the page computes from the results at render time: the comparisons (values, intervals,
    seeds needed) and the explanation checks (means, bootstrap intervals), and the method's constants."""
    from reportgen.render import explanations, interpretation

    found = []
    for item in interpretation.comparisons(run):
        reading = item["reading"]
        found += [reading, reading.interval, interpretation.needed(reading.estimate)]
    view = explanations.explanations_view(run)
    if view is not None:
        found += [view.localisations, view.randomisations, [r.mean for r in view.randomisations],
                  [r.spread for r in view.randomisations]]
        scores = view.recorded["checks"]
        if all("gradcam" in scores.get(model, {}) for model in ("baseline", "advanced")):
            found.append(explanations.model_difference(scores["baseline"]["gradcam"], scores["advanced"]["gradcam"]))
    found += [interpretation.LEVEL, interpretation.MAX_SEEDS, explanations.LOCALISATION_MARGIN,
              explanations.SANITY_MAX_RHO, explanations.CONFIDENCE, 1]  # 1: "< 1 s"
    return found + words_numbers(run.language)


def skipped(language: str) -> tuple[str, ...]:
    """Sections whose numbers are not the results': the student's reflection, the references' years."""
    words = strings(language)["page"]
    return words["reflexion"], words["referencias"]


@pytest.mark.parametrize("run_id", ["demo", "shortcut"])
def test_every_number_on_a_run_page_is_a_recorded_value(shipped, run_id):
    run = shipped["runs"][run_id]
    html = shipped["pages"][f"runs/{run_id}/index.md"]
    recorded = recorded_numbers(run, *computed_numbers(run))
    shown = sum(len(numbers_in(text, run.language)) for text, _, _ in page_blocks(html, skipped(run.language)))
    assert shown > 200  # the page was read, not skipped
    assert page_problems(html, run.language, recorded, skipped(run.language)) == []


@pytest.mark.parametrize("page", ["index.md", "comparacion.md"])
def test_every_number_on_the_cards_and_the_comparison_is_a_recorded_value(shipped, page):
    language = shipped["language"]
    recorded = np.concatenate([recorded_numbers(run) for run in shipped["runs"].values()]
                              + [np.asarray(words_numbers(language))])
    assert page_problems(shipped["pages"][page], language, recorded) == []


def _table_rows(html: str) -> list[list[str]]:
    from bs4 import BeautifulSoup

    return [[td.get_text(" ", strip=True) for td in row.find_all("td")]
            for row in BeautifulSoup(html, "html.parser").find_all("tr")]


def _mean_cell(cell: str) -> str:
    return cell.split(" ± ")[0]


@pytest.mark.parametrize("run_id", ["demo", "shortcut"])
def test_a_sentence_quotes_the_values_of_the_table_beside_it(shipped, run_id):
    """The verdicts' "from X to Y" are the results and TTA tables' cells (means over the same seeds,
    one unit per quantity): not seed 0 in one place and the mean in another, nor 0,087 and 8,7 %."""
    from reportgen.render import interpretation

    run = shipped["runs"][run_id]
    html = shipped["pages"][f"runs/{run_id}/index.md"]
    cells = {_mean_cell(cell) for row in _table_rows(html) for cell in row}
    found = interpretation.comparisons(run)
    assert len(found) >= 6
    for item in found:
        shown = interpretation.shown(item["reading"], run.language)
        said = item["values"]  # the sentence's values (its verdict is said once per table, views.findings)
        assert said in " ".join(html.split()) or said.replace("&", "&amp;") in html
        assert shown["before"] in cells and shown["after"] in cells, (item["metric"], item["pipeline"], shown)


def test_the_card_the_comparison_and_the_page_show_one_accuracy(shipped):
    """The home card, the comparison table and the run page's results table: the same texts."""
    language = shipped["language"]
    for run_id, run in shipped["runs"].items():
        page_rows = _table_rows(shipped["pages"][f"runs/{run_id}/index.md"])
        accuracy = next(row for row in page_rows if row and row[0].startswith("Accuracy (test)"))
        means = {name: run.facts["metrics"]["pipelines"][name]["aggregate"]["accuracy"]["mean"]
                 for name in ("baseline", "advanced")}
        on_page = {name: numbers.value("accuracy", mean, run.language) for name, mean in means.items()}
        on_site = {name: numbers.value("accuracy", mean, language) for name, mean in means.items()}
        assert [_mean_cell(accuracy[1]), _mean_cell(accuracy[2])] == [on_page["baseline"], on_page["advanced"]]
        card = next(text for text, _, _ in page_blocks(shipped["pages"]["index.md"]) if on_site["baseline"] in text
                    and run.title.split(":")[0] not in text and on_site["advanced"] in text)
        assert numbers.difference("accuracy", means["advanced"], means["baseline"], language) in card
        row = next(r for r in _table_rows(shipped["pages"]["comparacion.md"]) if r and r[0] == run.title)
        assert on_site["baseline"] in row and on_site["advanced"] in row, row


@pytest.mark.parametrize("run_id", ["demo", "shortcut"])
def test_every_figure_writes_numbers_in_the_page_language(shipped, run_id):
    """Every text a drawn figure shows (titles, annotations, tick labels): the page's decimal mark and
    its minus sign; the reliability diagram's ECE is the table's mean, or says which seed it is."""
    import matplotlib.pyplot as plt

    from figure_checks import texts
    from number_checks import format_problems
    from reportgen.render import figures as drawn

    run = shipped["runs"][run_id]
    problems, titles = [], []
    for name in drawn.names():
        figure = drawn.make_figure(run, name, run.language)
        if figure is None:
            continue
        shown = texts(figure)
        problems += [f"{name}: {problem}" for text in shown for problem in format_problems(text, run.language)]
        if name == "reliability":
            titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
        plt.close(figure)
    assert problems == []
    ece = {name: numbers.value("ece", run.facts["metrics"]["pipelines"][name]["aggregate"]["ece"]["mean"],
                               run.language) for name in ("baseline", "advanced")}
    seeds = len(run.facts["metrics"]["pipelines"]["baseline"]["aggregate"]["ece"]["values"])
    for title, pipeline in zip(titles, ("baseline", "advanced")):
        seed = run.facts["metrics"]["pipelines"][pipeline]["detail_seed"]
        assert ece[pipeline] in title.split("\n")[-1] or (seeds == 1 and str(seed) in title), title
        assert seeds == 1 or str(seed) in title.split("\n")[0], title  # a seed's own ECE says which seed

"""The words a reviewer reads on the shipped site, in both languages: no raw metric key, no
results-folder name in the navigation, no instruction to the student on a published page."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from reportgen.cli import main
from reportgen.render.strings import strings

from conftest import committed_project

# The practice's metric keys as metrics.json and per_image.json name them, alone or as "<key> · <pipeline>".
RAW_KEY = re.compile(r"\b(?:accuracy|macro_f1|macro_precision|macro_recall|ece|perturbed_accuracy|train_val_gap|"
                     r"tta_accuracy|top_k_accuracy)\s*·\s*(?:baseline|advanced)\b|\b(?:macro_f1|macro_precision|"
                     r"macro_recall|perturbed_accuracy|train_val_gap|tta_accuracy|top_k_accuracy|test_size)\b")
RESULTS_FOLDERS = ("runs", "demo", "shortcut")


@pytest.fixture(scope="module")
def english_site(tmp_path_factory) -> Path:
    """The shipped portfolio as an English site, its demo run in English too."""
    root = committed_project(tmp_path_factory.mktemp("english") / "portfolio")
    run_file = root / "experiments" / "runs" / "demo.yaml"
    run_file.write_text(run_file.read_text(encoding="utf-8").replace("language: es", "language: en"), encoding="utf-8")
    assert "language: en" in run_file.read_text(encoding="utf-8")
    config = root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("language: es", "language: en")
                      .replace("lang: es", "lang: en"), encoding="utf-8")
    assert main(["--project", str(root), "report", "--no-execute", "--quiet"]) == 0
    return root / "site"


@pytest.fixture(params=["es", "en"])
def built(request, committed_site, english_site) -> tuple[str, Path]:
    return request.param, committed_site if request.param == "es" else english_site


def pages(site: Path) -> list[Path]:
    return sorted(path for path in site.rglob("*.html") if path.name != "404.html"
                  and "assets" not in path.relative_to(site).parts)


def reading(path: Path) -> tuple[str, list[str]]:
    """What a reader reads on a page, code left out (code may name anything): the article's text,
    and the navigation's entries."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article")
    for code in article.select("pre, code, script, style, .arithmatex"):
        code.decompose()
    nav = soup.select_one("nav.md-nav--primary")
    entries = [" ".join(a.get_text(" ").split()) for a in nav.select(".md-nav__link, label.md-nav__title")] if nav else []
    return " ".join(article.get_text(" ").split()), [entry for entry in entries if entry]


def instructions(language: str) -> list[str]:
    """What the reflection's seed says to the student, as sentences: its intros, and the longest
    fixed part of each hint made of the run's numbers."""
    words = strings(language)
    found = [words["page"]["reflection_intro"], words["page"]["reflection_intro_notebook"]]
    for hint in words["verdicts"]["reflection"].values():
        if isinstance(hint, str):
            found.append(max((literal for literal, *_ in string.Formatter().parse(hint)), key=len).strip())
    return found


def test_no_page_shows_a_raw_metric_key(built):
    _language, site = built
    problems = {}
    for path in pages(site):
        text, entries = reading(path)
        found = RAW_KEY.findall(text + " " + " ".join(entries))
        if found:
            problems[path.relative_to(site).as_posix()] = sorted(set(found))
    assert problems == {}


def test_the_navigation_names_runs_by_their_titles_not_their_folders(built):
    language, site = built
    runs_word = strings(language)["page"]["corridas"]
    titles = {path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))["title"]
              for path in (site.parent / "experiments" / "runs").glob("*.yaml")}
    for path in pages(site):
        _text, entries = reading(path)
        for entry in entries:
            assert entry.casefold() not in RESULTS_FOLDERS or entry == runs_word, (path, entry)
    _text, entries = reading(site / "runs" / "demo" / "index.html")
    assert titles["demo"] in entries and runs_word in entries


def test_no_published_page_talks_to_the_student(built):
    language, site = built
    said = instructions("es") + instructions("en")
    for path in pages(site):
        text, _entries = reading(path)
        for sentence in said:
            assert sentence not in text, (path.relative_to(site).as_posix(), sentence)


def test_an_unanswered_reflection_reads_as_unanswered_and_the_checklist_counts_it(built):
    language, site = built
    text, _entries = reading(site / "runs" / "demo" / "index.html")
    words = strings(language)["page"]
    assert text.count(words["reflection_unanswered"]) == len(words["reflection_questions"])  # the shipped seed
    assert words["reflection_answered"].format(answered=0, total=len(words["reflection_questions"])) in text


def test_references_are_those_of_what_the_run_used(built):
    _language, site = built
    text, _entries = reading(site / "runs" / "demo" / "index.html")
    assert "Grad-CAM++: Improved Visual Explanations" in text  # the demo computed Grad-CAM++
    assert "EfficientNet" not in text  # and trained small_cnn


def test_the_comparison_promises_only_what_follows(built):
    language, site = built
    words = strings(language)["page"]
    text, _entries = reading(site / "comparacion.html")
    assert (words["comparacion_intro_rest"] in text) == (words["otras_metricas"] in text)

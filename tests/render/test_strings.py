"""The words of the pages: one table per language, the same keys in each; a language is its file."""

from __future__ import annotations

import pytest

from reportgen.render import strings as strings_module
from reportgen.render.strings import languages, strings


def _keys(table, prefix=""):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


# Metric names may stay as the fallback language writes them (as "accuracy" or "F1 macro" do on Spanish
# pages): a new headline metric needs its label in English only.
MAY_FALL_BACK = "page.metric_rows."


def test_every_key_exists_in_every_language():
    keys = {language: set(_keys(strings_module._read(strings_module.strings_dir() / f"{language}.yaml")))
            for language in languages()}  # as written, before the English fallback fills any gap
    reference = {key for key in keys[strings_module.FALLBACK] if not key.startswith(MAY_FALL_BACK)}
    for language, found in keys.items():
        own = {key for key in found if not key.startswith(MAY_FALL_BACK)}
        assert own == reference, (language, sorted(own ^ reference))
        assert found <= keys[strings_module.FALLBACK], (language, sorted(found - keys[strings_module.FALLBACK]))


def test_no_entry_is_empty():
    for language in languages():
        for key in _keys(strings(language)):
            if key == "numbers.thousands":  # no separator is a format too
                continue
            value = strings(language)
            for part in key.split("."):
                value = value[part]
            assert str(value).strip(), (language, key)


# ------------------------------------------------------------------ no word of the other language

def _values(table):
    for value in table.values():
        if isinstance(value, dict):
            yield from _values(value)
        elif isinstance(value, list):
            yield from value
        else:
            yield str(value)


def _distinctive_phrases(language: str, other: str) -> set[str]:
    """Phrases of `other`'s table that `language`'s table never uses: seeing one is a leak."""
    import re

    own = " ".join(_values(strings(language))).lower()
    phrases = set()
    for value in _values(strings(other)):
        for fragment in re.split(r"\{[^}]*\}|[*`_()\[\]:;,.·/\\|−-]|\s\W+\s", value):
            fragment = " ".join(fragment.split()).lower()
            if (len(fragment) >= 6 or " " in fragment) and fragment not in own:
                phrases.add(fragment)
    return phrases


# As in mkdocs.yml: tabs, admonitions and figures must render for their text to be read.
MARKDOWN_EXTENSIONS = ["tables", "md_in_html", "attr_list", "admonition", "pymdownx.details",
                       "pymdownx.superfences", "pymdownx.tabbed"]


def _recorded_words(run) -> list[str]:
    """Text the results themselves hold (older practices recorded captions and sentences); the
    renderer shows it as recorded, so it is left out of the check until the practice records numbers only."""
    found = [figure.caption for figure in run.figures.values()] + [str(s.get("stage", "")) for s in run.timings]

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.append(value)

    walk(run.facts)
    return sorted({" ".join(w.split()).lower() for w in found if len(w) >= 4}, key=len, reverse=True)


@pytest.mark.parametrize("run_id", ["demo", "shortcut"])
@pytest.mark.parametrize("language,other", [("es", "en"), ("en", "es")])
def test_a_page_holds_no_words_of_the_other_language(tmp_path, run_id, language, other):
    """The shipped runs rendered in each language: no phrase of the other language's table appears."""
    import re
    import shutil

    import markdown
    from bs4 import BeautifulSoup

    from reportgen.harvest import harvest_run
    from reportgen.project import Project
    from reportgen.render import Renderer
    from reportgen.runs import discover

    from conftest import committed_project

    project = Project.at(committed_project(tmp_path / "portfolio"))
    shutil.rmtree(project.docs_dir / "runs")  # the student's reflections are in their own words
    run = harvest_run(project, discover(project, [run_id])[0])
    run.config = run.config.model_copy(update={"language": language, "title": "Demo", "description": ""})
    pages = [item for item in Renderer(project, language=language).files([run]) if item.path.endswith(".md")]

    for page in pages:
        if page.path.endswith("notebook.md"):  # the executed notebook is shown as it ran
            continue
        html = markdown.markdown(page.content, extensions=MARKDOWN_EXTENSIONS)
        soup = BeautifulSoup(html, "html.parser")
        # File names and the titles of external references are names, not the page's words.
        for name in soup.find_all("code") + soup.find_all("a", href=re.compile(r"^https?://")):
            name.decompose()
        text = " ".join(soup.get_text(" ").split()).lower()
        for recorded in _recorded_words(run):
            text = text.replace(recorded, " ")
        leaks = sorted(p for p in _distinctive_phrases(language, other)
                       if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text))
        assert leaks == [], f"{page.path} in {language!r} holds {other!r} words: {leaks}"


# ------------------------------------------------------------------ a language is one file

FRENCH = """\
numbers:
  decimal: ","
  thousands: " "
  percent: "{value} %"
page:
  objetivos: Objectifs
  resultados: Résultats de base contre avancé
"""


@pytest.fixture
def with_french(tmp_path, monkeypatch):
    """The package's strings folder plus a tiny French file, in a folder of the test's own."""
    import shutil

    folder = tmp_path / "strings"
    shutil.copytree(strings_module.strings_dir(), folder)
    (folder / "fr.yaml").write_text(FRENCH, encoding="utf-8")
    monkeypatch.setattr(strings_module, "STRINGS_DIR", folder)
    return folder


def test_the_languages_are_the_files_present(with_french):
    assert languages() == ("en", "es", "fr")
    assert strings("fr")["page"]["objetivos"] == "Objectifs"
    assert strings("fr")["page"]["contexto"] == strings("en")["page"]["contexto"]  # from English


def test_an_unknown_language_is_refused_naming_the_languages(with_french):
    with pytest.raises(strings_module.UnknownLanguage, match=r"'de'.*en, es, fr"):
        strings("de")


def test_a_run_file_accepts_exactly_the_languages_present(with_french, tmp_path):
    from reportgen.errors import ConfigError
    from reportgen.runs.config import load_run_file

    path = tmp_path / "run.yaml"
    path.write_text("title: x\nlanguage: fr\n", encoding="utf-8")
    assert load_run_file(path).language == "fr"
    path.write_text("title: x\nlanguage: de\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"field 'language'.*unknown language 'de'.*en, es, fr"):
        load_run_file(path)


def test_a_language_added_as_one_file_renders_a_run_page(with_french, tmp_path):
    """French where fr.yaml says, English elsewhere, French numbers: "88,5 %" (as metrics.json says)."""
    import shutil

    from reportgen.harvest import harvest_run
    from reportgen.project import Project
    from reportgen.render import Renderer
    from reportgen.render.numbers import percent
    from reportgen.runs import discover

    from conftest import committed_project

    project = Project.at(committed_project(tmp_path / "portfolio"))
    shutil.rmtree(project.docs_dir / "runs")
    run = harvest_run(project, discover(project, ["demo"])[0])
    run.config = run.config.model_copy(update={"language": "fr"})
    page = next(f for f in Renderer(project, language="fr").run_files(run) if f.path == "runs/demo/index.md").content

    assert "## Objectifs" in page and "### Résultats de base contre avancé" in page
    english = strings("en")["page"]
    assert f"## {english['contexto']}" in page and f"### {english['curvas']}" in page
    accuracy = run.facts["metrics"]["pipelines"]["baseline"]["aggregate"]["accuracy"]["mean"]
    shown = f"{100 * accuracy:.1f}".replace(".", ",") + " %"
    assert percent(accuracy, "fr") == shown and shown in page
    assert f"{100 * accuracy:.1f}%" not in page  # not the English form the other words fell back to

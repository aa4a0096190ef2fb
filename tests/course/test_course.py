"""The course view: a roster of local git repositories made here, built into one site."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from course_fixtures import (PWNED, REPO, commit, corrupt_portfolio, hostile_portfolio, hostile_run_files,
                             own_notebook_portfolio, practice_portfolio)
from html_checks import control_character_problems, live_script_problems
from reportgen.course import build_course
from reportgen.course.roster import load_roster
from reportgen.errors import ConfigError

PASSWD = "root:x:0:0"  # the first line of /etc/passwd: never published, whatever links to it


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course of eight students, built once: (roster path, site folder, summaries by name)."""
    root = tmp_path_factory.mktemp("course")
    repos = root / "repos"
    students = []

    def add(name, folder, site=None, git=True):
        if git:
            commit(folder)
        entry = {"name": name, "repo": os.path.relpath(folder, root)}
        if site:
            entry["site"] = site
        students.append(entry)

    add("Ana Pérez", practice_portfolio(repos / "ana", answers=5), site="https://ana.github.io/portafolio/")
    add("Beto Azar", practice_portfolio(repos / "beto", accuracy={"advanced": 0.09}, edit_code=True))
    add("Carla Propia", own_notebook_portfolio(repos / "carla"), site="https://carla.github.io/p/")
    add("Darío Falla", own_notebook_portfolio(repos / "dario", failed=True), site="https://dario.github.io/p/")
    add("Eva Rota", corrupt_portfolio(repos / "eva"), site="https://eva.github.io/p/")
    add("Hostil <script>alert(8)</script>", hostile_portfolio(repos / "hostil", root))
    add("Ids Hostiles", hostile_run_files(repos / "ids"), site="https://ids.github.io/p/")
    folder = practice_portfolio(repos / "carpeta", runs=("shortcut",))
    (folder / "experiments" / "results" / "shortcut" / "leak.csv").symlink_to("/etc/passwd")
    (folder / "docs").mkdir(exist_ok=True)
    (folder / "docs" / "etc").symlink_to("/etc", target_is_directory=True)
    add("Fede Carpeta", folder, git=False, site="https://fede.github.io/p/")
    students.append({"name": "Gabi Nadie", "repo": "repos/no-existe"})
    roster = root / "roster.yaml"
    roster.write_text(yaml.safe_dump({"course": "Deep Learning 2026", "students": students}, allow_unicode=True),
                      encoding="utf-8")
    site = root / "site"
    summaries = build_course(roster, site, jobs=2)
    return roster, site, {s.name: s for s in summaries}, root


def _text(site: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in site.rglob("*") if p.is_file())


def test_every_student_has_a_row_and_the_failures_stay_theirs(course):
    _roster, site, summaries, _root = course
    assert len(summaries) == 9
    assert summaries["Ana Pérez"].status == "ok" and [r.id for r in summaries["Ana Pérez"].runs] == ["demo", "shortcut"]
    assert summaries["Darío Falla"].status == "failed"
    assert [run.status for run in summaries["Eva Rota"].runs] == ["corrupt", "corrupt"]  # each run says why
    assert "run.json" in summaries["Eva Rota"].runs[0].problem
    assert "metrics.json" in summaries["Eva Rota"].runs[1].problem
    assert "run id" in summaries["Ids Hostiles"].problem  # its run files are refused: the row says why
    assert "no such folder" in summaries["Gabi Nadie"].problem
    index = (site / "index.html").read_text(encoding="utf-8")
    for name in ("Ana Pérez", "Beto Azar", "Carla Propia", "Darío Falla", "Eva Rota", "Fede Carpeta", "Gabi Nadie"):
        assert name in index
    assert "no such folder" in index  # the row says why
    assert (site / "estudiantes" / "gabi-nadie.html").is_file()


def _demo_reading():
    """The shipped demo's mean test accuracies and its accuracy verdict, as the run page reads them."""
    from reportgen.harvest import harvest_run
    from reportgen.project import Project
    from reportgen.render import interpretation
    from reportgen.runs import discover

    project = Project.at(REPO)
    demo = harvest_run(project, next(r for r in discover(project, check_notebooks=False) if r.id == "demo"))
    means = {p: demo.facts["metrics"]["pipelines"][p]["aggregate"]["accuracy"]["mean"] for p in ("baseline", "advanced")}
    verdict = next(c["verdict"] for c in interpretation.comparisons(demo, "es")
                   if c["metric"] == "accuracy" and c["comparison"] == "advanced_vs_baseline")
    return means, verdict


def test_headline_readings_carry_the_pages_verdicts(course):
    from reportgen.render.numbers import percent
    from reportgen.render.strings import strings

    _roster, site, summaries, _root = course
    means, verdict = _demo_reading()
    demo = summaries["Ana Pérez"].runs[0]
    assert demo.accuracy == pytest.approx(means)
    accuracy = next(r for r in demo.readings if r.metric == "accuracy" and r.group == "advanced")
    assert accuracy.verdict == verdict and "IC 95 %" in accuracy.sentence
    word = strings("es")["course"]["verdicts"][verdict]
    shown = f"{percent(means['baseline'], 'es')} → {percent(means['advanced'], 'es')} ({word})"
    assert shown in (site / "index.html").read_text(encoding="utf-8")
    own = summaries["Carla Propia"].runs[0]
    assert own.readings[0].metric == "accuracy" and own.readings[0].value == pytest.approx(0.7)


def test_flags_name_what_a_reviewer_acts_on(course):
    _roster, _site, summaries, _root = course
    assert "chance" in summaries["Beto Azar"].runs[0].flags  # 9 % on 10 classes, 500 images
    assert "chance" not in summaries["Ana Pérez"].runs[0].flags
    assert "failed" in summaries["Darío Falla"].flags
    assert "corrupt" in summaries["Eva Rota"].flags
    assert "unreadable" in summaries["Gabi Nadie"].flags
    # Beto's notebook gained a cell after his results were made: their key says so.
    assert "stale" in summaries["Beto Azar"].runs[0].flags
    assert "stale" not in summaries["Ana Pérez"].runs[0].flags
    assert "stale" not in summaries["Carla Propia"].runs[0].flags  # its key matches its committed notebook
    assert "reflection" not in summaries["Ana Pérez"].runs[0].flags
    assert "reflection" in summaries["Beto Azar"].runs[0].flags


def test_reflection_and_checklist_counts(course):
    _roster, _site, summaries, _root = course
    assert summaries["Ana Pérez"].runs[0].reflection == (5, 5)
    assert summaries["Beto Azar"].runs[0].reflection == (0, 5)  # the seed's hints are not answers
    done, items = summaries["Ana Pérez"].runs[0].checklist
    assert items == 11 and done == 11  # every practice item, the reflection included
    assert summaries["Beto Azar"].runs[0].checklist == (10, 11)


def test_reflection_answers_are_words_the_seed_did_not_have():
    from reportgen.course.summary import answered

    questions = ["**1. Uno.** ¿Qué?", "**2. Dos.** ¿Cómo?"]
    seed = "_intro_\n\n**1. Uno.** ¿Qué?\n\n- una pista del seed\n\n**2. Dos.** ¿Cómo?\n"
    assert answered(seed, seed, questions) == (0, 2)
    assert answered(seed, seed.replace("¿Cómo?\n", "¿Cómo?\n\nCon tres semillas más.\n"), questions) == (1, 2)
    edited = "**1. Mi versión de la pregunta**\n\nLo respondo con mis palabras.\n\n**2. Dos.** ¿Cómo?\n\nno sé\n"
    assert answered(seed, edited, questions) == (1, 2)  # found by its number; two words are not an answer


def test_grading_csv_has_a_row_per_student_and_run(course):
    _roster, site, _summaries, _root = course
    rows = list(csv.DictReader(io.StringIO((site / "calificaciones.csv").read_text(encoding="utf-8"))))
    ana = [row for row in rows if row["student"] == "Ana Pérez"]
    assert [row["run"] for row in ana] == ["demo", "shortcut"]
    means, verdict = _demo_reading()
    assert ana[0]["accuracy_advanced"] == f"{means['advanced']:.4f}" and ana[0]["accuracy_verdict"] == verdict
    assert ana[0]["reflection_answered"] == "5"
    assert any(row["student"] == "Gabi Nadie" and row["status"] == "unreadable" for row in rows)
    assert all(not row["student"].startswith(("=", "+", "@")) for row in rows)


def test_cross_student_view_of_one_notebook(course):
    _roster, site, _summaries, _root = course
    page = (site / "comparacion" / "augmentation_xai.html").read_text(encoding="utf-8")
    for name in ("Ana Pérez", "Beto Azar", "Fede Carpeta"):
        assert name in page
    assert (site / "comparacion" / "augmentation_xai.png").read_bytes()[:4] == b"\x89PNG"
    assert (site / "comparacion" / "mio.html").is_file()


def test_student_pages_link_their_site_or_carry_a_copy(course):
    _roster, site, _summaries, _root = course
    ana = (site / "estudiantes" / "ana-perez.html").read_text(encoding="utf-8")
    assert 'href="https://ana.github.io/portafolio/runs/demo/index.html"' in ana
    beto = site / "estudiantes" / "beto-azar"
    assert (beto / "runs" / "demo" / "index.html").is_file()
    page = (site / "estudiantes" / "beto-azar.html").read_text(encoding="utf-8")
    assert '<a href="beto-azar/runs/demo/index.html">Copia de sus páginas' in page
    assert "built-in method" not in _text(site)


def test_a_hostile_portfolio_publishes_nothing_from_outside_and_runs_nothing(course):
    _roster, site, summaries, root = course
    assert not (root / PWNED).exists()  # neither its mkdocs.yml, its templates nor its schema ran
    text = _text(site)
    assert PASSWD not in text
    assert "TEMPLATE-OF-THE-STUDENT" not in text
    assert live_script_problems(site) == []
    assert control_character_problems(site) == []
    hostile = summaries["Hostil <script>alert(8)</script>"]
    assert [(r.id, r.status) for r in hostile.runs] == [("demo", "ok"), ("shortcut", "corrupt")]
    assert not any("<" in str(path) or ".." in path.parts for path in site.rglob("*"))  # no file named by the student's markup
    copy = site / "estudiantes" / hostile.slug / "runs" / "demo"
    assert "figures.json" in hostile.runs[1].problem  # harvest's containment: a file out of the folder
    assert (copy / "index.html").is_file()  # its demo's pages were made, with the course's templates
    assert not (copy.parent / "shortcut").exists()


def test_a_local_folder_is_copied_without_following_links(course):
    _roster, site, summaries, root = course
    assert summaries["Fede Carpeta"].status == "ok"
    copied = root / "repos" / ".cache"
    checkout = Path(root) / ".cache" / "reportgen" / "course" / "repos" / "fede-carpeta"
    assert (checkout / "experiments" / "results" / "shortcut" / "run.json").is_file()
    assert not (checkout / "experiments" / "results" / "shortcut" / "leak.csv").exists()
    assert not (checkout / "docs" / "etc").exists()
    assert not copied.exists()


def test_an_unchanged_repository_is_not_read_again(course, monkeypatch, tmp_path):
    roster, _site, summaries, root = course
    import reportgen.course.build as build

    def refuse(*args, **kwargs):
        raise AssertionError("an unchanged portfolio was read again")

    import reportgen.course.copies as copies

    monkeypatch.setattr(build, "summarize", refuse)
    monkeypatch.setattr(build, "fetch", refuse)
    monkeypatch.setattr(copies, "run_pages", refuse)
    again = {s.name: s for s in build_course(roster, tmp_path / "site", jobs=1)}
    assert again["Ana Pérez"] == summaries["Ana Pérez"]
    assert (tmp_path / "site" / "estudiantes" / "beto-azar" / "runs" / "demo" / "index.html").is_file()  # kept
    assert again["Gabi Nadie"].problem  # not fetched: still says why
    # A new commit is read again.
    ana = root / "repos" / "ana"
    (ana / "docs" / "runs" / "demo" / "reflexion.md").write_text("nada\n", encoding="utf-8")
    commit(ana, "reflection emptied")
    monkeypatch.undo()
    changed = {s.name: s for s in build_course(roster, tmp_path / "site", jobs=1)}
    assert changed["Ana Pérez"].runs[0].reflection == (0, 5)


def test_roster_errors_name_the_field(tmp_path):
    path = tmp_path / "roster.yaml"
    path.write_text("course: X\nstudents:\n  - name: Ana\n    site: ftp://x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_roster(path)
    message = str(error.value)
    assert "students.0.repo" in message and "students.0.site" in message and str(path) in message
    path.write_text("course: X\nstudents:\n  - {name: Ana, repo: '--upload-pack=touch x'}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="students.0.repo"):
        load_roster(path)
    path.write_text("course: X\nstudents:\n  - {name: Ana, repo: a}\n  - {name: ana, repo: b}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="share the page"):
        load_roster(path)


def test_the_command_refuses_a_folder_that_is_not_a_course_site(tmp_path):
    from reportgen.cli import main

    (tmp_path / "roster.yaml").write_text("course: X\nstudents:\n  - {name: Ana, repo: nada}\n", encoding="utf-8")
    out = tmp_path / "docs"
    out.mkdir()
    (out / "index.md").write_text("mío", encoding="utf-8")
    assert main(["course", str(tmp_path / "roster.yaml"), "--out", str(out)]) == 2
    assert (out / "index.md").read_text(encoding="utf-8") == "mío"
    assert main(["course", str(tmp_path / "nothing.yaml")]) == 2
    (tmp_path / "site.old").mkdir()  # a folder of the user's beside --out is never used nor removed
    for _ in range(2):  # the second build replaces the first
        assert main(["course", str(tmp_path / "roster.yaml"), "--out", str(tmp_path / "site")]) == 0
    assert (tmp_path / "site" / "index.html").is_file() and (tmp_path / "site.old").is_dir()


def test_git_fetch_refuses_other_transports(tmp_path):
    from reportgen.course.fetch import FetchError, Source, identity

    with pytest.raises(FetchError):
        identity(Source("git", "ext::sh -c touch% " + str(tmp_path / "pwned")))
    assert not (tmp_path / "pwned").exists()


def test_reading_a_portfolio_needs_only_the_light_install(tmp_path):
    import subprocess
    import sys

    folder = practice_portfolio(tmp_path / "p", runs=("demo",))
    script = ("import sys; from pathlib import Path; from reportgen.course.summary import summarize; "
              f"runs = summarize(Path({str(folder)!r}), None, 'es'); assert runs[0].status == 'ok'; "
              "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'papermill', 'ipykernel', 'reportgen.practice') "
              "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.stdout.strip() == "[]"


def test_a_clone_holds_links_as_plain_files_and_stays_within_its_limits(tmp_path, monkeypatch):
    from reportgen.course import fetch as fetching

    repo = tmp_path / "repo"
    (repo / "experiments").mkdir(parents=True)
    (repo / "experiments" / "leak.csv").symlink_to("/etc/passwd")
    (repo / "big.bin").write_bytes(os.urandom(300_000))
    commit(repo)
    source = fetching.Source("git", repo.as_uri())
    checkout = fetching.fetch(source, tmp_path / "checkout")
    link = checkout / "experiments" / "leak.csv"
    assert not link.is_symlink() and link.read_text() == "/etc/passwd"  # the link's target's name, as text
    assert not (checkout / ".git").exists()
    monkeypatch.setattr(fetching, "MAX_REPO_BYTES", 100_000)
    with pytest.raises(fetching.FetchError, match="larger than"):
        fetching.fetch(source, tmp_path / "checkout")
    assert not (tmp_path / "checkout").exists()


def test_results_not_made_by_the_committed_practice_code_are_flagged(tmp_path):
    from reportgen.course.summary import StudentProject, stale_key
    from reportgen.harvest import harvest_run
    from reportgen.runs import discover
    from reportgen.runs.cache import package_code_hash

    folder = own_notebook_portfolio(tmp_path / "p")
    (folder / "reportgen" / "practice").mkdir(parents=True)
    (folder / "reportgen" / "practice" / "models.py").write_text("LAYERS = 3\n", encoding="utf-8")
    (folder / "reportgen" / "record.py").write_text("", encoding="utf-8")
    record_path = folder / "experiments" / "results" / "mio" / "run.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    record["cache_components"]["package"] = package_code_hash(folder / "reportgen")
    record_path.write_text(json.dumps(record), encoding="utf-8")
    project = StudentProject(folder)
    run = discover(project, check_notebooks=False)[0]
    assert not stale_key(project, harvest_run(project, run))
    (folder / "reportgen" / "practice" / "models.py").write_text("LAYERS = 4\n", encoding="utf-8")
    assert stale_key(project, harvest_run(project, run))


def test_the_course_pages_speak_the_rosters_language(course):
    from reportgen.course.roster import Roster
    from reportgen.course.site import pages

    _roster, _site, summaries, _root = course
    roster = Roster(course="C", language="en", students=[{"name": s.name, "repo": s.repo} for s in summaries.values()])
    made = pages(roster, list(summaries.values()))
    assert "| Student | Runs | Status |" in made["index.md"]
    from reportgen.render.numbers import percent

    means, verdict = _demo_reading()
    from reportgen.render.strings import strings

    assert f"{percent(means['baseline'], 'en')} → {percent(means['advanced'], 'en')} " \
           f"({strings('en')['course']['verdicts'][verdict]})" in made["index.md"]
    assert "Estudiante" not in made["index.md"]


def test_a_hard_link_is_left_out_and_the_course_name_is_text(tmp_path):
    """A local folder's hard link to a file elsewhere is not copied (as a symlink is not); a course
    name with markup reaches no page as markup (MkDocs Material writes `site_name` unescaped)."""
    secret = tmp_path / "secreto.txt"
    secret.write_text("contenido-de-fuera-del-curso-91c2", encoding="utf-8")
    folder = own_notebook_portfolio(tmp_path / "repos" / "ana")
    os.link(secret, folder / "experiments" / "results" / "mio" / "hard.csv")
    roster = tmp_path / "roster.yaml"
    roster.write_text(yaml.safe_dump({"course": "Curso <script>alert(1)</script><img src=x onerror=alert(2)>",
                                      "students": [{"name": "Ana", "repo": "repos/ana"}]}), encoding="utf-8")
    site = tmp_path / "site"
    summary, = build_course(roster, site, jobs=1)
    assert summary.status == "ok", summary.problem
    assert "contenido-de-fuera-del-curso-91c2" not in _text(site)
    assert live_script_problems(site) == []
    assert "Curso <script>alert(1)</script>" in BeautifulSoup((site / "index.html").read_text(encoding="utf-8"),
                                                              "html.parser").title.get_text()

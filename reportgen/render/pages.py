"""Render: harvested runs -> the site's generated files, in memory, through the Jinja templates.

`Renderer.files()` returns every file reportgen contributes to the site: the home page (cards),
the comparison page, and for each run its page, its executed-notebook page(s), its figures and
its downloads. Nothing is written to docs/: the MkDocs plugin (`reportgen.plugin`) hands these
files to MkDocs during `mkdocs build` / `mkdocs serve`; recorded figures and tables are served
straight from `experiments/results/` (stored once). A file the student writes at the same path
in docs/ wins over the generated one.

The only file reportgen ever writes into docs/ is a run's reflection seed,
`docs/runs/<run-id>/reflexion.md`, created once (`Renderer.seed_reflections`) and the student's
from then on; the run page includes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context

from reportgen.project import Project
from reportgen.read import cache as stored
from reportgen.read import read_notebook
from reportgen.read.markdown import site_markdown
from reportgen.read.page import notebook_page
from reportgen.results import NOTEBOOK, Figure, RunResults
from reportgen.render import elsewhere, evidence
from reportgen.render import figures as drawn
from reportgen.render import cells, interpretation, summary, views
from reportgen.render.views import caption, device, stage_name
from reportgen.render.explanations import explanations_view
from reportgen.render.fragments import Fragments, inline
from reportgen.render.markup import code, md_text
from reportgen.render.pipelines import risk_warnings
from reportgen.render.references import practice_references
from reportgen.render.reflection import Reflection, published, questions
from reportgen.render.strings import DEFAULT as DEFAULT_LANGUAGE, strings
from reportgen.render.templating import keep_compiled
from reportgen.safe import contained_file, printable, sanitize_html

STUDENT_FILE = "reflexion.md"
# The templates that make whole pages; each extends templates/base.md.j2 (tests/render/test_templates.py).
PAGE_TEMPLATES = ("index.md.j2", "comparison.md.j2", "notebook_page.md.j2",
                  evidence.PRACTICE_TEMPLATE, evidence.NOTEBOOK_TEMPLATE)
FAILED_NOTEBOOK = "notebook-fallido"  # the failed attempt's notebook page (and download)
# ----------------------------------------------------------------------- filters
# Number filters: the template's `language` decides the decimal mark (render/cells.py, render/numbers.py).

@pass_context
def number(context, value, digits: int = 3) -> str:
    return cells.number(value, context["language"], digits)


@pass_context
def signed(context, value, digits: int = 3) -> str:
    """A difference of two numbers, with its sign."""
    return cells.signed(value, context["language"], digits)


@pass_context
def percent(context, value, digits: int = 1) -> str:
    return cells.percent(value, context["language"], digits)


@pass_context
def points(context, value, digits: int = 1) -> str:
    """A difference of two fractions, in percentage points with its sign."""
    return cells.points(value, context["language"], digits)


@pass_context
def metric(context, value, name: str | None) -> str:
    """One of the practice's numbers in the one form its quantity reads everywhere (numbers.QUANTITIES)."""
    return cells.metric(value, name, context["language"])


@pass_context
def difference(context, after, before, name: str) -> str:
    """after − before of a metric, computed from the two values as shown beside it."""
    return cells.difference(after, before, name, context["language"])


@pass_context
def duration(context, seconds) -> str:
    """A measured time in the page's language (render/cells.py)."""
    return cells.duration(seconds, context["language"])


def headline(run: RunResults, metric: str) -> dict | None:
    """{'baseline': mean, 'advanced': mean} of one metric over seeds, or None without results."""
    pipelines = run.facts.get("metrics", {}).get("pipelines", {})
    try:
        return {name: pipelines[name]["aggregate"][metric]["mean"] for name in ("baseline", "advanced")}
    except KeyError:
        return None


def status_badge(run: RunResults, language: str) -> str:
    label = page_strings(language)["status"][run.status]
    if run.status == "ok" and elsewhere.is_imported(run):  # executed on Colab or another machine
        label = strings(language)["imported"]["estado"]
    return f'<span class="rg-status rg-status--{run.status}">{label}</span>'


# ---------------------------------------------------------------------- helpers

def environment(templates_dir: Path) -> Environment:
    env = Environment(loader=FileSystemLoader(str(templates_dir)), undefined=StrictUndefined,
                      keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                      autoescape=False)
    keep_compiled(env)  # compiled once, not at every build (render/templating.py)
    env.filters.update(md=md_text, code=code, number=number, signed=signed, percent=percent, points=points,
                       metric=metric, difference=difference, duration=duration,
                       device=device, tojson=lambda v: json.dumps(v, ensure_ascii=False))
    env.globals.update(headline=headline, status_badge=status_badge, caption=caption, stage_name=stage_name,
                       risk_warnings=risk_warnings,
                       explanations=explanations_view, verdicts=interpretation.page_words,
                       recorded_figure=views.recorded_figure, practice_references=practice_references)
    evidence.register(env)
    return env


def page_strings(language: str) -> dict:
    """The fixed words of the pages in the page's language (reportgen/render/strings/)."""
    return strings(language)["page"]




def marker(path: str) -> str:
    """The comment heading every generated page: where it comes from and how to take it over."""
    return (f"<!-- reportgen: generated from experiments/results at every build; "
            f"a file of yours at docs/{path} replaces this page. -->")


def _sha(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part + b"\0")
    return digest.hexdigest()[:20]


# ------------------------------------------------------------------------ files

@dataclass(frozen=True)
class SiteFile:
    """One file reportgen adds to the site: text or bytes made now, or a file served as it is."""

    path: str  # POSIX path inside the site's docs, e.g. "runs/demo/index.md"
    content: str | bytes | None = None
    source: Path | None = None  # e.g. a recorded figure in experiments/results/<run-id>/figures/
    # A page's notebook parts: placeholder -> sanitised HTML, swapped in after Markdown (render/fragments.py)
    fragments: dict[str, str] = field(default_factory=dict, compare=False)

    def read_bytes(self) -> bytes:
        if self.source is not None:
            return self.source.read_bytes()
        return self.content.encode("utf-8") if isinstance(self.content, str) else self.content

    def standalone(self) -> bytes:
        """The file as `render --out` writes it: a page with its notebook HTML in place."""
        if isinstance(self.content, str) and self.fragments:
            return inline(self.content, self.fragments).encode("utf-8")
        return self.read_bytes()


def write_files(files: list[SiteFile], folder: Path) -> None:
    """Write generated files into a folder (`reportgen render --out`: to read or take over a page)."""
    for item in files:
        target = folder / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.standalone())


# ------------------------------------------------------------------------ pages

class Renderer:
    """Makes the site's generated files for a list of harvested runs, in memory."""

    def __init__(self, project: Project, language: str = DEFAULT_LANGUAGE):
        self.project = project
        self.language = language  # of the site-wide pages (home, comparison)
        self.env = environment(project.templates_dir)
        self.figure_cache = project.root / ".cache" / "reportgen" / "figures"
        self.notebook_cache = project.root / ".cache" / "reportgen" / "notebooks"
        self.fragments = Fragments()  # the notebook parts of every page made here
        self.boxes: dict[tuple[str, str], summary.ResultBox] = {}  # (run id, language) -> its result box
        self.env.globals.update(fragments=self.fragments, site_markdown=self.site_markdown,
                                result_box=self.result_box)
        elsewhere.register(self.env, project)  # the Colab button, the download, results made elsewhere

    def result_box(self, run: RunResults, language: str | None = None,
                   found: list[dict] | None = None) -> summary.ResultBox:
        """The run's result box in `language` (its own by default), made once for its page and its card."""
        key = (run.id, language or run.language)
        if key not in self.boxes:
            self.boxes[key] = summary.result_box(run, key[1], found)
        return self.boxes[key]

    def site_markdown(self):
        """The site's Markdown engine (mkdocs.yml's extensions), for a notebook's text and code."""
        return site_markdown(self.project.mkdocs_yml)

    # ---------------------------------------------------------------- the site

    def files(self, runs: list[RunResults]) -> list[SiteFile]:
        """Every generated file of the site."""
        files = []
        for run in runs:
            files += self.run_files(run)
        t = page_strings(self.language)
        head, intro = views.index_head(runs, t)
        files.append(self._page("index.md", "index.md.j2", self.language, head, runs=runs, intro=intro))
        files.append(self._page("comparacion.md", "comparison.md.j2", self.language, views.comparison_head(t),
                                runs=runs))
        return files

    def _page(self, path: str, template: str, language: str, head: views.Head, **context) -> SiteFile:
        """A page made from one of PAGE_TEMPLATES, which all extend templates/base.md.j2."""
        text = self.env.get_template(template).render(
            marker=marker(path), head=head, t=page_strings(language), language=language, **context)
        return SiteFile(path, content=text, fragments=self.fragments.used_by(text))

    # ----------------------------------------------------------------- one run

    def run_files(self, run: RunResults) -> list[SiteFile]:
        """A run's page, notebook page(s), figures and downloads."""
        folder = f"runs/{run.id}"
        files: list[SiteFile] = []
        if run.folder is not None:
            run = self._with_drawn_figures(run)
            files += [SiteFile(f"{folder}/figures/{figure.path.name}", source=figure.path)
                      for figure in run.figures.values()]
            files += self._downloads(run, folder)
            files += self._notebook_page(run.folder / NOTEBOOK, f"{folder}/notebook.md", run)
        files += [SiteFile(f"{folder}/{name}", content=data) for name, data in evidence.page_assets(run).items()]
        if run.failure is not None and run.failure.has_notebook:
            files += self._notebook_page(run.failure.folder / NOTEBOOK, f"{folder}/{FAILED_NOTEBOOK}.md", run, failed=True)
            files.append(SiteFile(f"{folder}/datos/{FAILED_NOTEBOOK}.ipynb", source=run.failure.folder / NOTEBOOK))
        if run.folder is not None and (run.folder / NOTEBOOK).is_file() \
                and not any(item.path == f"{folder}/datos/{NOTEBOOK}" for item in files):
            files.append(SiteFile(f"{folder}/datos/{NOTEBOOK}", source=run.folder / NOTEBOOK))  # a download, always
        verdicts = interpretation.page_words(run)  # once: the page, its box and the reflection seed read them
        box = self.result_box(run, run.language, verdicts["comparisons"])
        found, _written = self.reflection(run, verdicts)  # the checklist ticks it once every question is answered
        downloads = sorted(item.path.rsplit("/", 1)[1] for item in files if "/datos/" in item.path)
        view = views.run_view(run, verdicts, found, box)
        files.append(self._page(f"{folder}/index.md", evidence.run_template(run), run.language, view.head,
                                run=run, view=view, reflection=self.reflection_text(found), downloads=downloads,
                                run_verdicts=verdicts))
        return files

    def _downloads(self, run: RunResults, folder: str) -> list[SiteFile]:
        sources = list(run.tables.values())
        sources += [run.folder / f"{name}.json" for name in ("metrics", "run")]
        return [SiteFile(f"{folder}/datos/{path.name}", source=contained_file(run.folder, path))
                for path in sources if path.exists() or path.is_symlink()]

    # -------------------------------------------------------------- reflection

    def reflection_path(self, run_id: str) -> Path:
        return self.project.docs_dir / "runs" / run_id / STUDENT_FILE

    def reflection_seed(self, run: RunResults, verdicts: dict | None = None) -> str:
        verdicts = verdicts or interpretation.page_words(run)
        return self.env.get_template("reflection.md.j2").render(run=run, t=page_strings(run.language),
                                                                  prompts=verdicts["prompts"])

    def reflection(self, run: RunResults, verdicts: dict | None = None) -> tuple[Reflection, bool]:
        """The student's reflection as published (the seed's questions until its file exists, with no
        words to the student) and whether they wrote in it."""
        seed = self.reflection_seed(run, verdicts)
        path = self.reflection_path(run.id)
        text = path.read_text(encoding="utf-8") if path.exists() else seed
        asked = questions(run.language, evidence.is_practice(run))
        return published(seed, text, asked, run.language), text != seed

    def reflection_text(self, found: Reflection) -> str:
        """The reflection as the run page includes it (Markdown)."""
        return found.text

    def seed_reflections(self, runs: list[RunResults]) -> list[Path]:
        """Create the reflection file of each run with results, once; it is the student's afterwards.

        Seeded only once results exist, so the prompts can quote the run's numbers.
        """
        created = []
        for run in runs:
            path = self.reflection_path(run.id)
            if run.folder is not None and not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(self.reflection_seed(run), encoding="utf-8")
                created.append(path)
        return created

    # ----------------------------------------------------------------- figures

    def _with_drawn_figures(self, run: RunResults) -> RunResults:
        """The run with its figures made of numbers drawn in the page's language (cached by content)."""
        if not drawn.has_data(run):  # a notebook of one's own: no drawer has anything to draw (no matplotlib)
            return run
        figures = dict(run.figures)
        recorded = _results_digest(run.folder)  # once per run: every drawer's cache key includes it
        for name in drawn.names():
            path = self._drawn_figure(run, name, recorded)
            if path is not None:
                figures[name] = Figure(name=name, path=path, caption="")
        return dataclasses.replace(run, figures=figures)

    def _drawn_figure(self, run: RunResults, name: str, recorded: bytes) -> Path | None:
        """A drawn figure's PNG under .cache/, drawn again only when its data (`recorded`, the results'
        digest), words or code changed."""
        folder = self.figure_cache / _sha(name.encode(), run.language.encode(), recorded,
                                          drawn.code_digest().encode())
        path, missing = folder / f"{name}.png", folder / "none"
        if path.exists():
            return path
        if missing.exists():
            return None
        png = drawn.draw(run, name, run.language)
        folder.mkdir(parents=True, exist_ok=True)
        if png is None:
            missing.touch()
            return None
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(png)
        temporary.replace(path)
        return path

    # --------------------------------------------------------------- notebooks

    def _notebook_page(self, notebook: Path, path: str, run: RunResults, failed: bool = False) -> list[SiteFile]:
        """The executed notebook as a page of the site (code, outputs, prose), with its images."""
        harvest = read_notebook(notebook, self.project.notebook(run.config.notebook), self.project.mkdocs_yml,
                                cache=self.notebook_cache)
        if harvest is None:
            return []
        folder, stem = path.rsplit("/", 1)
        files_dir = stem.removesuffix(".md") + "_files"
        body, fragments = self._notebook_body(harvest, files_dir, run.language, failed)
        shown = harvest.figures + [g.output for g in harvest.glued if g.output is not None and g.output.kind == "figure"]
        images = {f"{files_dir}/{o.file}": o.data for o in shown}  # glued ones: the prose may paste them
        self.fragments.update(fragments)
        t = page_strings(run.language)
        header = self.env.get_template("notebook_page.md.j2").render(
            marker=marker(path), head=views.notebook_head(run, t, failed), run=run, failed=failed, t=t,
            language=run.language)
        files = [SiteFile(path, content=header + "\n" + body, fragments=fragments)]
        files += [SiteFile(f"{folder}/{name}", content=data) for name, data in images.items()]
        return files


    def _notebook_body(self, harvest, files_dir: str, language: str, failed: bool) -> tuple[str, dict[str, str]]:
        """The notebook page's Markdown and its fragments, kept in memory (`mkdocs serve`) and on
        disk between builds; fragments from disk are sanitised again (the cache is not trusted)."""
        key = _sha(harvest.key.encode(), files_dir.encode(), language.encode(), str(failed).encode(),
                   (self.project.templates_dir / "notebook_page.md.j2").as_posix().encode())
        if key in _NOTEBOOK_PAGES:
            return _NOTEBOOK_PAGES[key]
        kept = stored.load(self.notebook_cache, f"page-{key}")
        if kept and isinstance(kept.get("body"), str) and isinstance(kept.get("fragments"), dict):
            result = kept["body"], {k: sanitize_html(str(v)) for k, v in kept["fragments"].items()}
        else:
            fragments = Fragments()
            link = f"datos/{FAILED_NOTEBOOK}.ipynb" if failed else f"datos/{NOTEBOOK}"
            body = notebook_page(harvest, self.site_markdown(), page_strings(language), files_dir, link,
                                 fragments.add, md_text)
            result = body, dict(fragments)
            stored.store(self.notebook_cache, f"page-{key}", {"body": body, "fragments": result[1]})
        if len(_NOTEBOOK_PAGES) > 64:
            _NOTEBOOK_PAGES.clear()
        _NOTEBOOK_PAGES[key] = result
        return result


_NOTEBOOK_PAGES: dict[str, tuple[str, dict[str, str]]] = {}


def _results_digest(folder: Path) -> bytes:
    """Identity of what a run recorded (its JSON, CSV and NPZ files): drawn figures depend on nothing else."""
    parts = [path.name.encode() + b"\0" + path.read_bytes()
             for pattern in ("*.json", "*.csv", "*.npz") for path in sorted(folder.glob(pattern))]
    return _sha(*parts).encode()

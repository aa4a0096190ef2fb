"""What a run page says about where its notebook runs: links back, and results made elsewhere.

- **Open in Colab**: when mkdocs.yml sets a GitHub `repo_url`, each run page links its notebook on
  Colab (`https://colab.research.google.com/github/<owner>/<repo>/blob/<branch>/<path>`, the branch
  from `edit_uri`, else `main`): the notebook under experiments/ for a run executed here, the executed
  notebook of its results folder for an imported one. Anything else in `repo_url` gives no link.
- **The executed notebook** (`datos/notebook.ipynb`) as a download.
- **Results made elsewhere**: an imported run's provenance (service, accelerator, when, the versions
  its outputs show, cells flagged stale), and, for results executed on another machine, whether the
  cache key's code parts (the notebook's code, the practice's) match this project's code.

Everything here is data for `templates/elsewhere.md.j2`, written out in the page's words (the strings'
`imported:` table); the template only lays it out.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from reportgen.project import Project
from reportgen.render.markup import code, md_text
from reportgen.results import NOTEBOOK, RunResults

GITHUB_REPO = re.compile(r"^https://github\.com/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9._-]{1,100}?)"
                         r"(?:\.git)?/?$")
BRANCH_IN_EDIT_URI = re.compile(r"(?:^|/)(?:edit|blob|tree)/([A-Za-z0-9._-]{1,100})(?:/|$)")
COLAB = "https://colab.research.google.com/github"
DEFAULT_BRANCH = "main"


def _settings(mkdocs_yml: Path) -> tuple[str | None, str | None]:
    """mkdocs.yml's `repo_url` and `edit_uri`, read with MkDocs' own loader (`!ENV` and the like)."""
    path = Path(mkdocs_yml)
    if not path.is_file():
        return None, None
    return _load(str(path.resolve()), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _load(path: str, _mtime: int) -> tuple[str | None, str | None]:
    from mkdocs import exceptions
    from mkdocs.config import config_options
    from mkdocs.config.base import Config

    class Links(Config):
        repo_url = config_options.Optional(config_options.Type(str))
        edit_uri = config_options.Optional(config_options.Type(str))

    settings = Links(config_file_path=path)
    try:
        with open(path, "rb") as handle:
            settings.load_file(handle)
    except (OSError, exceptions.ConfigurationError):
        return None, None  # the build itself reports a broken mkdocs.yml
    errors, _ = settings.validate()
    if errors:
        return None, None
    return settings["repo_url"], settings["edit_uri"]


def colab_url(project: Project, run: RunResults) -> str | None:
    """The run's notebook on Colab, or None (no GitHub repo_url, or no notebook to open)."""
    repo_url, edit_uri = _settings(project.mkdocs_yml)
    match = GITHUB_REPO.match(repo_url.strip()) if isinstance(repo_url, str) else None
    if not match:
        return None
    branch = BRANCH_IN_EDIT_URI.search(edit_uri or "")
    if is_imported(run):
        if run.folder is None:
            return None
        path = f"experiments/results/{run.id}/{NOTEBOOK}"
    else:
        if not project.notebook(run.config.notebook).is_file():
            return None
        path = f"experiments/{run.config.notebook}.ipynb"
    owner, repo = match.groups()
    return f"{COLAB}/{owner}/{repo}/blob/{branch.group(1) if branch else DEFAULT_BRANCH}/{quote(path)}"


@functools.cache
def colab_icon() -> str:
    """Material's bundled Colab icon (simple-icons), inline like its own `:simple-googlecolab:`."""
    try:
        import material

        svg = (Path(material.__file__).parent / "templates" / ".icons" / "simple" / "googlecolab.svg").read_text()
    except (ImportError, OSError):
        return ""
    return f'<span class="twemoji">{svg.strip()}</span> '


def links_html(project: Project, run: RunResults, words: dict) -> str:
    """The Colab button and the executed notebook's download, as raw HTML (escaped here)."""
    parts = []
    url = colab_url(project, run)
    if url:
        parts.append(f'<a class="md-button rg-colab" href="{html.escape(url)}" target="_blank" rel="noopener">'
                     f'{colab_icon()}{html.escape(words["abrir_colab"])}</a>')
    if run.folder is not None and (run.folder / NOTEBOOK).is_file():
        parts.append(f'<a class="md-button rg-download" href="datos/{NOTEBOOK}" download>'
                     f'{html.escape(words["descargar_notebook"])}</a>')
    return " ".join(parts)


def is_imported(run: RunResults) -> bool:
    return getattr(run.config, "executed", "here") == "elsewhere"


def origin(project: Project, run: RunResults) -> dict | None:
    """What the page says about results made elsewhere (None for results made on this machine)."""
    record = run.record or {}
    if run.folder is None:
        return None
    if is_imported(run):
        imported = record.get("imported") if isinstance(record.get("imported"), dict) else {}
        stale = [item for item in record.get("stale_outputs") or [] if isinstance(item, dict)]
        return {"imported": True, "where": imported, "record": record, "stale": stale}
    from reportgen.runs.cache import code_check, from_another_machine

    if not from_another_machine(record):
        return None
    return {"imported": False, "record": record, "runtime": record.get("runtime"),
            "check": code_check(project, record, run.config.notebook)}


# ------------------------------------------------------------------ the page's note

@dataclass
class Origin:
    """The note a run page shows about results made elsewhere, written out (Markdown, escaped here)."""

    kind: str  # the admonition: info (imported) | note (another machine)
    title: str
    sentence: str
    rows: list[tuple[str, str]] = field(default_factory=list)  # the imported file, its kernel, versions
    stale_title: str = ""
    stale_intro: str = ""
    stale: list[str] = field(default_factory=list)  # one line per cell whose outputs do not match its code


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _where(words: dict, where: dict, record: dict) -> str:
    """The service and its machine: "Google Colab (GPU Tesla T4, máquina hm)"."""
    details = []
    if accelerator := where.get("accelerator"):
        names = _mapping(record.get("device")).get("names", [])
        if names and names != [accelerator]:
            details.append(f"{accelerator} {', '.join(map(str, names))}")
        else:
            details.append(f"{accelerator} {where['gpu_type']}" if where.get("gpu_type") else str(accelerator))
    if where.get("machine_shape"):
        details.append(f"{words['maquina']} {where['machine_shape']}")
    service = words["servicio"].get(where.get("service", ""), record.get("platform", "—"))
    return md_text(service) + (f" ({md_text(', '.join(details))})" if details else "")


def _stale_line(words: dict, item: dict) -> str:
    problem = item.get("problem")
    said = words["problema"][problem].format(
        above=item.get("above", "?"), count=item.get("count", "?"), above_count=item.get("above_count", "?"),
        error=md_text(item.get("error", ""))) if problem in words["problema"] else "—"
    return f"{words['celda'].format(n=item.get('cell', '?'))} ({code(item.get('code', ''))}): {said}"


def _imported_note(words: dict, found: dict) -> Origin:
    where, record = found["where"], found["record"]
    when = words["cuando_celdas" if _mapping(where.get("executed_at")).get("from") == "cells" else "cuando_archivo"]
    finished = md_text(str(record.get("finished") or "—")[:16].replace("T", " "))
    kernel = _mapping(where.get("kernel"))
    libraries = _mapping(record.get("libraries")).items()
    versions = ", ".join(f"{md_text(name)} {md_text(version)}" for name, version in libraries)
    return Origin("info", words["titulo"],
                  f"{words['ejecutado_en'].format(where=_where(words, where, record))} {when.format(date=finished)} "
                  f"{words['no_reproducido']}",
                  rows=[(words["archivo"], f"{code(where.get('file', '—'))} ({words['importado_el']} "
                                           f"{md_text(str(where.get('imported_at') or '—')[:10])})"),
                        (words["kernel"], md_text(kernel.get("display_name") or kernel.get("name") or "—")),
                        (words["versiones"], versions or words["sin_versiones"])],
                  stale_title=words["desactualizado_titulo"], stale_intro=words["desactualizado"],
                  stale=[_stale_line(words, item) for item in found["stale"]])


def _other_machine_note(words: dict, found: dict) -> Origin:
    check = found["check"]
    if check["matches"]:
        sentence = words["codigo_coincide"].format(key=code(check["key"]))
    else:
        parts = ", ".join(words["partes"].get(name, name) for name in check["differs"])
        sentence = words["codigo_difiere"].format(key=code(check["key"]), parts=parts)
    if check["libraries"]:
        changes = ", ".join(f"{md_text(name)} {md_text(there)} → {md_text(here)}"
                            for name, (there, here) in check["libraries"].items())
        sentence += f" {words['bibliotecas_difieren']} {changes}."
    where = md_text(found["runtime"] or words["otra_maquina_sin_nombre"])
    return Origin("note", words["otra_maquina_titulo"], f"{words['otra_maquina'].format(where=where)} {sentence}")


def origin_note(project: Project, run: RunResults) -> Origin | None:
    """The page's note about where its results were made, or None (made here, by this project)."""
    from reportgen.render.strings import strings

    found = origin(project, run)
    words = strings(run.language)["imported"]
    if found and found["imported"]:
        return _imported_note(words, found)
    if found and found["check"]:
        return _other_machine_note(words, found)
    return None


def register(env, project: Project) -> None:
    """The helpers `templates/elsewhere.md.j2` calls, bound to the project."""
    from reportgen.render.strings import strings

    env.globals.update(
        elsewhere_links=lambda run: links_html(project, run, strings(run.language)["imported"]),
        elsewhere_origin=lambda run: origin_note(project, run))

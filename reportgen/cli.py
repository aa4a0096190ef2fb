"""Command line: `python -m reportgen report|run|render|build|status|publish|new|import|course`.

`report --no-execute`, `render` and `build` need only the light install (no ML library).

Exit codes (one mapping, `reportgen.errors.exit_status`): 0 success; 1 a run or the build failed, or
an optional dependency is missing; 2 invalid configuration (nothing touched); 3 a results folder is
corrupt (neither re-executed nor shown; delete it or use --force); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from reportgen.errors import EXIT_CORRUPT, EXIT_OK, ConfigError, MissingDependency, exit_status
from reportgen.project import Project
from reportgen.render.strings import DEFAULT as DEFAULT_LANGUAGE, languages
from reportgen.runs.matrix import LARGE_MATRIX_VARIABLE, MAX_COMBINATIONS

log = logging.getLogger("reportgen")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reportgen",
        description="Run the portfolio's experiments and render them as a MkDocs Material site.")
    parser.add_argument("--project", default=".", help="project root (default: current folder)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str, runs: bool = False, force: bool = False):
        command = commands.add_parser(name, help=help_text, description=help_text)
        if runs:
            command.add_argument("run_ids", nargs="*", metavar="RUN_ID",
                                 help="run file names without .yaml, or ids of a matrix's runs (default: all)")
        if force:
            command.add_argument("--force", action="store_true", default=bool(os.environ.get("FORCE")),
                                 help="execute even fresh runs (also FORCE=1)")
            command.add_argument("--workers", type=_positive, metavar="N",
                                 help="execute stale runs concurrently on a local Dask cluster of N processes")
            command.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                                 default=os.environ.get("REPORTGEN_SCHEDULER") or None,
                                 help="execute stale runs on an existing Dask cluster (also REPORTGEN_SCHEDULER)")
        if runs:
            command.add_argument("--large-matrix", action="store_true",
                                 help=f"accept a matrix of more than {MAX_COMBINATIONS} runs (also "
                                      f"{LARGE_MATRIX_VARIABLE}=1)")
        command.add_argument("--quiet", action="store_true", help="no per-cell progress bar")
        return command

    report = add("report", "Execute stale runs, render docs/ and build site/.", runs=True, force=True)
    report.add_argument("--no-execute", action="store_true",
                        help="render and build from committed results only (no training)")
    add("run", "Execute the named runs (default: all) that are not fresh; --force executes fresh ones too.",
        runs=True, force=True)
    render = add("render", "Seed missing reflections in docs/ and check that every page renders "
                           "(the pages themselves are made during the MkDocs build).")
    render.add_argument("--out", metavar="DIR",
                        help="also write the generated pages and figures into DIR (to read, or to copy a page "
                             "into docs/ and take it over); a new or empty folder outside docs/")
    render.add_argument("--force", action="store_true", help="write into a --out folder that is not empty")
    add("build", "Build site/ with mkdocs build --strict (the reportgen plugin makes the pages).")
    add("status", "Show which runs are fresh, stale, failed or new, and why.", runs=True)
    add("publish", "Build and deploy the site to GitHub Pages (mkdocs gh-deploy).")
    new = commands.add_parser("new", help="Start a run: write its run file, every field commented.",
                              description="Write experiments/runs/RUN_ID.yaml, ready for `make report`; with "
                                          "--notebook NAME of a notebook that does not exist yet, also "
                                          "experiments/NAME.ipynb from a starter notebook.")
    new.add_argument("run_id", metavar="RUN_ID", help="name of the run (the run file and the page)")
    new.add_argument("--notebook", metavar="NAME",
                     help="experiments/NAME.ipynb to execute (default: the shipped practice, or a new "
                          "mi_notebook.ipynb where there is none)")
    new.add_argument("--title", help="the page's title (default: from RUN_ID)")
    _add_import(commands)
    course = commands.add_parser("course", help="Build one site of every student's portfolio, for the reviewer.",
                                 description="Fetch every portfolio of ROSTER.yaml (shallow clones or local "
                                             "folders; nothing of theirs is executed) and build one course site.")
    course.add_argument("roster", metavar="ROSTER.yaml", help="the course: its name and each student's repo and site")
    course.add_argument("--out", default="course-site", metavar="DIR", help="where the site goes (default: course-site/)")
    return parser


def _add_import(commands) -> None:
    """`import NOTEBOOK.ipynb [RUN_ID]`: a notebook executed elsewhere (Colab, Kaggle) becomes a run."""
    command = commands.add_parser(
        "import", help="Publish a notebook executed elsewhere (Colab, Kaggle, a lab GPU) as a run.",
        description="Make a run of a notebook executed elsewhere and downloaded with its outputs: "
                    "experiments/results/RUN_ID/ (the notebook and its provenance) and, the first time, "
                    "experiments/runs/RUN_ID.yaml with 'executed: elsewhere'. Its page is built from its "
                    "outputs; `run` and `report` never execute it. Importing a newer download replaces it.")
    command.add_argument("notebook", metavar="NOTEBOOK.ipynb", help="the executed notebook, with its outputs")
    command.add_argument("run_id", nargs="?", metavar="RUN_ID", help="the run's id (default: from the file name)")
    command.add_argument("--title", help="the page's title on a first import (default: the notebook's first heading)")
    command.add_argument("--language", choices=languages(), default=DEFAULT_LANGUAGE, help="the page's language on a first import")
    command.add_argument("--allow-stale", action="store_true",
                         help="import even when code cells were never run, ran out of order or stopped with an "
                              "error; the page names those cells")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a number of workers must be a whole number >= 1, not {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ chatter hides the progress
    logging.basicConfig(level=logging.INFO, format="[reportgen] %(message)s", stream=sys.stderr)
    if getattr(args, "large_matrix", False):  # the build's plugin discovers the runs again, in this process
        os.environ[LARGE_MATRIX_VARIABLE] = "1"
    try:
        return COMMANDS[args.command](Project.at(args.project), args)
    except BaseException as exc:  # noqa: BLE001 - every error ends as one paragraph and its exit code
        if isinstance(exc, SystemExit) or os.environ.get("REPORTGEN_DEBUG"):
            raise
        code, message = exit_status(exc)
        print(f"reportgen: {message}", file=sys.stderr)
        return code


def _runs(project: Project, args, check_notebooks: bool = True):
    from reportgen.runs import discover

    return discover(project, getattr(args, "run_ids", None) or None, check_notebooks=check_notebooks)


def _check_out_folder(project: Project, out: Path, force: bool) -> Path:
    """`render --out DIR`: never docs/ (the student's pages: generated files there would pass for their
    own) nor anything in it; a folder that holds files only with --force. Checked before rendering."""
    out = out.resolve()
    docs = project.docs_dir.resolve()
    if out == docs or docs in out.parents:
        raise ConfigError(f"--out {out}: the generated pages never go into docs/ (they would overwrite your pages "
                          f"and pass for your own in later builds); choose another folder, e.g. --out /tmp/pages.")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: not a folder.")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ConfigError(f"--out {out}: the folder is not empty; choose a new or empty one, or add --force "
                          f"to write over what it holds.")
    return out


PRACTICE_MODULES = ("keras", "scipy", "sklearn", "papermill", "ipykernel")


def _require_practice() -> None:
    """Executing runs, or telling which are stale, needs the practice extra: say so before starting."""
    import importlib.util

    missing = [name for name in PRACTICE_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingDependency(
            "executing runs needs the practice extra", missing,
            "pip install -e '.[practice,cpu]' (or gpu / jax), or `make report`. Building the site from "
            "committed results needs none of it: python -m reportgen report --no-execute")


def cmd_status(project: Project, args) -> int:
    from reportgen.runs import state_of

    _require_practice()
    corrupt = False
    for run in _runs(project, args):
        state = state_of(project, run)
        print(f"{run.id:30s} {state.state:7s} {state.reason}")
        corrupt |= state.state == "corrupt"
    return EXIT_CORRUPT if corrupt else EXIT_OK


def cmd_run(project: Project, args) -> int:
    return _execute(project, _runs(project, args), args)


def _execute(project: Project, runs, args) -> int:
    """Execute the stale ones of `runs`; the exit code says whether any failed or was corrupt."""
    from reportgen.runs import execute_stale
    from reportgen.runs.distributed import executor_from

    _require_practice()
    executor = executor_from(args.workers, args.scheduler)  # the address checked before the lock is taken
    outcomes = execute_stale(project, runs, force=args.force, progress=not args.quiet, executor=executor)
    return max((outcome.exit_code for outcome in outcomes.values()), default=EXIT_OK)


def _seed_reflections(project: Project, runs) -> None:
    """Create each run's missing reflection: the only files reportgen writes into docs/."""
    from reportgen.render import Renderer

    for path in Renderer(project).seed_reflections(runs):
        log.info("created %s (yours from now on)", path.relative_to(project.root))


def cmd_render(project: Project, args) -> int:
    """Seed missing reflections and render every page once, so a template error shows before a build."""
    from reportgen.harvest import harvest_all
    from reportgen.render import Renderer
    from reportgen.render.pages import write_files
    from reportgen.site import site_language

    out = _check_out_folder(project, Path(args.out), args.force) if args.out else None
    runs = harvest_all(project, _runs(project, args))
    _seed_reflections(project, runs)
    files = Renderer(project, language=site_language(project)).files(runs)
    if out:
        write_files(files, out)
        log.info("wrote %d generated files into %s", len(files), args.out)
    log.info("rendered %d pages", sum(item.path.endswith(".md") for item in files))
    return EXIT_OK


def cmd_build(project: Project, args) -> int:
    from reportgen.site import build

    build(project)
    log.info("site built in site/")
    return EXIT_OK


def cmd_report(project: Project, args) -> int:
    """The whole job: validate everything first, execute what is stale, seed reflections, build."""
    started = time.perf_counter()
    from reportgen.harvest import harvest_all
    from reportgen.render import Renderer
    from reportgen.runs import discover

    runs = discover(project, check_notebooks=not args.no_execute)  # every run file validated before anything runs
    status = EXIT_OK
    if not args.no_execute:
        status = _execute(project, _runs(project, args) if args.run_ids else runs, args)
    unseeded = [run for run in runs if not Renderer(project).reflection_path(run.id).exists()]
    _seed_reflections(project, harvest_all(project, unseeded))  # only those runs need reading here
    build_status = cmd_build(project, args)  # the plugin renders every run, not only those executed now
    log.info("report finished in %.0f s", time.perf_counter() - started)
    return max(status, build_status)


def cmd_publish(project: Project, args) -> int:
    from reportgen.site import publish

    publish(project)
    return EXIT_OK


def cmd_new(project: Project, args) -> int:
    from reportgen.runs.scaffold import new_run

    for path in new_run(project, args.run_id, notebook=args.notebook, title=args.title):
        log.info("wrote %s", path.relative_to(project.root))
    return EXIT_OK


def cmd_import(project: Project, args) -> int:
    from reportgen.runs.imported import import_notebook

    import_notebook(project, Path(args.notebook), args.run_id, title=args.title, language=args.language,
                    allow_stale=args.allow_stale)
    return EXIT_OK


def cmd_course(project: Project, args) -> int:
    from reportgen.course import build_course

    build_course(args.roster, args.out)
    return EXIT_OK


COMMANDS = {"course": cmd_course, "import": cmd_import, "new": cmd_new, "report": cmd_report, "run": cmd_run, "render": cmd_render, "build": cmd_build,
            "status": cmd_status, "publish": cmd_publish}

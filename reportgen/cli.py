"""Command line: `python -m reportgen report|run|render|build|status|publish`.

Exit codes: 0 success; 1 a run or the build failed; 2 invalid configuration (nothing touched).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from reportgen.errors import EXIT_FAILED, EXIT_OK, ConfigError, ReportgenError
from reportgen.project import Project

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
        command.add_argument("--quiet", action="store_true", help="no per-cell progress bar")
        return command

    report = add("report", "Execute stale runs, render docs/ and build site/.", runs=True, force=True)
    report.add_argument("--no-execute", action="store_true",
                        help="render and build from committed results only (no training)")
    add("run", "Execute the named runs (default: the stale ones).", runs=True, force=True)
    add("render", "Render docs/ from the results, without executing anything.")
    add("build", "Build site/ from docs/ with mkdocs --strict.")
    add("status", "Show which runs are fresh, stale, failed or new, and why.", runs=True)
    add("publish", "Build and deploy the site to GitHub Pages (mkdocs gh-deploy).")
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a number of workers must be a whole number >= 1, not {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ chatter hides the progress
    logging.basicConfig(level=logging.INFO, format="[reportgen] %(message)s", stream=sys.stderr)
    project = Project.at(args.project)
    try:
        return COMMANDS[args.command](project, args)
    except ConfigError as exc:
        print(f"reportgen: invalid configuration, nothing was executed or changed.\n{exc}", file=sys.stderr)
        return exc.exit_code
    except ReportgenError as exc:
        print(f"reportgen: {exc}", file=sys.stderr)
        return exc.exit_code


def _runs(project: Project, args):
    from reportgen.runs import discover

    return discover(project, getattr(args, "run_ids", None) or None)


def cmd_status(project: Project, args) -> int:
    from reportgen.runs import state_of

    for run in _runs(project, args):
        state = state_of(project, run)
        print(f"{run.id:30s} {state.state:7s} {state.reason}")
    return EXIT_OK


def cmd_run(project: Project, args) -> int:
    from reportgen.runs import execute_stale
    from reportgen.runs.distributed import executor_from

    runs = _runs(project, args)
    executor = executor_from(args.workers, args.scheduler)
    outcomes = execute_stale(project, runs, force=args.force, progress=not args.quiet, executor=executor)
    return EXIT_FAILED if any(o.startswith("failed") for o in outcomes.values()) else EXIT_OK


def cmd_render(project: Project, args) -> int:
    from reportgen.harvest import harvest_all
    from reportgen.render import Renderer

    runs = _runs(project, args)
    written = Renderer(project).render_all(harvest_all(project, runs))
    log.info("rendered %d pages into docs/", len(written))
    return EXIT_OK


def cmd_build(project: Project, args) -> int:
    from reportgen.site import build

    build(project)
    log.info("site built in site/")
    return EXIT_OK


def cmd_report(project: Project, args) -> int:
    """The whole job: validate everything first, execute what is stale, render, build."""
    started = time.perf_counter()
    from reportgen.runs import discover

    discover(project)  # every run file is validated before anything runs
    selected = _runs(project, args)
    status = EXIT_OK
    if not args.no_execute:
        status = cmd_run(project, argparse.Namespace(**{**vars(args), "run_ids": [r.id for r in selected]}))
    args.run_ids = []  # the site always shows every run, not only the ones executed now
    render_status = cmd_render(project, args)
    build_status = cmd_build(project, args)
    log.info("report finished in %.0f s", time.perf_counter() - started)
    return max(status, render_status, build_status)


def cmd_publish(project: Project, args) -> int:
    from reportgen.site import publish

    publish(project)
    return EXIT_OK


COMMANDS = {"report": cmd_report, "run": cmd_run, "render": cmd_render, "build": cmd_build,
            "status": cmd_status, "publish": cmd_publish}

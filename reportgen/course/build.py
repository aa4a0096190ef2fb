"""`python -m reportgen course ROSTER.yaml`: read every portfolio of a roster, build the course site.

The roster and the output folder are checked before anything is fetched. Portfolios are read two at
a time (one per core), each in a worker process under a time limit, so one hostile repository can
neither stop the course nor hold it up: whatever goes wrong becomes that student's row. The site is
built in a staging folder and moved into place at the end; a failed build leaves the previous
course site as it was.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import shutil
import signal
import time
from pathlib import Path

from reportgen.course import cache
from reportgen.course.fetch import FetchError, fetch, identity, source_of
from reportgen.course.roster import Student, load_roster
from reportgen.course.summary import StudentSummary, summarize
from reportgen.errors import ConfigError, ReportgenError

log = logging.getLogger("reportgen")

MARKER = ".reportgen-course"  # in a course site: `course --out` may replace the folder
READ_SECONDS = 120  # reading one portfolio (its fetch aside) takes well under a second
IDENTITY_FILE = ".course-identity"


def build_course(roster_path: str | Path, out: str | Path = "course-site", *, cache_dir: str | Path | None = None,
                 jobs: int | None = None) -> list[StudentSummary]:
    """Read every student's portfolio and build the course site into `out`; the summaries, in roster order."""
    roster, base = load_roster(roster_path)
    out = Path(out).resolve()
    _check_out(out)
    work = Path(cache_dir).resolve() if cache_dir else base / ".cache" / "reportgen" / "course"
    from reportgen.course.site import build_site, write_config

    started = time.perf_counter()
    mkdocs_yml = write_config(work / "settings", roster)  # the course's Markdown settings, for copies too
    summaries = read_all(roster.students, base, work, roster.language, mkdocs_yml,
                         jobs or min(2, os.cpu_count() or 1))
    log.info("read %d portfolios in %.1f s", len(summaries), time.perf_counter() - started)
    build_site(roster, summaries, work, out)
    log.info("course site built in %s (%.1f s in all)", out, time.perf_counter() - started)
    return summaries


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise ConfigError(f"{out}: --out must be a new or empty folder, or an earlier course site "
                          f"(it holds {MARKER}); nothing there was changed.")


def read_all(students: list[Student], base: Path, work: Path, language: str, mkdocs_yml: Path,
             jobs: int) -> list[StudentSummary]:
    """Every student's summary (and pages, for a student with no site): from the cache where their
    portfolio is unchanged, read otherwise."""
    tasks = [(student, base, work, language, mkdocs_yml) for student in students]
    if jobs <= 1 or len(tasks) <= 1:
        return [read_student(*task) for task in tasks]
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, initializer=_worker) as pool:
        futures = [pool.submit(read_student, *task) for task in tasks]
        summaries = []
        for student, future in zip(students, futures):
            try:
                summaries.append(future.result())
            except concurrent.futures.process.BrokenProcessPool:
                summaries.append(_unreadable(student, "the reader process stopped (out of memory?)"))
        return summaries


def _worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle


class _TooSlow(Exception):
    pass


def _alarm(signum, frame):
    raise _TooSlow


def read_student(student: Student, base: Path, work: Path, language: str, mkdocs_yml: Path) -> StudentSummary:
    """One student's summary; every problem becomes the row's `problem`, never an exception.
    A student with no published site also gets a copy of their run pages (course/copies.py)."""
    from reportgen.course.copies import ensure_copies

    summary = StudentSummary(name=student.name, slug=student.slug, repo=student.repo, site=student.site)
    wanted, checkout = None, None
    try:
        source = source_of(student, base)
        summary.identity = identity(source)
        wanted = cache.key(summary.identity, language)
        kept = cache.load(work / "summaries", student.slug, wanted)
        if kept is not None:
            summary = kept.model_copy(update={"name": student.name, "repo": student.repo, "site": student.site})
        else:
            checkout = fetch(source, work / "repos" / student.slug)
            (checkout / IDENTITY_FILE).write_text(summary.identity, encoding="utf-8")
            summary.runs = _limited(lambda: summarize(checkout, mkdocs_yml, language))
            cache.store(work / "summaries", student.slug, wanted, summary)
        if not student.site and not summary.problem:
            _limited(lambda: ensure_copies(work, summary, checkout or checkout_of(work, summary, student, base),
                                           mkdocs_yml, wanted))
    except FetchError as exc:
        summary.problem = _short(str(exc), work)  # not cached: unreachable now may be reachable next time
    except _TooSlow:
        summary.problem = f"reading it took longer than {READ_SECONDS} s"
        _store(work, student, wanted, summary)
    except ReportgenError as exc:
        summary.problem = _short(str(exc), work)
        _store(work, student, wanted, summary)
    except Exception as exc:  # noqa: BLE001  (hostile content may break any parser: the row says so)
        summary.problem = _short(f"{type(exc).__name__}: {exc}", work)
        _store(work, student, wanted, summary)
    return summary


def _store(work: Path, student: Student, wanted: str | None, summary: StudentSummary) -> None:
    """A portfolio that cannot be read at this commit will not be read at it next time either."""
    if wanted:
        cache.store(work / "summaries", student.slug, wanted, summary)


def _limited(read):
    """`read()` under READ_SECONDS where a timer can interrupt it (the main thread of a process)."""
    try:
        previous = signal.signal(signal.SIGALRM, _alarm)
    except ValueError:  # not the main thread
        return read()
    signal.alarm(READ_SECONDS)
    try:
        return read()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _unreadable(student: Student, problem: str) -> StudentSummary:
    return StudentSummary(name=student.name, slug=student.slug, repo=student.repo, site=student.site, problem=problem)


def _short(message: str, work: Path) -> str:
    text = " ".join(message.replace(str(work / "repos") + os.sep, "").split())
    return text[:400] + ("…" if len(text) > 400 else "")


def checkout_of(work: Path, summary: StudentSummary, student: Student, base: Path) -> Path | None:
    """The student's checkout at the summary's identity (fetched again if it was removed), or None.
    Only needed when a summary came from the cache and its pages have still to be made."""
    folder = work / "repos" / summary.slug
    marker = folder / IDENTITY_FILE
    if marker.is_file() and marker.read_text(encoding="utf-8") == summary.identity:
        return folder
    try:
        fetch(source_of(student, base), folder)
    except FetchError:
        return None
    marker.write_text(summary.identity, encoding="utf-8")
    return folder


def replace_folder(staging: Path, out: Path) -> None:
    """Move a finished site into place: the old one is removed only once the new one is complete."""
    import tempfile

    (staging / MARKER).write_text("A course site made by `python -m reportgen course`.\n", encoding="utf-8")
    old = Path(tempfile.mkdtemp(prefix=".course-old-", dir=out.parent)) / out.name  # never a folder of the user's
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old.parent, ignore_errors=True)

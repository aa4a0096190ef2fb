"""One exception hierarchy for the whole package, and the exit code each error maps to.

Every error reportgen raises on purpose derives from `ReportgenError` and carries its exit code;
`exit_status` turns any exception into the exit code and the one paragraph the terminal shows. It is
the only place that does: the command line calls it, nothing else decides an exit code.

    0    success
    1    a run or the build failed; an optional dependency is missing (the message says how to install it)
    2    invalid configuration: a run file, a flag, a setting (nothing was executed or changed)
    3    a results folder is corrupt (neither re-executed nor shown)
    130  interrupted (Ctrl-C): the last good results are kept
"""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_CORRUPT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
MAX_MESSAGE = 4000  # characters: a message names what is wrong, it never repeats a huge value


class ReportgenError(Exception):
    """Base of every error reportgen reports to the user."""

    exit_code = EXIT_FAILED


class ConfigError(ReportgenError, ValueError):
    """A run file, a flag or a setting is invalid; the message names the file, the field and what is allowed.

    Raised before anything executes: nothing was run or changed.
    """

    exit_code = EXIT_CONFIG


class MissingDependency(ReportgenError, ImportError):
    """An optional part of reportgen is not installed (the practice, Dask); the message gives the command
    that installs it. The configuration is fine: it is the environment that lacks something."""

    exit_code = EXIT_FAILED

    def __init__(self, needs: str, missing: list[str], install: str):
        self.missing = missing
        super().__init__(f"{needs} ({', '.join(missing)} not installed): {install}")


class RunFailed(ReportgenError, RuntimeError):
    """A notebook raised, or produced a failure status; the message holds its last lines."""


class BuildFailed(ReportgenError, RuntimeError):
    """mkdocs reported an error or, in strict mode, a warning (a broken link or image)."""


class ExplanationError(ReportgenError, ValueError):
    """An explanation was asked of inputs that would give a silently wrong map.

    A model whose logits cannot be found behind its probabilities, a class index that is
    not one integer per image in range, a layer without a spatial feature map, an empty
    batch: each is refused with what to pass instead.
    """


class CorruptResults(ReportgenError, RuntimeError):
    """A results folder is unreadable, incomplete or unsafe (a broken run.json, a missing notebook, a
    file that resolves outside the folder).

    It is neither re-executed nor shown until the user deletes it or re-executes with --force.
    """

    exit_code = EXIT_CORRUPT

    def __init__(self, folder, problem: str):
        self.folder, self.problem = folder, problem
        super().__init__(f"{folder}: corrupt results ({problem}). Nothing was executed or shown for it: "
                         f"delete the folder to execute the run again, or re-execute it with --force.")


class LockTimeout(ReportgenError, TimeoutError):
    """Another process kept experiments/results locked longer than the wait limit."""


def exit_status(exc: BaseException) -> tuple[int, str]:
    """The exit code and the terminal's message for any exception that reached the command line."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED, ("interrupted: the run in progress was stopped and discarded, the last good "
                                  "results are kept; the next report executes it again.")
    if isinstance(exc, ConfigError):
        return exc.exit_code, _cut(f"invalid configuration, nothing was executed or changed.\n{exc}")
    if isinstance(exc, ReportgenError):
        return exc.exit_code, _cut(str(exc))
    # A bug, or something no check foresaw: one paragraph, not a traceback (REPORTGEN_DEBUG=1 shows it).
    from reportgen.safe import shown

    return EXIT_FAILED, (f"unexpected error ({type(exc).__name__}: {shown(str(exc))}). Nothing already produced "
                         f"was removed. Set REPORTGEN_DEBUG=1 to see where it happened, and please report it.")


def _cut(message: str) -> str:
    if len(message) <= MAX_MESSAGE:
        return message
    return message[:MAX_MESSAGE] + f" [... {len(message) - MAX_MESSAGE} more characters]"

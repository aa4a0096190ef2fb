"""One exception hierarchy for the whole package, and the exit code each error maps to.

Every error reportgen raises on purpose derives from `ReportgenError`; the command line
turns it into a message and `exit_code` in one place (`reportgen.cli`).
"""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_CORRUPT = 0, 1, 2, 3


class ReportgenError(Exception):
    """Base of every error reportgen reports to the user."""

    exit_code = EXIT_FAILED


class ConfigError(ReportgenError, ValueError):
    """A run file is invalid; the message names the file, the field and what is allowed.

    Raised before anything executes: nothing was run or changed.
    """

    exit_code = EXIT_CONFIG


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
    """A results folder is unreadable or incomplete (a broken run.json, a missing notebook).

    It is neither re-executed nor shown until the user deletes it or re-executes with --force.
    """

    exit_code = EXIT_CORRUPT

    def __init__(self, folder, problem: str):
        self.folder, self.problem = folder, problem
        super().__init__(f"{folder}: corrupt results ({problem}). Nothing was executed or shown for it: "
                         f"delete the folder to execute the run again, or re-execute it with --force.")


class LockTimeout(ReportgenError, TimeoutError):
    """Another process kept experiments/results locked longer than the wait limit."""

"""Fetching a student's portfolio: a shallow git clone, or a copy of a local folder, made harmless.

A student's repository is hostile input. What reaches the course's work folder is plain files only:

- git: `git clone --depth 1` with no hooks (`core.hooksPath`), no submodules, no LFS smudge
  (`GIT_LFS_SKIP_SMUDGE`), only the transports in `GIT_ALLOW_PROTOCOL`, symlinks checked out as
  plain files holding their target's name (`core.symlinks=false`), no prompt for a password, a
  time limit and a size limit (the clone is stopped when its folder outgrows it);
- a local folder that is not a git repository: its regular files copied, never following a
  symlink (a symlink, or a hard link, is left out and counted), within the same size limit.

Nothing of the student's is executed or configured: git reads no configuration from the
portfolio (a clone starts with its own), and the work folder is only ever read as data.
`identity()` tells, without fetching, which commit (or which state of a folder) a portfolio is
at, so an unchanged portfolio is neither fetched nor read again (course/cache.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from reportgen.course.roster import Student
from reportgen.errors import ReportgenError

MAX_REPO_BYTES = 200 * 1024 * 1024  # a portfolio with its committed results is a few MB
MAX_FILES = 20_000
CLONE_SECONDS = 120
REMOTE_PROTOCOLS = "https:http:ssh:git"
# What a local folder contributes: results, run files, notebooks, reflections, the practice's code.
COPIED = ("experiments", "docs", "reportgen")


class FetchError(ReportgenError):
    """A portfolio could not be fetched (unreachable, too big, too slow, or refused): its row says why."""


@dataclass(frozen=True)
class Source:
    """Where a student's portfolio is read from."""

    kind: str  # git | folder
    location: str  # a URL for git (file:// for a local repository), a path for a folder


def source_of(student: Student, base: Path) -> Source:
    if student.is_url:
        return Source("git", student.repo)
    folder = (base / student.repo).resolve() if not os.path.isabs(student.repo) else Path(student.repo)
    if not folder.is_dir():
        raise FetchError(f"{student.repo}: no such folder")
    if (folder / ".git").exists():
        return Source("git", folder.as_uri())
    return Source("folder", str(folder))


def _git_env(source: Source) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(GIT_LFS_SKIP_SMUDGE="1", GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="/bin/false",
               SSH_ASKPASS="/bin/false", GIT_ALLOW_PROTOCOL=REMOTE_PROTOCOLS + (":file" if
                                                                             source.location.startswith("file:") else ""),
               GIT_CONFIG_NOSYSTEM="1")
    return env


GIT_SAFETY = ["-c", "core.symlinks=false", "-c", "core.hooksPath=/dev/null", "-c", "submodule.recurse=false",
              "-c", "filter.lfs.required=false", "-c", "protocol.file.allow=user", "-c", "core.fsmonitor=false",
              "-c", "advice.detachedHead=false"]


def identity(source: Source) -> str:
    """The commit a git portfolio's default branch is at, or a digest of a folder's files (names,
    sizes, modification times): what the summary cache is keyed by."""
    if source.kind == "git":
        try:
            result = subprocess.run(["git", *GIT_SAFETY, "ls-remote", "--", source.location, "HEAD"],
                                    capture_output=True, text=True, timeout=60, env=_git_env(source),
                                    stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise FetchError(f"{source.location}: no answer from the repository in 60 s") from None
        commit = result.stdout.split()[0] if result.returncode == 0 and result.stdout.strip() else ""
        if not commit:
            raise FetchError(f"{source.location}: cannot be read ({_last_line(result.stderr) or 'no commit'})")
        return commit
    digest = hashlib.sha256()
    for path, size in _regular_files(Path(source.location)):
        digest.update(f"{path}\0{size}\0{os.lstat(Path(source.location) / path).st_mtime_ns}\0".encode())
    return "folder-" + digest.hexdigest()[:20]


def fetch(source: Source, into: Path) -> Path:
    """The portfolio as plain files in `into` (replaced); FetchError saying why not."""
    if into.exists():
        shutil.rmtree(into)
    into.parent.mkdir(parents=True, exist_ok=True)
    if source.kind == "git":
        _clone(source, into)
    else:
        _copy(Path(source.location), into)
    return into


def _clone(source: Source, into: Path) -> None:
    command = ["git", *GIT_SAFETY, "clone", "--depth", "1", "--single-branch", "--no-tags",
               "--no-recurse-submodules", "--quiet", "--", source.location, str(into)]
    process = subprocess.Popen(command, env=_git_env(source), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started, problem = time.monotonic(), None
    while process.poll() is None:
        time.sleep(0.05)
        if time.monotonic() - started > CLONE_SECONDS:
            problem = f"the clone took longer than {CLONE_SECONDS} s"
        elif _size(into) > MAX_REPO_BYTES:
            problem = f"the repository is larger than {MAX_REPO_BYTES // 2**20} MB"
        if problem:
            process.kill()
            process.wait()
            break
    stderr = process.stderr.read() if process.stderr else ""
    if problem is None and process.returncode != 0:
        problem = f"git clone failed ({_last_line(stderr) or 'exit ' + str(process.returncode)})"
    if problem is None:
        shutil.rmtree(into / ".git", ignore_errors=True)  # its objects are not read again
        problem = _check_tree(into)
    if problem:
        shutil.rmtree(into, ignore_errors=True)
        raise FetchError(f"{source.location}: {problem}")


def _check_tree(folder: Path) -> str | None:
    """Why a checked-out tree is refused: a link (core.symlinks=false should leave none), too many files."""
    count = 0
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            if os.path.islink(os.path.join(root, name)):
                return f"{os.path.relpath(os.path.join(root, name), folder)} is a symlink"
        count += len(files)
        if count > MAX_FILES:
            return f"more than {MAX_FILES} files"
    if _size(folder) > MAX_REPO_BYTES:
        return f"the repository is larger than {MAX_REPO_BYTES // 2**20} MB"
    return None


def _regular_files(folder: Path):
    """(relative path, size) of the regular files under COPIED, never following a symlink."""
    found = 0
    for top in COPIED:
        start = folder / top
        if start.is_symlink() or not start.is_dir():
            continue
        for root, dirs, files in os.walk(start, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(root, d)) and d != ".cache")
            for name in sorted(files):
                path = os.path.join(root, name)
                info = os.lstat(path)
                if os.path.islink(path) or not os.path.isfile(path) or info.st_nlink > 1:
                    continue  # a link, a device, or a hard link: its content may be a file from elsewhere
                found += 1
                if found > MAX_FILES:
                    raise FetchError(f"{folder}: more than {MAX_FILES} files")
                yield os.path.relpath(path, folder), info.st_size


def _copy(folder: Path, into: Path) -> None:
    total = 0
    for relative, size in _regular_files(folder):
        total += size
        if total > MAX_REPO_BYTES:
            shutil.rmtree(into, ignore_errors=True)
            raise FetchError(f"{folder}: larger than {MAX_REPO_BYTES // 2**20} MB")
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(os.path.join(folder, relative), "rb", opener=_no_follow) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    into.mkdir(parents=True, exist_ok=True)


def _no_follow(path, flags):
    return os.open(path, flags | os.O_NOFOLLOW)


def _size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""

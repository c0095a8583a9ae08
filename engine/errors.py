"""Errors a user can see: one line each, naming the file, line and key, with the exit status to use.

Every error Pathways raises on purpose is a `PathwaysError`; the command line prints it as one
clean line and exits with its `exit_status`, and the UI shows the same line. Anything else is an
internal error: reported by type only, never with case data.
"""

from __future__ import annotations

import errno
from typing import ClassVar

import attrs

EXIT_CHECK_FAILED = 1
"""Exit status: a check failed (replay mismatch, broken chain, failing expectations)."""
EXIT_BAD_INPUT = 2
"""Exit status: bad input or usage; nothing was written."""
EXIT_INTERNAL = 3
"""Exit status: an internal error (its type only is printed)."""


class PathwaysError(Exception):
    """Base of every error Pathways reports to a person: one line, and an exit status."""

    exit_status: ClassVar[int] = EXIT_BAD_INPUT

    def message(self) -> str:
        """The one line shown to the user."""
        return str(self)


@attrs.define(eq=False)
class InputError(PathwaysError):
    """A refused input: printed as one line, exit status 2, nothing written."""

    problem: str
    source: str = ""
    line: int | None = None
    key: str = ""
    allowed: str = ""

    def __str__(self) -> str:
        """Render as `file:line: key: problem (allowed: ...)`."""
        where = self.source or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        parts = [where]
        if self.key:
            parts.append(self.key)
        text = ": ".join(parts) + ": " + self.problem
        if self.allowed:
            text += f" (allowed: {self.allowed})"
        return text.replace("\n", " ").replace("\r", " ")


class BookError(InputError):
    """A case book that cannot be opened or written as asked (exit status 2, nothing written)."""


class CheckError(PathwaysError):
    """A check that failed (a copy that does not verify): one line, exit status 1."""

    exit_status: ClassVar[int] = EXIT_CHECK_FAILED


class RuleFileError(PathwaysError):
    """A rule file that cannot be loaded or compiled (a defect in `rules/`)."""

    def message(self) -> str:
        """The one line shown to the user."""
        return f"rule files: {self}"


class EngineError(PathwaysError):
    """The rules engine failed while deciding (an action raised, or durable_rules errored)."""

    exit_status: ClassVar[int] = EXIT_INTERNAL


class StorageError(PathwaysError):
    """The disk refused a write (full, read-only, over quota or a file size limit): named as such, exit 2.

    The message says what was written before it happened, so the user knows the true state.
    """


_ERRNO_PROBLEMS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EFBIG: "the file is larger than this system allows (a file size limit)",
}
_SQLITE_PROBLEMS = {
    "SQLITE_FULL": "the disk is full",
    "SQLITE_READONLY": "the case book cannot be written (read-only file or file system)",
    "SQLITE_READONLY_DBMOVED": "the case book was moved or deleted while open",
    "SQLITE_IOERR_WRITE": "the disk refused a write (full, over quota or a file size limit)",
    "SQLITE_IOERR_FSYNC": "the disk refused to save a write (full or failing)",
    "SQLITE_IOERR_TRUNCATE": "the disk refused a write (full, over quota or a file size limit)",
}


def storage_problem(exc: BaseException) -> str | None:
    """What the disk did, in words, when `exc` is a full, read-only or size-limited disk; else None."""
    if isinstance(exc, OSError):
        return _ERRNO_PROBLEMS.get(exc.errno or 0)
    name = getattr(exc, "sqlite_errorname", None)
    if isinstance(name, str):
        if name in _SQLITE_PROBLEMS:
            return _SQLITE_PROBLEMS[name]
        if name.startswith("SQLITE_READONLY"):
            return _SQLITE_PROBLEMS["SQLITE_READONLY"]
    return None

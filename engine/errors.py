"""Errors a user can see: one line each, naming the file, line and key, with the exit status to use.

Every error Pathways raises on purpose is a `PathwaysError`; the command line prints it as one
clean line and exits with its `exit_status`, and the UI shows the same line. Anything else is an
internal error: reported by type only, never with case data.
"""

from __future__ import annotations

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

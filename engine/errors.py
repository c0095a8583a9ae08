"""Errors a user can see: one line each, naming the file, line and key."""

from __future__ import annotations

import attrs


@attrs.define(eq=False)
class InputError(Exception):
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


class RuleFileError(Exception):
    """A rule file that cannot be loaded or compiled (a defect in `rules/`)."""


class EngineError(Exception):
    """The rules engine failed while deciding (an action raised, or durable_rules errored)."""

"""How a failure is put into words on screen: one line, and never case data from a traceback."""

from __future__ import annotations

from engine.errors import InputError, PathwaysError


def problem_text(exc: BaseException) -> str:
    """A PathwaysError's own line; anything else as "internal error (TypeName)", with no message or data."""
    if isinstance(exc, PathwaysError):
        return exc.message()
    return f"internal error ({type(exc).__name__})"


def form_problem(exc: InputError) -> str:
    """A refused form field as the form shows it: "Field: problem" (no file or line: the form is the input)."""
    return f"{exc.key}: {exc.problem}" if exc.key else exc.problem

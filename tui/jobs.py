"""Slow work off the UI thread, with one way its result and its failure come back to the screen.

A screen starts a job with `run_job(job, done, group=...)`: `job` runs in a thread worker (it opens
its own case book connection, as SQLite requires), and `done(result)` then runs on the UI thread.
A failure never shows a traceback: `failed(line)` (by default an error notification) gets the
PathwaysError's one line, or "internal error (TypeName)" for anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, get_current_worker

from tui.problems import problem_text

T = TypeVar("T")


class JobDone(Message, bubble=False):
    """A job finished: `then` shows its result, or its failure, on the UI thread."""

    def __init__(self, then: Callable[[], object]) -> None:
        super().__init__()
        self.then = then


class JobScreen(Screen[None]):
    """A screen whose case book and engine work runs in thread workers, failures shown as one line."""

    def run_job(self, job: Callable[[], T], done: Callable[[T], object], *, group: str,
                failed: Callable[[str], object] | None = None) -> Worker[None]:
        """Run `job` in a thread worker (a newer job in `group` supersedes it); then `done` or `failed`."""
        on_failure = failed or self.show_problem

        def work() -> None:
            then: Callable[[], object]
            try:
                result = job()
            except Exception as exc:  # one line on screen: never a traceback with case data
                then = partial(on_failure, problem_text(exc))
            else:
                then = partial(done, result)
            if not get_current_worker().is_cancelled:
                self.post_message(JobDone(then))

        return self.run_worker(work, name=group, group=group, exclusive=True, thread=True, exit_on_error=False)

    def show_problem(self, text: str) -> None:
        """Show a failure as one error notification (its text never parsed as markup)."""
        self.notify(text, severity="error", markup=False, timeout=8)

    def on_job_done(self, event: JobDone) -> None:
        """Show a finished job's result or failure."""
        event.stop()
        event.then()


def cancelled() -> bool:
    """True when the worker running this job was cancelled (a newer job in its group superseded it)."""
    return get_current_worker().is_cancelled

"""Shown instead of a mode when its case book cannot be used: what is wrong, and what to do (#12).

The app checks the book (engine.casebook.health) when it opens and before each switch into advise
or audit mode, without changing a byte of it; nothing reads or writes the book while this screen
is up. `r` checks again (after the adviser fixed the permissions, say); Ctrl+Q quits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from engine.casebook.health import BookHealth
from tui.safe import add_line

Recheck = Callable[[], BookHealth]
"""How the screen checks the book again."""


def problem_words(health: BookHealth, mode: str) -> Text:
    """The message: the mode, what is wrong, what to do."""
    out = add_line(Text(), f"The case book for {mode} mode cannot be used", "bold red")
    add_line(out, "")
    add_line(out, f"What is wrong: {health.problem}.")
    add_line(out, "")
    add_line(out, f"What to do: {health.advice}")
    add_line(out, "")
    add_line(out, "Nothing was written to the file. Press r to check again once it is fixed, Ctrl+Q to quit.", "dim")
    out.rstrip()
    return out


class BookProblemScreen(Screen[None]):
    """What is wrong with the case book, and what to do; `r` checks again and goes on when it is fixed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "recheck", "Check again", tooltip="Check the case book again (after fixing it)",
                id="bookproblem.recheck"),
        Binding("ctrl+q", "app.quit", "Quit", id="bookproblem.quit"),
    ]

    def __init__(self, health: BookHealth, mode: str, recheck: Recheck, go_on: Callable[[], object]) -> None:
        super().__init__()
        self.health = health
        self.mode = mode
        self.recheck = recheck
        self.go_on = go_on

    def compose(self) -> ComposeResult:
        """The message, and the keys."""
        yield Header()
        with Vertical(id="book-problem-body"):
            yield Static(problem_words(self.health, self.mode), id="book-problem", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Say which book."""
        self.app.sub_title = "Case book problem"

    def action_recheck(self) -> None:
        """Check the book again: go on when it can be used, else show what is wrong now."""
        self.health = self.recheck()
        if self.health.usable:
            self.dismiss(None)
            self.go_on()
            return
        self.query_one("#book-problem", Static).update(problem_words(self.health, self.mode))
        self.notify("Still not usable.", severity="warning", markup=False)

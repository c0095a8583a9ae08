"""Shown instead of the app while the terminal is smaller than 80x24."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Static

from tui.safe import safe

MIN_WIDTH, MIN_HEIGHT = 80, 24
"""The smallest terminal the app is laid out for."""


class TooSmallScreen(Screen[None]):
    """A clear message: how big the terminal is, how big it must be, how to quit."""

    def compose(self) -> ComposeResult:
        """The message, centred."""
        with Middle(), Center():
            yield Static("", id="too-small", markup=False)

    def on_mount(self) -> None:
        """Say the size."""
        self.describe()

    def describe(self) -> None:
        """Update the message for the current size."""
        width, height = self.app.size
        self.query_one("#too-small", Static).update(safe(
            f"Terminal too small: {width}x{height}.\nPathways needs at least {MIN_WIDTH}x{MIN_HEIGHT}.\n"
            "Enlarge the window, or press Ctrl+Q to quit.", "bold", keep_newlines=True))

"""The claimant's copy as text, in a scrollable box, so the adviser can read it out."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.safe import safe


class LetterDialog(ModalScreen[None]):
    """The letter's text version (arrows and page keys scroll it); the HTML file's path above it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", id="letter.close")]

    def __init__(self, text: str, path: Path) -> None:
        super().__init__()
        self.text = text
        self.path = path

    def compose(self) -> ComposeResult:
        """Title, where the file is, the text, a Close button."""
        with Vertical(classes="dialog letter"):
            yield Static(safe("Claimant's copy (to read out or print)", "bold"), classes="dialog-title", markup=False)
            yield Static(safe(f"Written to {self.path}", "dim"), id="letter-path", markup=False)
            with VerticalScroll(id="letter-box"):
                yield Static(safe(self.text, keep_newlines=True), id="letter-text", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Close (esc)", id="close", compact=True)

    def on_mount(self) -> None:
        """Put the keyboard on the text so arrows and page keys scroll it."""
        self.query_one("#letter-box").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Close."""
        self.dismiss(None)

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)

"""Answers not recorded: save them as a draft, discard them, or go back to the interview (#12)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.safe import safe

SAVE, DISCARD = "save", "discard"
"""The dialog's answers (None: cancel, stay in the interview)."""


class UnsavedDialog(ModalScreen["str | None"]):
    """Ask what to do with unrecorded answers before leaving: save as draft (s), discard (d), cancel (esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "answer('save')", "Save draft", id="unsaved.save"),
        Binding("d", "answer('discard')", "Discard", id="unsaved.discard"),
        Binding("escape,c", "answer(None)", "Cancel", id="unsaved.cancel"),
    ]

    def __init__(self, refs: list[str], leaving: str) -> None:
        super().__init__()
        self.refs = refs
        self.leaving = leaving

    def compose(self) -> ComposeResult:
        """The cases with unrecorded answers, and the three choices."""
        cases = ", ".join(self.refs)
        body = safe(f"The answers in {'case' if len(self.refs) == 1 else 'cases'} {cases} are not recorded. "
                    f"Save them as a draft in the case book to finish later (the case list shows it as DRAFT), "
                    f"or discard them, before you {self.leaving}?")
        with Vertical(classes="dialog"):
            yield Static(Text("Answers not recorded", style="bold"), classes="dialog-title", markup=False)
            yield Static(body, id="unsaved-body", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save draft (s)", id="save", variant="primary", compact=True)
                yield Button("Discard (d)", id="discard", variant="error", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        """Focus Save: the safe choice is the default."""
        self.query_one("#save", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Save, discard or cancel."""
        event.stop()
        self.dismiss({"save": SAVE, "discard": DISCARD}.get(event.button.id or ""))

    def action_answer(self, value: str | None) -> None:
        """Answer from the keyboard."""
        self.dismiss(value)

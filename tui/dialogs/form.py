"""A modal form: the shape every dialog that asks for fields shares, so each says only what it checks."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, TypeVar

from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from engine.casebook.fields import MAX_NOTE
from engine.dates import parse_iso_date
from engine.errors import InputError
from tui.problems import form_problem
from tui.safe import safe

ResultT = TypeVar("ResultT")


def appointment_day(text: str) -> dt.date | None:
    """An appointment field's date (None when empty); InputError naming the field when it is not a real date."""
    if not text.strip():
        return None
    day = parse_iso_date(text)
    if day is None:
        raise InputError("a real date as YYYY-MM-DD, or empty", key="Appointment")
    return day


def check_notes_length(notes: str) -> None:
    """InputError naming the Notes field when the notes are longer than the case book keeps."""
    if len(notes) > MAX_NOTE:
        raise InputError(f"at most {MAX_NOTE} characters", key="Notes")


class FormDialog(ModalScreen[ResultT]):
    """Enter moves to the next field, the submit button checks the fields and closes with the result
    (or shows what is wrong in `#error`), Cancel or Esc closes with None."""

    SUBMIT: ClassVar[str] = "save"
    """The id of the button that submits the form."""

    def checked(self) -> ResultT:
        """What the fields say, checked (InputError when something is wrong): each form says its own."""
        raise NotImplementedError

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves on to the next field."""
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Submit, or cancel."""
        event.stop()
        if event.button.id == self.SUBMIT:
            self.submit()
        else:
            self.dismiss(None)

    def submit(self) -> None:
        """Check the fields, then close with the result (or show what is wrong and stay)."""
        try:
            result = self.checked()
        except InputError as exc:
            self.query_one("#error", Static).update(safe(form_problem(exc)))
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        """Close without a result."""
        self.dismiss(None)

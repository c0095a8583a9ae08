"""The referral form: which referral, provider, appointment date, notes, and the consent check."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from engine.casebook.fields import MAX_NOTE, MAX_PROVIDER
from engine.errors import InputError
from tui.data import ReferralInput
from tui.dialogs.form import FormDialog, appointment_day, check_notes_length
from tui.safe import safe


def check_referral(code: str | None, provider: str, appointment: str, notes: str, consent: bool) -> ReferralInput:
    """Validate the form's fields; InputError naming the field, with a one-line reason."""
    if not code:
        raise InputError("Choose which referral this is")
    provider = provider.strip()
    if not provider:
        raise InputError("who the claimant is referred to", key="Provider")
    if len(provider) > MAX_PROVIDER:
        raise InputError(f"at most {MAX_PROVIDER} characters", key="Provider")
    day = appointment_day(appointment)
    check_notes_length(notes)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in provider + notes):
        raise InputError("Provider and notes must not contain control characters")
    if not consent:
        raise InputError("Confirm the claimant's consent to share before referring")
    return ReferralInput(code, provider, day, notes.strip())


class ReferralDialog(FormDialog["ReferralInput | None"]):
    """Collect one referral for a recorded decision."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="referral.cancel")]

    def __init__(self, choices: list[tuple[str, str]], case_ref: str) -> None:
        super().__init__()
        self.choices = choices
        self.case_ref = case_ref

    def compose(self) -> ComposeResult:
        """Referral, provider, appointment, notes, consent, error line, buttons."""
        options = [(safe(f"{code}: {title}"), code) for code, title in self.choices]
        with Vertical(classes="dialog"):
            yield Static(safe(f"Log a referral for case {self.case_ref}", "bold"), classes="dialog-title")
            yield Label("Referral")
            if len(options) == 1:
                yield Select(options, id="code", allow_blank=False, value=options[0][1], compact=True)
            else:
                yield Select(options, id="code", prompt="choose the referral", compact=True)
            yield Label("Provider")
            yield Input(placeholder="who the claimant is referred to", id="provider", max_length=MAX_PROVIDER,
                        compact=True)
            yield Label("Appointment date (YYYY-MM-DD, optional)")
            yield Input(placeholder="empty: not booked yet", id="appointment", max_length=10, compact=True)
            yield Label("Notes")
            yield Input(placeholder="optional", id="notes", max_length=MAX_NOTE, compact=True)
            yield Checkbox("Claimant's consent to share is confirmed", id="consent", compact=True)
            yield Static("", id="error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Log referral", id="save", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        """Start at the provider when the referral is already chosen."""
        target = "#provider" if len(self.choices) == 1 else "#code"
        self.query_one(target).focus()

    def checked(self) -> ReferralInput:
        """The referral the fields describe (InputError when something is wrong)."""
        code = self.query_one("#code", Select).value
        return check_referral(code if isinstance(code, str) else None, self.query_one("#provider", Input).value,
                              self.query_one("#appointment", Input).value, self.query_one("#notes", Input).value,
                              self.query_one("#consent", Checkbox).value)

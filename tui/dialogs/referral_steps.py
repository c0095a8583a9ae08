"""Move a case's referral on along its lifecycle: booked, attended, did not attend, declined, closed (#12).

The steps offered are the ones the case book's lifecycle allows from the referral's current status
(engine.casebook.referrals.TRANSITIONS), so the dialog never offers what the book would refuse.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from engine.casebook.fields import MAX_NOTE
from engine.casebook.queries import ReferralRow
from engine.casebook.referrals import TRANSITIONS
from engine.errors import InputError
from tui.casedata import CaseReferrals, ReferralStep
from tui.data import referral_line
from tui.dialogs.form import FormDialog, appointment_day, check_notes_length
from tui.safe import safe

STATUS_WORDS = {"proposed": "proposed", "booked": "booked (appointment made)", "attended": "attended",
                "did_not_attend": "did not attend", "declined": "declined by the claimant", "closed": "closed"}
"""Each referral status in words."""


def next_steps(referral: ReferralRow) -> tuple[str, ...]:
    """The statuses a referral may move to now (none once closed)."""
    return TRANSITIONS.get(referral.status, ())


def check_step(referral: ReferralRow | None, status: str | None, appointment: str, notes: str) -> ReferralStep:
    """Validate the form: a referral and a step it allows, a real date when booking; InputError naming the field."""
    if referral is None:
        raise InputError("choose a referral", key="Referral")
    if not status:
        raise InputError("choose what happened", key="Step")
    if status not in next_steps(referral):
        raise InputError(f"a {referral.status} referral cannot become {status}", key="Step")
    day = appointment_day(appointment)
    if status == "booked" and day is None:
        raise InputError("a booked referral needs its appointment date", key="Appointment")
    check_notes_length(notes)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in notes):
        raise InputError("must not contain control characters", key="Notes")
    return ReferralStep(referral.id, status, day, notes.strip())


class ReferralStepsDialog(FormDialog["ReferralStep | None"]):
    """Pick one of a case's referrals and the step it took; the case book records it with its audit event."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="steps.cancel")]

    def __init__(self, referrals: CaseReferrals) -> None:
        super().__init__()
        self.case = referrals
        self.movable = [r for r in referrals.referrals if next_steps(r)]

    def compose(self) -> ComposeResult:
        """The referral, the step, the appointment date and notes; error line and buttons."""
        with Vertical(classes="dialog"):
            yield Static(safe(f"Referrals of case {self.case.ref}", "bold"), classes="dialog-title")
            closed = len(self.case.referrals) - len(self.movable)
            if not self.movable:
                yield Static(safe("No referral of this case can move on: " + (
                    f"all {closed} are closed." if closed else "none is logged (log one from the case: ctrl+l).")))
            options = [(safe(referral_line(r)), r.id) for r in self.movable]
            yield Label("Referral" + (f" ({closed} closed not listed)" if closed else ""))
            if len(options) == 1:
                yield Select(options, id="referral", allow_blank=False, value=options[0][1], compact=True)
            else:
                yield Select(options, id="referral", prompt="choose the referral", compact=True)
            yield Label("What happened")
            yield Select(self._steps(self.movable[0] if len(self.movable) == 1 else None), id="step",
                         prompt="choose the step", compact=True)
            yield Label("Appointment date (YYYY-MM-DD; needed when booked)")
            yield Input(placeholder="e.g. 2026-12-01", id="appointment", max_length=10, compact=True)
            yield Label("Notes")
            yield Input(placeholder="optional", id="notes", max_length=MAX_NOTE, compact=True)
            yield Static("", id="error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Record step", id="save", variant="primary", compact=True, disabled=not self.movable)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    @staticmethod
    def _steps(referral: ReferralRow | None) -> list[tuple[str, str]]:
        """The step choices for a referral (none until one is chosen)."""
        return [(STATUS_WORDS.get(s, s), s) for s in next_steps(referral)] if referral else []

    def on_mount(self) -> None:
        """Start at the referral (or the step, when there is only one referral)."""
        self.query_one("#step" if len(self.movable) == 1 else "#referral", Select).focus()

    def chosen(self) -> ReferralRow | None:
        """The referral chosen."""
        value = self.query_one("#referral", Select).value
        return next((r for r in self.movable if r.id == value), None)

    @on(Select.Changed, "#referral")
    def referral_changed(self) -> None:
        """Offer the steps the chosen referral allows."""
        self.query_one("#step", Select).set_options(self._steps(self.chosen()))

    def checked(self) -> ReferralStep:
        """The step the fields describe (InputError when something is wrong)."""
        step = self.query_one("#step", Select).value
        return check_step(self.chosen(), step if isinstance(step, str) else None,
                          self.query_one("#appointment", Input).value, self.query_one("#notes", Input).value)

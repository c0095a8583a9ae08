"""The 'new case' form: case reference, the date the case is decided on, and an optional NINO."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import attrs
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from engine.casebook.book import LIVE, TRAINING, check_edition_for_kind, check_nino_for_kind
from engine.dates import parse_iso_date
from engine.errors import BookError, InputError
from engine.model.case import CASE_REF
from engine.model.nino import is_synthetic, nino_problem
from engine.policy.driver import default_engine
from tui.dialogs.form import FormDialog


@attrs.frozen
class NewCase:
    """What the form collected, validated."""

    ref: str
    as_of: dt.date
    nino: str | None


def check_new_case(ref: str, day: str, nino: str, kind: str | None = None) -> NewCase:
    """Validate the form's fields; InputError naming the field, with a one-line reason.

    `kind` is the case book's (live, training, or None for a new book, which takes the kind of its
    first case): a NINO or date the book would refuse when the case is recorded is refused here,
    before the interview (#12).
    """
    ref = ref.strip().upper()
    if not CASE_REF.fullmatch(ref):
        raise InputError("1-32 of A-Z, 0-9 and -", key="Case reference")
    as_of = parse_iso_date(day)
    if as_of is None:
        raise InputError("a real date as YYYY-MM-DD", key="Date")
    first = default_engine().book.calendar.first_day()
    if as_of < first:
        raise InputError(f"the rules start on {first.isoformat()}", key="Date")
    nino = nino.strip().upper()
    if nino:
        problem = nino_problem(nino)
        if problem:
            raise InputError(problem, key="NINO")
    will_be = kind or (TRAINING if nino and is_synthetic(nino) else LIVE)
    try:
        check_nino_for_kind(will_be, nino or None)
    except BookError as exc:
        raise InputError(f"{'this' if kind else 'a new'} {exc.problem[2:]}", key="NINO") from None
    edition = default_engine().book.calendar.edition_for(as_of)
    try:
        check_edition_for_kind(will_be, edition.id, edition.status == "announced")
    except BookError as exc:
        raise InputError(exc.problem, key="Date") from None
    return NewCase(ref, as_of, nino or None)


class NewCaseDialog(FormDialog["NewCase | None"]):
    """Collect a new case's reference, date and NINO."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="newcase.cancel")]
    SUBMIT: ClassVar[str] = "start"

    def __init__(self, today: dt.date | None = None, kind: str | None = None, current: NewCase | None = None) -> None:
        super().__init__()
        self.today = today or dt.date.today()
        self.kind = kind
        self.current = current

    def compose(self) -> ComposeResult:
        """The three fields, an error line and the buttons (correcting a case: its reference is fixed)."""
        now = self.current
        with Vertical(classes="dialog"):
            title = f"Correct case {now.ref}: date and NINO" if now else "New case"
            yield Static(Text(title, style="bold"), classes="dialog-title", markup=False)
            yield Label("Case reference (A-Z, 0-9, -)")
            yield Input(now.ref if now else "", placeholder="e.g. LDS-0042", id="ref", max_length=32, compact=True,
                        disabled=now is not None)
            yield Label("Decide as on (YYYY-MM-DD)")
            yield Input((now.as_of if now else self.today).isoformat(), id="as_of", max_length=10, compact=True)
            yield Label("National Insurance number (optional)")
            yield Input((now.nino or "") if now else "", placeholder="e.g. AB123456C", id="nino", max_length=9,
                        compact=True)
            yield Static("", id="error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Correct (enter)" if now else "Start (enter)", id="start", variant="primary",
                             compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        """Start in the reference field (the date, when correcting)."""
        self.query_one("#as_of" if self.current else "#ref", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field, and submits from the last."""
        order = ["ref", "as_of", "nino"]
        current = event.input.id or "ref"
        if current != "nino":
            self.query_one(f"#{order[order.index(current) + 1]}", Input).focus()
        else:
            self.submit()

    def checked(self) -> NewCase:
        """The new case the fields describe (InputError when something is wrong)."""
        return check_new_case(self.query_one("#ref", Input).value, self.query_one("#as_of", Input).value,
                              self.query_one("#nino", Input).value, self.kind)

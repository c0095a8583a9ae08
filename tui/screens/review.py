"""The review step: the adviser accepts or declines each recommended outcome, then records.

The engine recommends; the adviser decides (UK GDPR Art 22 asks for human involvement that is
active). Each applying outcome is listed in reading order with its title, its kind in words and
what it says to the claimant, and the adviser chooses Accept or Decline with a reason; nothing is
chosen for them. An accepted requirement needs the reasonableness checklist (JSA Regulations 1996,
regulation 72) confirmed. Open outcomes are listed apart and cannot be decided. Record writes the
recommendation and the adviser's decisions together, in a worker; a refusal shows as one line and
the choices stay on screen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Header, Input, Select, Static

from engine.errors import InputError
from engine.model.adviser import (
    MAX_NOTE,
    REASON_WORDS,
    REASONABLENESS_MATTERS,
    REASONS,
    AdviserDecision,
    adviser_decisions,
)
from engine.model.case import Case
from engine.model.decision import ANNOUNCED_WORDS, Decision, OpenOutcome, Outcome
from engine.policy.rulebook import RuleSet
from tui import data
from tui.jobs import JobScreen
from tui.safe import add_line, safe
from tui.words import kind_words

ACCEPT = "accept"
"""The value of the Accept choice (every other choice is a decline reason from REASONS)."""

REASONABLENESS_TITLE = ("Before accepting a requirement, consider whether it is reasonable for this claimant "
                        "(Jobseeker's Allowance Regulations 1996, regulation 72):")
"""The heading of the reasonableness checklist."""

REASONABLE_LABEL = "I have considered these: the requirement is reasonable"
"""The tick that confirms the checklist."""

Recorded = Callable[[int, tuple[AdviserDecision, ...]], object]
"""What the review calls once the record is written: the decision id and the adviser's decisions."""


def choice_options() -> list[tuple[Text, str]]:
    """Accept, then Decline with each reason in words."""
    return [(safe("Accept"), ACCEPT), *((safe(f"Decline: {REASON_WORDS[r]}"), r) for r in REASONS)]


def outcome_text(number: int, outcome: Outcome, title: str) -> Text:
    """One recommended outcome: title, kind in words and code, what to say, and the adviser's note."""
    out = add_line(Text(), f"{number}. {title or outcome.code}", "bold")
    add_line(out, f"{kind_words(outcome.kind)} · {outcome.code}", "dim")
    add_line(out, f"Says to the claimant: {outcome.text}" if outcome.text else "Nothing to read out.")
    if outcome.adviser_note:
        add_line(out, f"For you (not read out): {outcome.adviser_note}", "italic")
    out.rstrip()
    return out


def open_text(item: OpenOutcome, title: str, questions: Mapping[str, str]) -> Text:
    """An open outcome: what it is, and the answers it waits on."""
    needs = [f"“{questions.get(fact, fact)}”" for fact in item.needs] or ["another answer"]
    verb = "is" if len(needs) == 1 else "are"
    out = add_line(Text(), f"? {title or item.code} ({kind_words(item.kind)} · {item.code})", "yellow")
    add_line(out, f"  open: cannot be decided until {' and '.join(needs)} {verb} answered")
    return out


class ReviewScreen(JobScreen):
    """Each recommended outcome accepted or declined with a reason; the checklist for requirements; Record."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "record", "Record", tooltip="Record the recommendation with your decisions on it",
                id="review.record"),
        Binding("escape", "back", "Back", tooltip="Back to the interview (nothing is recorded)", id="review.back"),
    ]

    def __init__(self, case: Case, decision: Decision, ruleset: RuleSet, db: Path, adviser: str,
                 questions: Mapping[str, str], on_recorded: Recorded) -> None:
        super().__init__()
        self.case = case
        self.decision = decision
        self.ruleset = ruleset
        self.db = db
        self.adviser = adviser
        self.questions = dict(questions)
        self.on_recorded = on_recorded
        self.outcomes = decision.in_reading_order()
        self.requirements = [o.code for o in self.outcomes if o.kind == "requirement"]
        self.recording = False
        self.error = ""

    def title_of(self, code: str) -> str:
        """An outcome's title from the rule set's catalogue."""
        info = self.ruleset.outcomes.get(code)
        return info.title if info else code

    def compose(self) -> ComposeResult:
        """The case line, each outcome with its choice, the checklist, open outcomes; status and buttons."""
        d = self.decision
        yield Header()
        with VerticalScroll(id="review-body"):
            head = add_line(Text(), f"Review the recommendation: case {d.case} on {d.as_of}", "bold")
            add_line(head, f"Edition {d.edition} · priority {d.priority.upper()} · case book {self.db}")
            if d.announced:
                add_line(head, f"{ANNOUNCED_WORDS[0].upper()}{ANNOUNCED_WORDS[1:]}: training only", "bold")
            head.append(safe("The tool recommends; you decide. Choose Accept or Decline (with a reason) for each "
                             "outcome: Tab moves, Enter opens the choices.", "italic"))
            yield Static(head, id="review-head", markup=False)
            if not self.outcomes:
                yield Static(safe("Nothing is recommended for this case: Record keeps the answers and the "
                                  "recommendation."), markup=False)
            last_requirement = self.requirements[-1] if self.requirements else None
            for number, outcome in enumerate(self.outcomes, start=1):
                with Vertical(classes="review-item", id=f"item-{outcome.code}"):
                    yield Static(outcome_text(number, outcome, self.title_of(outcome.code)), markup=False)
                    yield Select(choice_options(), prompt="accept or decline?", id=f"choice-{outcome.code}",
                                 compact=True)
                    yield Input(placeholder="note (needed for another reason)", id=f"note-{outcome.code}",
                                max_length=MAX_NOTE, compact=True, classes="review-note")
                if outcome.code == last_requirement:
                    with Vertical(id="checklist"):
                        checklist = add_line(Text(), REASONABLENESS_TITLE, "bold")
                        for matter in REASONABLENESS_MATTERS:
                            add_line(checklist, f" • {matter}")
                        checklist.rstrip()
                        yield Static(checklist, markup=False)
                        yield Checkbox(REASONABLE_LABEL, id="reasonable", compact=True)
            if d.open:
                opened = add_line(Text(), "Open: these cannot be accepted or declined yet", "bold")
                for item in d.open:
                    opened.append(open_text(item, self.title_of(item.code), self.questions))
                opened.rstrip()
                yield Static(opened, id="review-open", markup=False)
        yield Static("", id="review-status", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Record (ctrl+r)", id="record", variant="primary", compact=True, disabled=True)
            yield Button("Back (esc)", id="back", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        """Start at the first outcome's choice."""
        self.app.sub_title = f"Review: case {self.decision.case}"
        self.refresh_state()
        first = self.query(Select).first() if self.outcomes else self.query_one("#record", Button)
        first.focus()

    # -- the adviser's choices -----------------------------------------------------------------

    def choice(self, code: str) -> str | None:
        """The adviser's choice on an outcome: ACCEPT, a decline reason, or None while not chosen."""
        value = self.query_one(f"#choice-{code}", Select).value
        return value if isinstance(value, str) else None

    def note(self, code: str) -> str:
        """The note given with a declined outcome."""
        return self.query_one(f"#note-{code}", Input).value.strip()

    @property
    def requirement_accepted(self) -> bool:
        """True when some requirement is accepted (the checklist must then be confirmed)."""
        return any(self.choice(code) == ACCEPT for code in self.requirements)

    @property
    def reasonable(self) -> bool:
        """True when the reasonableness checklist is confirmed."""
        return bool(self.requirements) and self.query_one("#reasonable", Checkbox).value

    def missing(self) -> str | None:
        """What still stops Record, in one line (None: ready)."""
        undecided = [o for o in self.outcomes if self.choice(o.code) is None]
        if undecided:
            first = self.title_of(undecided[0].code)
            more = f" and {len(undecided) - 1} more" if len(undecided) > 1 else ""
            return f"Accept or decline: {first}{more}."
        for outcome in self.outcomes:
            if self.choice(outcome.code) == "other" and not self.note(outcome.code):
                return f"Say why in the note: {self.title_of(outcome.code)} is declined for another reason."
        if self.requirement_accepted and not self.reasonable:
            return "Confirm the requirement is reasonable (the checklist), or decline it."
        return None

    def declines(self) -> list[tuple[str, str, str]]:
        """The declined outcomes as (code, reason, note)."""
        return [(o.code, reason, self.note(o.code)) for o in self.outcomes
                if (reason := self.choice(o.code)) not in (None, ACCEPT)]

    def refresh_state(self) -> None:
        """Show each note field and the checklist only where they apply; enable Record when ready."""
        for outcome in self.outcomes:
            chosen = self.choice(outcome.code)
            self.query_one(f"#note-{outcome.code}", Input).display = chosen not in (None, ACCEPT)
        if self.requirements:
            shown = self.requirement_accepted
            self.query_one("#checklist").display = shown
            if not shown:
                self.query_one("#reasonable", Checkbox).value = False  # confirm again for the choice made then
        missing = self.missing()
        self.query_one("#record", Button).disabled = self.recording or missing is not None
        status = self.query_one("#review-status", Static)
        if self.error:
            status.update(safe(self.error, "bold red"))
        elif self.recording:
            status.update(safe("Recording..."))
        elif missing:
            status.update(safe(f"To record: {missing}", "yellow"))
        else:
            declined = len(self.declines())
            status.update(safe(f"Ready: {len(self.outcomes) - declined} accepted, {declined} declined. "
                               "Record (ctrl+r) writes them with the recommendation.", "green"))

    @on(Select.Changed)
    @on(Checkbox.Changed)
    def choice_changed(self) -> None:
        """Any change of choice: the error goes, and the screen follows."""
        self.error = ""
        self.refresh_state()

    @on(Input.Changed, ".review-note")
    def note_changed(self) -> None:
        """A note typed: Record may now be ready."""
        self.error = ""
        self.refresh_state()

    @on(Input.Submitted, ".review-note")
    def note_submitted(self) -> None:
        """Enter in a note moves on."""
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Record or Back."""
        event.stop()
        if event.button.id == "record":
            self.action_record()
        else:
            self.action_back()

    # -- recording -------------------------------------------------------------------------------

    def adviser_choices(self) -> tuple[AdviserDecision, ...]:
        """The adviser's decisions, checked by the engine (InputError with one line when refused)."""
        missing = self.missing()
        if missing:
            raise InputError(missing)
        return adviser_decisions(self.decision, self.declines(), self.reasonable)

    def action_record(self) -> None:
        """Check the choices, then record them with the recommendation in a worker."""
        if self.recording:
            return
        try:
            choices = self.adviser_choices()
        except InputError as exc:
            self.error = exc.problem
            self.refresh_state()
            self.app.bell()
            return
        self.recording = True
        self.error = ""
        self.refresh_state()
        self.run_job(partial(data.record, self.db, self.case, self.decision, self.ruleset, self.adviser,
                             choices=choices), partial(self.recorded, choices=choices), group="book-write",
                     failed=self.record_failed)

    def recorded(self, decision_id: int, choices: tuple[AdviserDecision, ...]) -> None:
        """Written: hand the id back to the interview and close."""
        self.recording = False
        self.on_recorded(decision_id, choices)
        self.dismiss(None)

    def record_failed(self, text: str) -> None:
        """Refused or failed: one line, and the choices stay as they are."""
        self.recording = False
        self.error = text
        self.refresh_state()
        self.show_problem(text)

    def action_back(self) -> None:
        """Back to the interview without recording (not while a record is being written)."""
        if self.recording:
            self.notify("Recording: wait for it to finish.", markup=False)
            return
        self.dismiss(None)

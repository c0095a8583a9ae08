"""Stepping through a case: one question at a time beside the live recommendation; review, record and refer."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from engine.casebook.queries import ReferralRow
from engine.errors import InputError
from engine.intake.interview import Interview
from engine.model.adviser import AdviserDecision
from engine.model.decision import Decision
from tui import casedata, data
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.letter import LetterDialog
from tui.dialogs.new_case import NewCase, NewCaseDialog
from tui.dialogs.referral import ReferralDialog
from tui.dialogs.unsaved import DISCARD, SAVE, UnsavedDialog
from tui.jobs import JobScreen
from tui.problems import problem_text
from tui.safe import clip, safe
from tui.screens.review import ReviewScreen
from tui.widgets.decision import DecisionPanel
from tui.widgets.question import QuestionPanel


class InterviewScreen(JobScreen):
    """Ask what matters, show the recommendation as it forms, review and record it, log accepted referrals."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Undo the last answer and ask it again", id="interview.back"),
        Binding("ctrl+r", "record", "Review", tooltip="Review the recommendation: accept or decline each outcome, "
                "then record", id="interview.record"),
        Binding("ctrl+l", "referral", "Referral", tooltip="Log a referral you accepted", id="interview.referral"),
        Binding("ctrl+g", "letter", "Claimant's copy", tooltip="Write the claimant's letter and show it to read out",
                id="interview.letter"),
        Binding("ctrl+o", "close", "Close", tooltip="Close this case and return to the list", id="interview.close"),
        Binding("ctrl+t", "toggle_codes", "Codes", tooltip="Show or hide the outcome codes beside their titles",
                id="interview.codes"),
        Binding("ctrl+s", "save_draft", "Save draft", tooltip="Keep the answers as a draft in the case book, to "
                "finish later from the case list", id="interview.draft"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide"), (150, "-widest")]  # noqa: RUF012 - Textual types it as an instance attribute
    """At 110 columns and more the columns widen; at 150 the recommendation's list and explanation stand side
    by side."""
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]  # noqa: RUF012 - Textual types it as an instance attribute
    """At 32 rows and more the question's help and choices get more room."""

    def __init__(self, interview: Interview, db: Path, adviser: str, *, decision_id: int | None = None,
                 decision: Decision | None = None, choices: tuple[AdviserDecision, ...] | None = None,
                 kind: str | None = None, from_draft: bool = False) -> None:
        super().__init__()
        self.interview = interview
        self.kind = kind
        self.recorded_details = (interview.as_of, interview.nino)
        self.saved_draft: object = interview.to_draft() if from_draft else None
        self.db = db
        self.adviser = adviser
        self.decision_id = decision_id
        self.recorded: Decision | None = decision
        self.choices: tuple[AdviserDecision, ...] | None = choices
        self.referral_ids: list[int] = []
        self.letters: list[Path] = []
        self.status = ""

    def compose(self) -> ComposeResult:
        """Questions and answers on the left, the live decision on the right."""
        yield Header()
        with Horizontal():
            with Vertical(id="left"):
                yield Static("", id="case-line", markup=False)
                yield QuestionPanel(id="question")
                yield Static(Text("Answers (enter to change one)", style="bold"), classes="section", markup=False)
                yield OptionList(id="answers")
            yield DecisionPanel(id="decision")
        yield Static("", id="status", markup=False)
        yield Footer()

    async def on_mount(self) -> None:
        """Show the first question."""
        self.app.sub_title = "Advise: case " + self.interview.ref
        await self.redraw()

    def on_screen_resume(self) -> None:
        """Back from the review or a dialog: say which case this is again."""
        self.app.sub_title = "Advise: case " + self.interview.ref

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The claimant's copy is offered (key and palette) only once the adviser's decisions are recorded."""
        if action == "letter":
            return self.reviewed
        return True

    @property
    def reviewed(self) -> bool:
        """True when this case's recommendation is recorded with the adviser's decisions on it."""
        return self.decision_id is not None and self.choices is not None

    # -- drawing -------------------------------------------------------------------------------

    @property
    def stale(self) -> bool:
        """True when answers (or the case's date or NINO) changed since the recommendation was recorded."""
        if self.recorded is None or not self.interview.is_complete():
            return self.recorded is not None
        if (self.interview.as_of, self.interview.nino) != self.recorded_details:
            return True
        try:
            now = self.interview.decision()
        except InputError:
            return True
        return (now.codes, now.priority, now.ruleset) != (self.recorded.codes, self.recorded.priority,
                                                          self.recorded.ruleset)

    async def redraw(self, focus_answer: bool = True) -> None:
        """Redraw the case line, question, answers and recommendation after any change."""
        iv = self.interview
        edition = iv.ruleset.edition.id
        self.query_one("#case-line", Static).update(
            safe(f"{iv.ref} · {iv.as_of.isoformat()} · {edition}", "bold"))
        q = iv.next_question()
        done = None
        if q is None:
            skipped = len(iv.skipped())
            done = safe(f"Nothing left that could change the outcome ({skipped} question(s) skipped). "
                        "Ctrl+R reviews the recommendation.", "bold green")
        current = iv.current(q.fact) if q is not None else None
        await self.query_one(QuestionPanel).show(q, current, done)
        answers = self.query_one("#answers", OptionList)
        answers.clear_options()
        for question, value in iv.answered():
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(safe(f"{question.short}: ", "dim"))
            line.append(safe(iv.label(question.fact, value)))
            answers.add_option(Option(line, id=question.fact))
        answers.add_option(Option(case_details_line(iv), id=DETAILS_OPTION))  # last: Home is the first answer
        self.query_one(DecisionPanel).refresh_from(iv)
        self._show_status()
        if q is None and focus_answer:
            self.query_one("#outcomes").focus()

    def _show_status(self) -> None:
        """The record/referral status line."""
        if self.decision_id is None:
            text = "Not recorded yet."
        elif self.stale:
            text = f"Decision {self.decision_id} was recorded; answers have changed since (ctrl+r to review again)."
        elif self.choices is None:
            text = f"Decision {self.decision_id}: recommendation recorded without your review (ctrl+r to review)."
        else:
            declined = sum(not c.accepted for c in self.choices)
            text = (f"Recorded as decision {self.decision_id}: {len(self.choices) - declined} accepted, "
                    f"{declined} declined.")
        if self.referral_ids:
            text += f" Referrals logged: {', '.join(map(str, self.referral_ids))}."
        if self.status:
            text += " " + self.status
        self.query_one("#status", Static).update(safe(text))

    def action_toggle_codes(self) -> None:
        """Show or hide the outcome codes in the recommendation."""
        shown = self.query_one(DecisionPanel).toggle_codes()
        self.notify("Outcome codes shown." if shown else "Outcome codes hidden.", markup=False, timeout=2)

    # -- answering -----------------------------------------------------------------------------

    @on(QuestionPanel.Answered)
    async def answered(self, event: QuestionPanel.Answered) -> None:
        """Take the answer, then move on to the next question that matters."""
        try:
            self.interview.answer(event.fact, event.value)
        except InputError as exc:
            self.query_one(QuestionPanel).show_error(exc.problem)
            return
        await self.redraw()

    @on(OptionList.OptionSelected, "#answers")
    async def change_answer(self, event: OptionList.OptionSelected) -> None:
        """Ask an answered question again (or correct the case's date and NINO)."""
        if event.option.id == DETAILS_OPTION:
            self.correct_details()
        elif event.option.id:
            self.interview.reopen(event.option.id)
            await self.redraw()

    async def action_back(self) -> None:
        """Go back one question; at the first question, offer to close the case."""
        if self.interview.back() is None:
            self.action_close()
            return
        await self.redraw()

    # -- reviewing and recording -----------------------------------------------------------------

    def action_record(self) -> None:
        """Open the review of the recommendation (which records it with the adviser's decisions)."""
        iv = self.interview
        if not iv.is_complete():
            self.notify(f"{len(iv.pending())} question(s) can still change the outcome.", severity="warning",
                        markup=False)
            return
        try:
            case = iv.to_case()
            decision = iv.decision()
        except InputError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if self.reviewed and not self.stale:
            self.notify(f"Already recorded as decision {self.decision_id}.", markup=False)
            return
        questions = {q.fact: q.text for q in iv.questions}
        self.app.push_screen(ReviewScreen(case, decision, iv.ruleset, self.db, self.adviser, questions,
                                          partial(self.show_recorded, decision=decision)))

    def show_recorded(self, decision_id: int, choices: tuple[AdviserDecision, ...], decision: Decision) -> None:
        """Show the recorded id and the adviser's decisions; the case's draft, if any, is now done with."""
        self.decision_id = decision_id
        self.recorded = decision
        self.recorded_details = (self.interview.as_of, self.interview.nino)
        self.choices = choices
        self.saved_draft = None
        self.run_job(partial(casedata.discard_draft, self.db, self.interview.ref, self.adviser, "recorded"),
                     lambda _n: None, group="draft-write")
        self.referral_ids = []
        self.status = ""
        self._show_status()
        self.refresh_bindings()
        self.notify(f"Recommendation and your decisions recorded as decision {decision_id}.", markup=False)

    def write_failed(self, text: str) -> None:
        """Show what went wrong; nothing else changes."""
        self.status = ""
        self._show_status()
        self.show_problem(text)

    def accepted_referrals(self) -> list[tuple[str, str]]:
        """The referral outcomes the adviser accepted, as (code, title), in reading order."""
        if self.recorded is None or self.choices is None:
            return []
        accepted = {c.code for c in self.choices if c.accepted}
        outcomes = self.interview.ruleset.outcomes
        return [(o.code, outcomes[o.code].title if o.code in outcomes else o.code)
                for o in self.recorded.in_reading_order() if o.kind == "referral" and o.code in accepted]

    def action_referral(self) -> None:
        """Open the referral form for the referrals the adviser accepted."""
        decision_id = self.decision_id
        if decision_id is None or self.choices is None or self.recorded is None or self.stale:
            self.notify("Review and record the recommendation first (ctrl+r).", severity="warning", markup=False)
            return
        choices = self.accepted_referrals()
        if not choices:
            self.notify("No referral was recommended and accepted.", markup=False)
            return

        def done(form: data.ReferralInput | None) -> None:
            if form is not None:
                self.run_job(partial(casedata.open_duplicates, self.db, decision_id, form.code),
                             partial(self.log_referral, decision_id=decision_id, form=form), group="book-write",
                             failed=self.write_failed)

        self.app.push_screen(ReferralDialog(choices, self.interview.ref), done)

    def log_referral(self, duplicates: list[ReferralRow], decision_id: int, form: data.ReferralInput) -> None:
        """Log the referral; when the same referral is already open for this decision, ask first (#12)."""
        def write(yes: bool | None = True) -> None:
            if yes:
                self.run_job(partial(data.add_referral, self.db, decision_id, form, self.adviser),
                             partial(self.show_referral, code=form.code), group="book-write",
                             failed=self.write_failed)

        if not duplicates:
            write()
            return
        lines = "\n".join(data.referral_line(r) for r in duplicates[:3])
        self.app.push_screen(ConfirmDialog(
            "This referral is already open", safe(f"Decision {decision_id} already has an open {form.code} referral:\n"
                                                  f"{lines}\nLog another one anyway?", keep_newlines=True),
            yes="Log another"), write)

    def show_referral(self, referral_id: int, code: str) -> None:
        """Confirm the referral."""
        self.referral_ids.append(referral_id)
        self._show_status()
        self.notify(f"Referral {referral_id} ({code}) logged.", markup=False)

    def action_letter(self) -> None:
        """Write the claimant's copy (HTML, a new private file beside the case book) and show its text."""
        decision_id = self.decision_id
        if decision_id is None or self.choices is None:
            self.notify("Review and record the recommendation first (ctrl+r).", severity="warning", markup=False)
            return
        if self.stale:
            self.notify("The answers have changed since it was recorded: review and record again (ctrl+r).",
                        severity="warning", markup=False)
            return
        self.run_job(partial(data.write_letter, self.db, decision_id), self.show_letter, group="letter")

    def show_letter(self, letter: data.WrittenLetter) -> None:
        """Say where the letter is, and show its text to read out."""
        self.letters.append(letter.path)
        self.notify(f"Claimant's copy written to {letter.path}", markup=False, timeout=10)
        self.app.push_screen(LetterDialog(letter.text, letter.path))

    def action_close(self) -> None:
        """Close the case; with unrecorded answers, first ask: save them as a draft, discard them, or stay."""
        if not self.unsaved:
            self.dismiss(None)
            return

        def done(choice: str | None) -> None:
            if choice == SAVE:
                self.run_job(partial(casedata.save_draft, self.db, self.interview, self.adviser),
                             lambda _id: self.dismiss(None), group="draft-write", failed=self.write_failed)
            elif choice == DISCARD:
                self.dismiss(None)

        self.app.push_screen(UnsavedDialog([self.interview.ref], "leave it"), done)

    # -- drafts and corrections (#12) --------------------------------------------------------------

    @property
    def unsaved(self) -> bool:
        """True when there are answers that are neither recorded (as they are now) nor saved as a draft."""
        if not self.interview.answers or self.interview.to_draft() == self.saved_draft:
            return False
        return self.decision_id is None or self.stale

    def action_save_draft(self) -> None:
        """Save the answers as the case's draft, in a worker."""
        if not self.interview.answers:
            self.notify("Nothing to save yet: no question is answered.", markup=False)
            return
        snapshot = self.interview.to_draft()
        self.run_job(partial(casedata.save_draft, self.db, self.interview, self.adviser),
                     partial(self.draft_saved, snapshot=snapshot), group="draft-write", failed=self.write_failed)

    def draft_saved(self, draft_id: int, snapshot: object) -> None:
        """Say the draft is kept."""
        self.saved_draft = snapshot
        self.notify(f"Saved as a draft (the case list shows {self.interview.ref} as DRAFT).", markup=False)

    def save_draft_now(self) -> bool:
        """Save the draft on the UI thread (the app is quitting, so no worker may finish); False when refused."""
        try:
            casedata.save_draft(self.db, self.interview, self.adviser)
        except Exception as exc:  # one line, never a traceback
            self.app.notify(f"Draft of {self.interview.ref} not saved: {problem_text(exc)}", severity="error",
                            markup=False, timeout=10)
            return False
        self.saved_draft = self.interview.to_draft()
        return True

    def correct_details(self) -> None:
        """Correct the case's date or NINO (checked as a new case is); answers are kept where the new date
        allows them, the others asked again."""
        iv = self.interview

        async def done(new: NewCase | None) -> None:
            if new is None or (new.as_of, new.nino) == (iv.as_of, iv.nino):
                return
            self.interview, refused = iv.corrected(new.as_of, new.nino)
            words = [self.interview.question(f).text for f in refused]
            if words:
                self.notify("Asked again for the new date: " + "; ".join(words), markup=False, timeout=8)
            await self.redraw()

        self.app.push_screen(NewCaseDialog(kind=self.kind, current=NewCase(iv.ref, iv.as_of, iv.nino)), done)


DETAILS_OPTION = "@case-details"
"""The answers list's first line: the case's date and NINO, chosen to correct them."""


def case_details_line(iv: Interview) -> Text:
    """The case's date and NINO as the answers list's first line."""
    line = Text()
    line.append(safe("Date, NINO: ", "dim"))
    line.append(safe(clip(f"{iv.as_of.isoformat()}, {iv.nino or 'none'}", 21)))
    return line


"""One training scenario: the trainer steps through the facts, the trainee predicts, then the reveal.

The prediction is offered as the titles of the outcomes the scenario's edition can reach (codes on
demand). Revealing asks first (one stray key must not end the exercise); the reveal scores the
prediction, shows why each outcome applies or not (rule, the answers it saw, sources), and records
the trainee's prediction and marks in the training book, never the right answer and never a live book.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, OptionList, SelectionList, Static
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from engine.intake.interview import Interview
from engine.model.case import PRIORITIES, Case, input_values
from engine.model.decision import Decision, reading_order
from engine.model.training import Score, score
from engine.policy.driver import default_engine
from tui.dialogs.confirm import ConfirmDialog
from tui.jobs import JobScreen
from tui.safe import add_line, safe
from tui.trainbook import Recorded, Session, record_attempt
from tui.widgets.decision import explanation_text
from tui.words import kind_name

PRIORITY_CHOICES = (None, *PRIORITIES)
"""The priority prediction's values, in the order `p` steps through them."""

REVEAL_QUESTION = "Reveal the recommendation?"
"""The confirmation's title: the prediction cannot be changed after the reveal."""


def possible_outcomes(interview: Interview) -> list[str]:
    """The outcome codes some rule of the scenario's edition concludes, in reading order (kind, then code)."""
    ruleset = interview.ruleset
    concluded = {rule.concludes for rule in ruleset.rules if rule.concludes}
    return sorted((c for c in ruleset.outcomes if c in concluded),
                  key=lambda c: reading_order(ruleset.outcomes[c].kind, c))


class ScenarioScreen(JobScreen):
    """Step through a scenario's facts; predict outcomes and priority; reveal, score and record the prediction."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "step", "Next fact", tooltip="Reveal the next question and the scenario's answer",
                id="scenario.next"),
        Binding("b", "unstep", "Back", tooltip="Hide the last fact again", id="scenario.back"),
        Binding("p", "cycle_priority", "Priority", tooltip="Predict the priority (cycles)", id="scenario.priority"),
        Binding("v", "reveal", "Reveal", tooltip="Reveal the recommendation and score the prediction (asks first)",
                id="scenario.reveal"),
        Binding("ctrl+r", "record", "Record prediction", tooltip="Record your prediction and its score in the "
                "training book (asks first, then reveals)", id="scenario.record"),
        Binding("ctrl+t", "toggle_codes", "Codes", tooltip="Show or hide the outcome codes beside their titles",
                id="scenario.codes"),
        Binding("escape", "leave", "Library", tooltip="Back to the scenario library", id="scenario.leave"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 - Textual types it as an instance attribute
    """At 110 columns and more the narrative and facts get a wider column."""

    def __init__(self, case: Case, training_db: Path | None, session: Session | None = None) -> None:
        super().__init__()
        self.case = case
        self.training_db = training_db
        self.session = session or Session("trainee")
        self.interview = Interview(case.case, case.as_of, nino=case.nino)
        self.values = input_values(case)
        self.steps: list[str] = []
        self.choices = possible_outcomes(self.interview)
        self.predicted_priority: str | None = None
        self.decision: Decision | None = None
        self.result: Score | None = None
        self.recorded_id: int | None = None
        self.show_codes = False
        self.asking = False

    def compose(self) -> ComposeResult:
        """Narrative and facts on the left, the prediction (then the result) on the right."""
        yield Header()
        yield Static("", id="banner", classes="banner training", markup=False)
        with Horizontal():
            with Vertical(id="left"):
                with VerticalScroll(id="story-box"):
                    yield Static("", id="story", markup=False)
                yield Static(Text("Facts so far (n: next, b: back)", style="bold"), classes="section", markup=False)
                yield OptionList(id="steps")
            with Vertical(id="right"):
                yield Static(Text("Your prediction (space ticks)", style="bold"), id="right-title", classes="section",
                             markup=False)
                yield SelectionList[str](id="prediction")
                yield Static("", id="choice-detail", markup=False)
                yield Static("", id="predicted-priority", markup=False)
                with VerticalScroll(id="result-box"):
                    yield Static("", id="result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Fill the story and the outcome choices."""
        self._banner()
        story = add_line(Text(), self.case.title or self.case.case, "bold")
        story.append(safe((self.case.narrative or "").strip(), keep_newlines=True))
        self.query_one("#story", Static).update(story)
        self._fill_choices()
        self.query_one("#result-box").display = False
        self._draw()
        plist = self.query_one("#prediction", SelectionList)
        plist.highlighted = 0
        plist.focus()

    def _banner(self) -> None:
        """The training banner: scenario, book, and the session's score."""
        book = f"training book {self.training_db}" if self.training_db else "no training book: nothing is recorded"
        self.query_one("#banner", Static).update(
            safe(f"TRAINING · {self.case.case} · {self.session.words()} · {book}"))

    def title_of(self, code: str) -> str:
        """An outcome's title in the scenario's edition."""
        info = self.interview.ruleset.outcomes.get(code)
        return info.title if info else code

    def _choice_prompt(self, code: str) -> Text:
        """One prediction choice: the outcome's title (and its code on demand)."""
        info = self.interview.ruleset.outcomes[code]
        prompt = safe(info.title or code)
        if self.show_codes:
            prompt.append(safe(f" · {code}", "dim"))
        return prompt

    def _show_choice(self) -> None:
        """The highlighted choice in full under the list: title, kind in words, code on demand."""
        target = self.query_one("#choice-detail", Static)
        index = self.query_one("#prediction", SelectionList).highlighted
        if index is None or index >= len(self.choices) or self.result is not None:
            target.update("")
            return
        code = self.choices[index]
        info = self.interview.ruleset.outcomes[code]
        target.update(safe(f"{info.title} · {kind_name(info.kind)}" + (f" · {code}" if self.show_codes else "")))

    @on(SelectionList.SelectionHighlighted, "#prediction")
    def choice_highlighted(self) -> None:
        """Follow the cursor in the prediction list."""
        self._show_choice()

    def _fill_choices(self) -> None:
        """(Re)fill the prediction list, keeping the ticks and the cursor."""
        plist = self.query_one("#prediction", SelectionList)
        ticked = set(plist.selected)
        at = plist.highlighted
        plist.clear_options()
        plist.add_options([Selection(self._choice_prompt(code), code, code in ticked) for code in self.choices])
        if at is not None and self.choices:
            plist.highlighted = min(at, len(self.choices) - 1)
        self._show_choice()

    @property
    def predicted(self) -> list[str]:
        """The outcome codes the trainee ticked."""
        return list(self.query_one("#prediction", SelectionList).selected)

    def _draw(self) -> None:
        """Redraw the facts list and the priority line."""
        steps = self.query_one("#steps", OptionList)
        steps.clear_options()
        for fact in self.steps:
            q = self.interview.question(fact)
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(safe(f"{q.short}: ", "dim"))
            line.append(safe(self.interview.label(fact, self.interview.answers[fact])))
            steps.add_option(Option(line))
        left = "all facts that matter are shown" if self.interview.is_complete() else "more facts to come"
        if steps.option_count:
            steps.highlighted = steps.option_count - 1
        self.query_one("#predicted-priority", Static).update(
            safe(f"Predicted priority (p): {self.predicted_priority or 'not chosen'} · {left}"))

    def action_step(self) -> None:
        """Reveal the next fact the rules need (skipping those that cannot matter)."""
        q = self.interview.next_question()
        if q is None:
            self.notify("Every fact that matters is shown.", markup=False)
            return
        self.interview.answer(q.fact, self.values[q.fact])
        self.steps.append(q.fact)
        self._draw()

    def action_unstep(self) -> None:
        """Hide the last fact again."""
        fact = self.interview.back()
        if fact is not None and fact in self.steps:
            self.steps.remove(fact)
        self._draw()

    def action_cycle_priority(self) -> None:
        """Step the predicted priority (not once revealed)."""
        if self.result is not None:
            return
        index = PRIORITY_CHOICES.index(self.predicted_priority)
        self.predicted_priority = PRIORITY_CHOICES[(index + 1) % len(PRIORITY_CHOICES)]
        self._draw()

    def action_toggle_codes(self) -> None:
        """Show or hide the outcome codes (in the choices and the reveal)."""
        self.show_codes = not self.show_codes
        if self.result is None:
            self._fill_choices()
        elif self.decision is not None:
            self.query_one("#result", Static).update(self.result_text())

    # -- the reveal ------------------------------------------------------------------------------

    def action_reveal(self) -> None:
        """Ask, then reveal the recommendation, score the prediction and record it (once)."""
        if self.result is not None:
            self.notify(self._recorded_words(), markup=False)
            return
        if self.asking:
            return
        ticked = len(self.predicted)
        body = safe(f"You ticked {ticked} outcome(s); predicted priority: {self.predicted_priority or 'none'}. "
                    "Your prediction cannot be changed after the reveal"
                    + (", and it is recorded with its score in the training book." if self.training_db else "."))
        self.asking = True
        self.app.push_screen(ConfirmDialog(REVEAL_QUESTION, body, yes="Reveal"), self._answered)

    def action_record(self) -> None:
        """Record the trainee's prediction (with its score): the same confirmed step as the reveal."""
        self.action_reveal()

    def _answered(self, yes: bool | None) -> None:
        """The confirmation's answer: reveal on yes, carry on predicting otherwise."""
        self.asking = False
        if yes:
            self.reveal()

    def reveal(self) -> None:
        """Show the scenario's recommendation with the reasons, score the prediction, and record it."""
        self.decision = default_engine().decide(self.case)
        self.result = score(self.predicted, self.predicted_priority, self.decision)
        self.query_one("#result", Static).update(self.result_text())
        self.query_one("#result-box").display = True
        self.query_one("#prediction").display = False
        self.query_one("#choice-detail").display = False
        self.query_one("#predicted-priority").display = False
        self.query_one("#right-title", Static).update(Text("The recommendation, why, and your score", style="bold"))
        self.query_one("#result-box").focus()
        if self.training_db is None:
            self.session.tally = self.session.tally.add(self.result.marks, self.result.out_of)
            self._banner()
            self.notify("No training book is open: the score is not recorded.", severity="warning", markup=False)
            return
        self.run_job(partial(record_attempt, self.training_db, self.session.trainee, self.case, self.predicted,
                             self.predicted_priority), self.show_recorded, group="train-write")

    def show_recorded(self, recorded: Recorded) -> None:
        """The attempt is in the training book: count it in the session and say so."""
        self.recorded_id = recorded.attempt_id
        self.session.tally = self.session.tally.add(recorded.score.marks, recorded.score.out_of)
        self.session.book = recorded.book
        self._banner()
        self.notify(self._recorded_words(), markup=False)

    def _recorded_words(self) -> str:
        """Where the prediction was recorded."""
        if self.recorded_id is None:
            return "Revealed; the prediction is not recorded (no training book)."
        return f"Your prediction and score are recorded in the training book as attempt {self.recorded_id}."

    def result_text(self) -> Text:
        """The reveal: the score, each outcome marked, the priority, then why each outcome applies or not."""
        assert self.result is not None and self.decision is not None
        result, decision = self.result, self.decision
        out = Text()
        add_line(out, f"Score: {result.marks} of {result.out_of} marks · {len(result.right)} of "
                      f"{len(decision.codes)} outcomes predicted · {len(result.wrong)} predicted that do not apply",
                 "bold")
        marks = [("✔ right", result.right, "green"), ("✘ missed (it applies)", result.missed, "red"),
                 ("✘ predicted, does not apply", result.wrong, "yellow")]
        for words, codes, style in marks:
            for code in codes:
                add_line(out, f"{words}: {self.title_of(code)}" + (f" ({code})" if self.show_codes else ""), style)
        mark: Any = ("✔", "green") if result.priority_ok else ("✘", "red")
        add_line(out, f"{mark[0]} priority {decision.priority} (predicted {result.predicted_priority or 'none'})",
                 mark[1])
        if decision.announced:
            add_line(out, "Announced policy, never in force: a training scenario.", "bold")
        if not decision.outcomes:
            add_line(out, "No outcomes apply.")
        explained = Interview.from_case(self.case)
        for o in decision.in_reading_order():
            out.append("\n")
            out.append(explanation_text(explained.explain(o.code), explained, show_codes=self.show_codes))
        for code in result.wrong:
            out.append("\n")
            out.append(explanation_text(explained.explain(code), explained, show_codes=self.show_codes))
        for item in decision.open:
            add_line(out, f"? open: {self.title_of(item.code)}, waits on {', '.join(item.needs)}", "yellow")
        return out

    def action_leave(self) -> None:
        """Back to the library."""
        self.dismiss(None)

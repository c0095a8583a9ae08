"""One training scenario: the trainer steps through the facts, the trainee predicts, then the reveal."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, OptionList, SelectionList, Static
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from engine.intake.interview import Interview
from engine.model.case import PRIORITIES, Case, input_values
from engine.model.decision import Decision
from engine.policy.driver import default_engine
from tui import data
from tui.jobs import JobScreen
from tui.safe import add_line, clip, safe
from tui.training import Score, score

PRIORITY_CHOICES = (None, *PRIORITIES)
"""The priority prediction's values, in the order `p` steps through them."""


class ScenarioScreen(JobScreen):
    """Step through a scenario's facts; predict outcomes and priority; reveal and score."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "step", "Next fact", tooltip="Reveal the next question and the scenario's answer",
                id="scenario.next"),
        Binding("b", "unstep", "Back", tooltip="Hide the last fact again", id="scenario.back"),
        Binding("p", "cycle_priority", "Priority", tooltip="Predict the priority (cycles)", id="scenario.priority"),
        Binding("v", "reveal", "Reveal", tooltip="Reveal the recommendation and score the prediction",
                id="scenario.reveal"),
        Binding("ctrl+r", "record", "Record", tooltip="Record this scenario's recommendation in the training case book",
                id="scenario.record"),
        Binding("escape", "leave", "Library", tooltip="Back to the scenario library", id="scenario.leave"),
    ]

    def __init__(self, case: Case, training_db: Path | None) -> None:
        super().__init__()
        self.case = case
        self.training_db = training_db
        self.interview = Interview(case.case, case.as_of, nino=case.nino)
        self.values = input_values(case)
        self.steps: list[str] = []
        self.predicted_priority: str | None = None
        self.decision: Decision | None = None
        self.result: Score | None = None
        self.recorded_id: int | None = None

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
                yield Static(Text("Your prediction (space ticks)", style="bold"), classes="section", markup=False)
                yield SelectionList[str](id="prediction")
                yield Static("", id="predicted-priority", markup=False)
                with VerticalScroll(id="result-box"):
                    yield Static("", id="result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Fill the story and the outcome choices."""
        book = f"training case book {self.training_db}" if self.training_db else "no case book"
        self.query_one("#banner", Static).update(safe(f"TRAINING · scenario {self.case.case} · {book}"))
        story = add_line(Text(), self.case.title or self.case.case, "bold")
        story.append(safe((self.case.narrative or "").strip(), keep_newlines=True))
        self.query_one("#story", Static).update(story)
        outcomes = self.interview.ruleset.outcomes
        plist = self.query_one("#prediction", SelectionList)
        for code in sorted(outcomes):
            plist.add_option(Selection(safe(f"{code}"), code))
        self.query_one("#result-box").display = False
        self._draw()
        plist.highlighted = 0
        plist.focus()

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
            answer = clip(self.interview.label(fact, self.interview.answers[fact]), 18)
            steps.add_option(Option(safe(f"{clip(q.text, 42 - len(answer) - 3)}: {answer}")))
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
        """Step the predicted priority."""
        index = PRIORITY_CHOICES.index(self.predicted_priority)
        self.predicted_priority = PRIORITY_CHOICES[(index + 1) % len(PRIORITY_CHOICES)]
        self._draw()

    def action_reveal(self) -> None:
        """Show the scenario's recommendation and score the prediction."""
        self.decision = default_engine().decide(self.case)
        self.result = score(self.predicted, self.predicted_priority, self.decision)
        self.query_one("#result", Static).update(result_text(self.result, self.decision))
        self.query_one("#result-box").display = True
        self.query_one("#prediction").display = False
        self.query_one("#result-box").focus()

    def action_record(self) -> None:
        """Record the scenario's recommendation in the training case book (never the live one)."""
        if self.training_db is None:
            self.notify("No training case book is open: nothing is recorded.", severity="warning", markup=False)
            return
        self.run_job(partial(data.record_scenario, self.training_db, self.case, self._adviser()), self.show_recorded,
                     group="train-write")

    def _adviser(self) -> str:
        """Who is recording (the app's adviser id)."""
        return str(getattr(self.app, "adviser", "trainer"))

    def show_recorded(self, decision_id: int) -> None:
        """Confirm the training record."""
        self.recorded_id = decision_id
        self.notify(f"Recorded in the training case book as decision {decision_id}.", markup=False)

    def action_leave(self) -> None:
        """Back to the library."""
        self.dismiss(None)


def result_text(result: Score, decision: Decision) -> Text:
    """The reveal: each outcome marked right, missed or not applying; the priority; the score."""
    out = Text()
    add_line(out, f"{len(result.right)} of {len(decision.codes)} outcomes predicted; "
                  f"{len(result.wrong)} predicted that do not apply.", "bold")
    for code in result.right:
        add_line(out, f"✔ {code}: right", "green")
    for code in result.missed:
        add_line(out, f"✘ {code}: applies, not predicted", "red")
    for code in result.wrong:
        add_line(out, f"✘ {code}: predicted, does not apply", "yellow")
    mark: Any = ("✔", "green") if result.priority_ok else ("✘", "red")
    add_line(out, f"{mark[0]} priority {decision.priority} (predicted {result.predicted_priority or 'none'})",
             mark[1])
    if decision.announced:
        add_line(out, "Announced policy, never in force: a training scenario.", "bold")
    if not decision.outcomes:
        add_line(out, "No outcomes apply.")
    for o in decision.in_reading_order():
        out.append("\n")
        add_line(out, f"{o.code} ({o.kind})", "bold")
        if o.text:
            add_line(out, f"Say: {o.text}")
        if o.adviser_note:
            add_line(out, f"For the adviser: {o.adviser_note}", "dim")
    for item in decision.open:
        add_line(out, f"? {item.code}: open, waits on {', '.join(item.needs)}", "yellow")
    return out

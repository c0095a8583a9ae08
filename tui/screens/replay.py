"""One recorded decision replayed: MATCH or the difference, edition and rule set, the adviser's decisions on
the recommendation beside the firing trace, and what today's rules would recommend."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from engine.casebook.replay import MATCH
from engine.model.adviser import AdviserDecision
from engine.model.decision import Decision, Firing
from engine.policy.driver import default_engine
from tui import data
from tui.jobs import JobScreen
from tui.safe import add_line, clip, safe, words
from tui.words import choice_words


class ReplayScreen(JobScreen):
    """Replays a recorded decision (read-only), shows the adviser's decisions and walks the firing trace."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Decisions", tooltip="Back to the decisions list", id="replay.leave"),
    ]

    def __init__(self, db: Path, decision_id: int) -> None:
        super().__init__()
        self.db = db
        self.decision_id = decision_id
        self.view: data.ReplayView | None = None
        self.trace: tuple[Firing, ...] = ()

    def compose(self) -> ComposeResult:
        """Summary on top; trace list and the facts each rule saw below."""
        yield Header()
        yield Static(safe(f"Replaying decision {self.decision_id}..."), id="summary", markup=False)
        with VerticalScroll(id="choices-box"):
            yield Static("", id="choices", markup=False)
        with Horizontal():
            yield OptionList(id="trace")
            with VerticalScroll(id="firing-box"):
                yield Static("", id="firing", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Replay in a worker."""
        self.app.sub_title = f"Audit: decision {self.decision_id}"
        self.query_one("#trace").focus()
        self.run_job(partial(data.replay, self.db, self.decision_id), self.show_replay, group="audit-replay",
                     failed=self.replay_failed)

    @property
    def status(self) -> str | None:
        """The replay status (MATCH, MISMATCH, INPUTS_ALTERED, UNKNOWN_RULESET), once known."""
        return self.view.recorded.status if self.view else None

    def replay_failed(self, text: str) -> None:
        """The replay could not run: say why in the summary."""
        self.query_one("#summary", Static).update(safe(f"Decision {self.decision_id}: {text}", "red"))

    def show_replay(self, view: data.ReplayView) -> None:
        """Show the summary and the trace."""
        self.view = view
        self.query_one("#summary", Static).update(summary_text(view))
        titles = {code: info.title for code, info in default_engine().book.outcomes.items()}
        self.query_one("#choices", Static).update(choices_text(view.decision, view.choices, titles))
        shown: Decision | None = view.decision
        self.trace = shown.trace if shown else ()
        olist = self.query_one("#trace", OptionList)
        olist.clear_options()
        for n, firing in enumerate(self.trace, start=1):
            olist.add_option(Option(safe(clip(f"{n:>2}. {firing.rule} → {', '.join(firing.concluded)}", 39))))
        if self.trace:
            olist.highlighted = 0
        self._show_firing(0)

    def _show_firing(self, index: int | None) -> None:
        """The facts one firing saw."""
        target = self.query_one("#firing", Static)
        if index is None or index >= len(self.trace):
            target.update(safe("No firings recorded."))
            return
        firing = self.trace[index]
        out = add_line(Text(), f"Step {index + 1} of {len(self.trace)}: rule {firing.rule}", "bold")
        add_line(out, f"concluded: {', '.join(firing.concluded)}")
        add_line(out, "facts the rule saw:")
        for fact, value in firing.facts.items():
            add_line(out, f"  {fact} = {words(value)}")
        target.update(out)

    @on(OptionList.OptionHighlighted, "#trace")
    def firing_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Follow the cursor through the trace."""
        self._show_firing(event.option_index)

    def action_leave(self) -> None:
        """Back to the list."""
        self.dismiss(None)


def summary_text(view: data.ReplayView) -> Text:
    """Status, differences, edition and rule set, and what today's rules would decide."""
    rec, cur = view.recorded, view.current
    ok = rec.status == MATCH
    out = add_line(Text(), f"Decision {rec.decision} · case {rec.case} · recorded {view.recorded_at} by {view.adviser}")
    out.append(safe(f"Replay under the recorded rules: {rec.status}", "bold green" if ok else "bold red"))
    if rec.differences:
        out.append(safe(": " + "; ".join(rec.differences), "red"))
    out.append("\n")
    digest = rec.ruleset.removeprefix("sha256:")
    add_line(out, f"Edition {rec.edition} · rule set sha256:{digest[:16]}…")
    recorded = view.decision
    if recorded is not None:
        add_line(out, f"Recommended: priority {recorded.priority}; {', '.join(recorded.codes) or 'no outcomes'}",
                 "dim")
    if cur.replayed is not None:
        same = cur.status == MATCH
        text = "the same recommendation" if same else "; ".join(cur.differences) or "a different trace"
        out.append(safe(f"Today's rules ({cur.replayed.edition}): {text}", "green" if same else "yellow"))
    else:
        out.append(safe(f"Today's rules: cannot replay ({cur.status})", "yellow"))
    return out


def choices_text(decision: Decision | None, choices: tuple[AdviserDecision, ...] | None,
                 titles: dict[str, str]) -> Text:
    """The adviser's decision on each recommended outcome (reading order): accepted, or declined, why, and the note."""
    out = Text()
    if choices is None:
        return add_line(out, "The adviser's decisions: none recorded (recorded without a review).", "dim")
    codes = [o.code for o in decision.in_reading_order()] if decision is not None else []
    if not choices and codes:
        return add_line(out, "The adviser's decisions cannot be read: see audit verify.", "bold red")
    declined = sum(not c.accepted for c in choices)
    add_line(out, f"The adviser's decisions: {len(choices) - declined} accepted, {declined} declined" if choices
             else "The adviser's decisions: nothing was recommended.", "bold")
    by_code = {c.code: c for c in choices}
    order = [code for code in codes if code in by_code] + sorted(set(by_code) - set(codes))
    for code in order:
        choice = by_code[code]
        mark, style = ("✔", "green") if choice.accepted else ("✘", "yellow")
        add_line(out, f"{mark} {titles.get(code, code)} ({code}): {choice_words(choice)}", style)
        if choice.note:
            add_line(out, f"    note: {choice.note}", "italic")
    return out

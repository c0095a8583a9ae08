"""The live recommendation panel: every outcome with its state and citation, and why (or why not)."""

from __future__ import annotations

import functools
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from engine.errors import PathwaysError
from engine.intake.counterfactual import Explainer, change_words
from engine.intake.interview import APPLIES, UNDECIDED, Explanation, Interview
from engine.policy.rulebook import Book
from engine.policy.wording import Words, read_words
from tui.safe import add_line, clip, safe, words

GLYPH = {APPLIES: ("✔", "green"), UNDECIDED: ("?", "yellow"), "does not apply": ("·", "dim")}
"""How each outcome state is marked in the list."""
SHOWN_CHANGES = 3
"""Change sets shown under a highlighted outcome (`pathways explain` lists them all)."""


@functools.lru_cache(maxsize=4)
def _explainer(book: Book) -> tuple[Explainer, Words]:
    """The counterfactual search and the rules' words for a rules folder (made once)."""
    return Explainer(book), read_words(book)


def changes_text(interview: Interview, code: str) -> Text:
    """For a finished interview, the smallest changes of answers that would flip an outcome, in words."""
    out = Text()
    try:
        case = interview.to_case()
    except PathwaysError:
        return out
    explainer, vocabulary = _explainer(interview.engine.book)
    (item,) = explainer.explain(case, [code])
    wanted = [True, False] if item.applies is None else [not item.applies]
    for outcome in wanted:
        sets = [s for s in item.sets if s.then is outcome][:SHOWN_CHANGES]
        if sets:
            add_line(out, f"It would {'apply' if outcome else 'not apply'} if:")
            for change_set in sets:
                add_line(out, f"  - {change_words(change_set, vocabulary, explainer.space)}")
    return out


def explanation_text(ex: Explanation, label: Any = None) -> Text:
    """An outcome's explanation: what to say to the claimant first, then what to do, why, and the source."""
    name = label or (lambda fact, value: words(value))
    out = Text()
    add_line(out, f"{ex.title}", "bold")
    add_line(out, f"{ex.code} · {ex.kind} · {ex.state}", "dim")
    if ex.state == APPLIES:
        if ex.text:
            add_line(out, f"Say: {ex.text}", "bold")
        if ex.adviser_note:
            add_line(out, f"For you (not to read out): {ex.adviser_note}", "italic")
        add_line(out, f"Because (rule {ex.rule}):")
        for fact, value in ex.because.items():
            add_line(out, f"  {fact} = {name(fact, value)}")
    elif ex.state == UNDECIDED:
        add_line(out, "Open: it depends on answers not known yet: " + (", ".join(ex.waiting_on) or "other answers"))
    else:
        if not ex.why_not:
            add_line(out, "No rule in this edition concludes it.")
        for wn in ex.why_not:
            add_line(out, f"Why not ({wn.rule}): {wn.failed}; it is {words(wn.seen)}")
    if ex.citation:
        add_line(out, f"Source: {ex.citation}", "italic dim")
    return out


class DecisionPanel(Vertical):
    """The recommendation as it forms: priority, the outcome list, and the explanation of the highlighted one."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.interview: Interview | None = None
        self.codes: list[str] = []

    def compose(self) -> ComposeResult:
        """Title, priority line, outcome list, explanation."""
        yield Static(Text("Recommendation (you decide: ctrl+r)", style="bold"), classes="section", markup=False)
        yield Static("", id="priority", markup=False)
        yield OptionList(id="outcomes")
        with VerticalScroll(id="explain-box"):
            yield Static("", id="explain", markup=False)

    def refresh_from(self, interview: Interview) -> None:
        """Re-evaluate and redraw (keeps the highlighted outcome)."""
        self.interview = interview
        ev = interview.evaluation()
        decision = interview.live_decision()
        prio = decision.priority.upper() if decision is not None else (ev.priority or "?").upper()
        banner = " · ANNOUNCED POLICY, NEVER IN FORCE" if decision is not None and decision.announced else ""
        self.query_one("#priority", Static).update(
            safe(f"Priority {prio} · {len(ev.applies())} apply · {len(ev.undecided())} open{banner}", "bold"))
        rows = interview.outcome_rows(ev, decision)
        olist = self.query_one("#outcomes", OptionList)
        keep = self.highlighted_code()
        olist.clear_options()
        self.codes = [r.code for r in rows]
        for row in rows:
            glyph, style = GLYPH[row.state]
            prompt = Text(no_wrap=True, overflow="ellipsis")
            prompt.append(f"{glyph} ", style=style)
            prompt.append(safe(f"{row.kind[:3]} {row.code}", "bold" if row.state == APPLIES else style))
            if row.state == APPLIES and row.citation:
                prompt.append("\n    ")
                prompt.append(safe(clip(row.citation, 30), "dim italic"))
            olist.add_option(Option(prompt, id=row.code))
        if self.codes:
            olist.highlighted = self.codes.index(keep) if keep in self.codes else 0
        self.show_explanation()

    def highlighted_code(self) -> str | None:
        """The outcome code under the cursor."""
        olist = self.query_one("#outcomes", OptionList)
        index = olist.highlighted
        if index is None or index >= len(self.codes):
            return None
        return self.codes[index]

    def show_explanation(self) -> None:
        """Explain the highlighted outcome."""
        code = self.highlighted_code()
        target = self.query_one("#explain", Static)
        if code is None or self.interview is None:
            target.update("")
            return
        text = explanation_text(self.interview.explain(code), self.interview.label)
        if self.interview.is_complete():
            text.append(changes_text(self.interview, code))
        target.update(text)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Moving through the list explains each outcome."""
        event.stop()
        self.show_explanation()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on an outcome explains it (the same as highlighting it)."""
        event.stop()
        self.show_explanation()

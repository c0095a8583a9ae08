"""The live recommendation panel: every outcome by its title and state, and why (or why not).

The outcome list shows titles from the rules, each kind in words; the codes appear only on demand
(`show_codes`). The explanation of the highlighted outcome starts with the claimant's words (what to
read out), then the adviser's note, then why: the rule, the answers it saw, and its sources.
"""

from __future__ import annotations

import functools
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container, Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from engine.errors import PathwaysError
from engine.intake.counterfactual import Explainer, change_words
from engine.intake.interview import APPLIES, UNDECIDED, Explanation, Interview
from engine.policy.rulebook import Book
from engine.policy.wording import Words, read_words
from tui.safe import add_line, safe, words
from tui.words import LEGEND, kind_name, state_words

GLYPH = {APPLIES: ("✔", "green"), UNDECIDED: ("?", "yellow"), "does not apply": ("·", "dim")}
"""How each outcome state is marked in the list."""
SHOWN_CHANGES = 3
"""Change sets shown under a highlighted outcome (`pathways explain` lists them all)."""


@functools.lru_cache(maxsize=4)
def _explainer(book: Book) -> tuple[Explainer, Words]:
    """The counterfactual search and the rules' words for a rules folder (made once)."""
    return Explainer(book), read_words(book)


def vocabulary(interview: Interview) -> Words:
    """The rules' words for an interview's rules folder (made once per folder)."""
    return _explainer(interview.engine.book)[1]


def changes_text(interview: Interview, code: str) -> Text:
    """For a finished interview, the smallest changes of answers that would flip an outcome, in words."""
    out = Text()
    try:
        case = interview.to_case()
    except PathwaysError:
        return out
    explainer, vocab = _explainer(interview.engine.book)
    (item,) = explainer.explain(case, [code])
    wanted = [True, False] if item.applies is None else [not item.applies]
    for outcome in wanted:
        sets = [s for s in item.sets if s.then is outcome][:SHOWN_CHANGES]
        if sets:
            add_line(out, f"It would {'apply' if outcome else 'not apply'} if:")
            for change_set in sets:
                add_line(out, f"  - {change_words(change_set, vocab, explainer.space)}")
    return out


def fact_line(interview: Interview | None, vocab: Words | None, fact: str, value: Any) -> str:
    """One fact a rule saw, in words: a question's short label and the answer, or a derived fact's statement."""
    if interview is not None:
        try:
            question = interview.question(fact)
        except KeyError:
            question = None
        if question is not None:
            return f"{question.short}: {interview.label(fact, value)}"
    statement = vocab.facts.get(fact) if vocab is not None else None
    if statement is not None and isinstance(value, bool) and statement.says:
        return statement.says if value else (statement.says_not or f"not: {statement.says}")
    return f"{fact.replace('.', ' ').replace('_', ' ')}: {words(value)}"


def question_names(interview: Interview | None, facts: tuple[str, ...]) -> str:
    """Facts as their questions' short labels, joined."""
    names = []
    for fact in facts:
        try:
            names.append(interview.question(fact).short if interview is not None else fact)
        except KeyError:
            names.append(fact)
    return ", ".join(names) or "other answers"


def rule_title(interview: Interview | None, rule_id: str) -> str:
    """A rule's title from the interview's rule set (its id when it has none, or it is not there)."""
    if interview is None or not rule_id:
        return rule_id or "no rule"
    try:
        return interview.ruleset.rule(rule_id).title or rule_id
    except KeyError:
        return rule_id


def explanation_text(ex: Explanation, interview: Interview | None = None, *, show_codes: bool = False) -> Text:
    """An outcome's explanation: what to say to the claimant first, then what to do, why, and the sources."""
    vocab = vocabulary(interview) if interview is not None else None
    out = Text()
    add_line(out, ex.title or ex.code, "bold")
    if ex.state == APPLIES:
        if ex.text:
            add_line(out, f"Say to the claimant: {ex.text}", "bold")
        if ex.adviser_note:
            add_line(out, f"For you (not to read out): {ex.adviser_note}", "italic")
    add_line(out, f"{kind_name(ex.kind)} · {state_words(ex.state)}" + (f" · {ex.code}" if show_codes else ""), "dim")
    if ex.state == APPLIES:
        add_line(out, f"Because the rule “{rule_title(interview, ex.rule)}”" + (f" ({ex.rule})" if show_codes else "")
                 + " saw:")
        for fact, value in ex.because.items():
            add_line(out, f"  {fact_line(interview, vocab, fact, value)}")
    elif ex.state == UNDECIDED:
        add_line(out, "Open: it depends on answers not known yet: " + question_names(interview, ex.waiting_on))
    else:
        if not ex.why_not:
            add_line(out, "No rule in this edition concludes it.")
        for wn in ex.why_not:
            needs = vocab.test(wn.test) if vocab is not None and wn.test is not None else wn.failed
            rule = f" ({wn.rule})" if show_codes else ""
            add_line(out, f"Why not{rule}: it needs “{needs}”; here, {fact_line(interview, vocab, wn.fact, wn.seen)}")
    if ex.citation:
        add_line(out, f"Sources: {ex.citation}", "italic dim")
    return out


def row_prompt(title: str, kind: str, code: str, state: str, show_codes: bool) -> Text:
    """One outcome in the list: its mark and title, then its kind in words (and its code on demand)."""
    glyph, style = GLYPH[state]
    prompt = Text(no_wrap=True, overflow="ellipsis")
    prompt.append(f"{glyph} ", style=style)
    prompt.append(safe(title or code, "bold" if state == APPLIES else style))
    prompt.append("\n  ")
    prompt.append(safe(kind_name(kind) + (f" · {code}" if show_codes else ""), "dim"))
    return prompt


class DecisionPanel(Vertical):
    """The recommendation as it forms: priority, a legend, the outcome list, and the highlighted one explained."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.interview: Interview | None = None
        self.codes: list[str] = []
        self.show_codes = False
        self.applying: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        """Title, priority line, legend, then the outcome list and the explanation (side by side when wide)."""
        yield Static(Text("Recommendation (you decide: ctrl+r)", style="bold"), classes="section", markup=False)
        yield Static("", id="priority", markup=False)
        yield Static(safe(LEGEND, "dim"), id="legend", markup=False)
        with Container(id="decision-body"):
            yield OptionList(id="outcomes")
            with VerticalScroll(id="explain-box"):
                yield Static("", id="explain", markup=False)

    def toggle_codes(self) -> bool:
        """Show or hide the outcome codes beside the titles; returns whether they are shown now."""
        self.show_codes = not self.show_codes
        if self.interview is not None:
            self.refresh_from(self.interview)
        return self.show_codes

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
        applying = tuple(r.code for r in rows if r.state == APPLIES)
        if applying and applying != self.applying:
            keep = applying[0]  # something new applies: show it (and what to say) first
        self.applying = applying
        olist.clear_options()
        self.codes = [r.code for r in rows]
        for row in rows:
            olist.add_option(Option(row_prompt(row.title, row.kind, row.code, row.state, self.show_codes),
                                    id=row.code))
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
        text = explanation_text(self.interview.explain(code), self.interview, show_codes=self.show_codes)
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

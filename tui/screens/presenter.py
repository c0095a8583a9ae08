"""The presenter view: one scenario full screen for a trainer showing it to a room.

The narrative fills the screen, a sentence to a paragraph so it reads from the back of a room;
the answers (the priority and the outcomes with what to say) stay hidden until the trainer asks.
"""

from __future__ import annotations

import re
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from engine.model.case import Case
from engine.model.decision import Decision
from engine.policy.driver import default_engine
from engine.textsafe import clean
from tui.safe import add_line, safe
from tui.words import kind_name

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“'])")
"""Where one sentence of a narrative ends and the next begins."""


def paragraphs(narrative: str) -> list[str]:
    """A narrative as one sentence a paragraph (cleaned of control characters)."""
    text = " ".join(clean(narrative, keep_newlines=True).split())
    return [part for part in SENTENCE_END.split(text) if part]


def answers_text(decision: Decision, titles: dict[str, str]) -> Text:
    """The answers for the room: the priority, then each outcome's title, kind and what to say."""
    out = add_line(Text(), f"Priority: {decision.priority.upper()}", "bold")
    if not decision.outcomes:
        add_line(out, "No outcomes apply.")
    for o in decision.in_reading_order():
        out.append("\n")
        add_line(out, f"✔ {titles.get(o.code, o.code)}", "bold green")
        add_line(out, f"  {kind_name(o.kind)}", "dim")
        if o.text:
            add_line(out, f"  Say: {o.text}")
    out.rstrip()
    return out


class PresenterScreen(Screen[None]):
    """A scenario's title and narrative, large and centred; the answers shown only on a key."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_answers", "Answers", tooltip="Show or hide the answers (priority and outcomes)",
                id="presenter.answers"),
        Binding("escape", "leave", "Library", tooltip="Back to the scenario library", id="presenter.leave"),
    ]

    def __init__(self, case: Case) -> None:
        super().__init__()
        self.case = case
        self.answers_shown = False
        self.decision: Decision | None = None

    def compose(self) -> ComposeResult:
        """The title, the narrative, and the (hidden) answers, in a centred column."""
        with VerticalScroll(id="presenter-box"):
            with Center():
                yield Static("", id="presenter-title", markup=False)
            with Center():
                yield Static("", id="presenter-story", markup=False)
            with Center():
                yield Static("", id="presenter-answers", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Fill the title and narrative; the answers wait."""
        self.app.sub_title = f"Presenting {self.case.case}"
        self.query_one("#presenter-title", Static).update(
            safe((self.case.title or self.case.case).upper(), "bold"))
        story = Text()
        for paragraph in paragraphs(self.case.narrative or "(no narrative)"):
            story.append(safe(paragraph))
            story.append("\n\n")
        story.append(safe(f"{self.case.case} · decided as on {self.case.as_of.isoformat()}", "dim"))
        self.query_one("#presenter-story", Static).update(story)
        self._show_answers()

    def _show_answers(self) -> None:
        """Show the answers, or the line saying how to show them."""
        target = self.query_one("#presenter-answers", Static)
        if not self.answers_shown:
            target.update(safe("Answers hidden: press space to show them.", "italic dim"))
            return
        if self.decision is None:
            self.decision = default_engine().decide(self.case)
        engine = default_engine()
        titles = {code: info.title for code, info in engine.ruleset_for(self.case).outcomes.items()}
        target.update(answers_text(self.decision, titles))
        self.call_after_refresh(target.scroll_visible, top=True)

    def action_toggle_answers(self) -> None:
        """Show or hide the answers."""
        self.answers_shown = not self.answers_shown
        self._show_answers()

    def action_leave(self) -> None:
        """Back to the library."""
        self.app.pop_screen()

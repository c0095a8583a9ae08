"""The question panel: one question in plain English, its help text, and the widget to answer it."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, OptionList, SelectionList, Static
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from engine.errors import InputError
from engine.intake.interview import Question
from engine.model.facts import Unknown
from tui.safe import safe


class TickList(SelectionList[Any]):
    """A list of tick boxes: space ticks, enter confirms the whole answer."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "confirm", "Confirm", id="answer.confirm")]

    class Confirmed(Message):
        """The ticked values were confirmed."""

        def __init__(self, values: list[Any]) -> None:
            super().__init__()
            self.values = values

    def action_confirm(self) -> None:
        """Post the ticked values."""
        self.post_message(self.Confirmed(list(self.selected)))


class QuestionPanel(Vertical):
    """Shows the current question and posts Answered when the adviser answers it."""

    class Answered(Message):
        """The adviser answered `fact` with `value`."""

        def __init__(self, fact: str, value: Any) -> None:
            super().__init__()
            self.fact = fact
            self.value = value

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.question: Question | None = None
        self._serial = 0

    def compose(self) -> ComposeResult:
        """Question text, help text, an answer slot and an error line."""
        yield Static("", id="question-text", markup=False)
        yield Static("", id="question-help", markup=False)
        yield Vertical(id="answer-slot")
        yield Static("", id="question-error", classes="error", markup=False)

    async def show(self, question: Question | None, current: Any = None, done: Text | None = None) -> None:
        """Show a question (with `current` preselected), or `done` when nothing is left to ask."""
        self.question = question
        slot = self.query_one("#answer-slot", Vertical)
        await slot.remove_children()
        self.query_one("#question-error", Static).update("")
        if question is None:
            self.query_one("#question-text", Static).update(done or Text(""))
            self.query_one("#question-help", Static).update("")
            return
        self.query_one("#question-text", Static).update(safe(question.text, "bold"))
        hint = " Space ticks, enter confirms." if question.kind == "list" else ""
        self.query_one("#question-help", Static).update(safe(question.help + hint, "italic"))
        self._serial += 1
        widget = self._answer_widget(question, current, f"answer-{self._serial}")
        await slot.mount(widget)
        widget.focus()

    def _answer_widget(self, q: Question, current: Any, ident: str) -> Widget:
        """The widget that answers this kind of question."""
        if q.kind == "list":
            chosen = set(current or ())
            items = [Selection(safe(label), value, value in chosen) for value, label in q.choices]
            return TickList(*items, id=ident, classes="answer")
        if q.kind == "int":
            hint = f"{q.low} to {q.high}" + (", or empty for none" if q.nullable else "") + (
                ", ? if not known" if q.unknowable else "")
            value = "" if current is None else str(current)
            if isinstance(current, Unknown):
                value = "?"
            return Input(value, placeholder=hint, id=ident, classes="answer", restrict=r"[0-9?]*", max_length=3,
                         compact=True)
        options = [Option(safe(label)) for _value, label in q.choices]
        widget = OptionList(*options, id=ident, classes="answer")
        for index, (value, _label) in enumerate(q.choices):
            if value == current and (current is not None or q.nullable):
                widget.highlighted = index
        return widget

    def focus_answer(self) -> None:
        """Put the keyboard on the answer widget."""
        for widget in self.query(".answer"):
            widget.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A choice was made."""
        event.stop()
        if self.question is not None and self.question.kind in ("bool", "enum", "flag"):
            value = self.question.choices[event.option_index][0]
            self.post_message(self.Answered(self.question.fact, value))

    def on_tick_list_confirmed(self, event: TickList.Confirmed) -> None:
        """Ticked substances were confirmed."""
        event.stop()
        if self.question is not None:
            values = tuple(event.values)
            unknown = [v for v in values if isinstance(v, Unknown)]  # "Don't know" wins over any ticks
            self.post_message(self.Answered(self.question.fact, unknown[0] if unknown else values))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """A number was typed."""
        event.stop()
        if self.question is None:
            return
        try:
            value = self.question.parse_text(event.value)
        except InputError as exc:
            self.show_error(f"{exc.problem}" + (f" ({exc.allowed})" if exc.allowed else ""))
            return
        self.post_message(self.Answered(self.question.fact, value))

    def show_error(self, message: str) -> None:
        """Show why an answer was not accepted."""
        self.query_one("#question-error", Static).update(safe(message))

"""Train mode: the scenario library, on a training case book only (never the live one)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from engine.casebook.training import Tally
from engine.model.case import Case
from tui import data
from tui.jobs import JobScreen
from tui.safe import clip, lines, safe
from tui.screens.presenter import PresenterScreen
from tui.screens.scenario import ScenarioScreen
from tui.trainbook import Session, trainee_tally
from tui.widgets.lists import StartList


class TrainScreen(JobScreen):
    """Pick a scenario; its title and narrative show beside the list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start", "Start", show=False, tooltip="Step through the highlighted scenario",
                id="train.start"),
        Binding("f", "present", "Present", tooltip="Show the highlighted scenario full screen to a room, answers "
                "hidden until a key", id="train.present"),
        Binding("a", "app.mode('advise')", "Advise", tooltip="Back to the case list", id="train.advise"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.cases: list[Case] = []
        self.book_ok = False
        self.session: Session | None = None
        self.book_words = "opening the training case book..."

    @property
    def training_db(self) -> Path | None:
        """The training case book (None: train without one)."""
        return self.app.training_db  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        """Training banner, scenario list, narrative."""
        yield Header()
        yield Static(safe("TRAINING MODE · opening the training case book..."), id="banner",
                     classes="banner training")
        with Horizontal():
            yield StartList(id="scenarios")
            with VerticalScroll(id="narrative-box"):
                yield Static("", id="narrative", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Load the library and open the training book in a worker."""
        self.app.sub_title = "Train"
        self.session = Session(str(getattr(self.app, "adviser", "trainee")))
        self.query_one("#scenarios").focus()
        cases_dir: Path = self.app.cases_dir  # type: ignore[attr-defined]
        self.run_job(partial(data.train_library, cases_dir, self.training_db), self.show_library, group="train-load",
                     failed=self.library_failed)

    def on_screen_resume(self) -> None:
        """Say which mode this is, and the session's score so far."""
        self.app.sub_title = "Train"
        self._banner()

    def _banner(self) -> None:
        """The training banner: never the live book; the trainee's session score; the book."""
        session = f" · {self.session.words()}" if self.session is not None else ""
        self.query_one("#banner", Static).update(safe(f"TRAINING · never the live book{session} · {self.book_words}"))

    def show_library(self, library: data.TrainLibrary) -> None:
        """Fill the list and the banner."""
        self.cases = list(library.cases)
        self.book_ok = library.book_ok
        self.book_words = library.book
        self._banner()
        if self.book_ok and self.training_db is not None and self.session is not None:
            self.run_job(partial(trainee_tally, self.training_db, self.session.trainee), self.show_tally,
                         group="train-tally")
        olist = self.query_one("#scenarios", OptionList)
        olist.clear_options()
        for case in self.cases:
            olist.add_option(Option(safe(clip(f"{case.case} {case.title or '(untitled)'}", 43)), id=case.case))
        if self.cases:
            olist.highlighted = 0
        if library.refused:
            self.notify(f"{library.refused} scenario file(s) could not be read.", severity="warning", markup=False)
        self._show_narrative()

    def show_tally(self, tally: Tally) -> None:
        """The trainee's earlier attempts in the training book, added up."""
        if self.session is not None:
            self.session.book = tally
        self._banner()

    def library_failed(self, text: str) -> None:
        """The library could not be read: say so; nothing can be started."""
        self.book_words = "no scenarios"
        self._banner()
        self.show_problem(text)
        self._show_narrative()

    def highlighted_case(self) -> Case | None:
        """The scenario under the cursor."""
        index = self.query_one("#scenarios", OptionList).highlighted
        return self.cases[index] if index is not None and index < len(self.cases) else None

    def _show_narrative(self) -> None:
        """Title, date, benefit and narrative of the highlighted scenario."""
        case = self.highlighted_case()
        target = self.query_one("#narrative", Static)
        if case is None:
            target.update(safe("No scenarios found."))
            return
        target.update(lines(safe(case.title or case.case, "bold"),
                            safe(f"{case.case} · {case.as_of.isoformat()}", "dim"), "",
                            safe((case.narrative or "(no narrative)").strip(), keep_newlines=True)))

    @on(OptionList.OptionHighlighted, "#scenarios")
    def highlighted(self) -> None:
        """Follow the cursor."""
        self._show_narrative()

    @on(OptionList.OptionSelected, "#scenarios")
    def selected(self) -> None:
        """Enter starts the scenario."""
        self.action_start()

    def action_start(self) -> None:
        """Step through the highlighted scenario."""
        case = self.highlighted_case()
        if case is not None:
            self.app.push_screen(ScenarioScreen(case, self.training_db if self.book_ok else None, self.session))

    def action_present(self) -> None:
        """Show the highlighted scenario full screen for a trainer presenting to a room."""
        case = self.highlighted_case()
        if case is not None:
            self.app.push_screen(PresenterScreen(case))

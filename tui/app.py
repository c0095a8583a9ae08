"""The Pathways app: advise, train and audit modes over the case books, keyboard first."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget

from cases import CASES_DIR
from engine.casebook.book import default_db_path
from engine.casebook.fields import default_adviser
from engine.casebook.health import NOT_FOUND, BookHealth, inspect_book
from engine.cli.state import marks_dir as default_marks_dir
from tui.data import training_path_for
from tui.dialogs.unsaved import DISCARD, SAVE, UnsavedDialog
from tui.screens.advise import AdviseScreen
from tui.screens.audit import AuditScreen
from tui.screens.book_problem import BookProblemScreen
from tui.screens.help import HelpScreen, KeyRow
from tui.screens.interview import InterviewScreen
from tui.screens.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmallScreen
from tui.screens.train import TrainScreen

MODE_TITLES = {"advise": "Advise", "train": "Train", "audit": "Audit (read-only)"}
"""Each mode's name as shown to the user."""

CRASH_MESSAGE = "pathways: internal error ({}); the app closed (no case data printed)"
"""The one line printed when the app fails unexpectedly (never a traceback with locals)."""

TERMINAL_CHECK_SECONDS = 1.0
"""How often the app checks that its terminal is still there (a closed window, a dropped connection)."""


class PathwaysApp(App[None]):
    """Advise (case book), train (training book only) and audit (read-only) modes."""

    TITLE = "Pathways"
    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, Any]] = {"advise": AdviseScreen, "train": TrainScreen, "audit": AuditScreen}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help", tooltip="Every key on this screen", id="app.help"),
        Binding("f2", "mode('advise')", "Advise", show=False, tooltip="Advise mode: the case list",
                id="app.advise"),
        Binding("f3", "mode('train')", "Train", show=False, tooltip="Train mode: the scenario library",
                id="app.train"),
        Binding("f4", "mode('audit')", "Audit", show=False, tooltip="Audit mode: decisions and replays (read-only)",
                id="app.audit"),
    ]

    def __init__(self, mode: str = "advise", db: Path | None = None, training_db: Path | None = None,
                 audit_db: Path | None = None, adviser: str | None = None, cases_dir: Path = CASES_DIR,
                 locked: bool = False, marks_dir: Path | None = None) -> None:
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.start_mode = mode
        self.db: Path = db or default_db_path()
        self.training_db: Path | None = training_db
        self.audit_db: Path = audit_db or self.db
        self.marks_dir: Path = marks_dir or default_marks_dir()  # verification marks, outside any book (#14)
        self.adviser = adviser or default_adviser()
        self.cases_dir = cases_dir
        self.too_small = False
        self.locked = locked

    def on_mount(self) -> None:
        """Open the starting mode (once its case book checks out), check the terminal size and watch the terminal."""
        self.open_mode(self.start_mode)
        self.check_size()
        self.watch_terminal()

    # -- the terminal going away --------------------------------------------------------------------

    def watch_terminal(self) -> None:
        """When the app runs in a terminal, leave cleanly if the terminal goes away.

        A closed window or a dropped connection sends a hang-up, except to an app started by `make run`
        (make keeps it): the terminal then only stops answering, and Textual's input thread spins on it
        for ever, holding the case book open. So the terminal is also looked at every second.
        """
        stdin = sys.__stdin__
        if self.is_headless or stdin is None:
            return
        try:
            fd = stdin.fileno()
        except (OSError, ValueError):
            return
        if not os.isatty(fd):  # served in a browser, or input from a pipe: there is no terminal to lose
            return
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.terminal_lost)
        self.set_interval(TERMINAL_CHECK_SECONDS, partial(self.check_terminal, fd), name="terminal watch")

    def check_terminal(self, fd: int) -> None:
        """Leave if the terminal on `fd` no longer answers."""
        if not os.isatty(fd):
            self.terminal_lost()

    def terminal_lost(self) -> None:
        """The terminal is gone and nobody can be asked: keep each open interview's unrecorded answers as a draft
        (resumed from the case list next time), then exit."""
        for screen in self.unsaved_interviews():
            screen.save_draft_now()  # a refusal is said on a screen nobody sees: nothing more can be done here
        self.exit()

    # -- the case book checked before a mode uses it (#12) ---------------------------------------

    def book_health(self, mode: str) -> BookHealth | None:
        """What is wrong with `mode`'s case book (None when the mode brings its own: train mode)."""
        if mode == "advise":
            return inspect_book(self.db, write=True)
        if mode == "audit":  # a book not there yet is the audit screen's to say (it lists nothing to audit)
            health = inspect_book(self.audit_db, write=False)
            return None if health.state == NOT_FOUND else health
        return None

    def open_mode(self, mode: str) -> None:
        """Switch to `mode`, or, when its case book cannot be used, to a screen that says why and what to do."""
        health = self.book_health(mode)
        if health is None or health.usable:
            self.switch_mode(mode)
            return
        if isinstance(self.screen, BookProblemScreen) and self.screen.mode == MODE_TITLES.get(mode, mode):
            return  # already saying what is wrong with it
        recheck = partial(self.book_health, mode)
        self.push_screen(BookProblemScreen(health, MODE_TITLES.get(mode, mode), recheck,  # type: ignore[arg-type]
                                           partial(self.switch_mode, mode)))

    # -- quitting with unrecorded answers (#12) --------------------------------------------------

    def unsaved_interviews(self) -> list[InterviewScreen]:
        """Open interviews, in any mode, whose answers are neither recorded nor saved as a draft."""
        return [screen for stack in self._screen_stacks.values() for screen in stack
                if isinstance(screen, InterviewScreen) and screen.unsaved]

    async def action_quit(self) -> None:
        """Quit; with unrecorded answers open, first ask: save them as drafts, discard them, or cancel."""
        if isinstance(self.screen, UnsavedDialog):
            return
        unsaved = self.unsaved_interviews()
        if not unsaved:
            self.exit()
            return

        def done(choice: str | None) -> None:
            if choice == SAVE and not all(screen.save_draft_now() for screen in unsaved):
                return  # a draft could not be written: its screen said why; stay
            if choice in (SAVE, DISCARD):
                self.exit()

        self.push_screen(UnsavedDialog([screen.interview.ref for screen in unsaved], "quit"), done)

    # -- modes, help, palette ------------------------------------------------------------------

    def action_mode(self, mode: str) -> None:
        """Switch to advise, train or audit mode (not in a session locked to its mode, as `serve` runs them)."""
        if self.locked and mode != self.start_mode:
            self.notify(f"This session stays in {MODE_TITLES.get(self.start_mode, self.start_mode)} mode.",
                        severity="warning", markup=False)
            return
        if mode in self.MODES and mode != self.current_mode:
            self.open_mode(mode)

    def key_rows(self, screen: Screen[Any]) -> list[KeyRow]:
        """The keys active on `screen` now (from the live bindings, so the help never drifts)."""
        first: list[KeyRow] = []
        widget_keys: list[KeyRow] = []
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description:
                continue
            row = KeyRow(self.get_key_display(binding), binding.description, binding.tooltip or "")
            (first if isinstance(active.node, (App, Screen)) else widget_keys).append(row)
        return first + widget_keys

    def action_help(self) -> None:
        """Show every key that works on the current screen."""
        if isinstance(self.screen, HelpScreen):
            return
        mode = MODE_TITLES.get(self.current_mode, self.current_mode)
        title = mode if self.sub_title in ("", mode) else f"{mode} · {self.sub_title}"
        self.push_screen(HelpScreen(title, self.key_rows(self.screen)))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Palette commands: the modes, help, and every key of the current screen."""
        yield SystemCommand("Advise mode", "The case list on the case book (F2)", partial(self.action_mode, "advise"))
        yield SystemCommand("Train mode", "The scenario library, training book only (F3)",
                            partial(self.action_mode, "train"))
        yield SystemCommand("Audit mode", "Decisions, replays and audit verify; read-only (F4)",
                            partial(self.action_mode, "audit"))
        yield SystemCommand("Help", "Every key on this screen (F1)", self.action_help)
        for active in screen.active_bindings.values():
            binding = active.binding
            node = active.node
            if not isinstance(node, Widget) or not binding.description or not active.enabled:
                continue  # the app's own keys are listed above
            yield SystemCommand(binding.description, f"{binding.tooltip or ''} ({self.get_key_display(binding)})",
                                partial(node.run_action, binding.action))
        yield from super().get_system_commands(screen)

    # -- too small ------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        """Check the size whenever the terminal changes."""
        self.call_after_refresh(self.check_size)

    def check_size(self) -> None:
        """Cover the app with the too-small screen below 80x24, and remove it when there is room."""
        width, height = self.size
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.too_small = small
        on_top = isinstance(self.screen, TooSmallScreen)
        if small and not on_top:
            self.push_screen(TooSmallScreen())
        elif small and on_top:
            self.screen.describe()  # type: ignore[attr-defined]
        elif not small and on_top:
            self.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While the terminal is too small, only quitting works."""
        return not (self.too_small and action not in ("quit", "help_quit"))

    # -- never print case data on a crash -------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """Exit with one generic line: Textual's own handler prints a traceback with locals."""
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        self._exit_renderables.clear()
        self._exit_renderables.append(Text(CRASH_MESSAGE.format(type(error).__name__)))
        self._close_messages_no_wait()

    def _fatal_error(self) -> None:
        """Exit with one generic line (no traceback, no locals)."""
        self._exit_renderables.clear()
        self._exit_renderables.append(Text(CRASH_MESSAGE.format("fatal")))
        self._close_messages_no_wait()


def make_app(mode: str = "advise", db: Path | None = None, adviser: str | None = None,
             cases_dir: Path = CASES_DIR, locked: bool = False) -> PathwaysApp:
    """The app as `pathways tui` starts it: train mode keeps every mode on the training book; a locked
    session (as `serve` runs it) never leaves its starting mode."""
    if mode == "train":
        training = db or training_path_for(None)
        return PathwaysApp(mode, db=training, training_db=training, audit_db=training, adviser=adviser,
                           cases_dir=cases_dir, locked=locked)
    return PathwaysApp(mode, db=db, training_db=training_path_for(db), adviser=adviser, cases_dir=cases_dir,
                       locked=locked)

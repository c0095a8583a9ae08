"""Helpers for the Pilot tests: drive the app from the keyboard as an adviser would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from engine.casebook.book import CaseBook
from engine.model.case import Case, input_values
from tui.app import PathwaysApp
from tui.dialogs.new_case import NewCaseDialog
from tui.screens.interview import InterviewScreen


async def settle(pilot: Pilot[Any]) -> None:
    """Let thread workers finish and their messages be handled."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def settle_until(pilot: Pilot[Any], holds: Callable[[], bool], rounds: int = 300) -> None:
    """Settle until `holds()` is true: a write in a worker, then the screen it pops, can take several rounds
    on a busy machine (fails after `rounds` rounds of about 20 ms, never waits once it holds; 100 rounds once
    ran out under the full suite on 2 cores, where saving a draft and listing the book took over 2 s)."""
    for _ in range(rounds):
        await settle(pilot)
        if holds():
            return
        await pilot.pause(0.02)
    assert holds(), "the app never reached the expected state"


async def press_each(pilot: Pilot[Any], *keys: str) -> None:
    """Press each key and let the app handle it (and any screen it opens or closes) before the next."""
    for key in keys:
        await pilot.press(key)
        await pilot.pause()


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type text key by key."""
    for ch in text:
        await pilot.press(ch)


async def answer_current(pilot: Pilot[Any], value: Any) -> str:
    """Answer the question on screen with `value` using the keyboard; returns its fact."""
    screen = pilot.app.screen
    assert isinstance(screen, InterviewScreen)
    q = screen.interview.next_question()
    assert q is not None
    if q.kind in ("bool", "enum", "flag"):
        index = [c for c, _label in q.choices].index(value)
        await pilot.press("home", *(["down"] * index), "enter")
    elif q.kind == "list":
        choices = [c for c, _label in q.choices]
        ticked = set(screen.interview.current(q.fact) or ())  # going back keeps the earlier ticks
        await pilot.press("home")
        at = 0
        for item in sorted(set(value) ^ ticked, key=choices.index):
            target = choices.index(item)
            await pilot.press(*(["down"] * (target - at)), "space")
            at = target
        await pilot.press("enter")
    else:
        await pilot.press("ctrl+u")
        await type_text(pilot, "" if value is None else str(value))
        await pilot.press("enter")
    await pilot.pause()
    return q.fact


async def step_through(pilot: Pilot[Any], case: Case) -> list[str]:
    """Answer every question the interview asks with the case's values; returns the facts asked."""
    screen = pilot.app.screen
    assert isinstance(screen, InterviewScreen)
    values = input_values(case)
    asked = []
    while (q := screen.interview.next_question()) is not None:
        asked.append(await answer_current(pilot, values[q.fact]))
        assert len(asked) < 40, "the interview does not end"
    return asked


async def new_case(pilot: Pilot[Any], ref: str, day: str, nino: str = "") -> None:
    """Open the new case form and fill it in from the keyboard."""
    await pilot.press("n")
    await pilot.pause()
    await type_text(pilot, ref)
    await pilot.press("enter", "ctrl+u")
    await type_text(pilot, day)
    await pilot.press("enter")
    await type_text(pilot, nino)
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, InterviewScreen), type(pilot.app.screen)


def app_for(tmp_path: Any, mode: str = "advise", **kwargs: Any) -> PathwaysApp:
    """An app on case books in a temporary folder."""
    kwargs.setdefault("db", tmp_path / "live.db")
    kwargs.setdefault("training_db", tmp_path / "training.db")
    kwargs.setdefault("adviser", "A1")
    return PathwaysApp(mode, **kwargs)


async def refused_by_live_book_form(tmp_path: Path, ref: str, day: str, nino: str) -> str:
    """Start a case in a new live book from the keyboard, expecting the new-case form to refuse it;
    returns the form's one-line error (the form stays open: no interview starts)."""
    db = tmp_path / "live.db"
    CaseBook(db, training=False).close()
    app = app_for(tmp_path, db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        with pytest.raises(AssertionError, match="NewCaseDialog"):
            await new_case(pilot, ref, day, nino)
        form = app.screen
        assert isinstance(form, NewCaseDialog)
        return str(form.query_one("#error").content)

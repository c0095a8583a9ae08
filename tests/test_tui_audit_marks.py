"""Audit mode on a large book: the last full verify's mark shown at once, a quick check of what came after it,
and the full verify in the background with its progress, its result replacing both (#14)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent

from engine.casebook import marks
from engine.casebook.book import CaseBook
from tests.conftest import record_scenarios
from tests.test_verify_marks import tamper
from tests.tui_helpers import app_for, settle, settle_until
from tui import data
from tui.screens.audit import AuditScreen


def marked_book(tmp_path: Path, state: Path) -> tuple[Path, marks.Mark]:
    """A book verified in full (its mark kept in `state`), then two more decisions recorded."""
    db = tmp_path / "audit.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=3)
        _count, problems, mark = book.verify_marked()
        assert not problems and mark is not None
        marks.save(state, mark)
        record_scenarios(book, limit=2)
    return db, mark


def shown(screen: AuditScreen, ident: str) -> str:
    return str(screen.query_one(ident, Static).render())


async def test_the_mark_then_the_quick_check_then_the_full_verify_replacing_them(tmp_path: Path) -> None:
    state = tmp_path / "state"
    db, mark = marked_book(tmp_path, state)
    quick = data.verify_since(db, state)  # before audit mode's own full verify moves the mark on
    app = app_for(tmp_path, "audit", audit_db=db, marks_dir=state)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        assert screen.verify_result is not None and screen.verify_result.ok and not screen.verify_result.partial
        # the same run again, its parts delivered in the order a large book gives them
        run = screen.begin_verify()
        assert shown(screen, "#verify") == "audit verify: checking..."
        screen.show_mark(run, mark)
        assert shown(screen, "#verify") == (f"audit verify: verified in full up to event {mark.seq} on {mark.day}; "
                                            "checking what came after...")
        assert quick is not None and quick.partial and quick.ok
        screen.show_quick(run, quick)
        assert screen.verify_result is quick
        assert f"events 1-{mark.seq} verified in full on {mark.day}; events {mark.seq + 1}-" in shown(screen, "#verify")
        assert "full verify running" in shown(screen, "#verify")
        screen.show_progress(run, "events", 3, quick.events)
        assert shown(screen, "#verify-progress") == f"full verify: 3 of {quick.events} events checked"
        screen.show_progress(run, "rows", 12, None)
        assert shown(screen, "#verify-progress") == "full verify: every event checked; 12 rows checked"
        full = data.verify(db, None, state)
        screen.show_quick(run - 1, full)  # a superseded run's result changes nothing
        assert screen.verify_result is quick
        screen.show_full(run, full)
        assert screen.verify_result is full and shown(screen, "#verify-progress") == ""
        assert shown(screen, "#verify") == f"audit verify: chain OK, {full.events} events"
        screen.show_quick(run, quick)  # a late quick result never replaces the full one
        assert screen.verify_result is full


async def test_opening_audit_mode_checks_in_full_and_moves_the_mark_to_the_head(tmp_path: Path) -> None:
    state = tmp_path / "state"
    db, mark = marked_book(tmp_path, state)
    app = app_for(tmp_path, "audit", audit_db=db, marks_dir=state)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("e")  # keys work while the verifies run
        assert app.screen.query_one("#audit-tabs", TabbedContent).active == "events-tab"
        await settle(pilot)
        result = app.screen.verify_result
        assert result is not None and result.ok and result.mark_saved and not result.partial
    with CaseBook(db, readonly=True) as book:
        head, book_id = book.head(), book.book_id()
    assert head is not None and book_id is not None and head.seq > mark.seq
    moved = marks.load(state, book_id)
    assert moved is not None and (moved.seq, moved.hash) == (head.seq, head.hash)


async def test_a_quick_check_that_finds_a_problem_is_shown_red_until_the_full_verify_lists_all(tmp_path: Path) -> None:
    state = tmp_path / "state"
    db, mark = marked_book(tmp_path, state)
    tamper(db, f"UPDATE decisions SET adviser = 'nobody' WHERE id = {mark.rows['decisions'] + 1}",
           "UPDATE decisions SET adviser = 'nobody' WHERE id = 1")
    quick = data.verify_since(db, state)
    assert quick is not None and quick.partial and len(quick.problems) == 1, "the older row is left to the full one"
    app = app_for(tmp_path, "audit", audit_db=db, marks_dir=state)
    async with app.run_test(size=(100, 24)) as pilot:
        screen, run = await _verify_begun(pilot)
        screen.show_quick(run, quick)
        assert shown(screen, "#verify").startswith("audit verify: BROKEN, 1 problem(s) in ")
        assert "full verify running" in shown(screen, "#verify")
        screen.show_full(run, data.verify(db, None, state))
        assert screen.verify_result is not None and len(screen.verify_result.problems) == 2
        assert not screen.verify_result.mark_saved


async def _verify_begun(pilot: Pilot[Any]) -> tuple[AuditScreen, int]:
    """The audit screen once settled, and a verify run begun on it by hand (its results are then given by hand)."""
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AuditScreen)
    return screen, screen.begin_verify()


async def test_a_damaged_mark_is_said_and_the_full_verify_still_runs(tmp_path: Path) -> None:
    state = tmp_path / "state"
    db, mark = marked_book(tmp_path, state)
    (state / f"{mark.book_id}.json").write_text("{}")
    app = app_for(tmp_path, "audit", audit_db=db, marks_dir=state)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle_until(pilot, lambda: app.screen.verify_result is not None and not app.screen.verify_result.partial
                           and any("not a verification mark" in n.message for n in app._notifications))
        result = app.screen.verify_result
        assert result is not None and result.ok and not result.partial


async def test_a_damaged_mark_is_said_even_when_the_full_verify_finished_first(tmp_path: Path) -> None:
    """On a small book or a busy machine the full verify can end before the mark's check says it failed: the
    adviser is still told the mark is damaged."""
    state = tmp_path / "state"
    db, _mark = marked_book(tmp_path, state)
    app = app_for(tmp_path, "audit", audit_db=db, marks_dir=state)
    async with app.run_test(size=(100, 24)) as pilot:
        screen, run = await _verify_begun(pilot)
        screen.show_full(run, data.verify(db, None, state))
        screen.quick_failed(run, "is not a verification mark")
        await pilot.pause()
        assert any("not a verification mark" in n.message for n in app._notifications)
        screen.quick_failed(run - 1, "an earlier run's mark")  # a run superseded since says nothing
        await pilot.pause()
        assert not any("an earlier run's mark" in n.message for n in app._notifications)


def verify_children() -> list[str]:
    """Processes running the verify child, by pid."""
    out = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"verify_child" in (proc / "cmdline").read_bytes():
                out.append(proc.name)
        except OSError:
            continue
    return out


def test_a_large_books_full_verify_runs_in_its_own_process_and_stops_when_superseded(tmp_path: Path) -> None:
    state = tmp_path / "state"
    db, _mark = marked_book(tmp_path, state)
    here = data.verify(db)
    seen: list[tuple[str, int, int | None]] = []
    apart = data.verify_full(db, None, state, lambda *report: seen.append(report), in_process=True)
    assert apart == attrs.evolve(here, mark_saved=True)
    assert ("events", here.events, here.events) in seen
    with CaseBook(db, readonly=True) as book:
        head, book_id = book.head(), book.book_id()
    moved = marks.load(state, book_id or "")
    assert moved is not None and head is not None and moved.seq == head.seq, "the process moved the mark on"

    class Superseded(Exception):
        pass

    def stop(*_report: object) -> None:
        raise Superseded

    with pytest.raises(Superseded):
        data.verify_full(db, None, None, stop, in_process=True)
    assert verify_children() == [], "the verify process is stopped with its worker"


async def test_a_quick_check_done_before_the_list_is_read_does_not_start_the_full_verify(tmp_path: Path,
                                                                                         monkeypatch) -> None:
    """On a big book the quick check (from the mark) is in before the decisions are read: redrawing the list with
    its flags must not count as the list drawn, or the full verify competes with reading it (#14)."""
    import threading
    import time

    state = tmp_path / "state"
    db, _mark = marked_book(tmp_path, state)
    quick_done = threading.Event()
    listed_when_started: list[bool] = []
    rows, since, full = data.decision_rows, data.verify_since, data.verify_full

    def slow_rows(*args, **kwargs):
        quick_done.wait(10)  # the list is read only after the quick check's result is in
        time.sleep(0.3)
        return rows(*args, **kwargs)

    def quick(*args, **kwargs):
        try:
            return since(*args, **kwargs)
        finally:
            quick_done.set()

    def spy(*args, **kwargs):
        listed_when_started.append(bool(app.screen.rows))
        return full(*args, **kwargs)

    monkeypatch.setattr(data, "decision_rows", slow_rows)
    monkeypatch.setattr(data, "verify_since", quick)
    monkeypatch.setattr(data, "verify_full", spy)
    app = app_for(tmp_path, "audit", audit_db=db, marks_dir=state)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        for _ in range(40):
            if listed_when_started:
                break
            await pilot.pause(0.1)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen) and screen.verify_result is not None and screen.verify_result.ok
        assert listed_when_started == [True]


async def test_the_full_verify_starts_only_once_the_decisions_are_listed(tmp_path: Path, monkeypatch) -> None:
    state = tmp_path / "state"
    db, _mark = marked_book(tmp_path, state)
    listed_when_started: list[bool] = []
    full = data.verify_full

    def spy(*args, **kwargs):
        listed_when_started.append(bool(app.screen.rows))  # a big book's list is drawn before verify's process starts
        return full(*args, **kwargs)

    monkeypatch.setattr(data, "verify_full", spy)
    app = app_for(tmp_path, "audit", audit_db=db, marks_dir=state)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen) and screen.verify_result is not None and screen.verify_result.ok
        assert listed_when_started == [True]
        await pilot.press("v")  # verifying again, with the list already there, starts at once
        await settle(pilot)
        assert listed_when_started == [True, True] and screen.verify_result.ok

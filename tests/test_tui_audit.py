"""Audit mode (read-only): decisions list and filters, audit verify, replay MATCH and a tampered MISMATCH."""

from __future__ import annotations

import hashlib

from engine.casebook.book import CaseBook
from engine.casebook.replay import MATCH, MISMATCH
from tests.conftest import record_scenarios
from tests.test_tamper import drop_triggers
from tests.tui_helpers import app_for, settle
from tui.screens.audit import AuditScreen
from tui.screens.replay import ReplayScreen


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_book(tmp_path, tamper: bool):
    db = tmp_path / "audit.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=3)
        if tamper:
            drop_triggers(book.conn)
            book.conn.execute("UPDATE decisions SET decision = replace(decision, 'urgent', 'routine') WHERE id = 1")
        book.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


async def open_decision(pilot, screen: AuditScreen, decision_id: int) -> ReplayScreen:
    ids = [r.id for r in screen.rows]
    await pilot.press(*(["up"] * len(ids)), *(["down"] * ids.index(decision_id)), "enter")
    await settle(pilot)
    replay = pilot.app.screen
    assert isinstance(replay, ReplayScreen)
    return replay


async def test_audit_replays_a_match_and_a_tampered_mismatch(tmp_path) -> None:
    db = make_book(tmp_path, tamper=True)
    before = digest(db)
    app = app_for(tmp_path, "audit", audit_db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        assert [r.id for r in screen.rows] == [3, 2, 1]
        assert screen.verify_result is not None and not screen.verify_result.ok
        replay = await open_decision(pilot, screen, 1)
        assert replay.status == MISMATCH
        assert any("hash" in d for d in replay.view.recorded.differences)
        assert replay.trace and replay.view.current.replayed is not None
        await pilot.press("down")
        await pilot.press("escape")
        assert app.screen is screen
        replay = await open_decision(pilot, screen, 2)
        assert replay.status == MATCH and replay.view.recorded.edition
        assert len(replay.trace) == len(replay.view.decision.trace) > 0
    assert digest(db) == before, "audit mode writes nothing"


async def test_audit_filters_and_verify_ok(tmp_path) -> None:
    db = make_book(tmp_path, tamper=False)
    app = app_for(tmp_path, "audit", audit_db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.verify_result.ok and screen.verify_result.events > 3
        await pilot.press("slash")
        await pilot.press("tab", "tab")  # to the adviser filter
        for ch in "nobody":
            await pilot.press(ch)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.rows == []
        screen.query_one("#adviser").value = "T1"
        screen.query_one("#outcome").value = "SAFEGUARDING_CONSIDERATION"
        await settle(pilot)
        screen.action_reload()
        await settle(pilot)
        assert 0 < len(screen.rows) < 3
        assert all("SAFEGUARDING_CONSIDERATION" in r.outcomes and r.adviser == "T1" for r in screen.rows)
        screen.query_one("#since").value = "2999-01-01"
        screen.action_reload()
        await settle(pilot)
        assert screen.rows == []
        await pilot.press("escape", "v")
        await settle(pilot)
        assert screen.verify_result.ok

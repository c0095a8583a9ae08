"""Audit mode (read-only): decisions list and filters, audit verify, replay MATCH and a tampered MISMATCH."""

from __future__ import annotations

import hashlib
import json
import sqlite3

from engine.casebook.book import CaseBook
from engine.casebook.db import protected_triggers
from engine.casebook.health import FOREIGN
from engine.casebook.replay import MATCH, MISMATCH
from tests.conftest import record_scenarios
from tests.helpers import edit_decision
from tests.test_tamper import drop_triggers
from tests.tui_helpers import app_for, settle
from tui.screens.audit import AuditScreen
from tui.screens.book_problem import BookProblemScreen
from tui.screens.replay import ReplayScreen


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_book(tmp_path, tamper: bool):
    db = tmp_path / "audit.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=3)
        if tamper:
            drop_triggers(book.conn)
            edit_decision(book.conn, 1, "urgent", "routine")
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


async def test_audit_mode_on_a_live_book_leaves_the_file_and_its_wal_unchanged(tmp_path) -> None:
    writer = CaseBook(tmp_path / "live-book.db", training=True)
    try:
        record_scenarios(writer, limit=3)
        writer.add_referral(1, "REFER_HOUSING_ADVICE", "Housing Options", "T1")
        db, wal = writer.path, writer.path.with_name("live-book.db-wal")
        assert wal.stat().st_size > 0
        before = (digest(db), digest(wal))
        app = app_for(tmp_path, "audit", audit_db=db)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, AuditScreen)
            assert screen.verify_result.ok and [r.id for r in screen.rows] == [3, 2, 1]
            await pilot.press("e")
            await settle(pilot)
            await pilot.press("p")
            await pilot.press("ctrl+q")
        assert (digest(db), digest(wal)) == before, "audit mode wrote to the live book or its WAL"
    finally:
        writer.close()


async def test_audit_mode_refuses_a_file_that_is_not_a_case_book_and_leaves_it(tmp_path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    for path in (other, empty):
        before = path.read_bytes()
        app = app_for(tmp_path, "audit", audit_db=path)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = app.screen
            if isinstance(screen, BookProblemScreen):  # found when the app opens, before audit mode
                assert screen.health.state == FOREIGN and path == other
            else:  # an empty file passes the open-time look (a new book); audit mode itself refuses it
                assert path == empty and screen.verify_result is None and screen.rows == []
                line = str(screen.query_one("#verify").render())
                assert "is not a Pathways case book" in line and "chain OK" not in line
        assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db" or "-" in p.name) == ["empty.db",
                                                                                                 "other.db"]


async def test_every_problem_is_listed_in_full_and_the_rows_are_flagged(tmp_path) -> None:
    db = tmp_path / "audit.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=6)
        drop_triggers(book.conn)
        book.conn.execute("UPDATE decisions SET adviser = 'SOMEONE-ELSE-WITH-A-LONG-NAME' WHERE id = 2")
        book.conn.execute("UPDATE claimants SET nino = 'QQ999999C' WHERE case_id = 4")
        book.conn.execute("UPDATE cases SET ref = 'TRN-CHANGED' WHERE id = 5")
        for sql in protected_triggers().values():
            book.conn.execute(sql)
        book.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        expected = [str(p) for p in book.verify()[1]]
    assert len(expected) == 3 and any(len(p) > 80 for p in expected)
    app = app_for(tmp_path, "audit", audit_db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert list(screen.verify_result.problems) == expected
        assert screen.verify_result.decisions == {2, 4, 5}
        table = screen.query_one("#decisions")
        flagged = {str(table.get_row(key)[0]) for key in ("2", "4", "5")}
        assert flagged == {"!2", "!4", "!5"}
        assert str(table.get_row("1")[0]) == "1"
        await pilot.press("p")
        await settle(pilot)
        assert screen.query_one("#audit-tabs").active == "problems-tab"
        listing = str(screen.query_one("#problems").render())
        for problem in expected:  # each in full (wrapped, not cut at the screen's edge)
            assert " ".join(problem.split()) in " ".join(listing.replace("\n", " ").split())
        assert "QQ999999C" not in listing
        assert len(str(screen.query_one("#verify").render()).splitlines()[0]) <= 80


async def test_an_anchor_file_is_checked_and_referral_and_erasure_events_are_listed(tmp_path, capsys) -> None:
    from tests.helpers import run_main

    db = tmp_path / "audit.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=3)
        book.add_referral(1, "REFER_HOUSING_ADVICE", "Housing Options", "T1")
        book.update_referral(1, "closed", "T2")
        anchor = tmp_path / "anchor.json"
        assert run_main(capsys, "audit", "anchor", "--db", str(db), "-o", str(anchor)).code == 0
        book.erase(book.decisions()[-1].ref, "DPO")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"seq": 2, "hash": "0" * 64}))
    app = app_for(tmp_path, "audit", audit_db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        events = {line.event: line for line in screen.events}
        assert {"referral.added", "referral.updated", "case.erased", "book.created"} <= set(events)
        assert events["referral.updated"].summary == "referral 1 -> closed"
        assert "erased 1 cases" in events["case.erased"].summary
        table = screen.query_one("#events")
        assert table.row_count == 0  # filled only when its tab is shown (a big book's first second)
        await pilot.press("e")
        await pilot.pause()
        assert table.row_count == len(screen.events)
        for text in (str(anchor), str(wrong)):
            await pilot.press("a")
            assert screen.focused is screen.query_one("#anchor")
            screen.query_one("#anchor").value = text
            await pilot.press("enter")
            await settle(pilot)
            if text == str(anchor):
                assert screen.verify_result.ok and screen.verify_result.anchor.startswith(str(anchor))
                assert "anchor" in str(screen.query_one("#verify").render())
            else:
                assert any("differs from the anchor" in p for p in screen.verify_result.problems)
                assert 2 in screen.verify_result.seqs
        await pilot.press("e")
        await pilot.pause()
        cells = {str(table.get_row(key)[0]) for key in table.rows}
        assert "!2" in cells  # the event the wrong anchor points at is flagged
        assert {f"!{line.seq}" if line.seq == 2 else str(line.seq) for line in screen.events} == cells


async def test_advise_mode_on_another_apps_database_adds_nothing_to_it(tmp_path) -> None:
    import pytest

    from engine.errors import BookError
    from engine.intake.loader import read_case_file
    from engine.intake.validate import build_case
    from engine.policy.driver import default_engine
    from tests.helpers import CASES
    from tui import data

    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    app = app_for(tmp_path, "advise", db=other)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BookProblemScreen) and app.screen.health.state == FOREIGN
        case = build_case(read_case_file(next(CASES.glob("039-*.yaml"))))
        engine = default_engine()
        ruleset = engine.ruleset_for(case)
        with pytest.raises(BookError, match="another application"):
            data.record(other, case, engine.decide(case, ruleset), ruleset, "A1")
    assert other.read_bytes() == before
    conn = sqlite3.connect(other)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]
    conn.close()


async def test_after_a_deleted_event_later_decisions_are_marked_cannot_be_vouched_for(tmp_path) -> None:
    db = tmp_path / "audit.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=5)
        seq = book.decision_event(3).seq
        drop_triggers(book.conn)
        book.conn.execute("DELETE FROM audit WHERE seq = ?", (seq,))
        for sql in protected_triggers().values():
            book.conn.execute(sql)
        book.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    app = app_for(tmp_path, "audit", audit_db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        result = screen.verify_result
        assert len(result.problems) == 1 and "cannot be vouched for" in result.problems[0]
        assert "outside Pathways" not in result.problems[0]
        table = screen.query_one("#decisions")
        marks = {key: str(table.get_row(key)[0]) for key in ("1", "2", "3", "4", "5")}
        assert marks == {"1": "1", "2": "2", "3": "?3", "4": "?4", "5": "?5"}  # 3's event is the one deleted

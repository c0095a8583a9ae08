"""`audit verify` at scale: the row hashes the chain vouches for wait in a temporary table, not in memory (#14)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from engine.casebook import audit as A
from engine.casebook.book import CaseBook
from engine.casebook.db import protected_triggers
from tests.conftest import record_scenarios
from tests.test_tamper import drop_triggers


def book_with_referral(path: Path) -> Path:
    """A small training book: the scenarios, and a referral at the head of the chain."""
    with CaseBook(path, training=True) as book:
        record_scenarios(book, limit=4)
        book.add_referral(1, "REFER_HOUSING_ADVICE", "Housing Options", "T1")
        book.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def rewrite_head(path: Path, change: dict) -> int:
    """Re-hash the head event with `change` merged into its body's row hashes (a forger's rewrite); its seq."""
    conn = sqlite3.connect(path, isolation_level=None)
    drop_triggers(conn)
    seq, ts, actor, event, body, prev = conn.execute(
        "SELECT seq, ts, actor, event, body, prev_hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    data = json.loads(body)
    for table, hashes in change.items():
        data.setdefault("rows", {}).setdefault(table, {}).update(hashes)
    conn.execute("UPDATE audit SET body = ?, hash = ? WHERE seq = ?",
                 (A.canonical_json(data), A.event_hash(seq, prev, ts, actor, event, data), seq))
    for sql in protected_triggers().values():
        conn.execute(sql)
    conn.close()
    return seq


def test_a_forged_row_key_too_large_for_sqlite_is_named_missing_by_its_digits(tmp_path: Path) -> None:
    path = book_with_referral(tmp_path / "forged.db")
    huge = "99999999999999999999999"
    rewrite_head(path, {"cases": {huge: "v2:" + "0" * 64, "0002": None}})
    with CaseBook(path, readonly=True) as book:
        _count, problems = book.verify()
    said = {str(p): p for p in problems}
    missing = said[f"case {huge} is missing: it was recorded, and no erasure removed it"]
    assert missing.key == int(huge) and missing.table == "cases"
    assert "case 2 was erased (an audit event records its erasure) but is still in the book" in said


def test_verify_leaves_no_temporary_table_and_can_run_again_on_the_same_connection(tmp_path: Path) -> None:
    path = book_with_referral(tmp_path / "again.db")
    with CaseBook(path, readonly=True) as book:
        first = book.verify()
        assert book.conn.execute("SELECT name FROM temp.sqlite_master").fetchall() == []
        assert book.verify() == first
        assert first[1] == []


def test_verify_inside_the_callers_transaction_keeps_its_snapshot_and_leaves_nothing(tmp_path: Path) -> None:
    path = book_with_referral(tmp_path / "inside.db")
    with CaseBook(path, readonly=True) as book:
        book.conn.execute("BEGIN")
        count, problems = book.verify()
        assert book.conn.in_transaction
        book.conn.execute("ROLLBACK")
        assert problems == [] and count == book.head().seq
        assert book.conn.execute("SELECT name FROM temp.sqlite_master").fetchall() == []


def test_progress_is_told_the_events_checked_and_can_stop_the_verify(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(A, "PROGRESS_EVERY", 2)
    path = book_with_referral(tmp_path / "progress.db")
    seen: list[tuple[str, int, int | None]] = []
    with CaseBook(path, readonly=True) as book:
        count, problems, mark = book.verify_marked(progress=lambda *report: seen.append(report))
        assert problems == [] and mark is not None
        assert ("events", 2, count) in seen and ("events", count, count) in seen
        assert any(what == "rows" for what, _, _ in seen) and any(what == "signatures" for what, _, _ in seen)

        class Stop(Exception):
            pass

        def stop(what: str, done: int, total: int | None) -> None:
            if what == "rows":
                raise Stop

        try:
            book.verify_marked(progress=stop)
        except Stop:
            pass
        else:
            raise AssertionError("the verify went on")
        assert book.conn.execute("SELECT name FROM temp.sqlite_master").fetchall() == []
        assert not book.conn.in_transaction
        assert book.verify() == (count, [])

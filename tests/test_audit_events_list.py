"""Audit mode's events list on a book of many decisions: read by its own index, never by reading the whole log (#14)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engine.casebook.book import CaseBook
from engine.casebook.queries import AuditLine, audit_lines
from engine.intake.generate import generate_cases
from engine.intake.loader import RawCase
from engine.intake.validate import build_case
from engine.policy.driver import default_engine


def _book_with_other_events(path: Path) -> CaseBook:
    """A training book of 300 generated decisions, with a referral logged and a case closed among them."""
    engine = default_engine()
    book = CaseBook(path, training=True)
    cases = [build_case(RawCase(d, "generated", None, lambda _p: None)) for d in generate_cases(300, 3)]
    decided = [(case, engine.decide(case, engine.ruleset_for(case)), engine.ruleset_for(case)) for case in cases]
    ids = book.record_many(decided[:150], "T1")
    referable = next((i, o["code"]) for i, (_c, d, _r) in zip(ids, decided, strict=False)
                     for o in d.to_data()["outcomes"] if o["kind"] == "referral")
    book.add_referral(referable[0], referable[1], "Leeds Drug Service", "T1")
    book.record_many(decided[150:], "T1")
    book.set_case_status(cases[7].case, "closed", "T1", "moved away")
    return book


def _plainly(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """Every event but a recorded decision, newest first, found by reading every event."""
    rows = conn.execute("SELECT seq, event FROM audit ORDER BY seq DESC").fetchall()
    return [(int(seq), str(event)) for seq, event in rows if event != "decision.recorded"]


def test_the_events_list_is_every_other_event_read_by_its_index(tmp_path: Path) -> None:
    """The list holds exactly the events that are not recorded decisions, newest first, and SQLite finds them
    through the partial index rather than by scanning the audit log."""
    plans: list[str] = []
    with _book_with_other_events(tmp_path / "b.db") as book:
        real = book.conn

        class Spy:
            def execute(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
                plans.append(" | ".join(str(r[3]) for r in real.execute("EXPLAIN QUERY PLAN " + sql, args)))
                return real.execute(sql, args)

        lines = audit_lines(Spy())  # type: ignore[arg-type]
        expected = _plainly(real)
    assert [(line.seq, line.event) for line in lines] == expected
    assert {"referral.added", "case.status"} <= {line.event for line in lines}, lines
    assert all(isinstance(line, AuditLine) for line in lines)
    assert plans == ["SCAN audit USING INDEX audit_other_events"], plans


def test_a_book_from_before_the_index_gets_it_and_still_verifies(tmp_path: Path) -> None:
    """A book made before the index (migration m010) verifies as it is, read-only; opened for writing it gains the
    index, then verifies clean with it; dropping it afterwards is a schema problem."""
    path = tmp_path / "b.db"
    _book_with_other_events(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX audit_other_events")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm010_other_events_index'")
    conn.close()
    with CaseBook(path, readonly=True) as old:
        assert old.verify()[1] == []
        assert [(line.seq, line.event) for line in audit_lines(old.conn)] == _plainly(old.conn)
    with CaseBook(path) as book:
        assert book.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit_other_events'").fetchone()
        assert book.verify()[1] == []
        book.conn.execute("DROP INDEX audit_other_events")
        problems = [str(p) for p in book.verify()[1]]
    assert "schema: index audit_other_events is missing" in problems, problems


def test_recorded_decisions_add_nothing_to_the_index(tmp_path: Path) -> None:
    """Only the other events are in the index: a book's bytes a case do not grow with it."""
    with _book_with_other_events(tmp_path / "b.db") as book:
        entries = book.conn.execute(
            "SELECT count(*) FROM audit INDEXED BY audit_other_events WHERE event != 'decision.recorded'").fetchone()[0]
        every = book.conn.execute("SELECT count(*) FROM audit").fetchone()[0]
        others = len(_plainly(book.conn))
    assert entries == others < every - 290

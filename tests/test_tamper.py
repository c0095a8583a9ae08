"""Tampering: every change to any table is caught by replay or audit verify; triggers hold."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from engine.casebook.audit import Anchor
from engine.casebook.book import CaseBook
from engine.casebook.db import protected_triggers
from tests.helpers import edit_decision, edit_inputs, run_main


def drop_triggers(conn: sqlite3.Connection) -> None:
    for name in protected_triggers():
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")


def detected(db: Path, capsys) -> bool:
    replay = run_main(capsys, "replay", "--db", str(db), "--all", "--json")
    verify = run_main(capsys, "audit", "verify", "--db", str(db))
    return replay.code == 1 or verify.code == 1


ALTERATIONS = [
    ("cases", lambda conn: edit_inputs(conn, 1, '"jsa"', '"uc"')),
    ("cases", "UPDATE cases SET inputs = replace(inputs, 'A', 'B') WHERE id = 1"),
    ("cases", "UPDATE cases SET ref = 'TRN-9999' WHERE id = 2"),
    ("cases", "UPDATE cases SET inputs_hash = 'x' WHERE id = 3"),
    ("cases", "UPDATE cases SET recorded_at = '2001-01-01' WHERE id = 3"),
    ("claimants", "UPDATE claimants SET nino = 'QQ000000A' WHERE case_id = 1"),
    ("decisions", "UPDATE decisions SET priority = 'routine' WHERE id = 1"),
    ("decisions", "UPDATE decisions SET outcomes = '[]' WHERE id = 1"),
    ("decisions", lambda conn: edit_decision(conn, 1, "urgent", "routine")),
    ("decisions", "UPDATE decisions SET decision = (SELECT decision FROM decisions WHERE id = 2) WHERE id = 1"),
    ("decision_dictionaries", "UPDATE decision_dictionaries SET content = 'KLUv' WHERE id = 1"),
    ("decisions", "UPDATE decisions SET adviser = 'someone-else' WHERE id = 4"),
    ("decisions", "UPDATE decisions SET ruleset = (SELECT digest FROM rulesets WHERE digest != decisions.ruleset LIMIT 1) WHERE id = 1"),
    ("decisions", "DELETE FROM decisions WHERE id = 5"),
    ("rulesets", "UPDATE rulesets SET content = replace(content, 'heroin', 'opium')"),
    ("rulesets", "DELETE FROM rulesets"),
    ("referrals", "UPDATE referrals SET provider = 'Elsewhere' WHERE id = 1"),
    ("referral_events", "UPDATE referral_events SET status = 'attended' WHERE id = 1"),
    ("referral_events", "DELETE FROM referral_events WHERE id = 1"),
    ("meta", "UPDATE meta SET value = 'live' WHERE key = 'kind'"),
    ("meta", "INSERT INTO meta (key, value) VALUES ('secret', 'abc')"),
    ("audit", "UPDATE audit SET actor = 'nobody' WHERE seq = 3"),
    ("audit", "DELETE FROM audit WHERE seq = 4"),
    ("insert", "INSERT INTO cases (ref, inputs, inputs_hash, recorded_at) VALUES ('X', '{}', 'h', 't')"),
]


@pytest.mark.parametrize(("table", "sql"), ALTERATIONS, ids=[f"{t}-{i}" for i, (t, _) in enumerate(ALTERATIONS)])
def test_each_alteration_is_detected(training_book: CaseBook, tmp_path: Path, capsys, table: str, sql: str) -> None:
    training_book.add_referral(1, "REFER_HOUSING_ADVICE", "Housing Options", "T1")
    db = tmp_path / "copy.db"
    training_book.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(training_book.path, db)
    assert not detected(db, capsys), "a clean copy must verify and replay"
    conn = sqlite3.connect(db)
    drop_triggers(conn)
    assert (sql(conn) if callable(sql) else conn.execute(sql).rowcount) >= 1
    for trigger in protected_triggers().values():  # restore them: detection must come from the hashes
        conn.execute(trigger)
    conn.commit()
    conn.close()
    assert detected(db, capsys)


def test_dropped_triggers_are_reported_and_block_writes(training_book: CaseBook, capsys) -> None:
    drop_triggers(training_book.conn)
    result = run_main(capsys, "audit", "verify", "--db", str(training_book.path))
    assert result.code == 1 and "protective triggers are missing" in result.err
    with pytest.raises(Exception, match="protective triggers are missing"):
        training_book.add_referral(1, "REFER_HOUSING_ADVICE", "Housing Options", "T1")


def test_truncation_and_rewrite_caught_with_an_anchor(training_book: CaseBook, tmp_path: Path, capsys) -> None:
    anchor_file = tmp_path / "anchor.json"
    assert run_main(capsys, "audit", "anchor", "--db", str(training_book.path), "-o", str(anchor_file)).code == 0
    anchor = Anchor(**json.loads(anchor_file.read_text()))
    conn = training_book.conn
    drop_triggers(conn)
    last = conn.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
    conn.execute("DELETE FROM decisions WHERE id = (SELECT MAX(id) FROM decisions)")
    conn.execute("DELETE FROM claimants WHERE case_id = (SELECT MAX(id) FROM cases)")
    conn.execute("DELETE FROM cases WHERE id = (SELECT MAX(id) FROM cases)")
    conn.execute("DELETE FROM audit WHERE seq = ?", (last,))
    for trigger in protected_triggers().values():
        conn.execute(trigger)
    assert training_book.verify()[1] == [], "without an anchor a clean truncation is invisible"
    problems = training_book.verify(anchor)[1]
    assert any("truncated" in str(p) for p in problems)
    result = run_main(capsys, "audit", "verify", "--db", str(training_book.path), "--anchor", str(anchor_file))
    assert result.code == 1 and "truncated" in result.out


PLAIN_REFUSED = [
    "UPDATE audit SET actor = 'x'",
    "DELETE FROM audit",
    "INSERT OR REPLACE INTO audit (seq, ts, actor, event, body, prev_hash, hash) VALUES (1, 't', 'a', 'e', '{}', '', 'h')",
    "REPLACE INTO audit SELECT seq, ts, 'x', event, body, prev_hash, hash FROM audit WHERE seq = 2",
    "INSERT INTO audit (seq, ts, actor, event, body, prev_hash, hash) VALUES (999, 't', 'a', 'e', '{}', 'x', 'h')",
    "UPDATE decisions SET priority = 'routine'",
    "DELETE FROM decisions",
    "INSERT OR REPLACE INTO decisions SELECT * FROM decisions WHERE id = 1",
    "UPDATE cases SET inputs = '{}'",
    "INSERT OR REPLACE INTO cases SELECT * FROM cases WHERE id = 1",
    "UPDATE rulesets SET content = ''",
    "INSERT OR REPLACE INTO rulesets SELECT * FROM rulesets LIMIT 1",
    "DELETE FROM meta",
    "UPDATE referral_events SET status = 'closed'",
]


@pytest.mark.parametrize("sql", PLAIN_REFUSED)
def test_writes_refused_on_a_plain_connection(training_book: CaseBook, sql: str) -> None:
    training_book.add_referral(1, "REFER_HOUSING_ADVICE", "Housing Options", "T1")
    conn = sqlite3.connect(training_book.path)  # no pragmas: recursive_triggers off
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute(sql)
    conn.close()
    assert training_book.verify()[1] == []


def test_events_appended_together_extend_the_chain_or_leave_it_as_it_was(training_book: CaseBook) -> None:
    from engine.casebook import audit
    from engine.casebook.db import write

    before = training_book.head()
    assert before is not None
    with write(training_book.db) as conn:
        seqs = audit.append_many(conn, "T1", audit.now(), [("note.added", {"n": 1}), ("note.added", {"n": 2})])
    assert seqs == [before.seq + 1, before.seq + 2]
    assert training_book.verify()[1] == []
    head = training_book.head()
    with pytest.raises(RuntimeError), write(training_book.db) as conn:
        audit.append_many(conn, "T1", audit.now(), [("note.added", {"n": 3})])
        raise RuntimeError("the write that made the rows failed")
    assert training_book.head() == head and training_book.verify()[1] == []

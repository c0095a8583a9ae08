"""`audit verify`: one snapshot under load, the schema by SQL text, time running backwards, problems in plain words
(#12 item 5, #15 items 4 and 9)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.casebook import audit as A
from engine.casebook.book import CaseBook
from engine.casebook.db import protected_triggers
from engine.errors import BookError
from tests.conftest import record_scenarios
from tests.helpers import ROOT, run_main
from tests.test_tamper import drop_triggers


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("verify") / "clean.db"
    with CaseBook(path, training=True) as book:
        record_scenarios(book)
        book.add_referral(1, "REFER_HOUSING_ADVICE", "Housing Options", "T1", notes="called twice")
        book.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.read_bytes()


def altered(tmp_path: Path, base: bytes, *statements: str, args: tuple = ()) -> Path:
    """A copy of the clean book with `statements` run through a plain connection (triggers put back)."""
    path = tmp_path / "book.db"
    path.write_bytes(base)
    conn = sqlite3.connect(path, isolation_level=None)
    drop_triggers(conn)
    for sql in statements:
        conn.execute(sql, args if "?" in sql else ())
    for sql in protected_triggers().values():
        conn.execute(sql)
    conn.close()
    return path


def peek(tmp_path: Path, base: bytes, sql: str) -> object:
    """One value from a throwaway copy of the clean book."""
    path = tmp_path / "peek.db"
    path.write_bytes(base)
    conn = sqlite3.connect(path)
    value = conn.execute(sql).fetchone()[0]
    conn.close()
    return value


def verify(capsys, path: Path) -> tuple[int, list[str], list[dict]]:
    result = run_main(capsys, "audit", "verify", "--db", str(path), "--json")
    data = json.loads(result.out)
    return result.code, data["problems"], data["details"]


# -- one snapshot ---------------------------------------------------------------------------------


def test_verify_during_a_concurrent_batch_raises_no_false_alarm(tmp_path: Path, capsys) -> None:
    cases = tmp_path / "caseload.jsonl"
    # batch commits every 2,000 cases (batch.CHUNK): 6,000 give verify three states to see while it writes
    assert run_main(capsys, "cases", "generate", "6000", "--seed", "4", "-o", str(cases)).code == 0
    db = tmp_path / "busy.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=2)
    batch = subprocess.Popen([sys.executable, "-c", "from engine.cli import main; main()", "batch", str(cases),
                              "--db", str(db), "--workers", "1", "--quiet"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    runs, seen_counts, false_alarms = 0, set(), []
    try:
        while batch.poll() is None:
            with CaseBook(db, readonly=True) as book:
                count, problems = book.verify()
            runs += 1
            seen_counts.add(count)
            false_alarms += [str(p) for p in problems]
            time.sleep(0.05)
    finally:
        batch.wait(timeout=600)
    assert batch.returncode == 0, batch.stderr.read() if batch.stderr else ""
    assert false_alarms == [], false_alarms[:5]
    assert runs >= 3 and len(seen_counts) >= 3, (runs, seen_counts)  # verified while the batch was writing
    with CaseBook(db, readonly=True) as book:
        count, problems = book.verify()
    assert problems == [] and count > 3000


# -- the schema, by SQL text ----------------------------------------------------------------------


def test_a_no_op_trigger_under_a_protective_name_is_flagged(tmp_path: Path, clean_copy: bytes, capsys) -> None:
    path = altered(tmp_path, clean_copy)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER decisions_no_update")
    conn.execute("CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions BEGIN SELECT 1; END")
    conn.execute("UPDATE decisions SET adviser = adviser WHERE id = 1")  # the guard no longer guards
    conn.close()
    code, problems, _ = verify(capsys, path)
    assert code == 1
    assert any("trigger decisions_no_update differs from what Pathways created (a protective trigger's name" in p
               for p in problems), problems


def test_a_spy_trigger_copying_ninos_into_a_hidden_table_is_flagged(tmp_path: Path, clean_copy: bytes,
                                                                   capsys) -> None:
    path = altered(tmp_path, clean_copy)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE sqlitex_cache (v TEXT)")
    conn.execute("CREATE TRIGGER claimants_no_update_ BEFORE INSERT ON claimants "
                 "BEGIN INSERT INTO sqlitex_cache VALUES (NEW.nino); END")
    conn.close()
    code, problems, _ = verify(capsys, path)
    assert code == 1
    assert any("objects Pathways did not create: trigger claimants_no_update_, table sqlitex_cache" in p
               for p in problems), problems


def test_an_extra_table_and_an_altered_index_are_flagged(tmp_path: Path, clean_copy: bytes, capsys) -> None:
    path = altered(tmp_path, clean_copy, "CREATE TABLE notes (x)", "DROP INDEX cases_ref",
                   "CREATE INDEX cases_ref ON cases(inputs)")
    code, problems, _ = verify(capsys, path)
    assert code == 1
    assert any("objects Pathways did not create: table notes" in p for p in problems), problems
    assert "schema: index cases_ref differs from what Pathways created" in problems


def test_a_clean_book_matches_the_migrations_exactly(tmp_path: Path, clean_copy: bytes, capsys) -> None:
    path = altered(tmp_path, clean_copy)  # triggers dropped and put back by their own SQL: still the same
    assert verify(capsys, path)[:2] == (0, [])


# -- time ------------------------------------------------------------------------------------------


def test_an_event_dated_before_the_one_it_follows_is_flagged(tmp_path: Path, clean_copy: bytes, capsys) -> None:
    path = altered(tmp_path, clean_copy)
    conn = sqlite3.connect(path, isolation_level=None)
    drop_triggers(conn)
    seq, actor, event, body, prev = conn.execute(
        "SELECT seq, actor, event, body, prev_hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    backdated = "2001-01-01T00:00:00+00:00"  # a forger re-hashes the head event: the chain still links
    digest = A.event_hash(seq, prev, backdated, actor, event, json.loads(body))
    conn.execute("UPDATE audit SET ts = ?, hash = ? WHERE seq = ?", (backdated, digest, seq))
    for sql in protected_triggers().values():
        conn.execute(sql)
    conn.close()
    code, problems, details = verify(capsys, path)
    assert code == 1
    assert any(p.startswith(f"audit event {seq}: is dated {backdated}, before event {seq - 1}") and
               "time runs backwards" in p for p in problems), problems
    assert {"seq": seq, "table": None, "key": None}.items() <= details[0].items()


# -- plain words -----------------------------------------------------------------------------------


def test_a_changed_priority_is_named_with_its_recorded_and_present_values(tmp_path: Path, clean_copy: bytes,
                                                                          capsys) -> None:
    ident = peek(tmp_path, clean_copy, "SELECT MIN(id) FROM decisions WHERE priority = 'priority'")
    path = altered(tmp_path, clean_copy, f"UPDATE decisions SET priority = 'routine' WHERE id = {ident}")
    code, problems, details = verify(capsys, path)
    assert code == 1
    assert problems == [f"decision {ident} was changed after it was recorded: priority priority -> routine"]
    assert details == [{"problem": problems[0], "seq": None, "table": "decisions", "key": ident}]
    replay = run_main(capsys, "replay", "--decision", str(ident), "--db", str(path))
    assert replay.code == 1
    assert ("the decision row says priority routine, but the recommendation recorded with it says priority: "
            "the row was changed after it was recorded (not the rules)") in replay.out


def test_a_changed_adviser_and_time_are_named_too(tmp_path: Path, clean_copy: bytes, capsys) -> None:
    path = altered(tmp_path, clean_copy, "UPDATE decisions SET adviser = 'SOMEONE-ELSE' WHERE id = 4",
                   "UPDATE referrals SET created_at = '2001-01-01T00:00:00+00:00' WHERE id = 1")
    _, problems, _ = verify(capsys, path)
    assert "decision 4 was changed after it was recorded: adviser T1 -> SOMEONE-ELSE" in problems
    assert any(p.startswith("referral 1 was changed after it was recorded: created_at ") and
               p.endswith("-> 2001-01-01T00:00:00+00:00") for p in problems), problems


def test_a_changed_nino_is_named_but_never_printed(tmp_path: Path, clean_copy: bytes, capsys) -> None:
    old = str(peek(tmp_path, clean_copy, "SELECT nino FROM claimants WHERE case_id = 2"))
    path = altered(tmp_path, clean_copy, "UPDATE claimants SET nino = 'QQ999999C' WHERE case_id = 2")
    result = run_main(capsys, "audit", "verify", "--db", str(path))
    assert result.code == 1
    assert ("the claimant record of case 2 was changed after it was recorded: its National Insurance number "
            "(not shown)") in result.err
    assert "QQ999999C" not in result.out + result.err and old not in result.out + result.err


def test_deleting_one_audit_event_is_one_problem_and_later_rows_cannot_be_vouched_for(
        tmp_path: Path, clean_copy: bytes, capsys) -> None:
    path = altered(tmp_path, clean_copy, "DELETE FROM audit WHERE seq = 5")
    code, problems, details = verify(capsys, path)
    assert code == 1
    assert len(problems) == 1, problems
    assert problems[0].startswith("audit event 5 is missing: deleted after being recorded; from there on the "
                                  "chain is broken: events 6-")
    assert "cannot be vouched for" in problems[0]
    assert not any("outside Pathways" in p for p in problems)
    assert details[0]["seq"] == 6


def test_an_erasure_and_a_referral_after_a_gap_are_not_called_tampering_row_by_row(tmp_path: Path,
                                                                                   clean_copy: bytes) -> None:
    path = tmp_path / "erased.db"
    path.write_bytes(clean_copy)
    with CaseBook(path) as book:
        ref = book.decisions(limit=1)[0].ref
        book.erase(ref, "DPO")
    conn = sqlite3.connect(path, isolation_level=None)
    drop_triggers(conn)
    conn.execute("DELETE FROM audit WHERE seq = 3")
    for sql in protected_triggers().values():
        conn.execute(sql)
    conn.close()
    with CaseBook(path, readonly=True) as book:
        problems = [str(p) for p in book.verify()[1]]
    assert len(problems) == 1 and "cannot be vouched for" in problems[0], problems


def test_an_empty_book_path_is_not_reported_clean_by_the_library_either(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(BookError, match="the file is empty"):
        CaseBook(empty, readonly=True)
    assert empty.read_bytes() == b""


def test_a_book_whose_protective_trigger_was_made_a_no_op_refuses_writes(tmp_path: Path, clean_copy: bytes) -> None:
    path = altered(tmp_path, clean_copy)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER referrals_no_update")
    conn.execute("CREATE TRIGGER referrals_no_update BEFORE UPDATE ON referrals BEGIN SELECT 1; END")
    conn.close()
    before = path.read_bytes()
    with CaseBook(path) as book, pytest.raises(BookError, match=r"protective triggers were altered \(referrals_no_update\)"):
        book.add_referral(2, "REFER_HOUSING_ADVICE", "Elsewhere", "T1")
    assert path.read_bytes() == before


def test_an_altered_anchored_event_is_called_changed_not_missing(tmp_path: Path, clean_copy: bytes) -> None:
    path = tmp_path / "anchored.db"
    path.write_bytes(clean_copy)
    with CaseBook(path, readonly=True) as book:
        anchor = book.head()
    assert anchor is not None
    path = altered(tmp_path, clean_copy, f"UPDATE audit SET actor = 'nobody' WHERE seq = {anchor.seq}")
    with CaseBook(path, readonly=True) as book:
        problems = [str(p) for p in book.verify(anchor)[1]]
    assert problems == [f"audit event {anchor.seq} was changed after it was recorded: its content does not match "
                        f"its hash; from there on the chain is broken: event {anchor.seq} and the 2 row(s) it recorded "
                        "cannot be vouched for"]

"""Incremental `audit verify --since-mark`: a full, clean verify leaves a mark outside the book; the next
check reads only what came after it, and says so (#14)."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from engine.casebook import audit as A
from engine.casebook import marks
from engine.casebook.book import CaseBook
from engine.casebook.db import protected_triggers
from engine.cli.state import STATE_DIR_ENV, marks_dir
from tests.conftest import record_scenarios
from tests.helpers import run_main
from tests.test_tamper import drop_triggers


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state folder of this test's own."""
    folder = tmp_path / "state"
    monkeypatch.setenv(STATE_DIR_ENV, str(folder))
    return folder


def new_book(path: Path, limit: int = 3) -> Path:
    with CaseBook(path, training=True) as book:
        record_scenarios(book, limit=limit)
    return path


def add_later(path: Path) -> None:
    """More records after the mark: a referral and two decisions."""
    with CaseBook(path) as book:
        book.add_referral(1, "REFER_HOUSING_ADVICE", "Housing Options", "T1")
        record_scenarios(book, limit=2)


def tamper(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    drop_triggers(conn)
    for sql in statements:
        conn.execute(sql)
    for sql in protected_triggers().values():
        conn.execute(sql)
    conn.close()


def verify(capsys, path: Path, *extra: str) -> tuple[int, dict]:
    result = run_main(capsys, "audit", "verify", "--db", str(path), "--json", *extra)
    return result.code, json.loads(result.out)


def test_a_clean_full_verify_leaves_a_private_mark_with_nothing_personal(tmp_path: Path, state: Path, capsys) -> None:
    path = new_book(tmp_path / "book.db")
    code, data = verify(capsys, path)
    assert code == 0 and data["mark_saved"] is True
    with CaseBook(path, readonly=True) as book:
        book_id, head, ninos = book.book_id(), book.head(), [r[0] for r in book.conn.execute(
            "SELECT nino FROM claimants")]
        refs = [r.ref for r in book.decisions()]
    assert book_id is not None and head is not None
    file = marks_dir() / f"{book_id}.json"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600 and stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    text = file.read_text()
    assert not any(value and value in text for value in (*ninos, *refs))
    mark = marks.load(marks_dir(), book_id)
    assert mark is not None and (mark.seq, mark.hash, mark.events) == (head.seq, head.hash, head.seq)
    assert mark.rows["decisions"] == 3
    assert not [p.name for p in file.parent.iterdir() if p.name.startswith(".")], "no temporary file is left"


def test_since_mark_checks_only_the_newer_events_and_says_what_it_did_not_reread(tmp_path: Path, state: Path,
                                                                                 capsys) -> None:
    path = new_book(tmp_path / "book.db")
    assert verify(capsys, path)[0] == 0
    with CaseBook(path, readonly=True) as book:
        marked = book.head().seq
    add_later(path)
    with CaseBook(path, readonly=True) as book:
        now = book.head().seq
    result = run_main(capsys, "audit", "verify", "--db", str(path), "--since-mark")
    assert result.code == 0, result
    day = A.now()[:10]
    assert f"events 1-{marked} verified in full on {day}; events {marked + 1}-{now} and their rows checked now" \
        in result.out
    assert "not read again" in result.out
    code, data = verify(capsys, path, "--since-mark")
    assert code == 0 and data["events"] == now and data["since_mark"]["checked_now"] == now - marked
    assert data["since_mark"]["rows_before_mark_reread"] is False and data["mark_saved"] is False


def test_since_mark_finds_a_newer_row_changed_and_a_row_added_outside_pathways(tmp_path: Path, state: Path,
                                                                               capsys) -> None:
    path = new_book(tmp_path / "book.db")
    assert verify(capsys, path)[0] == 0
    add_later(path)
    tamper(path, "UPDATE referrals SET provider = 'Elsewhere' WHERE id = 1",
           "CREATE TEMP TABLE copy AS SELECT * FROM cases WHERE id = 1", "UPDATE copy SET id = 999",
           "INSERT INTO cases SELECT * FROM copy")
    code, data = verify(capsys, path, "--since-mark")
    assert code == 1
    said = " | ".join(data["problems"])
    assert "referral 1 " in said and "provider" in said
    assert "case 999 was added outside Pathways: no audit event records it" in said


def test_an_older_row_changed_is_left_to_the_full_verify_as_the_output_says(tmp_path: Path, state: Path,
                                                                            capsys) -> None:
    path = new_book(tmp_path / "book.db")
    assert verify(capsys, path)[0] == 0
    tamper(path, "UPDATE decisions SET adviser = 'nobody' WHERE id = 1")
    quick = run_main(capsys, "audit", "verify", "--db", str(path), "--since-mark")
    assert quick.code == 0 and "rows recorded up to the mark were not read again" in quick.out
    full = run_main(capsys, "audit", "verify", "--db", str(path))
    assert full.code == 1 and "decision 1" in full.err


def test_a_rewritten_chain_is_said_and_verified_in_full(tmp_path: Path, state: Path, capsys) -> None:
    path = new_book(tmp_path / "book.db")
    assert verify(capsys, path)[0] == 0
    conn = sqlite3.connect(path, isolation_level=None)
    drop_triggers(conn)
    seq, ts, _actor, event, body, prev = conn.execute(
        "SELECT seq, ts, actor, event, body, prev_hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    forged = "someone else"
    conn.execute("UPDATE audit SET actor = ?, hash = ? WHERE seq = ?",
                 (forged, A.event_hash(seq, prev, ts, forged, event, json.loads(body)), seq))
    for sql in protected_triggers().values():
        conn.execute(sql)
    conn.close()
    code, data = verify(capsys, path, "--since-mark")
    assert code == 1 and data["since_mark"]["full"] is True
    assert data["problems"][0] == (f"audit event {seq}: differs from the verification mark: the chain was rewritten "
                                   f"since it was verified in full on {A.now()[:10]}")
    assert verify(capsys, path)[0] == 0, "a plain full verify (no anchor) accepts the rewrite and sets a new mark"
    assert verify(capsys, path, "--since-mark")[0] == 0


def test_a_cut_chain_is_said_too(tmp_path: Path, state: Path, capsys) -> None:
    path = new_book(tmp_path / "book.db")
    assert verify(capsys, path)[0] == 0
    tamper(path, "DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
    code, data = verify(capsys, path, "--since-mark")
    assert code == 1
    assert "is missing: the chain was cut off or rewritten since it was verified in full" in data["problems"][0]


def test_no_mark_yet_verifies_in_full_and_a_broken_or_unmarked_verify_leaves_none(tmp_path: Path, state: Path,
                                                                                capsys) -> None:
    path = new_book(tmp_path / "book.db")
    result = run_main(capsys, "audit", "verify", "--db", str(path), "--since-mark", "--no-mark")
    assert result.code == 0 and "no verification mark for this book yet: verified in full" in result.out
    assert not marks_dir().exists()
    tamper(path, "UPDATE decisions SET adviser = 'nobody' WHERE id = 1")
    code, data = verify(capsys, path)
    assert code == 1 and data["mark_saved"] is False and not marks_dir().exists()


def test_a_damaged_mark_is_one_line_naming_it_exit_2(tmp_path: Path, state: Path, capsys) -> None:
    path = new_book(tmp_path / "book.db")
    assert verify(capsys, path)[0] == 0
    (file,) = marks_dir().iterdir()
    file.write_text('{"mark": 1, "seq": "x"}')
    result = run_main(capsys, "audit", "verify", "--db", str(path), "--since-mark")
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and str(file) in result.err and "not a verification mark" in result.err


def test_since_mark_with_an_anchor_is_a_usage_error(tmp_path: Path, state: Path, capsys) -> None:
    path = new_book(tmp_path / "book.db")
    anchor = tmp_path / "anchor.json"
    anchor.write_text('{"seq": 1, "hash": "x"}')
    result = run_main(capsys, "audit", "verify", "--db", str(path), "--since-mark", "--anchor", str(anchor))
    assert result.code == 2 and "--since-mark" in result.err


def test_since_mark_leaves_the_book_and_its_wal_as_they_were(tmp_path: Path, state: Path, capsys) -> None:
    writer = CaseBook(tmp_path / "live.db", training=True)
    try:
        record_scenarios(writer, limit=2)
        assert verify(capsys, writer.path)[0] == 0
        record_scenarios(writer, limit=1)
        wal = writer.path.with_name("live.db-wal")
        before = (writer.path.read_bytes(), wal.read_bytes())
        code, data = verify(capsys, writer.path, "--since-mark")
        assert code == 0 and data["since_mark"]["checked_now"] >= 1
        assert (writer.path.read_bytes(), wal.read_bytes()) == before
    finally:
        writer.close()


def test_a_mark_folder_that_cannot_be_written_is_said_and_the_verify_still_passes(tmp_path: Path, capsys,
                                                                                  monkeypatch) -> None:
    if os.geteuid() == 0:
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("")
        monkeypatch.setenv(STATE_DIR_ENV, str(blocker))  # even root cannot make a folder under a file
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        monkeypatch.setenv(STATE_DIR_ENV, str(locked))
    path = new_book(tmp_path / "book.db")
    result = run_main(capsys, "audit", "verify", "--db", str(path))
    assert result.code == 0 and "audit chain OK" in result.out
    assert "verification mark not saved" in result.err

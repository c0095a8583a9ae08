"""Free text from a file or standard input, never on the command line (issue #15, finding 7).

Every local user can read `/proc/PID/cmdline`: notes, provider names and the adviser's reasons
must be able to reach Pathways without passing through it.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import CASES, ROOT, run_main

IN_FORCE = next(CASES.glob("039-*.yaml"))  # 2010: two referrals, REFER_HOUSING_ADVICE among them
SECRET = "Claimant disclosed relapse after bereavement; contact via sister only"


def _book_with_decision(tmp_path: Path, capsys) -> str:
    db = str(tmp_path / "book.db")
    assert run_main(capsys, "record", str(IN_FORCE), "--db", db, "--training").code == 0
    return db


def _stored(db: str, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_notes_read_from_standard_input_are_never_in_the_process_list(tmp_path: Path, capsys) -> None:
    db = _book_with_decision(tmp_path, capsys)
    proc = subprocess.Popen([sys.executable, "-c", "from engine.cli import main; main()", "referral", "add", "1",
                             "REFER_HOUSING_ADVICE", "--provider", "Shelter", "--notes-file", "-", "--db", db],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        cmdline = b""
        for _ in range(100):  # what `ps` shows while the command waits for its notes
            cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
            if b"--notes-file" in cmdline:
                break
            time.sleep(0.05)
        assert b"--notes-file" in cmdline and b"relapse" not in cmdline
        out, err = proc.communicate((SECRET + "\n").encode(), timeout=120)
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 0, err
    assert out.decode().strip() == "1"
    assert _stored(db, "SELECT notes FROM referral_events") == [(SECRET,)]  # the final line end dropped


def test_provider_and_notes_files_and_the_old_options_both_work(tmp_path: Path, capsys) -> None:
    db = _book_with_decision(tmp_path, capsys)
    provider, notes = tmp_path / "provider.txt", tmp_path / "notes.txt"
    provider.write_text("Shelter Leeds\n", encoding="utf-8")
    notes.write_text("Booked by phone\r\n", encoding="utf-8")
    result = run_main(capsys, "referral", "add", "1", "REFER_HOUSING_ADVICE", "--provider-file", str(provider),
                      "--notes-file", str(notes), "--db", db)
    assert result.code == 0, result.err
    assert run_main(capsys, "referral", "update", "1", "booked", "--appointment", "2010-03-01", "--notes", "Went along", "--db", db).code == 0
    notes.write_text("Closed after two visits", encoding="utf-8")
    assert run_main(capsys, "referral", "update", "1", "closed", "--notes-file", str(notes), "--db", db).code == 0
    assert _stored(db, "SELECT provider FROM referrals") == [("Shelter Leeds",)]
    assert _stored(db, "SELECT notes FROM referral_events ORDER BY id") == [
        ("Booked by phone",), ("Went along",), ("Closed after two visits",)]


def test_bad_text_files_are_refused_with_one_line_and_nothing_written(tmp_path: Path, capsys) -> None:
    db = _book_with_decision(tmp_path, capsys)
    notes = tmp_path / "notes.txt"
    notes.write_text("x", encoding="utf-8")
    both = run_main(capsys, "referral", "add", "1", "REFER_HOUSING_ADVICE", "--provider", "S", "--notes", "y",
                    "--notes-file", str(notes), "--db", db)
    assert both.code == 2 and both.err.strip() == "pathways: give --notes or --notes-file, not both"
    missing = run_main(capsys, "referral", "add", "1", "REFER_HOUSING_ADVICE", "--db", db)
    assert missing.code == 2 and "give --provider or --provider-file" in missing.err
    notes.write_bytes(b"caf\xe9")
    latin = run_main(capsys, "referral", "add", "1", "REFER_HOUSING_ADVICE", "--provider", "S",
                     "--notes-file", str(notes), "--db", db)
    assert latin.code == 2 and latin.err == f"pathways: {notes}: --notes-file: not UTF-8 text (byte 4)\n"
    notes.write_text("line one\x1b[31m\n", encoding="utf-8")
    escaped = run_main(capsys, "referral", "add", "1", "REFER_HOUSING_ADVICE", "--provider", "S",
                       "--notes-file", str(notes), "--db", db)
    assert escaped.code == 2 and len(escaped.err.splitlines()) == 1 and "\x1b" not in escaped.err
    absent = run_main(capsys, "referral", "add", "1", "REFER_HOUSING_ADVICE", "--provider", "S",
                      "--notes-file", str(tmp_path / "nope.txt"), "--db", db)
    assert absent.code == 2 and "nope.txt: --notes-file: is not a readable file" in absent.err
    assert _stored(db, "SELECT COUNT(*) FROM referrals") == [(0,)]


def test_declines_with_notes_can_come_from_a_file(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "book.db")
    declines = tmp_path / "declines.txt"
    declines.write_text("REFER_HOUSING_ADVICE=other:already housed by the council\n\n", encoding="utf-8")
    result = run_main(capsys, "record", str(IN_FORCE), "--db", db, "--training", "--decline-file", str(declines))
    assert result.code == 0, result.err
    shown = json.loads(run_main(capsys, "show", "1", "--db", db, "--json").out)
    choice = next(c for c in shown["adviser_decisions"] if c["code"] == "REFER_HOUSING_ADVICE")
    assert (choice["accepted"], choice["reason"], choice["note"]) == (False, "other", "already housed by the council")

"""`pathways backup` and `restore` (#16): private copies by SQLite's backup API, verified after writing."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from engine.casebook.book import CaseBook
from tests.conftest import record_scenarios
from tests.helpers import run_main


@pytest.fixture
def book_path(tmp_path: Path) -> Path:
    path = tmp_path / "live" / "book.db"
    with CaseBook(path, training=True) as book:
        ids = record_scenarios(book, limit=12)
        book.add_referral(ids[0], "REFER_HOUSING_ADVICE", "Shelter", "T1")
    return path


@pytest.fixture
def loose_umask():
    """A normal umask, under which `.backup` and `VACUUM INTO` copies come out 0644."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_backup_is_private_verifies_and_replays_all_match(book_path: Path, tmp_path: Path, capsys,
                                                          loose_umask) -> None:
    copy = tmp_path / "usb" / "copy.db"
    result = run_main(capsys, "backup", str(copy), "--db", str(book_path), "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["integrity"] == "ok" and report["audit_ok"] and report["mode"] == "0600"
    assert mode(copy) == 0o600 and mode(copy.parent) == 0o700
    assert [p.name for p in copy.parent.iterdir()] == ["copy.db"]  # one self-contained file
    assert run_main(capsys, "audit", "verify", "--db", str(copy)).code == 0
    replay = run_main(capsys, "replay", "--all", "--db", str(copy), "--json")
    statuses = [json.loads(line)["status"] for line in replay.out.splitlines()]
    assert replay.code == 0 and statuses == ["MATCH"] * 12
    for suffix in ("", "-wal", "-shm"):
        side = copy.with_name(copy.name + suffix)
        assert not side.exists() or mode(side) == 0o600
    plain = run_main(capsys, "backup", str(tmp_path / "again.db"), "--db", str(book_path)).out
    assert plain.startswith(f"backup written to {tmp_path / 'again.db'} (0600, ") and "audit chain OK: " in plain


def test_backup_never_overwrites(book_path: Path, tmp_path: Path, capsys) -> None:
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"keep me")
    result = run_main(capsys, "backup", str(existing), "--db", str(book_path))
    assert result.code == 2 and "already exists" in result.err and existing.read_bytes() == b"keep me"
    (tmp_path / "fresh.db-journal").write_bytes(b"a stale journal")
    result = run_main(capsys, "backup", str(tmp_path / "fresh.db"), "--db", str(book_path))
    assert result.code == 2 and "fresh.db-journal already exists" in result.err
    assert not (tmp_path / "fresh.db").exists()


def test_restore_makes_a_new_verified_book_and_never_writes_over_one(book_path: Path, tmp_path: Path, capsys,
                                                                     loose_umask) -> None:
    copy = tmp_path / "copy.db"
    assert run_main(capsys, "backup", str(copy), "--db", str(book_path)).code == 0
    before = copy.read_bytes()
    restored = tmp_path / "restored" / "book.db"
    result = run_main(capsys, "restore", str(copy), "--db", str(restored))
    assert result.code == 0 and result.out.startswith(f"restored {restored} (0600, "), result.err
    assert mode(restored) == 0o600 and copy.read_bytes() == before  # the backup is left as it was
    assert run_main(capsys, "audit", "verify", "--db", str(restored)).code == 0
    assert run_main(capsys, "replay", "--all", "--db", str(restored)).code == 0
    again = run_main(capsys, "restore", str(copy), "--db", str(book_path))
    assert again.code == 2 and "never writes over a case book" in again.err


def test_a_backup_that_does_not_verify_is_not_restored(book_path: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "copy.db"
    assert run_main(capsys, "backup", str(copy), "--db", str(book_path)).code == 0
    conn = sqlite3.connect(copy)
    conn.execute("DROP TRIGGER decisions_no_update")
    conn.execute("UPDATE decisions SET priority = 'routine' WHERE id = 1")
    conn.commit()
    conn.close()
    target = tmp_path / "restored.db"
    result = run_main(capsys, "restore", str(copy), "--db", str(target))
    assert result.code == 1 and "the backup does not verify" in result.err and not target.exists()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = run_main(capsys, "restore", str(junk), "--db", str(target))
    assert result.code in (1, 2) and len(result.err.splitlines()) == 1 and not target.exists()


def test_a_backup_of_a_tampered_book_is_kept_but_exits_1(book_path: Path, tmp_path: Path, capsys) -> None:
    conn = sqlite3.connect(book_path)
    conn.execute("DROP TRIGGER decisions_no_update")
    conn.execute("UPDATE decisions SET priority = 'routine' WHERE id = 1")
    conn.commit()
    conn.close()
    copy = tmp_path / "evidence.db"
    result = run_main(capsys, "backup", str(copy), "--db", str(book_path))
    assert result.code == 1 and "audit chain BROKEN" in result.out and copy.exists()

"""Reading commands open the book read-only and refuse what is not a case book, leaving every file as it was (#12, #15)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine.casebook.book import CaseBook
from engine.errors import BookError
from tests.conftest import record_scenarios
from tests.helpers import CASES, folder_files, other_apps_db, run_main

CASE = next(CASES.glob("001-*.yaml"))

READERS = [
    ("audit", "verify"),
    ("audit", "anchor"),
    ("replay", "--all"),
    ("export",),
    ("show", "1"),
    ("decisions", "list"),
    ("letter", "1", "--format", "text"),
    ("referral", "list"),
]


def files_beside(path: Path) -> dict[str, bytes]:
    """Every file in the book's folder, by name, with its bytes."""
    return folder_files(path.parent)


def not_books(folder: Path) -> dict[str, Path]:
    """An empty file, a text file, another app's SQLite file (rollback journal and WAL), an empty SQLite file."""
    folder.mkdir()
    empty = folder / "empty.db"
    empty.write_bytes(b"")
    text = folder / "notes.db"
    text.write_text("not a database\n")
    bare = folder / "bare.db"
    sqlite3.connect(bare).execute("PRAGMA user_version = 7").connection.commit()
    return {"empty": empty, "text": text, "foreign": other_apps_db(folder / "other.db"),
            "foreign-wal": other_apps_db(folder / "other-wal.db", wal=True), "sqlite-no-tables": bare}


@pytest.mark.parametrize("command", READERS, ids=["-".join(c) for c in READERS])
def test_reading_commands_refuse_what_is_not_a_case_book_and_change_nothing(tmp_path: Path, capsys,
                                                                             command: tuple[str, ...]) -> None:
    for kind, path in not_books(tmp_path / "files").items():
        before = files_beside(path)
        result = run_main(capsys, *command, "--db", str(path))
        assert result.code == 2, (kind, result)
        assert result.err.startswith("pathways: ") and len(result.err.splitlines()) == 1, (kind, result.err)
        assert "is not a Pathways case book" in result.err, (kind, result.err)
        assert files_beside(path) == before, f"{kind}: the file (or a side file) was changed"
        assert "Traceback" not in result.err


def test_audit_verify_on_an_empty_file_and_another_apps_database_is_exit_2_and_both_unchanged(tmp_path: Path,
                                                                                              capsys) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    other = other_apps_db(tmp_path / "other.db")
    before = {p: p.read_bytes() for p in (empty, other)}
    for path in (empty, other):
        result = run_main(capsys, "audit", "verify", "--db", str(path))
        assert result.code == 2 and "chain OK" not in result.out
        json_result = run_main(capsys, "audit", "verify", "--db", str(path), "--json")
        assert json_result.code == 2 and json_result.out == ""
    assert {p: p.read_bytes() for p in (empty, other)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db", "other.db"], "no -wal, -shm or journal"


def test_a_missing_book_is_refused_and_not_created(tmp_path: Path, capsys) -> None:
    path = tmp_path / "nowhere" / "book.db"
    for command in READERS:
        result = run_main(capsys, *command, "--db", str(path))
        assert result.code == 2 and "no such case book" in result.err
    assert not path.parent.exists()


@pytest.mark.parametrize("wal", [False, True])
def test_recording_refuses_another_apps_database_instead_of_adding_tables(tmp_path: Path, capsys, wal: bool) -> None:
    other = other_apps_db(tmp_path / "other.db", wal=wal)
    before = files_beside(other)
    result = run_main(capsys, "record", str(CASE), "--db", str(other), "--training", "--reasonable")
    assert result.code == 2 and "another application" in result.err and len(result.err.splitlines()) == 1
    assert files_beside(other) == before
    with pytest.raises(BookError, match="is not a Pathways case book"):
        CaseBook(other, training=True)
    conn = sqlite3.connect(other)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["notes"]
    conn.close()


def test_reading_a_live_book_changes_neither_the_file_nor_its_wal(tmp_path: Path, capsys) -> None:
    writer = CaseBook(tmp_path / "live.db", training=True)
    try:
        record_scenarios(writer, limit=3)
        writer.add_referral(1, "REFER_HOUSING_ADVICE", "Housing Options", "T1")
        db, wal = writer.path, writer.path.with_name("live.db-wal")
        reviewed = run_main(capsys, "record", str(CASE), "--db", str(db), "--reasonable").out.strip()
        assert wal.stat().st_size > 0, "the writer's recent writes are in the WAL"
        before = (db.read_bytes(), wal.read_bytes())
        for command in READERS:
            command = tuple(reviewed if part == "1" and command[0] == "letter" else part for part in command)
            result = run_main(capsys, *command, "--db", str(db))
            assert result.code == 0, (command, result)
        assert (db.read_bytes(), wal.read_bytes()) == before
        with CaseBook(db, readonly=True) as book:
            assert book.verify() == (book.head().seq, [])
            with pytest.raises(BookError, match="opened read-only"):
                book.add_referral(2, "REFER_HOUSING_ADVICE", "Elsewhere", "T1")
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                book.conn.execute("CREATE TABLE spy (x)")
        assert (db.read_bytes(), wal.read_bytes()) == before
    finally:
        writer.close()


def test_a_quiet_book_read_only_keeps_its_bytes(tmp_path: Path, capsys) -> None:
    with CaseBook(tmp_path / "quiet.db", training=True) as book:
        record_scenarios(book, limit=2)
    db = tmp_path / "quiet.db"
    assert not db.with_name("quiet.db-wal").exists(), "closing the last connection checkpointed the WAL away"
    before = db.read_bytes()
    for command in READERS:
        assert run_main(capsys, *command, "--db", str(db)).code in (0, 2), command  # letter 1 may have no review
    assert db.read_bytes() == before
    wal = db.with_name("quiet.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "a reader may leave SQLite's empty side files, nothing more"


def test_an_old_book_with_a_migration_pending_is_read_as_it_is(tmp_path: Path, capsys) -> None:
    db = tmp_path / "old.db"
    assert run_main(capsys, "record", str(CASE), "--db", str(db), "--training", "--reasonable").code == 0
    conn = sqlite3.connect(db)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall():
        conn.execute(f"DROP VIEW {name}")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm004_auditor_views'")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0
    assert run_main(capsys, "replay", "--all", "--db", str(db)).code == 0
    assert db.read_bytes() == before

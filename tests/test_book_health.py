"""The case book checked before use, without changing a byte; another program's SQLite file is never written (#12)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.casebook.book import CaseBook
from engine.casebook.health import CORRUPT, FOREIGN, NEW, NOT_A_FILE, NOT_FOUND, NOT_SQLITE, OK, READ_ONLY, inspect_book
from engine.errors import BookError
from tests.conftest import record_scenarios
from tests.helpers import folder_files, other_apps_db


@pytest.mark.parametrize("wal", [False, True])
def test_another_programs_database_is_named_and_left_byte_for_byte(tmp_path: Path, wal: bool) -> None:
    path = tmp_path / "other.db"
    other_apps_db(path, wal)
    before = folder_files(tmp_path)
    health = inspect_book(path)
    assert health.state == FOREIGN and not health.usable and "not a Pathways case book" in health.problem
    with pytest.raises(BookError, match="not a Pathways case book"):
        CaseBook(path, create=False)
    with pytest.raises(BookError, match="not a Pathways case book"):
        CaseBook(path)
    assert folder_files(tmp_path) == before, "not a byte written, no journal files left beside it"


def test_each_unusable_book_says_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "folder.db").mkdir()
    (tmp_path / "text.db").write_text("not a database\n" * 20)
    book = tmp_path / "book.db"
    with CaseBook(book, training=True) as opened:
        record_scenarios(opened, limit=1)
    damaged = tmp_path / "damaged.db"
    data = bytearray(book.read_bytes())
    data[100:4096] = b"\x00\xff" * ((4096 - 100) // 2)
    damaged.write_bytes(bytes(data))
    locked = tmp_path / "locked.db"
    CaseBook(locked, training=False).close()
    os.chmod(locked, 0o400)
    (tmp_path / "empty.db").touch()
    before = folder_files(tmp_path)
    states = {name: inspect_book(tmp_path / name).state for name in
              ("folder.db", "text.db", "damaged.db", "locked.db", "book.db", "empty.db", "new.db")}
    assert states == {"folder.db": NOT_A_FILE, "text.db": NOT_SQLITE, "damaged.db": CORRUPT, "locked.db": READ_ONLY,
                      "book.db": OK, "empty.db": OK, "new.db": NEW}
    assert inspect_book(tmp_path / "locked.db", write=False).state == OK, "an auditor reads a read-only book"
    assert inspect_book(tmp_path / "new.db", write=False).state == NOT_FOUND
    assert inspect_book(tmp_path / "file" / "x.db").state == NEW, "folders are made for a new book"
    assert inspect_book(tmp_path / "text.db" / "x.db").state == NOT_FOUND, "nowhere to make one"
    assert folder_files(tmp_path) == before
    for name in ("folder.db", "text.db", "damaged.db", "locked.db"):
        health = inspect_book(tmp_path / name)
        assert health.problem and health.advice and "\n" not in health.problem + health.advice

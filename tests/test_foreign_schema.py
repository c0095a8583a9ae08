"""A book changed by another tool (#16): found at open, writes refused with a plain message, flagged by verify."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from tests.helpers import CASES, run_main

CASE = next(CASES.glob("039-*.yaml"))


def test_an_fts_table_added_with_sqlite_utils_is_named_and_writes_are_refused(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    assert run_main(capsys, "record", str(CASE), "--db", str(db), "--training").code == 0
    other = sqlite_utils.Database(db)
    other["decisions"].enable_fts(["ref"], create_triggers=True)
    other.close()
    before = db.read_bytes()
    result = run_main(capsys, "record", str(CASE), "--db", str(db))
    assert result.code == 2 and len(result.err.splitlines()) == 1, result.err  # was an opaque exit 3
    assert "holds schema objects Pathways did not create (trigger decisions_ad, trigger decisions_ai" in result.err
    assert "sqlite-utils disable-fts" in result.err and db.read_bytes() == before
    verify = run_main(capsys, "audit", "verify", "--db", str(db))
    assert verify.code == 1 and "objects Pathways did not create: trigger decisions_ad" in verify.err
    assert run_main(capsys, "replay", "--all", "--db", str(db)).code == 0  # reading still works
    other = sqlite_utils.Database(db)
    other["decisions"].disable_fts()
    other.close()
    assert run_main(capsys, "record", str(CASE), "--db", str(db)).code == 0
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0


def test_sqlite_own_objects_and_maintenance_are_not_foreign(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    assert run_main(capsys, "record", str(CASE), "--db", str(db), "--training").code == 0
    conn = sqlite3.connect(db)
    conn.execute("ANALYZE")  # sqlite_stat1
    conn.execute("VACUUM")
    conn.close()
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0
    assert run_main(capsys, "record", str(CASE), "--db", str(db)).code == 0


def test_a_foreign_index_or_view_is_flagged_too(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    assert run_main(capsys, "record", str(CASE), "--db", str(db), "--training").code == 0
    conn = sqlite3.connect(db)
    conn.execute("CREATE INDEX mine ON decisions(priority)")
    conn.execute("CREATE VIEW my_view AS SELECT 1")
    conn.commit()
    conn.close()
    verify = run_main(capsys, "audit", "verify", "--db", str(db), "--json")
    assert verify.code == 1 and "view my_view, index mine" in verify.out

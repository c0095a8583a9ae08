"""Shared test helpers: run the CLI in-process and capture what a user would see."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "cases"


@attrs.frozen
class Result:
    """What a command printed and how it exited."""

    code: int
    out: str
    err: str


def pathways(*args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
    """Run `pathways ARGS` as a user would, in a subprocess."""
    proc = subprocess.run(
        [sys.executable, "-c", "from engine.cli import main; main()", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=300,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_main(capsys, *args: str) -> Result:
    """Run `pathways ARGS` in this process (fast), capturing output and exit status."""
    from engine.cli import main

    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def edit_decision(conn, decision_id: int, old: str, new: str) -> int:
    """Tamper as someone with the file would: replace `old` by `new` in a decision's JSON and write it back in
    the form it was stored in (a compact form re-packed with the book's own dictionary); returns rows changed."""
    return _edit(conn, "decisions", "decision", decision_id, old, new)


def edit_inputs(conn, case_id: int, old: str, new: str) -> int:
    """`edit_decision` for a case's stored inputs."""
    return _edit(conn, "cases", "inputs", case_id, old, new)


def _edit(conn, table: str, column: str, ident: int, old: str, new: str) -> int:
    """Replace `old` by `new` in a stored JSON value, written back in its stored form; returns rows changed."""
    from engine.casebook import compact

    stored = conn.execute(f"SELECT {column} FROM {table} WHERE id = ?", (ident,)).fetchone()[0]
    key = "id" if table == "decisions" else "case_id"
    ruleset = conn.execute(f"SELECT ruleset FROM decisions WHERE {key} = ? ORDER BY id LIMIT 1", (ident,)).fetchone()[0]
    edited = compact.expand(conn, stored).replace(old, new)
    value = compact.repack(conn, ruleset, edited) if compact.is_compact(stored) else edited
    assert value is not None and value != stored
    return conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (value, ident)).rowcount


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file in a folder, by name, with its bytes (to show that nothing was written beside a book)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def other_apps_db(path: Path, wal: bool = False) -> Path:
    """Another program's SQLite file (one table of its own, optionally in WAL mode): never a case book."""
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes (text) VALUES ('shopping list')")
    conn.commit()
    conn.close()
    return path


def drop_decision_events_index(path: Path) -> None:
    """Make the book at `path` as one recorded before the decision-events index (migration m008) was."""
    with sqlite3.connect(path) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = "
                                    "'decision_events'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DROP TABLE decision_events")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm008_decision_events'")

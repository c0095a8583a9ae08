"""Backups and restores of a case book: SQLite's online backup into a new private file, verified after writing.

A backup is taken with SQLite's backup API, so it is a consistent snapshot even while advisers
record (a copied live file, or a deleted `-wal`, can lose or corrupt data). The copy is a new file
created 0600 in a 0700 folder before SQLite writes it (a `.backup` or `VACUUM INTO` copy takes the
umask, usually 0644), in rollback-journal mode so it is one self-contained file. After writing,
the copy is opened read-only and checked: `PRAGMA integrity_check`, the whole `audit verify`, and
its chain's head must be an event of the book it came from. A restore does the same in the other
direction, into a new file only: it never writes over an existing book.
"""

from __future__ import annotations

import contextlib
import sqlite3
import stat
from pathlib import Path

import attrs

from engine.casebook import audit, checkpoints
from engine.casebook.db import BUSY_TIMEOUT_MS, read_snapshot
from engine.casebook.keyed import keyed_for
from engine.casebook.schema import schema_problems
from engine.errors import BookError, CheckError, InputError
from engine.files import check_own_file, touch_private

SIDE_FILES = ("-journal", "-wal", "-shm")
"""Files SQLite keeps beside a database; one left beside a new copy could be replayed into it."""


@attrs.frozen
class CopyReport:
    """What was written and what checking it found."""

    path: Path
    size: int
    events: int
    head: audit.Anchor | None
    integrity: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the copy is sound and its audit chain verifies."""
        return self.integrity == "ok" and not self.problems

    def to_data(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"path": str(self.path), "bytes": self.size, "events": self.events,
                "head": self.head.to_data() if self.head else None, "integrity": self.integrity,
                "audit_ok": not self.problems, "problems": list(self.problems), "mode": self.mode}

    @property
    def mode(self) -> str:
        """The file's permissions in octal (0600 for every copy Pathways writes)."""
        try:
            return f"{stat.S_IMODE(self.path.stat().st_mode):04o}"
        except OSError:
            return ""


def _claim_new_file(path: Path) -> None:
    """Create `path` empty and 0600 (its folder 0700), refusing a file or SQLite side file already there."""
    check_own_file(path, "copy")
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            raise InputError(f"{side.name} already exists beside it; refusing to write there", str(path),
                             allowed="a new file name")
    try:
        created = touch_private(path)
    except OSError as exc:
        raise InputError(f"cannot create file ({exc.strerror})", str(path)) from None
    if not created:
        raise InputError("already exists; refusing to overwrite it", str(path), allowed="a new file name")


def _remove(path: Path) -> None:
    """Remove a copy that must not be kept, and its side files."""
    for name in (path.name, *(path.name + s for s in SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(name).unlink()


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to a book file that changes nothing on disk (BookError if it is not one)."""
    if not path.is_file():
        raise BookError("no such case book", str(path))
    uri = path.resolve().as_uri()
    last: sqlite3.Error | None = None
    for query in ("?mode=ro", "?mode=ro&immutable=1"):  # immutable: a WAL-mode copy in a read-only folder
        try:
            conn = sqlite3.connect(uri + query, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute("PRAGMA trusted_schema=OFF")
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as exc:
            last = exc
    raise BookError(f"not a usable case book ({last})", str(path))


def check_copy(path: Path) -> CopyReport:
    """Open a copy read-only: integrity_check, the whole audit verify, and its protective triggers."""
    conn = open_read_only(path)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
        integrity = "ok" if rows == [("ok",)] else "; ".join(str(r[0]) for r in rows[:3])
        if integrity != "ok":
            return CopyReport(path, path.stat().st_size, 0, None, integrity, ())
        try:
            with read_snapshot(conn):
                count, problems = audit.verify(conn, keyed=keyed_for(conn))
                problems += checkpoints.scan(conn, rows=False).problems
                problems += schema_problems(conn)
        except sqlite3.Error as exc:  # not a case book at all (no audit table)
            return CopyReport(path, path.stat().st_size, 0, None, "ok", (f"not a case book ({exc})",))
        notes = [str(p) for p in problems]
        return CopyReport(path, path.stat().st_size, count, audit.head(conn), integrity, tuple(notes))
    finally:
        conn.close()


def _copy(source: sqlite3.Connection, dest: Path) -> None:
    """SQLite's online backup of `source` into the (new, empty, private) file `dest`, as one self-contained file."""
    target = sqlite3.connect(str(dest), isolation_level=None)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()


def backup(source: sqlite3.Connection, dest: Path) -> CopyReport:
    """Back up an open case book into the new file `dest` and check the copy.

    A copy that fails integrity_check, or whose chain is not the book's, is removed (CheckError).
    A sound copy of a book whose audit chain does not verify is kept (it is faithful), and its
    problems are in the report.
    """
    dest = Path(dest)
    _claim_new_file(dest)
    try:
        _copy(source, dest)
        report = check_copy(dest)
        if report.integrity != "ok":
            raise CheckError(f"{dest}: the copy failed integrity_check ({report.integrity}); it was removed")
        if report.head is not None:
            row = source.execute("SELECT hash FROM audit WHERE seq = ?", (report.head.seq,)).fetchone()
            if row is None or row[0] != report.head.hash:
                raise CheckError(f"{dest}: the copy's audit chain is not this book's; it was removed")
    except BaseException:
        _remove(dest)
        raise
    return report


def restore(src: Path, dest: Path) -> CopyReport:
    """Restore the backup `src` into the new book file `dest` (never over an existing book), checked before and after.

    A backup that does not verify is refused and nothing is written (CheckError).
    """
    src, dest = Path(src), Path(dest)
    if dest.exists():
        raise InputError("already exists; restore never writes over a case book", str(dest),
                         allowed="a new file name")
    before = check_copy(src)
    if not before.ok:
        first = before.problems[0] if before.problems else f"integrity_check: {before.integrity}"
        raise CheckError(f"{src}: the backup does not verify ({first}); nothing was restored")
    source = open_read_only(src)
    try:
        _claim_new_file(dest)
        try:
            _copy(source, dest)
            after = check_copy(dest)
            if not after.ok or after.head != before.head:
                raise CheckError(f"{dest}: the restored book does not verify; it was removed")
        except BaseException:
            _remove(dest)
            raise
    finally:
        source.close()
    return after

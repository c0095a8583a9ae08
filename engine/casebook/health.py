"""Is this file a Pathways case book that can be used, checked before anything opens it for writing (#12).

`inspect_book` looks at a path without changing a byte: the file is read through SQLite's
read-only mode (`mode=ro`), never created, migrated or switched to WAL. It says what is wrong
(not found, not a file, read-only, not SQLite, damaged, another program's SQLite file) and what to
do, so the terminal UI can say so before an interview rather than fail at the end of one.
The test is `db.book_schema_state`, the one `db.connect` uses to refuse such a file.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import attrs

from engine.casebook.db import book_schema_state

SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""

OK = "ok"
"""A Pathways case book (or an empty file) that can be read, and written when asked."""
NEW = "new"
"""No file yet: it will be created (0600) on the first record."""
NOT_FOUND = "not found"
"""No file, and none can be made there (or none is wanted: an auditor reads an existing book)."""
NOT_A_FILE = "not a file"
"""A folder or a device where the book should be."""
READ_ONLY = "read-only"
"""The file or its folder cannot be written (the WAL files live beside the book)."""
UNREADABLE = "unreadable"
"""The file cannot be read at all (permissions)."""
NOT_SQLITE = "not a database"
"""The file is not an SQLite database: another kind of file, or damaged beyond SQLite's header."""
CORRUPT = "damaged"
"""An SQLite file whose contents SQLite cannot read."""
FOREIGN = "foreign"
"""Another program's SQLite file: Pathways never writes to it."""


@attrs.frozen
class BookHealth:
    """What was found at a case book's path: a state (one of the constants above), what is wrong, what to do."""

    path: Path
    state: str
    problem: str = ""
    advice: str = ""

    @property
    def usable(self) -> bool:
        """True when the book can be opened as the caller asked (a new one will be created)."""
        return self.state in (OK, NEW)


def _nearest_folder(path: Path) -> Path:
    """The nearest folder that exists on the way to `path` (where a new book's folders would be made)."""
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _writable(path: Path) -> bool:
    """True when `path` may be written: its permission bits allow its owner to, and this user can."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & stat.S_IWUSR) and os.access(path, os.W_OK)


def inspect_book(path: Path, *, write: bool = True) -> BookHealth:
    """Check a case book's path without changing it; `write` when the caller will record in it."""
    path = Path(path)
    shown = str(path)
    if not path.exists():
        if not write:
            return BookHealth(path, NOT_FOUND, f"there is no case book at {shown}",
                              "Check the path (--db or $PATHWAYS_DB), or open advise mode to start a new book.")
        folder = _nearest_folder(path)
        if not folder.is_dir() or not _writable(folder):
            return BookHealth(path, NOT_FOUND, f"there is no case book at {shown}, and {folder} cannot be written "
                              "to make one", "Choose a folder you can write (--db PATH), or ask for access to it.")
        return BookHealth(path, NEW)
    if not path.is_file():
        return BookHealth(path, NOT_A_FILE, f"{shown} is not a file (a folder, or a device)",
                          "Give the path of a case book file (--db PATH), not a folder.")
    if not os.access(path, os.R_OK):
        return BookHealth(path, UNREADABLE, f"{shown} cannot be read (permissions)",
                          "Ask whoever looks after the book for read access, or open another book (--db PATH).")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        return BookHealth(path, UNREADABLE, f"{shown} cannot be read ({exc.strerror})",
                          "Check the file and its disk, or open another book (--db PATH).")
    if header and header != SQLITE_HEADER:
        return BookHealth(path, NOT_SQLITE, f"{shown} is not a case book: it is not a database file at all",
                          "Check the path (--db PATH). If it was your case book, it is damaged: restore it from "
                          "a backup with `pathways restore BACKUP --db NEW-PATH`.")
    problem = _read_schema(path) if header else None  # an empty file is a new book
    if problem is not None:
        return problem
    if write and not (_writable(path) and _writable(path.absolute().parent)):
        what = "file" if not _writable(path) else "folder it is in"
        return BookHealth(path, READ_ONLY, f"{shown} is read-only: the {what} cannot be written, so nothing "
                          "could be recorded", "Ask for write access to the book and its folder (the book writes "
                          "its journal beside itself), or open it in audit mode (F4 / --mode audit) to read it.")
    return BookHealth(path, OK)


def _read_schema(path: Path) -> BookHealth | None:
    """Read the schema through a read-only connection: a damaged or foreign file, or None when it is a book."""
    try:
        with path.open("rb") as handle:
            versions = handle.read(20)[18:20]
        # A WAL-mode file with no -wal file is fully checkpointed: read it as immutable, so SQLite does not
        # leave -wal and -shm files beside it (mode=ro would, and cannot remove them)
        wal = versions == b"\x02\x02" and not path.with_name(path.name + "-wal").exists()
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?{'immutable=1' if wal else 'mode=ro'}", uri=True)
    except (OSError, sqlite3.Error) as exc:
        return BookHealth(path, UNREADABLE, f"{path} cannot be opened ({exc})",
                          "Check the file's permissions, or open another book (--db PATH).")
    try:
        foreign = book_schema_state(conn) == "foreign"
    except sqlite3.DatabaseError:
        return BookHealth(path, CORRUPT, f"{path} is damaged: SQLite cannot read it",
                          "Restore it from a backup (`pathways restore BACKUP --db NEW-PATH`); keep the damaged "
                          "file for investigation and do not write to it.")
    finally:
        conn.close()
    if foreign:
        return BookHealth(path, FOREIGN, f"{path} is another program's database, not a Pathways case book",
                          "Pathways will not write to it. Check the path (--db PATH), or choose a new file name "
                          "to start a new case book.")
    return None

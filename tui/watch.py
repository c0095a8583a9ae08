"""Notice when another program (the command line, another adviser) changes a case book (#12).

SQLite's `PRAGMA data_version` changes on a connection whenever another connection commits to the
file. A `BookWatcher` keeps one read-only connection (`mode=ro`: it can never write) and compares
the value at each look, which costs microseconds, so the case list can poll it on a timer and
reload only when something changed. No Textual here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class BookWatcher:
    """One read-only connection to a case book, asked whether anything was committed since the last look."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None
        self._looked = False

    def _open(self) -> bool:
        """Open the read-only connection once the book exists; False while it does not (or cannot be read)."""
        if not self.path.is_file():
            return False
        try:
            self._conn = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=ro", uri=True,
                                         check_same_thread=False)
            self._version = self._look(self._conn)
        except sqlite3.Error:
            self.close()
            return False
        return True

    def changed(self) -> bool:
        """True when the book changed since the last call (the first call only starts watching)."""
        looked, self._looked = self._looked, True
        if self._conn is None:
            return self._open() and looked  # the book appeared while we watched
        try:
            version = self._look(self._conn)
        except sqlite3.Error:
            self.close()
            return True
        moved = version != self._version
        self._version = version
        return moved

    @staticmethod
    def _look(conn: sqlite3.Connection) -> int:
        """The connection's data version; the statement read to its end, so no read transaction stays open
        (an open one would stop erasure's checkpoint from truncating the WAL)."""
        rows = conn.execute("PRAGMA data_version").fetchall()
        return int(rows[0][0])

    def close(self) -> None:
        """Stop watching (the connection is closed)."""
        if self._conn is not None:
            self._conn.close()
        self._conn = None

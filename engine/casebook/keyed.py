"""Keyed hashes: HMAC-SHA256 under the book's key (kept outside the book) wherever a hash covers personal data.

An unkeyed sha256 of a claimant's row, or of their case inputs, outlives the row in the audit log,
and whoever holds a copy of the book can confirm guesses against it (every NINO takes minutes). A
keyed hash can be recomputed only with the book's key file, which the book never holds. Keyed
hashes start `k1:`; events written before keep their `v2:` row hashes and bare sha256 inputs
hashes, so older books still verify.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from pathlib import Path
from typing import Any

from engine.casebook.audit import KEYED_PREFIX, row_json
from engine.casebook.mac import Mac


class Keyed:
    """The keyed hashes of one book: rows (as the audit log vouches for them) and case inputs."""

    def __init__(self, secret: str) -> None:
        subkey = hmac.new(secret.encode("utf-8"), b"pathways keyed hashes v1", hashlib.sha256).digest()
        self._row = Mac(subkey, b"row\0")
        self._text = Mac(subkey, b"text\0")

    def row_hash(self, row: dict[str, Any]) -> str:
        """`k1:` and the HMAC of a row's canonical JSON (long texts and blobs as in a v2 row hash)."""
        return KEYED_PREFIX + self._row.hexdigest(row_json(row))

    def text_hash(self, text: str) -> str:
        """`k1:` and the HMAC of a text (the case inputs stored for replay)."""
        return KEYED_PREFIX + self._text.hexdigest(text.encode("utf-8"))


def is_keyed(value: object) -> bool:
    """True for a keyed hash (`k1:...`)."""
    return isinstance(value, str) and value.startswith(KEYED_PREFIX)


def keyed_for(conn: sqlite3.Connection, key_dir: Path | None = None) -> Keyed | None:
    """The keyed hashes of the book open on `conn` (a copy, say), from its key file; None without one."""
    from engine.casebook import keys
    from engine.errors import BookError

    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        secret = meta.get("secret") or keys.read_key(str(meta.get("book_id", "")), key_dir)
    except (sqlite3.Error, BookError):
        return None
    return Keyed(secret) if isinstance(secret, str) and secret else None

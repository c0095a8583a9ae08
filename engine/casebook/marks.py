"""Verification marks: what the last full, clean `audit verify` of a book checked, kept outside the book (#14).

A mark names the book (its id), the last event verified (seq and hash), when, and the counts, plus
what an incremental check needs to go on from there: each row table's largest key, the rule sets
and data-protection public keys the chain recorded. Nothing personal: ids, hashes, counts and
public keys. Marks live outside the book (audit mode and `audit verify` open it read-only), one
small JSON file per book id in a folder the caller names (0700; files 0600, written atomically).

A mark is a convenience, not a witness: anyone who can write the folder can change it. Anchors
and signed checkpoints kept off the machine are the witnesses.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

import attrs

from engine.casebook.audit import Problem, Since
from engine.casebook.checkpoints import ChainSignatures
from engine.errors import InputError
from engine.files import PRIVATE_DIR, PRIVATE_FILE, ensure_private_dir

MARK_VERSION = 1
"""The mark file's format."""

_BOOK_ID = re.compile(r"[0-9a-f]{16}", re.ASCII)


@attrs.frozen
class Mark:
    """One full, clean verification: the book, the last event checked, when, and what an incremental check needs."""

    book_id: str
    seq: int
    hash: str
    verified_at: str
    events: int
    rows: dict[str, int]
    max_keys: dict[str, int]
    rulesets: dict[str, Any]
    key_moved: bool
    signatures: dict[str, Any]

    @property
    def day(self) -> str:
        """The date it was verified (YYYY-MM-DD, UTC)."""
        return self.verified_at[:10]

    def since(self) -> Since:
        """Where an incremental check starts."""
        return Since(self.seq, self.hash, dict(self.rulesets), self.key_moved, dict(self.max_keys))

    def to_data(self) -> dict[str, Any]:
        """JSON-ready form (the file's content)."""
        return {"mark": MARK_VERSION, **attrs.asdict(self)}

    def summary(self) -> dict[str, Any]:
        """What `--json` says of the mark: the last event verified in full, and when."""
        return {"seq": self.seq, "hash": self.hash, "verified_at": self.verified_at, "events": self.events,
                "rows": dict(self.rows)}


def _ints(value: Any) -> dict[str, int]:
    """A dict of whole numbers by name (ValueError otherwise)."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and type(v) is int for k, v in value.items()):
        raise ValueError("not counts")
    return dict(value)


def from_data(data: Any) -> Mark:
    """A mark from its JSON form (ValueError, KeyError or TypeError when it is not one)."""
    if not isinstance(data, dict) or data.get("mark") != MARK_VERSION:
        raise ValueError("not a verification mark")
    fields = (data["book_id"], data["seq"], data["hash"], data["verified_at"], data["events"])
    if not (isinstance(fields[0], str) and type(fields[1]) is int and isinstance(fields[2], str)
            and isinstance(fields[3], str) and type(fields[4]) is int and fields[1] > 0):
        raise ValueError("not a verification mark")
    rulesets = data["rulesets"]
    if not isinstance(rulesets, dict) or type(data["key_moved"]) is not bool or not isinstance(
            data["signatures"], dict):
        raise ValueError("not a verification mark")
    ChainSignatures.from_mark(data["signatures"])  # refuses what is not a signature state
    return Mark(*fields, rows=_ints(data["rows"]), max_keys=_ints(data["max_keys"]), rulesets=dict(rulesets),
                key_moved=data["key_moved"], signatures=dict(data["signatures"]))


@attrs.frozen
class SinceResult:
    """An incremental check: the mark it started from, events now, events checked now, and what it found.

    `full` is set when the mark's event was gone or changed and the book was verified in full instead.
    """

    mark: Mark
    events: int
    checked: int
    problems: list[Problem]
    full: bool = False

    @property
    def scope(self) -> str:
        """What was checked, said honestly: the mark's part was verified in full then, the rest now."""
        if self.full:
            return f"verified in full now: the verification mark of {self.mark.day} no longer fits the chain"
        done = f"events 1-{self.mark.seq} verified in full on {self.mark.day}"
        if not self.checked:
            return f"{done}; no events since"
        return f"{done}; events {self.mark.seq + 1}-{self.mark.seq + self.checked} and their rows checked now"

    def to_data(self) -> dict[str, Any]:
        """JSON-ready form of what was checked (the problems are said beside it)."""
        return {"mark": self.mark.summary(), "checked_now": self.checked, "full": self.full,
                "rows_before_mark_reread": self.full, "scope": self.scope}


def mark_path(folder: Path, book_id: str) -> Path | None:
    """The mark file of the book with this id (None for an id that cannot name a file: a malformed book)."""
    return folder / f"{book_id}.json" if _BOOK_ID.fullmatch(book_id) else None


def load(folder: Path, book_id: str) -> Mark | None:
    """The book's mark, or None when it has none; InputError naming the file when it is unreadable or malformed."""
    path = mark_path(folder, book_id)
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read verification mark ({type(exc).__name__}); delete it and run a full "
                         "`pathways audit verify`", str(path)) from None
    try:
        mark = from_data(json.loads(text))
    except (ValueError, KeyError, TypeError, RecursionError):
        raise InputError("is not a verification mark; delete it and run a full `pathways audit verify`",
                         str(path)) from None
    if mark.book_id != book_id:
        raise InputError("is another book's verification mark; delete it and run a full `pathways audit verify`",
                         str(path))
    return mark


def save(folder: Path, mark: Mark) -> Path | None:
    """Write (or replace) the book's mark atomically: 0600 in a 0700 folder; returns its path (None: no id)."""
    path = mark_path(folder, mark.book_id)
    if path is None:
        return None
    ensure_private_dir(folder)
    os.chmod(folder, PRIVATE_DIR)
    temp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(mark.to_data(), sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return path

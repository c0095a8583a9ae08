"""The compact stored form of a decision and its case inputs: zstd with a dictionary made once per rule set (#14).

A decision's JSON repeats its rule set's texts, citations and sources, and its trace repeats the
rule and fact names. Each rule set used by a book gets one dictionary, stored in the book in
`decision_dictionaries` and vouched for by its audit event: the rule set snapshot's canonical text
followed by the stored inputs and decisions of a fixed set of synthetic cases decided under it
(never a claimant's data, so erasure leaves nothing behind in it). A decision (`decisions.decision`)
and its case's inputs (`cases.inputs`) are then stored as text:

    "~" + base64 (unpadded) of: b"\\x01", the dictionary's id (unsigned LEB128), a zstd frame (with its
    size; no checksum, no dictionary id)

Text, not a BLOB: every column stays valid UTF-8 text whatever SQL text functions do to it (SQLite's
`replace()` on a BLOB makes text that is not UTF-8, which Python's sqlite3 cannot even read), and
JSON never starts with "~". A value starting with "{" is stored whole (every row before #14, or one whose compact
form did not give back the same bytes), so old books read as they always did. Packing is checked:
a form that does not expand to the decision's exact bytes is never stored. The row hash covers
the stored form, so `audit verify` catches any change to it, and `decision_hash` stays the sha256
of the full JSON, which every reader gets back byte for byte through `expand`. The packing itself is
engine.packing, below the case book, so that batch workers pack what they decide.
"""

from __future__ import annotations

import collections
import random
import sqlite3
from collections.abc import Callable
from typing import Any

import zstandard

from engine.model.case import Case
from engine.packing import (
    FORMAT_ZSTD,
    LEVEL,
    LOCK,
    MARK,
    Packer,
    armour,
    decompressor,
    dictionary_key,
    frame_options,
    ident_of,
    is_compact,
    read_leb128,
    unarmour,
)
from engine.policy.rulebook import RuleSet

__all__ = ["FORMAT_ZSTD", "LEVEL", "MARK", "Packer", "ident_of", "is_compact"]  # the compact form, from engine.packing

SAMPLE_CASES = 48
"""Synthetic cases decided under a rule set to make its dictionary (about 60 bytes a decision then)."""

SAMPLE_SEED = 14
"""The synthetic cases' seed (any fixed number: the dictionary is stored, so reading never rebuilds it)."""

EARLIER_LEVELS = (6,)
"""Levels books were packed at before (6 until #14 measured 5): a compact form put back whole is looked for at
each, so verify can still name it in an older book."""

MAX_DECISION = 1 << 22
"""The most bytes a stored decision may expand to (a tampered frame cannot exhaust memory)."""

_made: dict[str, str] = {}  # rule set digest -> the dictionary this process made for it, as stored


def sample_text(ruleset: RuleSet, inputs_of: Callable[[Case], str]) -> str:
    """The stored inputs and decisions of SAMPLE_CASES synthetic cases under `ruleset`: what its rows look like.

    Empty when the rule set cannot decide them (the dictionary is then the snapshot alone).
    """
    from engine.intake.generate import synthetic_case
    from engine.policy.driver import decide

    rng = random.Random(SAMPLE_SEED)  # noqa: S311 - synthetic data, not security
    try:
        cases = [synthetic_case(rng, n) for n in range(1, SAMPLE_CASES + 1)]
        return "".join(inputs_of(case) + decide(case, ruleset).to_json() for case in cases)
    except Exception:  # a rule set the engine cannot run still gets a dictionary (the snapshot alone)
        return ""


def stored_dictionary(content: str, samples: str) -> str:
    """A dictionary as stored: the snapshot's text then the samples, compressed on its own and in base64, so
    reading a decision needs nothing but its dictionary row (not even the rule set snapshot)."""
    return armour(zstandard.ZstdCompressor(level=9, **frame_options()).compress((content + samples).encode("utf-8")))


CONNECTIONS_KEPT = 4
"""Connections whose dictionaries are remembered by id (the most recently used), so reading a decision does
not re-read and re-hash its 19 KB dictionary row each time."""

_by_connection: collections.OrderedDict[int, tuple[sqlite3.Connection, dict[int, zstandard.ZstdDecompressor]]] = \
    collections.OrderedDict()


def _connection_dictionary(conn: sqlite3.Connection, ident: int) -> zstandard.ZstdDecompressor:
    """The decompressor of dictionary `ident` in the book `conn` reads (ValueError when it holds none).

    Remembered per connection (the rows are append-only); the connection itself is held, so its id is
    not reused by another while it is remembered.
    """
    with LOCK:
        entry = _by_connection.get(id(conn))
        if entry is not None and entry[0] is conn:
            _by_connection.move_to_end(id(conn))
            found = entry[1].get(ident)
            if found is not None:
                return found
    row = conn.execute("SELECT ruleset, content FROM decision_dictionaries WHERE id = ?", (ident,)).fetchone()
    if row is None or not isinstance(row[0], str) or not isinstance(row[1], str):
        raise ValueError("no dictionary")
    found = decompressor(dictionary_key(row[0], row[1]), row[1])
    with LOCK:
        entry = _by_connection.get(id(conn))
        if entry is None or entry[0] is not conn:
            entry = (conn, {})
            _by_connection[id(conn)] = entry
        entry[1][ident] = found
        _by_connection.move_to_end(id(conn))
        while len(_by_connection) > CONNECTIONS_KEPT:
            _by_connection.popitem(last=False)
    return found


def packer(conn: sqlite3.Connection, ruleset: RuleSet,
           inputs_of: Callable[[Case], str]) -> tuple[Packer, dict[str, Any] | None]:
    """The packer for `ruleset` in this book, and the dictionary row if this call stored it (in the caller's write).

    The caller records the new row's hash in an audit event (with the rule set's, when both are new).
    """
    row = conn.execute("SELECT id, content FROM decision_dictionaries WHERE ruleset = ?", (ruleset.digest,)).fetchone()
    if row is not None:
        return Packer(int(row[0]), ruleset.digest, str(row[1]), LEVEL), None
    with LOCK:
        samples = _made.get(ruleset.digest)
    if samples is None:  # made once a process: about 60 ms to decide the samples, 10 ms to compress
        samples = stored_dictionary(ruleset.canonical, sample_text(ruleset, inputs_of))
        with LOCK:
            samples = _made.setdefault(ruleset.digest, samples)
    ident = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM decision_dictionaries").fetchone()[0])
    conn.execute("INSERT INTO decision_dictionaries (id, ruleset, content) VALUES (?, ?, ?)",
                 (ident, ruleset.digest, samples))
    stored = {"id": ident, "ruleset": ruleset.digest, "content": samples}
    return Packer(ident, ruleset.digest, samples, LEVEL), stored


def dictionaries(conn: sqlite3.Connection) -> dict[str, tuple[int, str]]:
    """Every dictionary this book holds, by rule set digest: (id, stored text), what a worker packs with (#14)."""
    return {str(digest): (int(ident), str(content)) for ident, digest, content in
            conn.execute("SELECT id, ruleset, content FROM decision_dictionaries ORDER BY id")
            if isinstance(digest, str) and isinstance(content, str)}


def expand(conn: sqlite3.Connection, value: Any) -> Any:
    """A stored decision as its full JSON text: text as it is; a compact form expanded with its dictionary.

    A compact form that cannot be expanded (altered, or its dictionary or snapshot missing) gives "",
    which matches no decision hash: readers then say the recommendation no longer matches its hash.
    """
    if not is_compact(value):
        return value
    try:
        return _expand(conn, unarmour(value[len(MARK):]))
    except (ValueError, sqlite3.Error, zstandard.ZstdError, UnicodeDecodeError):
        return ""


def _expand(conn: sqlite3.Connection, data: bytes) -> str:
    """`expand` of a compact form (raises on anything wrong)."""
    if not data or data[0] != FORMAT_ZSTD:
        raise ValueError("not a compact decision")
    ident, at = read_leb128(data, 1)
    frame = data[at:]
    size = zstandard.frame_content_size(frame)
    if not 0 <= size <= MAX_DECISION:
        raise ValueError("not a compact decision")
    unpack = _connection_dictionary(conn, ident)
    with LOCK:
        return unpack.decompress(frame).decode("utf-8")


def repack(conn: sqlite3.Connection, ruleset: Any, text: Any, level: int | None = None) -> str | None:
    """The compact form this book would store for a decision's JSON under `ruleset` (None when it has no
    dictionary for it): what a decision row held if its compact form was replaced by its whole text."""
    if not isinstance(text, str) or not isinstance(ruleset, str):
        return None
    try:
        row = conn.execute("SELECT id, content FROM decision_dictionaries WHERE ruleset = ?", (ruleset,)).fetchone()
        if row is None or not isinstance(row[1], str):
            return None
        packed = Packer(int(row[0]), ruleset, row[1], LEVEL if level is None else level).pack(text)
    except (ValueError, sqlite3.Error, zstandard.ZstdError):
        return None
    return packed if is_compact(packed) else None


def repacks(conn: sqlite3.Connection, ruleset: Any, text: Any) -> list[str]:
    """`repack` at this level and at each earlier one: the compact forms the value may have been stored as."""
    found = (repack(conn, ruleset, text, level) for level in (LEVEL, *EARLIER_LEVELS))
    return list(dict.fromkeys(packed for packed in found if packed is not None))

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
of the full JSON, which every reader gets back byte for byte through `expand`.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import random
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import zstandard

from engine.model.case import Case
from engine.policy.rulebook import RuleSet

FORMAT_ZSTD = 1
"""The first byte of a compact decision: zstd with the dictionary whose id follows."""

MARK = "~"
"""How a stored value in the compact form starts (JSON never does)."""

SAMPLE_CASES = 48
"""Synthetic cases decided under a rule set to make its dictionary (about 60 bytes a decision then)."""

SAMPLE_SEED = 14
"""The synthetic cases' seed (any fixed number: the dictionary is stored, so reading never rebuilds it)."""

LEVEL = 5
"""zstd level: level 6 took 25 us a case for 139.1 bytes of frames, level 5 18 us for 139.8, level 4 17.5 us
for 165 (#14, 8,000 recorded cases, minimum of 5 runs)."""

EARLIER_LEVELS = (6,)
"""Levels books were packed at before (6 until #14 measured 5): a compact form put back whole is looked for at
each, so verify can still name it in an older book."""

MAX_DECISION = 1 << 22
"""The most bytes a stored decision may expand to (a tampered frame cannot exhaust memory)."""

_lock = threading.Lock()
_compressors: dict[tuple[str, str, int], zstandard.ZstdCompressor] = {}
_decompressors: dict[tuple[str, str], zstandard.ZstdDecompressor] = {}
_made: dict[str, str] = {}  # rule set digest -> the dictionary this process made for it, as stored


def _leb128(number: int) -> bytes:
    """An unsigned number in LEB128 (7 bits a byte, low first)."""
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _read_leb128(data: bytes, at: int) -> tuple[int, int]:
    """(number, next offset) of the LEB128 number at `at` (ValueError when it is cut short or too long)."""
    number = shift = 0
    while at < len(data) and shift < 63:
        byte = data[at]
        number |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return number, at
        shift += 7
    raise ValueError("not a compact decision")


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


def _dictionary(stored: str) -> zstandard.ZstdCompressionDict:
    """The zstd dictionary a stored dictionary row holds (the snapshot's text, then the samples)."""
    return zstandard.ZstdCompressionDict(zstandard.ZstdDecompressor().decompress(_unarmour(stored)),
                                         dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def _compressor(stored: str, level: int) -> zstandard.ZstdCompressor:
    """The compressor of one stored dictionary, its tables made once (#14): loading the 230 KB dictionary
    afresh for every value cost 2 us a value, and gives the same frames."""
    dictionary = _dictionary(stored)
    dictionary.precompute_compress(level=level)
    return zstandard.ZstdCompressor(level=level, dict_data=dictionary, **_frame_options())


def _frame_options() -> dict[str, Any]:
    """Frame header options: its size (so expanding allocates just that), nothing the dictionary id or the
    decision_hash already says."""
    return {"write_checksum": False, "write_content_size": True, "write_dict_id": False}


def stored_dictionary(content: str, samples: str) -> str:
    """A dictionary as stored: the snapshot's text then the samples, compressed on its own and in base64, so
    reading a decision needs nothing but its dictionary row (not even the rule set snapshot)."""
    return _armour(zstandard.ZstdCompressor(level=9, **_frame_options()).compress((content + samples).encode("utf-8")))


def _armour(data: bytes) -> str:
    """Bytes as unpadded base64 text."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unarmour(text: str) -> bytes:
    """`_armour` undone (ValueError when it is not base64)."""
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("not base64") from None


def _key(ruleset: str, samples: str) -> tuple[str, str]:
    """A cache key naming a dictionary by its content: the snapshot's digest and the samples' hash
    (two books may number the same dictionary differently)."""
    return (ruleset, hashlib.sha256(samples.encode("utf-8")).hexdigest())


class Packer:
    """Packs decisions and inputs with one stored dictionary (its id in the book and its stored text)."""

    def __init__(self, ident: int, digest: str, stored: str, level: int | None = None) -> None:
        self.ident = ident
        level = LEVEL if level is None else level
        key = _key(digest, stored)
        with _lock:
            found = _compressors.get((*key, level))
        if found is None:
            found = _compressor(stored, level)
            with _lock:
                found = _compressors.setdefault((*key, level), found)
        self._compressor = found
        self._decompressor = _decompressor(key, stored)
        self._head = bytes([FORMAT_ZSTD]) + _leb128(ident)

    def pack(self, text: str) -> str:
        """The compact form of a decision's (or inputs') JSON, or the text itself when packing would not give it
        back (JSON text never starts with the compact form's mark)."""
        raw = text.encode("utf-8")
        try:
            with _lock:  # zstandard's (de)compressor objects are not for two threads at once
                frame = self._compressor.compress(raw)
                same = self._decompressor.decompress(frame) == raw
        except zstandard.ZstdError:
            return text
        return MARK + _armour(self._head + frame) if same and not is_compact(text) else text


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
    with _lock:
        entry = _by_connection.get(id(conn))
        if entry is not None and entry[0] is conn:
            _by_connection.move_to_end(id(conn))
            found = entry[1].get(ident)
            if found is not None:
                return found
    row = conn.execute("SELECT ruleset, content FROM decision_dictionaries WHERE id = ?", (ident,)).fetchone()
    if row is None or not isinstance(row[0], str) or not isinstance(row[1], str):
        raise ValueError("no dictionary")
    found = _decompressor(_key(row[0], row[1]), row[1])
    with _lock:
        entry = _by_connection.get(id(conn))
        if entry is None or entry[0] is not conn:
            entry = (conn, {})
            _by_connection[id(conn)] = entry
        entry[1][ident] = found
        _by_connection.move_to_end(id(conn))
        while len(_by_connection) > CONNECTIONS_KEPT:
            _by_connection.popitem(last=False)
    return found


def _decompressor(key: tuple[str, str], stored: str) -> zstandard.ZstdDecompressor:
    """The (cached) decompressor of one stored dictionary."""
    with _lock:
        found = _decompressors.get(key)
    if found is None:
        found = zstandard.ZstdDecompressor(dict_data=_dictionary(stored))
        with _lock:
            found = _decompressors.setdefault(key, found)
    return found


def packer(conn: sqlite3.Connection, ruleset: RuleSet,
           inputs_of: Callable[[Case], str]) -> tuple[Packer, dict[str, Any] | None]:
    """The packer for `ruleset` in this book, and the dictionary row if this call stored it (in the caller's write).

    The caller records the new row's hash in an audit event (with the rule set's, when both are new).
    """
    row = conn.execute("SELECT id, content FROM decision_dictionaries WHERE ruleset = ?", (ruleset.digest,)).fetchone()
    if row is not None:
        return Packer(int(row[0]), ruleset.digest, str(row[1])), None
    with _lock:
        samples = _made.get(ruleset.digest)
    if samples is None:  # made once a process: about 60 ms to decide the samples, 10 ms to compress
        samples = stored_dictionary(ruleset.canonical, sample_text(ruleset, inputs_of))
        with _lock:
            samples = _made.setdefault(ruleset.digest, samples)
    ident = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM decision_dictionaries").fetchone()[0])
    conn.execute("INSERT INTO decision_dictionaries (id, ruleset, content) VALUES (?, ?, ?)",
                 (ident, ruleset.digest, samples))
    stored = {"id": ident, "ruleset": ruleset.digest, "content": samples}
    return Packer(ident, ruleset.digest, samples), stored


def is_compact(value: Any) -> bool:
    """True when a stored value is in the compact form, not whole JSON text."""
    return isinstance(value, str) and value.startswith(MARK)


def expand(conn: sqlite3.Connection, value: Any) -> Any:
    """A stored decision as its full JSON text: text as it is; a compact form expanded with its dictionary.

    A compact form that cannot be expanded (altered, or its dictionary or snapshot missing) gives "",
    which matches no decision hash: readers then say the recommendation no longer matches its hash.
    """
    if not is_compact(value):
        return value
    try:
        return _expand(conn, _unarmour(value[len(MARK):]))
    except (ValueError, sqlite3.Error, zstandard.ZstdError, UnicodeDecodeError):
        return ""


def _expand(conn: sqlite3.Connection, data: bytes) -> str:
    """`expand` of a compact form (raises on anything wrong)."""
    if not data or data[0] != FORMAT_ZSTD:
        raise ValueError("not a compact decision")
    ident, at = _read_leb128(data, 1)
    frame = data[at:]
    size = zstandard.frame_content_size(frame)
    if not 0 <= size <= MAX_DECISION:
        raise ValueError("not a compact decision")
    unpack = _connection_dictionary(conn, ident)
    with _lock:
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
        packed = Packer(int(row[0]), ruleset, row[1], level).pack(text)
    except (ValueError, sqlite3.Error, zstandard.ZstdError):
        return None
    return packed if is_compact(packed) else None


def repacks(conn: sqlite3.Connection, ruleset: Any, text: Any) -> list[str]:
    """`repack` at this level and at each earlier one: the compact forms the value may have been stored as."""
    found = (repack(conn, ruleset, text, level) for level in (LEVEL, *EARLIER_LEVELS))
    return list(dict.fromkeys(packed for packed in found if packed is not None))

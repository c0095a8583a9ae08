"""The append-only, hash-chained audit log, and its verification against the rows it vouches for.

Each event's hash covers its sequence number, the previous hash, time, actor, event name and body.
Bodies hold no personal data: ids, keyed references and the hashes of the rows each write made, so
`verify` can tell that every row in every table is exactly what was written, and nothing more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from engine.casebook.db import ERASABLE, PRIMARY_KEYS
from engine.policy.rulebook import canonical_json
from engine.textsafe import clean

ROW_TABLES = {table: PRIMARY_KEYS[table] for table in ERASABLE}
"""Tables whose every row is vouched for by a row hash in an audit event (the erasable ones), by key."""


def sha256_text(text: str) -> str:
    """Hex sha256 of UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


LONG_TEXT = 256
"""Text values longer than this enter a row hash as their own sha256 (cheaper, equally binding)."""

ROW_HASH_PREFIX = "v2:"
"""Marks the row hash format (v2: long texts and blobs enter as objects no column value can equal)."""


def _compact(value: Any) -> Any:
    """A column value as it enters a v2 row hash: long text and blobs as objects no column can hold."""
    if isinstance(value, str) and len(value) > LONG_TEXT:
        return {"sha256": sha256_text(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"blob": bytes(value).hex()}
    return value


def row_hash(row: dict[str, Any], known: dict[str, str] | None = None) -> str:
    """The hash of a table row: `v2:` and the sha256 of its canonical JSON, long texts by their own hash.

    A long text enters as {"sha256": ...}, which no column value can equal, so a row whose long text
    was replaced by the text of its hash no longer matches. `known` gives the sha256 of long text
    columns already hashed (a decision's text, a case's inputs), so they are not hashed twice.
    """
    if known:
        compacted = {key: {"sha256": known[key]} if key in known and isinstance(value, str) and len(value) > LONG_TEXT
                     else _compact(value) for key, value in row.items()}
    else:
        compacted = {key: _compact(value) for key, value in row.items()}
    return ROW_HASH_PREFIX + sha256_text(canonical_json(compacted))


def row_matches(row: dict[str, Any], recorded: str) -> bool:
    """True when `row` is exactly the row whose hash was recorded."""
    try:
        return row_hash(row) == recorded
    except (TypeError, ValueError):  # a value no recorded row ever held
        return False


def keyed_ref(secret: str, value: str) -> str:
    """A keyed pseudonym (HMAC-SHA256, 16 hex) that links records without revealing the value."""
    return hmac.new(secret.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def event_hash(seq: int, prev: str, ts: str, actor: str, event: str, body: Any) -> str:
    """The hash of one audit event: sha256 of the canonical JSON of all its fields."""
    return _event_hash_text(seq, prev, ts, actor, event, canonical_json(body))


def _event_hash_text(seq: int, prev: str, ts: str, actor: str, event: str, body_json: str) -> str:
    """`event_hash` with the body already in canonical JSON: the same bytes, built without re-encoding."""
    dump = json.dumps
    text = (f'{{"actor":{dump(actor, ensure_ascii=False)},"body":{body_json},'
            f'"event":{dump(event, ensure_ascii=False)},"prev":{dump(prev)},"seq":{seq},'
            f'"ts":{dump(ts, ensure_ascii=False)}}}')
    return sha256_text(text)


def now() -> str:
    """The recording time (UTC, seconds): case book metadata, never a rule input."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def fetch_row(conn: sqlite3.Connection, table: str, key: str, value: Any) -> dict[str, Any] | None:
    """One row as a dict (table and key come from ROW_TABLES, never from data)."""
    cur = conn.execute(f"SELECT * FROM {table} WHERE {key} = ?", (value,))  # noqa: S608
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


AUDIT_EVENT_SQL = "INSERT INTO audit (seq, ts, actor, event, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)"
"""The one statement that extends the chain (used only here)."""


def append_many(conn: sqlite3.Connection, actor: str, stamp: str,
                items: Iterable[tuple[str, dict[str, Any]]]) -> list[int]:
    """Append (event, body) pairs at the head of the chain, in order, in the caller's write transaction.

    Call inside a `BEGIN IMMEDIATE` write (`db.write`) that also makes the rows the bodies vouch
    for, so rows and events commit together or not at all. Returns the events' sequence numbers.
    """
    head_row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (head_row[0], head_row[1]) if head_row else (0, "")
    rows, seqs = [], []
    for event, body in items:
        seq += 1
        body_json = canonical_json(body)
        digest = _event_hash_text(seq, prev, stamp, actor, event, body_json)
        rows.append((seq, stamp, actor, event, body_json, prev, digest))
        seqs.append(seq)
        prev = digest
    conn.executemany(AUDIT_EVENT_SQL, rows)
    return seqs


def append(conn: sqlite3.Connection, actor: str, event: str, body: dict[str, Any], ts: str | None = None) -> int:
    """Append one event at the head of the chain (in the caller's `BEGIN IMMEDIATE` write); returns its seq."""
    return append_many(conn, actor, ts or now(), [(event, body)])[0]


@attrs.frozen
class Problem:
    """One thing verification found wrong: where, and what."""

    where: str
    problem: str
    seq: int | None = None

    def __str__(self) -> str:
        return clean(f"{self.where}: {self.problem}")  # ids and keys can come from a tampered file


@attrs.frozen
class Anchor:
    """The chain's head, kept outside the database to catch truncation and rewrites."""

    seq: int
    hash: str

    def to_data(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"seq": self.seq, "hash": self.hash}


def head(conn: sqlite3.Connection) -> Anchor | None:
    """The current head of the chain."""
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return Anchor(row[0], row[1]) if row else None


def events(conn: sqlite3.Connection) -> Iterator[tuple[int, str, str, str, str, str, str]]:
    """Every audit row in sequence order."""
    yield from conn.execute("SELECT seq, ts, actor, event, body, prev_hash, hash FROM audit ORDER BY seq")


def verify(conn: sqlite3.Connection, anchor: Anchor | None = None) -> tuple[int, list[Problem]]:
    """Check the chain, the rows it vouches for, and (optionally) an anchor; returns (events, problems).

    Never raises on a damaged book: whatever was altered, and however, becomes a Problem.
    """
    problems: list[Problem] = []
    seen = _Seen(_Expected(conn))
    prev = ""
    count = 0
    anchor_seen = False
    chain_broken = False
    for seq, ts, actor, event, body_text, prev_hash, digest in events(conn):
        count += 1
        if chain_broken:
            continue
        if seq != count:
            problems.append(Problem(f"audit event {seq}", f"sequence gap: expected event {count}", seq))
            chain_broken = True
            continue
        if prev_hash != prev:
            problems.append(Problem(f"audit event {seq}", "does not follow the previous event's hash", seq))
            chain_broken = True
            continue
        problem = _event_problem(seq, ts, actor, event, body_text, prev_hash, digest)
        if problem:
            problems.append(Problem(f"audit event {seq}", problem, seq))
            chain_broken = True
            continue
        prev = digest
        if anchor is not None and seq == anchor.seq:
            anchor_seen = True
            if digest != anchor.hash:
                problems.append(Problem(f"audit event {seq}", "differs from the anchor: the chain was rewritten", seq))
        problems += seen.add(seq, str(event), json.loads(body_text))
    if anchor is not None and not anchor_seen and not chain_broken:
        problems.append(
            Problem("audit log", f"ends at event {count}, before the anchor's event {anchor.seq}: truncated")
        )
    if seen.genesis is None and count:
        problems.append(Problem("audit log", "has no book.created event"))
    problems += _check_meta(conn, seen.genesis, seen.key_moved)
    problems += _check_rows(conn, seen.rows)
    problems += _check_rulesets(conn, seen.rulesets if count else None)
    problems += _check_gate(conn)
    return count, problems


def _event_problem(seq: int, ts: Any, actor: Any, event: Any, body_text: Any, prev_hash: str,
                   digest: Any) -> str | None:
    """Why one audit row is not a well-formed event matching its hash, or None."""
    if not all(isinstance(v, str) for v in (ts, actor, event, body_text, digest)):
        return "a field is not text"
    try:
        body = json.loads(body_text)
        body_json = canonical_json(body)
    except (ValueError, TypeError, RecursionError):
        return "body is not valid JSON"
    if body_json != body_text:
        return "body is not in the form it was written in"
    if _event_hash_text(seq, prev_hash, ts, actor, event, body_json) != digest:
        return "content does not match its hash"
    if not isinstance(body, dict):
        return "body is not a JSON object"
    return None


@attrs.define
class _Seen:
    """What the chain vouches for, gathered event by event: row hashes, rule sets, the genesis."""

    rows: _Expected
    rulesets: dict[str, Any] = attrs.field(factory=dict)
    genesis: dict[str, Any] | None = None
    key_moved: bool = False

    def add(self, seq: int, event: str, body: dict[str, Any]) -> list[Problem]:
        """Take in one verified event; its malformed parts become problems."""
        out = []
        if event == "book.created":
            if self.genesis is not None:
                out.append(Problem(f"audit event {seq}", "a second book.created event", seq))
            self.genesis = body
        if event == KEY_MOVED:
            self.key_moved = True
        if event == "ruleset.stored":
            self.rulesets[str(body.get("ruleset"))] = body.get("edition")
        rows = body.get("rows", {})
        if not isinstance(rows, dict):
            return out + [Problem(f"audit event {seq}", "its row hashes are malformed", seq)]
        for table, hashes in rows.items():
            if table not in ROW_TABLES:
                continue
            if not isinstance(hashes, dict):
                out.append(Problem(f"audit event {seq}", f"its {table} row hashes are malformed", seq))
                continue
            for key, value in hashes.items():
                if not (isinstance(key, str) and key.isascii() and key.isdigit()) or not (
                        value is None or isinstance(value, str)):
                    out.append(Problem(f"audit event {seq}", f"its {table} row hashes are malformed", seq))
                    break
                self.rows.put(table, int(key), value)
        return out


class _Expected:
    """The row hashes the chain vouches for, kept in a temporary table on disk, not in memory.

    A million-case book vouches for three million rows: held in dicts that took ~700 MB. SQLite's
    temporary store spills to a file, so memory stays flat whatever the book's size (#14).
    """

    TABLE = "temp.pathways_expected_rows"
    _FLUSH = 20_000

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.pending: list[tuple[str, int, str | None]] = []
        conn.execute(f"DROP TABLE IF EXISTS {self.TABLE}")
        conn.execute(f"CREATE TABLE {self.TABLE} (tbl TEXT NOT NULL, key INTEGER NOT NULL, hash TEXT, "
                     "PRIMARY KEY (tbl, key)) WITHOUT ROWID")

    def put(self, table: str, key: int, value: str | None) -> None:
        """Record what the latest event says of one row (a later event replaces an earlier one)."""
        self.pending.append((table, key, value))
        if len(self.pending) >= self._FLUSH:
            self.flush()

    def flush(self) -> None:
        """Write the pending entries to the temporary table."""
        self.conn.executemany(f"INSERT OR REPLACE INTO {self.TABLE} (tbl, key, hash) VALUES (?, ?, ?)",  # noqa: S608
                              self.pending)
        self.pending = []

    def close(self) -> None:
        """Drop the temporary table."""
        self.pending = []
        self.conn.execute(f"DROP TABLE IF EXISTS {self.TABLE}")


META_KEYS = ("book_id", "kind")
"""The keys the meta table holds, written once with the genesis event."""

KEY_MOVED = "key.moved"
"""The event that records a book's pseudonym key moved out of `meta.secret` into its key file (#16)."""

KEY_IN_FILE = "file"
"""`key` in the genesis body of a book whose pseudonym key was never inside it."""


def _check_meta(conn: sqlite3.Connection, genesis: dict[str, Any] | None, key_moved: bool = False) -> list[Problem]:
    """The book's kind, id (and, in a book from before #16, key) must be those recorded when it was created.

    Since #16 the key lives in a key file: a book created so, or whose key was moved out, must not
    hold `secret` in meta.
    """
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if genesis is None:
        return [Problem("meta", "holds values but the audit log has no genesis event")] if meta else []
    out = []
    if meta.get("kind") != genesis.get("kind") or meta.get("book_id") != genesis.get("book_id"):
        out.append(Problem("meta", "kind or book id differs from when the book was created"))
    allowed: tuple[str, ...] = META_KEYS
    if not key_moved and genesis.get("key") != KEY_IN_FILE:
        allowed = (*META_KEYS, "secret")
        secret = meta.get("secret", "")
        if not isinstance(secret, str) or sha256_text(secret) != genesis.get("secret_sha256"):
            out.append(Problem("meta", "pseudonym key differs from when the book was created"))
    extra = sorted(str(k) for k in meta if k not in allowed)
    if extra:
        out.append(Problem("meta", "holds keys written outside Pathways: " + ", ".join(extra)))
    return out


def _check_rows(conn: sqlite3.Connection, expected: _Expected) -> list[Problem]:
    """Every row must match the hash its audit event recorded; no row may lack one (streamed, flat memory)."""
    out = []
    expected.flush()
    try:
        for table, key in ROW_TABLES.items():
            cur = conn.execute(  # table names and keys are constants
                f"SELECT t.*, e.key IS NOT NULL, e.hash FROM {table} AS t LEFT JOIN {expected.TABLE} AS e "  # noqa: S608
                f"ON e.tbl = ? AND e.key = t.{key}", (table,))
            names = [d[0] for d in cur.description][:-2]
            for *values, vouched, want in cur:
                row = dict(zip(names, values, strict=True))
                ident = row[key]
                if not vouched:
                    out.append(Problem(f"{table} {ident}", "row has no audit event (inserted outside Pathways)"))
                elif want is None:
                    out.append(Problem(f"{table} {ident}", "row was erased but is present"))
                elif not row_matches(row, str(want)):
                    out.append(Problem(f"{table} {ident}", "row differs from what was recorded"))
            missing = conn.execute(
                f"SELECT e.key FROM {expected.TABLE} AS e WHERE e.tbl = ? AND e.hash IS NOT NULL "  # noqa: S608
                f"AND NOT EXISTS (SELECT 1 FROM {table} AS t WHERE t.{key} = e.key) ORDER BY e.key", (table,))
            out += [Problem(f"{table} {ident}", "recorded row is missing") for (ident,) in missing]
    finally:
        expected.close()
    return out


def _check_rulesets(conn: sqlite3.Connection, stored: dict[str, Any] | None) -> list[Problem]:
    """Every snapshot must hash to its id and be the one a ruleset.stored event recorded (with its edition)."""
    out = []
    present = set()
    for digest, edition, content in conn.execute("SELECT digest, edition, content FROM rulesets"):
        present.add(digest)
        where = f"rule set {str(digest)[:19]}"
        if not isinstance(content, str) or "sha256:" + sha256_text(content) != digest:
            out.append(Problem(where, "snapshot content does not match its hash"))
        elif stored is not None and digest not in stored:
            out.append(Problem(where, "snapshot has no audit event (inserted outside Pathways)"))
        elif stored is not None and stored[digest] != edition:
            out.append(Problem(where, "edition differs from what was recorded"))
    for digest in sorted(set(stored or ()) - present):
        out.append(Problem(f"rule set {digest[:19]}", "recorded snapshot is missing"))
    return out


def _check_gate(conn: sqlite3.Connection) -> list[Problem]:
    """The erasure gate is open only inside an erasure's own transaction: never in a resting book."""
    try:
        is_open = conn.execute("SELECT COUNT(*) FROM erasure_gate").fetchone()[0]
    except sqlite3.OperationalError:  # a book made before erasure existed
        return []
    return [Problem("schema", "the erasure gate is open: protected rows can be deleted unseen")] if is_open else []

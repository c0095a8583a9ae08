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
from collections.abc import Iterator
from typing import Any

import attrs

from engine.rulebook import canonical_json

ROW_TABLES = {
    "cases": "id",
    "claimants": "case_id",
    "decisions": "id",
    "referrals": "id",
    "referral_events": "id",
}
"""Tables whose every row is vouched for by a row hash in an audit event."""


def sha256_text(text: str) -> str:
    """Hex sha256 of UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


LONG_TEXT = 256
"""Text values longer than this enter a row hash as their own sha256 (cheaper, equally binding)."""


def row_hash(row: dict[str, Any]) -> str:
    """The hash of a table row: sha256 of its canonical JSON, long texts by their own hash."""
    compact = {
        key: ("sha256:" + sha256_text(value)) if isinstance(value, str) and len(value) > LONG_TEXT else value
        for key, value in row.items()
    }
    return sha256_text(canonical_json(compact))


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


def append(conn: sqlite3.Connection, actor: str, event: str, body: dict[str, Any], ts: str | None = None) -> int:
    """Append one event at the head of the chain (call inside a `BEGIN IMMEDIATE` write)."""
    head_row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (head_row[0] + 1, head_row[1]) if head_row else (1, "")
    stamp = ts or now()
    body_json = canonical_json(body)
    digest = _event_hash_text(seq, prev, stamp, actor, event, body_json)
    conn.execute(
        "INSERT INTO audit (seq, ts, actor, event, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seq, stamp, actor, event, body_json, prev, digest),
    )
    return seq


@attrs.frozen
class Problem:
    """One thing verification found wrong: where, and what."""

    where: str
    problem: str
    seq: int | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


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
    """Check the chain, the rows it vouches for, and (optionally) an anchor; returns (events, problems)."""
    problems: list[Problem] = []
    expected: dict[str, dict[Any, str | None]] = {table: {} for table in ROW_TABLES}
    genesis: dict[str, Any] | None = None
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
        try:
            body = json.loads(body_text)
        except ValueError:
            problems.append(Problem(f"audit event {seq}", "body is not valid JSON", seq))
            chain_broken = True
            continue
        if event_hash(seq, prev_hash, ts, actor, event, body) != digest:
            problems.append(Problem(f"audit event {seq}", "content does not match its hash", seq))
            chain_broken = True
            continue
        prev = digest
        if anchor is not None and seq == anchor.seq:
            anchor_seen = True
            if digest != anchor.hash:
                problems.append(Problem(f"audit event {seq}", "differs from the anchor: the chain was rewritten", seq))
        if event == "book.created":
            genesis = body
        for table, rows in body.get("rows", {}).items():
            if table in expected:
                for key, value in rows.items():
                    expected[table][int(key)] = value
    if anchor is not None and not anchor_seen and not chain_broken:
        problems.append(
            Problem("audit log", f"ends at event {count}, before the anchor's event {anchor.seq}: truncated")
        )
    if genesis is None and count:
        problems.append(Problem("audit log", "has no book.created event"))
    problems += _check_meta(conn, genesis)
    problems += _check_rows(conn, expected)
    problems += _check_rulesets(conn)
    return count, problems


def _check_meta(conn: sqlite3.Connection, genesis: dict[str, Any] | None) -> list[Problem]:
    """The book's kind, id and key must be those recorded when it was created."""
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if genesis is None:
        return []
    out = []
    if meta.get("kind") != genesis.get("kind") or meta.get("book_id") != genesis.get("book_id"):
        out.append(Problem("meta", "kind or book id differs from when the book was created"))
    if sha256_text(meta.get("secret", "")) != genesis.get("secret_sha256"):
        out.append(Problem("meta", "pseudonym key differs from when the book was created"))
    return out


def _check_rows(conn: sqlite3.Connection, expected: dict[str, dict[Any, str | None]]) -> list[Problem]:
    """Every row must match the hash its audit event recorded; no row may lack one."""
    out = []
    for table, key in ROW_TABLES.items():
        want = expected[table]
        cur = conn.execute(f"SELECT * FROM {table}")  # noqa: S608 - table names are constants
        names = [d[0] for d in cur.description]
        seen = set()
        for values in cur:
            row = dict(zip(names, values, strict=True))
            ident = row[key]
            seen.add(ident)
            if ident not in want:
                out.append(Problem(f"{table} {ident}", "row has no audit event (inserted outside Pathways)"))
            elif want[ident] is None:
                out.append(Problem(f"{table} {ident}", "row was erased but is present"))
            elif row_hash(row) != want[ident]:
                out.append(Problem(f"{table} {ident}", "row differs from what was recorded"))
        for ident, value in want.items():
            if ident not in seen and value is not None:
                out.append(Problem(f"{table} {ident}", "recorded row is missing"))
    return out


def _check_rulesets(conn: sqlite3.Connection) -> list[Problem]:
    """Every stored rule set snapshot must hash to its id."""
    out = []
    for digest, content in conn.execute("SELECT digest, content FROM rulesets"):
        if "sha256:" + sha256_text(content) != digest:
            out.append(Problem(f"rule set {digest[:19]}", "snapshot content does not match its hash"))
    return out

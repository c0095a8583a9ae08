"""The append-only, hash-chained audit log, and its verification against the rows it vouches for.

Each event's hash covers its sequence number, the previous hash, time, actor, event name and body.
Bodies hold no personal data: ids, keyed references and the hashes of the rows each write made, so
`verify` can tell that every row in every table is exactly what was written, and nothing more.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import orjson

from engine.casebook.bulk import insert_rows
from engine.casebook.db import DICTIONARY_TABLES, ERASABLE, PRIMARY_KEYS, TRAINING_TABLES, read_snapshot
from engine.casebook.mac import Mac
from engine.errors import InputError
from engine.intake.stored import sha256_text
from engine.policy.rulebook import canonical_json
from engine.textsafe import clean

if TYPE_CHECKING:
    from engine.casebook.keyed import Keyed

KEYED_PREFIX = "k1:"
"""Marks a keyed row hash (engine.casebook.keyed): checking it needs the book's key file."""

ROW_TABLES = {table: PRIMARY_KEYS[table] for table in (*ERASABLE, *TRAINING_TABLES, *DICTIONARY_TABLES)}
"""Tables whose every row is vouched for by a row hash in an audit event (the erasable ones, the
training attempts and the decision dictionaries), by key."""


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


def row_hash(row: dict[str, Any]) -> str:
    """The hash of a table row: `v2:` and the sha256 of its canonical JSON, long texts by their own hash.

    A long text enters as {"sha256": ...}, which no column value can equal, so a row whose long text
    was replaced by the text of its hash no longer matches.
    """
    return ROW_HASH_PREFIX + hashlib.sha256(row_json(row)).hexdigest()


def row_json(row: dict[str, Any]) -> bytes:
    """The bytes a row hash covers: `canonical_json(compact_row(row))` in UTF-8, byte for byte.

    Made in one pass for the rows every write hashes (text, integers and nulls: #14): orjson writes those as
    the standard library does, so the general encoder's checks for floats are not needed. Anything else
    (a blob, a float, a bool, a number beyond 64 bits, a lone surrogate) takes the general road.
    """
    compacted: dict[str, Any] = {}
    for key, value in row.items():
        kind = type(value)
        if kind is str:
            if len(value) > LONG_TEXT:
                value = {"sha256": sha256_text(value)}
        elif kind is not int and value is not None:
            return canonical_json(compact_row(row)).encode("utf-8")
        compacted[key] = value
    try:
        return orjson.dumps(compacted, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return canonical_json(compact_row(row)).encode("utf-8")


def compact_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row as its hash covers it: long texts and blobs as objects no column value can equal."""
    return {key: _compact(value) for key, value in row.items()}


def row_matches(row: dict[str, Any], recorded: str, keyed: Keyed | None = None) -> bool:
    """True when `row` is exactly the row whose hash was recorded (a keyed `k1:` hash needs the book's key)."""
    try:
        if recorded.startswith(KEYED_PREFIX):
            return keyed is not None and keyed.row_hash(row) == recorded
        return row_hash(row) == recorded
    except (TypeError, ValueError):  # a value no recorded row ever held
        return False


def keyed_ref(secret: str, value: str) -> str:
    """A keyed pseudonym (HMAC-SHA256, 16 hex) that links records without revealing the value."""
    return hmac.new(secret.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def keyed_refs(secret: str) -> Callable[[str], str]:
    """`keyed_ref` under one secret for many values: the key's HMAC state is made once, not for each value (#14)."""
    base = Mac(secret.encode("utf-8"))

    def ref(value: str) -> str:
        return base.hexdigest(value.encode("utf-8"))[:16]

    return ref


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


AUDIT_EVENT_HEAD = "INSERT INTO audit (seq, ts, actor, event, body, prev_hash, hash)"
"""The one statement that extends the chain, before its rows (used only here)."""


def append_many(conn: sqlite3.Connection, actor: str, stamp: str,
                items: Iterable[tuple[str, dict[str, Any]]]) -> list[int]:
    """Append (event, body) pairs at the head of the chain, in order, in the caller's write transaction.

    Call inside a `BEGIN IMMEDIATE` write (`db.write`) that also makes the rows the bodies vouch
    for, so rows and events commit together or not at all. Returns the events' sequence numbers.
    """
    return append_encoded(conn, actor, stamp, ((event, canonical_json(body)) for event, body in items))


def append_encoded(conn: sqlite3.Connection, actor: str, stamp: str, items: Iterable[tuple[str, str]]) -> list[int]:
    """`append_many` of (event, body already in canonical JSON) pairs: for a writer that encodes its bodies faster."""
    head_row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (head_row[0], head_row[1]) if head_row else (0, "")
    rows = chain(seq, prev, stamp, actor, items)
    insert_rows(conn, AUDIT_EVENT_HEAD, rows)
    return [row[0] for row in rows]


def chain(seq: int, prev: str, stamp: str, actor: str,
          items: Iterable[tuple[str, str]]) -> list[tuple[int, str, str, str, str, str, str]]:
    """The audit rows that extend a chain whose head is (seq, prev) by (event, body JSON) pairs.

    Each hash is `_event_hash_text`'s, byte for byte: the parts every event of one write shares (actor,
    time, event names) are encoded once, and a previous hash (hex) needs no escaping (#14).
    """
    dump = json.dumps
    head = f'{{"actor":{dump(actor, ensure_ascii=False)},"body":'
    tail = f',"ts":{dump(stamp, ensure_ascii=False)}}}'
    names: dict[str, str] = {}
    prev_json = dump(prev)
    rows = []
    for event, body_json in items:
        seq += 1
        name = names.get(event)
        if name is None:
            name = names[event] = dump(event, ensure_ascii=False)
        digest = sha256_text(f'{head}{body_json},"event":{name},"prev":{prev_json},"seq":{seq}{tail}')
        rows.append((seq, stamp, actor, event, body_json, prev, digest))
        prev, prev_json = digest, f'"{digest}"'
    return rows


def plain_json(data: Any) -> str:
    """`canonical_json` of data that holds no floats (text, integers, nulls, lists and dicts with text keys),
    without the general encoder's scan for the floats orjson writes differently (#14)."""
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except orjson.JSONEncodeError:
        return canonical_json(data)


def append(conn: sqlite3.Connection, actor: str, event: str, body: dict[str, Any], ts: str | None = None) -> int:
    """Append one event at the head of the chain (in the caller's `BEGIN IMMEDIATE` write); returns its seq."""
    return append_many(conn, actor, ts or now(), [(event, body)])[0]


@attrs.frozen
class Problem:
    """One thing verification found wrong: where, and what."""

    where: str
    problem: str
    seq: int | None = None
    table: str | None = None
    key: Any = None
    sep: str = ": "
    unvouched_from: int | None = None  # set on a break in the chain: events from this one on are not vouched for

    def __str__(self) -> str:
        return clean(f"{self.where}{self.sep}{self.problem}")  # ids and keys can come from a tampered file

    def to_data(self) -> dict[str, Any]:
        """JSON-ready form: the sentence, and where it points (audit event, table and row key) for tools."""
        return {"problem": str(self), "seq": self.seq, "table": self.table,
                "key": self.key if isinstance(self.key, int | str) else None}


@attrs.frozen
class Anchor:
    """The chain's head, kept outside the database to catch truncation and rewrites."""

    seq: int
    hash: str

    def to_data(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"seq": self.seq, "hash": self.hash}


def load_anchor(path: Path) -> Anchor:
    """An anchor file written by `audit anchor -o` (InputError naming the file if it is not one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Anchor(int(data["seq"]), str(data["hash"]))
    except FileNotFoundError:
        raise InputError("no such anchor file", str(path)) from None
    except IsADirectoryError:
        raise InputError("is a folder, not an anchor file", str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read anchor file ({exc.strerror})", str(path)) from None
    except (ValueError, KeyError, TypeError):
        raise InputError("not an anchor file (expected {\"seq\": N, \"hash\": \"...\"})", str(path)) from None


def head(conn: sqlite3.Connection) -> Anchor | None:
    """The current head of the chain."""
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return Anchor(row[0], row[1]) if row else None


def events(conn: sqlite3.Connection, after: int = 0) -> Iterator[tuple[int, str, str, str, str, str, str]]:
    """Every audit row in sequence order (those after event `after` only, when given)."""
    if after:
        yield from conn.execute("SELECT seq, ts, actor, event, body, prev_hash, hash FROM audit WHERE seq > ? "
                                "ORDER BY seq", (after,))
        return
    yield from conn.execute("SELECT seq, ts, actor, event, body, prev_hash, hash FROM audit ORDER BY seq")


def verify(conn: sqlite3.Connection, anchor: Anchor | None = None,
           keyed: Keyed | None = None) -> tuple[int, list[Problem]]:
    """Check the chain, the rows it vouches for, and (optionally) an anchor; returns (events, problems).

    Everything is read in one read transaction (one snapshot), so another process writing
    meanwhile raises no false alarm. Rows vouched for by keyed (`k1:`) hashes are checked with
    `keyed`, the book's key; without it they are reported as unchecked. Never raises on a damaged
    book: whatever was altered, and however, becomes a Problem in plain words.
    """
    with read_snapshot(conn):
        count, problems, _ = verify_state(conn, anchor, keyed)
        return count, problems


@attrs.frozen
class Since:
    """Where an incremental check starts: the last event a full verify checked, and what it had gathered by then.

    `max_keys` is each table's largest row key then: rows above it are new, and are all read.
    """

    seq: int
    hash: str
    rulesets: dict[str, Any]
    key_moved: bool
    max_keys: dict[str, int]


@attrs.frozen
class Gathered:
    """What a verification gathered on its way, for a verification mark: rule sets, rows read, largest keys."""

    rulesets: dict[str, Any]
    key_moved: bool
    rows: dict[str, int]
    max_keys: dict[str, int]


Progress = Callable[[str, int, int | None], None]
"""Told how far a long verify has gone: ("events" or "rows" or "signatures", done, total if known). It may
raise to stop the verify (a screen left, a newer verify started)."""

PROGRESS_EVERY = 20_000
"""Events or rows between two progress reports."""


def verify_state(conn: sqlite3.Connection, anchor: Anchor | None = None, keyed: Keyed | None = None,
                 since: Since | None = None, progress: Progress | None = None) -> tuple[int, list[Problem], Gathered]:
    """`verify` in the caller's snapshot, also giving what it gathered; with `since`, only what came after it.

    With `since` (an incremental check), the chain is walked from the event after `since.seq`
    (whose hash the caller has found unchanged), and only the rows those events vouch for, and
    rows newer than any the full verify saw, are read; returns the number of events walked.
    """
    seen = _Seen(_Expected(conn))
    walk = _ChainWalk(anchor)
    after = 0
    if since is not None:
        after = since.seq
        seen.genesis = _genesis(conn)
        seen.key_moved, seen.rulesets = since.key_moved, dict(since.rulesets)
        walk.expected, walk.prev = since.seq + 1, since.hash
        row = conn.execute("SELECT ts FROM audit WHERE seq = ?", (since.seq,)).fetchone()
        if row is not None and isinstance(row[0], str):
            walk.prev_time, walk.prev_ts = _parse_time(row[0]), row[0]
    total = (conn.execute("SELECT MAX(seq) FROM audit").fetchone()[0] or 0) - after if progress else 0
    try:
        for seq, ts, actor, event, body_text, prev_hash, digest in events(conn, after):
            body = walk.step(seq, ts, actor, event, body_text, prev_hash, digest)
            if body is not None:
                walk.problems += seen.add(seq, str(event), body, vouched=walk.vouched)
            if progress is not None and not walk.count % PROGRESS_EVERY:
                progress("events", walk.count, total)
        if progress is not None:
            progress("events", walk.count, walk.count)
        rows, unvouched, orphans = _check_rows(conn, seen, broken=walk.first_break is not None, keyed=keyed,
                                               since=since.max_keys if since is not None else None,
                                               progress=progress)
    finally:
        seen.rows.close()
    problems = walk.finish(unvouched, orphans)
    if seen.genesis is None and (walk.count or since is not None):
        problems.append(Problem("audit log", "has no book.created event"))
    problems += _check_meta(conn, seen.genesis, seen.key_moved)
    problems += rows
    problems += _check_rulesets(conn, seen.rulesets if walk.count or since is not None else None,
                                broken=walk.first_break is not None)
    problems += _check_gate(conn)
    gathered = Gathered(dict(seen.rulesets), seen.key_moved, dict(seen.counts), _max_keys(conn))
    return walk.count, problems, gathered


def _genesis(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The body of event 1 when it is an unaltered book.created event (for an incremental check's meta)."""
    row = conn.execute("SELECT seq, ts, actor, event, body, prev_hash, hash FROM audit WHERE seq = 1").fetchone()
    if row is None:
        return None
    _, ts, actor, event, body_text, prev_hash, digest = row
    if event != "book.created" or _event_problem(1, ts, actor, event, body_text, str(prev_hash), digest):
        return None
    body = json.loads(body_text)
    return body if isinstance(body, dict) else None


def _max_keys(conn: sqlite3.Connection) -> dict[str, int]:
    """Each row table's largest key now (tables missing or empty are left out)."""
    out = {}
    for table, key in ROW_TABLES.items():
        try:
            top = conn.execute(f"SELECT MAX({key}) FROM {table}").fetchone()[0]  # noqa: S608 - constants
        except sqlite3.OperationalError:  # a book from before the table existed
            continue
        if isinstance(top, int):
            out[table] = top
    return out


def _claims(body_text: Any) -> dict[str, Any] | None:
    """The body of an event that failed its checks, if it is still a JSON object (else None)."""
    try:
        body = json.loads(body_text)
    except (TypeError, ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def _parse_time(ts: str) -> dt.datetime | None:
    """An event's time as an aware datetime (None if it is not one)."""
    try:
        when = dt.datetime.fromisoformat(ts)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


@attrs.define
class _ChainWalk:
    """The audit chain walked in order: gaps, broken links, altered events, time running backwards.

    After the first break (a missing event, a broken link, an altered event) nothing later can be
    tied to the book's beginning: those events, and the rows they recorded, "cannot be vouched
    for". That is one problem, not one for each later row. The walk goes on past a break, so later
    events are still read (their rows are not called "added outside Pathways") and any further
    break is reported too.
    """

    anchor: Anchor | None
    problems: list[Problem] = attrs.field(factory=list)
    count: int = 0
    expected: int = 1
    prev: str = ""
    prev_time: dt.datetime | None = None
    prev_ts: str = ""
    vouched: bool = True
    first_break: int | None = None  # index in problems of the first break's problem
    break_seq: int | None = None
    last_seq: int | None = None
    anchor_seen: bool = False

    def _break(self, problem: Problem) -> None:
        """Note a break in the chain: from here on nothing is vouched for."""
        if self.first_break is None:
            self.first_break = len(self.problems)
            self.break_seq = problem.seq
        self.problems.append(problem)
        self.vouched = False

    def step(self, seq: Any, ts: Any, actor: Any, event: Any, body_text: Any, prev_hash: Any,
             digest: Any) -> dict[str, Any] | None:
        """Check one event; returns its body when it is well formed and matches its hash (else None)."""
        self.count += 1
        if not isinstance(seq, int):
            self._break(Problem("audit log", "holds an event whose number is not a whole number"))
            return None
        self.last_seq = seq
        where = f"audit event {seq}"
        if seq != self.expected:
            if seq > self.expected:
                one = seq == self.expected + 1
                gone = f"audit event {self.expected}" if one else f"audit events {self.expected}-{seq - 1}"
                self._break(Problem(gone, ("is" if one else "are") + " missing: deleted after being recorded", seq,
                                    sep=" "))
            else:
                self._break(Problem(where, f"is out of sequence: expected event {self.expected}", seq))
        elif prev_hash != self.prev:
            self._break(Problem(where, f"does not follow event {seq - 1}: the chain's link between them was "
                                       "altered (one of the two events was changed or replaced)", seq))
        self.expected = seq + 1
        self.prev = digest if isinstance(digest, str) else ""
        if self.anchor is not None and seq == self.anchor.seq:
            self.anchor_seen = True
            if digest != self.anchor.hash:
                self.problems.append(Problem(where, "differs from the anchor: the chain was rewritten", seq))
        problem = _event_problem(seq, ts, actor, event, body_text, str(prev_hash), digest)
        if problem:
            self._break(Problem(where, problem, seq, sep=" " if problem.startswith("was ") else ": "))
            return _claims(body_text)  # what it says it recorded: its rows are then "not vouched for"
        self._check_time(seq, str(ts))
        return json.loads(body_text)

    def _check_time(self, seq: int, ts: str) -> None:
        """Flag an event dated before the one it follows (a forged or backdated event)."""
        when = _parse_time(ts)
        if when is None:
            self.problems.append(Problem(f"audit event {seq}", f"is dated {ts[:40]!r}, which is not a time", seq))
            return
        if self.prev_time is not None and when < self.prev_time:
            self.problems.append(Problem(f"audit event {seq}", f"is dated {ts}, before event {seq - 1} "
                                                             f"({self.prev_ts}): time runs backwards", seq))
        self.prev_time, self.prev_ts = when, ts

    def finish(self, unvouched_rows: int, orphans: int = 0) -> list[Problem]:
        """The chain's problems, the first break saying what cannot be vouched for; the anchor's end checked.

        `orphans` are rows no surviving event records (their event may be among those missing).
        """
        out = list(self.problems)
        if self.first_break is not None and self.last_seq is not None and self.break_seq is not None:
            first = out[self.first_break]
            after = (f"event {self.break_seq}" if self.last_seq == self.break_seq
                     else f"events {self.break_seq}-{self.last_seq}")
            parts = [after]
            if unvouched_rows:
                parts.append(f"the {unvouched_rows} row(s) {'it' if self.last_seq == self.break_seq else 'they'} "
                             "recorded")
            if orphans:
                parts.append(f"{orphans} row(s) no surviving event records")
            said = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
            out[self.first_break] = attrs.evolve(
                first, problem=f"{first.problem}; from there on the chain is broken: {said} cannot be vouched for",
                unvouched_from=self.break_seq)
        if self.anchor is not None and not self.anchor_seen:
            if self.last_seq is not None and self.last_seq >= self.anchor.seq:
                out.append(Problem("audit log", f"the anchor's event {self.anchor.seq} is missing"))
            else:
                out.append(Problem("audit log", f"ends at event {self.last_seq or 0}, before the anchor's event "
                                                f"{self.anchor.seq}: truncated"))
        return out


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
        return "was changed after it was recorded: its content does not match its hash"
    if not isinstance(body, dict):
        return "body is not a JSON object"
    return None


@attrs.define
class _Seen:
    """What the chain vouches for, gathered event by event: row hashes, rule sets, the genesis.

    Row hashes from events after a break in the chain are kept apart as unvouched: they say what was
    recorded, but nothing ties them to the book's beginning. The row hashes go to `rows`, a
    temporary table, not to memory (#14).
    """

    rows: _Expected
    rulesets: dict[str, Any] = attrs.field(factory=dict)
    genesis: dict[str, Any] | None = None
    key_moved: bool = False
    counts: dict[str, int] = attrs.field(factory=dict)  # rows read in each table

    def add(self, seq: int, event: str, body: dict[str, Any], vouched: bool = True) -> list[Problem]:
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
                self.rows.put(table, int(key), value, vouched)
        return out


SQLITE_MAX_INT = 2**63 - 1
"""The largest whole number SQLite stores as one (a larger key cannot be any row's)."""


class _Expected:
    """The row hashes the chain vouches for, by table and key, in a temporary table rather than in memory.

    A million-case book vouches for millions of rows: held in dicts they took ~700 MB. SQLite's
    temporary store (`temp_store=FILE`) is a file of its own outside the book, deleted when closed,
    with a small page cache, so memory stays flat whatever the book's size (#14). It works on a
    read-only (`mode=ro`) connection and leaves the book and its WAL untouched. Each (table, key)
    keeps what the last vouched event said (`want`) and, apart, what the last event after a break
    in the chain said (`later`), as the two dicts it replaces did. Keys are digits; one too large
    for SQLite's integers is kept as the bytes of its digits, which no row's key equals. Tables go
    by number and well-formed hashes as 33 bytes (prefix, digest), so the file stays small.
    """

    TABLE = "temp.pathways_verify_rows"
    FLUSH = 20_000
    _PUT: ClassVar[dict[bool, str]] = {
        True: (f"INSERT INTO {TABLE} (tbl, key, in_want, want) VALUES (?, ?, 1, ?) "  # noqa: S608 - constant
               "ON CONFLICT (tbl, key) DO UPDATE SET in_want = 1, want = excluded.want"),
        False: (f"INSERT INTO {TABLE} (tbl, key, in_later, later) VALUES (?, ?, 1, ?) "  # noqa: S608 - constant
                "ON CONFLICT (tbl, key) DO UPDATE SET in_later = 1, later = excluded.later"),
    }

    TABLES: ClassVar[dict[str, int]] = {table: n for n, table in enumerate(ROW_TABLES)}
    PREFIXES = (ROW_HASH_PREFIX, KEYED_PREFIX)
    CACHE_KIB = 16_384
    """The temporary table's page cache: enough to keep inserts quick, small beside the 200 MB aim."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.pending: dict[bool, list[tuple[int, Any, str | bytes | None]]] = {True: [], False: []}
        if conn.execute("PRAGMA temp_store").fetchone()[0] != 1:  # never in memory, however SQLite was built
            with contextlib.suppress(sqlite3.OperationalError):  # not settable once the temp store is in use
                conn.execute("PRAGMA temp_store=FILE")
        conn.execute(f"DROP TABLE IF EXISTS {self.TABLE}")
        conn.execute(f"CREATE TABLE {self.TABLE} (tbl INTEGER NOT NULL, key INTEGER NOT NULL, in_want INTEGER NOT "
                     "NULL DEFAULT 0, want, in_later INTEGER NOT NULL DEFAULT 0, later, "
                     "PRIMARY KEY (tbl, key)) WITHOUT ROWID")
        conn.execute(f"PRAGMA temp.cache_size = -{self.CACHE_KIB}")

    def put(self, table: str, key: int, value: str | None, vouched: bool) -> None:
        """Note what an event says of one row (a later event's word replaces an earlier one's)."""
        pending = self.pending[vouched]
        pending.append((self.TABLES[table], key if key <= SQLITE_MAX_INT else str(key).encode("ascii"),
                        self.pack(value)))
        if len(pending) >= self.FLUSH:
            self.flush()

    @classmethod
    def pack(cls, value: str | None) -> str | bytes | None:
        """A row hash as stored: `v2:`/`k1:` and 64 lower-case hex digits as 33 bytes, anything else as it is."""
        if value is None or len(value) != 67 or value[:3] not in cls.PREFIXES:
            return value
        digest = value[3:]
        if digest != digest.lower():
            return value
        try:
            return bytes((cls.PREFIXES.index(value[:3]),)) + bytes.fromhex(digest)
        except ValueError:
            return value

    @classmethod
    def unpack(cls, stored: Any) -> str | None:
        """A row hash as the event said it."""
        if isinstance(stored, bytes):
            return cls.PREFIXES[stored[0]] + stored[1:].hex()
        return stored if stored is None else str(stored)

    def flush(self) -> None:
        """Write what is pending to the temporary table."""
        for vouched, pending in self.pending.items():
            if pending:
                self.conn.executemany(self._PUT[vouched], pending)
                pending.clear()

    @staticmethod
    def key(stored: Any) -> Any:
        """A key as the event said it (one too large for SQLite comes back from its digits)."""
        return int(stored) if isinstance(stored, bytes) else stored

    def close(self) -> None:
        """Drop the temporary table (its file goes with it)."""
        self.pending = {True: [], False: []}
        with contextlib.suppress(sqlite3.OperationalError):  # still read by a statement: the rollback drops it
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


EXPLAINED = 200
"""Changed rows explained field by field (each costs a few hashes); any more are named only."""


def _check_rows(conn: sqlite3.Connection, seen: _Seen, broken: bool = False, keyed: Keyed | None = None,
                since: dict[str, int] | None = None,
                progress: Progress | None = None) -> tuple[list[Problem], int, int]:
    """Every row must match the hash its audit event recorded; no row may lack one.

    With `since` (each table's largest key at a verification mark), only rows above it and rows
    the events walked vouch for are read: an incremental check.

    Returns the problems; how many rows only events after a break vouch for (they match what those
    events recorded, but cannot be vouched for); and, in a broken chain, how many rows no surviving
    event records (their events may be the missing ones). Both counts are said once, with the break.
    """
    from engine.casebook.findings import explain_changed, row_name

    out: list[Problem] = []
    unvouched_rows = orphans = 0
    explained = unchecked = 0
    expected = seen.rows
    expected.flush()
    tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table, key in ROW_TABLES.items():
        number = expected.TABLES[table]
        if table not in tables:  # a book from before the table existed, opened without migrating
            recorded_rows = conn.execute(
                f"SELECT key FROM {expected.TABLE} WHERE tbl = ? AND "  # noqa: S608 - a constant
                "CASE WHEN in_later THEN later ELSE want END IS NOT NULL ORDER BY key", (number,))
            out += [Problem(row_name(table, expected.key(ident)), "is missing: it was recorded, and no erasure "
                            "removed it", table=table, key=expected.key(ident), sep=" ") for (ident,) in recorded_rows]
            continue
        # table and key names are constants; the row's own columns come first, then what was recorded
        every = (f"SELECT t.*, e.in_want, e.want, e.in_later, e.later FROM {table} AS t "  # noqa: S608
                 f"LEFT JOIN {expected.TABLE} AS e ON e.tbl = ? AND e.key = t.{key}")
        if since is None:
            cur = conn.execute(every, (number,))
        else:  # rows newer than the mark, then older rows the events walked vouch for
            older = (f"SELECT t.*, e.in_want, e.want, e.in_later, e.later FROM {expected.TABLE} AS e "  # noqa: S608
                     f"CROSS JOIN {table} AS t ON t.{key} = e.key WHERE e.tbl = ? AND t.{key} <= ?")
            top = since.get(table, -SQLITE_MAX_INT - 1)
            cur = conn.execute(f"{every} WHERE t.{key} > ? UNION ALL {older}", (number, top, number, top))
        count = 0
        names = [d[0] for d in cur.description][:-4]
        width = len(names)
        for values in cur:
            count += 1
            if progress is not None and not count % PROGRESS_EVERY:
                try:
                    progress("rows", sum(seen.counts.values()) + count, None)
                except BaseException:
                    cur.close()  # a stopped verify leaves no statement reading the temporary table
                    raise
            row = dict(zip(names, values[:width], strict=True))
            ident = row[key]
            in_want, want, in_later, later = values[width:]
            want, later = expected.unpack(want), expected.unpack(later)
            recorded = later if in_later else (want if in_want else _ABSENT)
            where = row_name(table, ident)
            if recorded is _ABSENT and broken:
                orphans += 1
            elif recorded is _ABSENT:
                out.append(Problem(where, "was added outside Pathways: no audit event records it",
                                   table=table, key=ident, sep=" "))
            elif recorded is None:
                out.append(Problem(where, "was erased (an audit event records its erasure) but is still in the book",
                                   table=table, key=ident, sep=" "))
            elif keyed is None and str(recorded).startswith(KEYED_PREFIX):
                unchecked += 1
            elif row_matches(row, str(recorded), keyed):
                unvouched_rows += bool(in_later)
            else:
                explained += 1
                words = (explain_changed(conn, table, row, str(recorded), keyed) if explained <= EXPLAINED
                         else "was changed after it was recorded")
                out.append(Problem(where, words, table=table, key=ident, sep=" "))
        seen.counts[table] = count
        gone = conn.execute(  # recorded rows the table no longer holds, in key order
            f"SELECT e.key, e.want, e.in_later, e.later FROM {expected.TABLE} AS e WHERE e.tbl = ? "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {table} AS t WHERE t.{key} = e.key) ORDER BY e.key", (number,))
        for stored, want, in_later, later in gone:
            ident, value = expected.key(stored), (later if in_later else want)
            if value is not None:
                out.append(Problem(row_name(table, ident), "is missing: it was recorded, and no erasure removed it",
                                   table=table, key=ident, sep=" "))
            elif in_later and want is not None:
                unvouched_rows += 1  # erased by an event after the break: the erasure cannot be vouched for
    if unchecked:
        out.append(Problem("key file", f"{unchecked} row(s) have keyed hashes and cannot be checked without "
                                       "the book's key file"))
    return out, unvouched_rows, orphans


_ABSENT: Any = object()
"""No audit event records this row."""


def _check_rulesets(conn: sqlite3.Connection, stored: dict[str, Any] | None, broken: bool = False) -> list[Problem]:
    """Every snapshot must hash to its id and be the one a ruleset.stored event recorded (with its edition)."""
    out = []
    present = set()
    for digest, edition, content in conn.execute("SELECT digest, edition, content FROM rulesets"):
        present.add(digest)
        where = f"rule set {str(digest)[:19]}"
        if not isinstance(content, str) or "sha256:" + sha256_text(content) != digest:
            out.append(Problem(where, "snapshot content does not match its hash"))
        elif stored is not None and digest not in stored:
            out.append(Problem(where, "snapshot has no audit event (inserted outside Pathways)" if not broken else
                               "snapshot has no audit event: its event is missing from the broken chain, or it "
                               "was inserted outside Pathways"))
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

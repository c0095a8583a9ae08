"""Signed checkpoints of the audit chain, and the signatures erasures carry (#15).

A checkpoint is the chain's head signed with an Ed25519 key kept away from the book:
`{book id, seq, head hash, count, time}`. Whoever can write the book can still append events that
look like real writes, but not unsign what a checkpoint witnessed: verifying against a checkpoint
fails when its head is gone from the chain, when it is another book's, when its signature is bad,
or when a row a checkpointed event vouched for is gone without an erasure signed by a
data-protection key registered in the book before the checkpoint. Events after the last checkpoint
are named as unwitnessed.

Erasure and retention in a live book are signed with a data-protection key whose public half was
registered in the book by an audited `dpkey.registered` event (the first one signed by the key
itself, later ones by a key already registered). The signature covers the book id, the event's
sequence number, the previous hash, time, actor, name and body, rows included, so it cannot be
moved to another event. Plain `audit verify` checks every signature it finds, and refuses an
unsigned erasure once the book requires them (a key is registered, or a live book made since #15).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from engine.casebook import audit
from engine.casebook.audit import KEYED_PREFIX, ROW_HASH_PREFIX, Problem
from engine.casebook.casework import DRAFT_REMOVED, DRAFT_SAVED
from engine.casebook.signing import fingerprint, public_from_hex, raw_public, sign, valid
from engine.errors import BookError, InputError
from engine.policy.rulebook import canonical_json

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DPKEY_EVENT = "dpkey.registered"
"""The audited event that registers a data-protection key's public half in a book."""

ERASURE_EVENTS = ("case.erased", "retention.applied")
"""The only events that may erase rows."""

SIGNED_EVENT_DOMAIN = "pathways.signed-event.v1"
"""Names what an event signature signs, so it cannot be taken for any other signed message."""

CHECKPOINT_TYPE = "pathways.checkpoint"
"""The `type` of a checkpoint's signed payload."""

GENESIS_ERASURE = "erasure"
"""Genesis body key: `signed` in a live book made since #15 (every erasure must be signed)."""

GENESIS_HASHES = "hashes"
"""Genesis body key: `keyed` in a book made since #15 (every row and inputs hash is keyed)."""


def event_message(book_id: str, seq: int, prev: str, ts: str, actor: str, event: str,
                  body: dict[str, Any]) -> bytes:
    """What a signed event's signature signs: the event as it is chained, less the signature itself."""
    unsigned = {key: value for key, value in body.items() if key != "signature"}
    return canonical_json({"domain": SIGNED_EVENT_DOMAIN, "book_id": book_id, "seq": seq, "prev": prev, "ts": ts,
                           "actor": actor, "event": event, "body": unsigned}).encode("utf-8", "surrogatepass")


def sign_next_event(conn: sqlite3.Connection, key: Ed25519PrivateKey, book_id: str, actor: str, ts: str,
                    event: str, body: dict[str, Any]) -> dict[str, Any]:
    """`body` signed for the event about to be appended (call inside the write that appends it)."""
    head = audit.head(conn)
    seq, prev = (head.seq + 1, head.hash) if head else (1, "")
    signed = {**body, "signed_by": fingerprint(key.public_key())}
    return {**signed, "signature": sign(key, event_message(book_id, seq, prev, ts, actor, event, signed))}


@attrs.define
class ChainSignatures:
    """What the signed parts of a chain say: registered keys, signed erasures, and which rows went when."""

    count: int = 0
    hashes: dict[int, str] = attrs.field(factory=dict)
    keys: dict[str, Ed25519PublicKey] = attrs.field(factory=dict)
    first_key_seq: int | None = None
    vouched: dict[tuple[str, int], int] = attrs.field(factory=dict)
    erased: dict[tuple[str, int], int] = attrs.field(factory=dict)
    signed_erasures: set[int] = attrs.field(factory=set)
    problems: list[Problem] = attrs.field(factory=list)
    signed_required: bool = False  # the genesis asked for signed erasures
    keyed_from: int | None = None  # the first event with keyed hashes

    def to_mark(self) -> dict[str, Any]:
        """What an incremental check needs to go on from here (public keys and flags: nothing personal)."""
        return {"keys": {fp: raw_public(key).hex() for fp, key in self.keys.items()},
                "first_key_seq": self.first_key_seq, "signed_required": self.signed_required,
                "keyed_from": self.keyed_from}

    @classmethod
    def from_mark(cls, data: Any) -> ChainSignatures:
        """The state `to_mark` gave (ValueError when it is not one)."""
        if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
            raise ValueError("not a signature state")
        keys = {}
        for fp, text in data["keys"].items():
            public = public_from_hex(text)
            if public is None or fingerprint(public) != fp:
                raise ValueError("not a public key")
            keys[fp] = public
        first, keyed = data.get("first_key_seq"), data.get("keyed_from")
        required = data.get("signed_required")
        if not all(v is None or type(v) is int for v in (first, keyed)) or type(required) is not bool:
            raise ValueError("not a signature state")
        return cls(keys=keys, first_key_seq=first, signed_required=required, keyed_from=keyed)


def scan(conn: sqlite3.Connection, book_id: str | None = None, *, rows: bool = True, after: int = 0,
         start: ChainSignatures | None = None, progress: audit.Progress | None = None) -> ChainSignatures:
    """Read the chain for its signatures and key registrations; never raises on a damaged book.

    The chain's own integrity (links, hashes, rows) is `audit.verify`'s: this adds only what
    signatures and keyed hashes must say. `book_id` defaults to the one in the book's meta.
    Without `rows`, the event hashes and which rows went when (kept for checkpoints, a few
    hundred bytes a case) are not gathered, so memory stays flat on a large book (#14). With
    `after` and `start` (a verification mark's state), only the events after `after` are read.
    """
    if book_id is None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'book_id'").fetchone()
        book_id = str(row[0]) if row else ""
    out = start if start is not None else ChainSignatures()
    for seq, ts, actor, event, body_text, prev, digest in audit.events(conn, after):
        out.count += 1
        if progress is not None and not out.count % audit.PROGRESS_EVERY:
            progress("signatures", out.count, None)
        if rows:
            out.hashes[seq] = digest
        try:
            body = json.loads(body_text)
        except (TypeError, ValueError, RecursionError):
            continue
        if not isinstance(body, dict):
            continue
        if event == "book.created":
            out.signed_required = body.get(GENESIS_ERASURE) == "signed"
            out.keyed_from = seq if body.get(GENESIS_HASHES) == "keyed" else None
        where = f"audit event {seq}"
        if event == DPKEY_EVENT:
            _register(out, seq, book_id, (ts, actor, event, prev), body)
            continue
        erasing = False
        said = body.get("rows")
        for table, hashes in (said.items() if isinstance(said, dict) else ()):
            if table not in audit.ROW_TABLES or not isinstance(hashes, dict):
                continue
            for ident, value in hashes.items():
                if not (isinstance(ident, str) and ident.isascii() and ident.isdigit()):
                    continue
                if value is None and table == "drafts" and event in (DRAFT_SAVED, DRAFT_REMOVED):
                    continue  # a draft replaced, discarded or recorded: working notes, not a recorded row
                if value is None:
                    erasing = True
                    if rows:
                        out.erased[(table, int(ident))] = seq
                elif isinstance(value, str):
                    if rows:
                        out.vouched.setdefault((table, int(ident)), seq)
                    if value.startswith(KEYED_PREFIX) and out.keyed_from is None:
                        out.keyed_from = seq
                    elif value.startswith(ROW_HASH_PREFIX) and out.keyed_from is not None:
                        out.problems.append(Problem(where, "holds an unkeyed row hash after keyed hashes began "
                                                           "(written outside Pathways)", seq))
        inputs = body.get("inputs_hash")
        if out.keyed_from is not None and isinstance(inputs, str) and not inputs.startswith(KEYED_PREFIX):
            out.problems.append(Problem(where, "holds an unkeyed inputs hash after keyed hashes began "
                                               "(written outside Pathways)", seq))
        if not erasing:
            continue
        if event not in ERASURE_EVENTS:
            out.problems.append(Problem(where, f"erases rows but is a {event} event, not an erasure", seq))
        elif "signature" in body or "signed_by" in body:
            public = out.keys.get(str(body.get("signed_by")))
            if public is not None and valid(public, event_message(book_id, seq, prev, ts, actor, event, body),
                                            body.get("signature")):
                out.signed_erasures.add(seq)
            else:
                out.problems.append(Problem(where, "erasure is not validly signed by a data-protection key "
                                                   "registered in this book", seq))
        elif out.signed_required or out.keys:
            out.problems.append(Problem(where, "erasure is not signed, though this book requires its erasures "
                                               "to be signed with its data-protection key", seq))
    return out


def _register(out: ChainSignatures, seq: int, book_id: str, context: tuple[str, str, str, str],
              body: dict[str, Any]) -> None:
    """Take in one key registration: self-signed when it is the first, else signed by a registered key."""
    ts, actor, event, prev = context
    public = public_from_hex(body.get("public_key"))
    signer = out.keys.get(str(body.get("signed_by"))) if out.keys else public
    ok = (public is not None and signer is not None and body.get("key") == fingerprint(public)
          and (out.keys or body.get("signed_by") == body.get("key"))
          and valid(signer, event_message(book_id, seq, prev, ts, actor, event, body), body.get("signature")))
    if not ok or public is None:
        out.problems.append(Problem(f"audit event {seq}", "registers a data-protection key without a valid "
                                                          "signature (by the key itself if first, else by a "
                                                          "key already registered)", seq))
        return
    out.keys[fingerprint(public)] = public
    if out.first_key_seq is None:
        out.first_key_seq = seq


def registration_body(conn: sqlite3.Connection, book_id: str, signer: Ed25519PrivateKey,
                      public: Ed25519PublicKey, actor: str, ts: str, extra: dict[str, Any]) -> dict[str, Any]:
    """The signed body of a `dpkey.registered` event (call inside the write that appends it).

    The first key a book registers must sign its own registration; any later one is signed by a
    key already registered. Refused (BookError) otherwise, or when the key is registered already.
    """
    chain = scan(conn, book_id, rows=False)
    new = fingerprint(public)
    if new in chain.keys:
        raise BookError(f"data-protection key {new} is already registered in this book", key="--pubkey")
    signer_fp = fingerprint(signer.public_key())
    if not chain.keys and signer_fp != new:
        raise BookError("the book has no data-protection key yet: the first one must sign its own "
                        "registration (give its private key as --key)", key="--key")
    if chain.keys and signer_fp not in chain.keys:
        raise BookError("a new data-protection key must be registered with a key already registered in this "
                        "book", key="--key", allowed=", ".join(sorted(chain.keys)))
    body = {**extra, "key": new, "public_key": raw_public(public).hex()}
    return sign_next_event(conn, signer, book_id, actor, ts, DPKEY_EVENT, body)


def registered_keys(conn: sqlite3.Connection, book_id: str) -> dict[str, Ed25519PublicKey]:
    """The data-protection keys validly registered in the book, by fingerprint."""
    return scan(conn, book_id, rows=False).keys


# -- checkpoints ---------------------------------------------------------------------------------


@attrs.frozen
class Checkpoint:
    """A signed checkpoint as read from its file."""

    book_id: str
    seq: int
    head: str
    count: int
    time: str
    key: str
    signature: str
    where: str

    def payload(self) -> dict[str, Any]:
        """What the signature signs."""
        return checkpoint_payload(self.book_id, self.seq, self.head, self.count, self.time, self.key)


def checkpoint_payload(book_id: str, seq: int, head: str, count: int, time: str, key: str) -> dict[str, Any]:
    """The signed part of a checkpoint."""
    return {"type": CHECKPOINT_TYPE, "version": 1, "book_id": book_id, "seq": seq, "head": head, "count": count,
            "time": time, "key": key}


def make_checkpoint(conn: sqlite3.Connection, book_id: str, key: Ed25519PrivateKey,
                    upto: int | None = None) -> dict[str, Any]:
    """The chain's head (or its event `upto`, the last one verified) signed with `key`, read in one snapshot.

    Refused (InputError) for an empty log.
    """
    conn.execute("BEGIN")
    try:
        head = audit.head(conn)
        if upto is not None and head is not None and head.seq > upto:
            row = conn.execute("SELECT seq, hash FROM audit WHERE seq = ?", (upto,)).fetchone()
            head = audit.Anchor(row[0], row[1]) if row else None
        count = conn.execute("SELECT COUNT(*) FROM audit WHERE seq <= ?", (head.seq if head else 0,)).fetchone()[0]
    finally:
        conn.execute("COMMIT")
    if head is None:
        raise InputError("the audit log is empty: nothing to checkpoint")
    payload = checkpoint_payload(book_id, head.seq, head.hash, count, audit.now(), fingerprint(key.public_key()))
    return {"checkpoint": payload, "signature": sign(key, canonical_json(payload).encode("utf-8"))}


def read_checkpoint(path: Path) -> Checkpoint:
    """A checkpoint file written by `audit checkpoint -o`; refused (InputError) when unreadable or malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        body = data["checkpoint"]
        if body.get("type") != CHECKPOINT_TYPE or body.get("version") != 1:
            raise ValueError
        fields = (str(body["book_id"]), int(body["seq"]), str(body["head"]), int(body["count"]),
                  str(body["time"]), str(body["key"]), str(data["signature"]))
    except FileNotFoundError:
        raise InputError("no such checkpoint file", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read checkpoint file ({type(exc).__name__})", str(path)) from None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise InputError("not a checkpoint file written by `pathways audit checkpoint`", str(path)) from None
    return Checkpoint(*fields, where=path.name)


@attrs.frozen
class CheckpointReport:
    """What checking the chain against checkpoints found, and which events no checkpoint witnessed."""

    problems: list[Problem]
    witnessed: int
    unwitnessed: tuple[int, int] | None

    def to_data(self) -> dict[str, Any]:
        """JSON-ready form."""
        span = {"from": self.unwitnessed[0], "to": self.unwitnessed[1]} if self.unwitnessed else None
        return {"witnessed_to": self.witnessed, "unwitnessed": span}


def check(conn: sqlite3.Connection, book_id: str | None, checkpoints: Iterable[Checkpoint],
          public: Ed25519PublicKey) -> CheckpointReport:
    """Check the chain against signed checkpoints: signature, book, head present, checkpointed rows kept."""
    chain = scan(conn, book_id or "")
    problems: list[Problem] = []
    witnessed = 0
    for point in checkpoints:
        where = f"checkpoint {point.where}"
        if point.key != fingerprint(public) or not valid(public, canonical_json(point.payload()).encode("utf-8"),
                                                         point.signature):
            problems.append(Problem(where, "bad signature: not signed by this public key, or altered"))
            continue
        if point.book_id != book_id:
            problems.append(Problem(where, "is another book's checkpoint"))
            continue
        if chain.hashes.get(point.seq) != point.head or point.count != point.seq:
            problems.append(Problem(where, f"its head, event {point.seq}, is missing from the chain: the log "
                                           "was cut off or rewritten", point.seq))
            continue
        witnessed = max(witnessed, point.seq)
        problems += _unsigned_losses(chain, point)
    last = chain.count
    span = (witnessed + 1, last) if last > witnessed else None
    return CheckpointReport(problems, witnessed, span)


def _unsigned_losses(chain: ChainSignatures, point: Checkpoint) -> list[Problem]:
    """Rows checkpointed events vouched for, erased after the checkpoint without a witnessed, valid signature."""
    trusted = chain.first_key_seq is not None and chain.first_key_seq <= point.seq
    lost: dict[int, int] = {}
    for row, vouched in chain.vouched.items():
        gone = chain.erased.get(row)
        if vouched > point.seq or gone is None or gone <= point.seq:
            continue
        if not (trusted and gone in chain.signed_erasures):
            lost[gone] = lost.get(gone, 0) + 1
    return [Problem(f"audit event {seq}", f"erases {n} row(s) that checkpoint {point.where} witnessed, without a "
                                          "valid signature by a data-protection key registered before that "
                                          "checkpoint", seq)
            for seq, n in sorted(lost.items())]

"""The case book: recorded cases, decisions, rule set snapshots and referrals, in SQLite.

Every write runs in one `BEGIN IMMEDIATE` transaction with its audit event, so a decision is
recorded whole or not at all. A live book refuses synthetic (QQ) NINOs; a training book accepts
only them, and says what it is inside the file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import platformdirs
import sqlite_utils

from engine import __version__
from engine.casebook import audit as A
from engine.casebook.db import check_triggers, connect, write
from engine.errors import BookError
from engine.model.case import Case
from engine.model.decision import Decision
from engine.model.nino import is_synthetic
from engine.policy.rulebook import RuleSet
from engine.textsafe import is_unsafe

LIVE = "live"
TRAINING = "training"

REFERRAL_STATUSES = ("proposed", "booked", "attended", "did_not_attend", "declined", "closed")
"""A referral's lifecycle states."""

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("booked", "declined", "closed"),
    "booked": ("booked", "attended", "did_not_attend", "declined", "closed"),
    "did_not_attend": ("booked", "declined", "closed"),
    "attended": ("closed",),
    "declined": ("closed",),
    "closed": (),
}
"""Which status may follow which (re-booking after a missed appointment is allowed)."""

MAX_NOTE = 2000
"""Longest referral note or provider name accepted, in characters."""


def default_db_path() -> Path:
    """`$PATHWAYS_DB`, else `pathways.db` in the user's data folder."""
    env = os.environ.get("PATHWAYS_DB")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("pathways", appauthor=False)) / "pathways.db"


@attrs.frozen
class Referral:
    """A referral with its current status and history."""

    id: int
    decision_id: int
    code: str
    provider: str
    created_by: str
    created_at: str
    status: str
    appointment: str | None
    history: tuple[dict[str, Any], ...]


class CaseBook:
    """One open case book (use as a context manager, or call close())."""

    def __init__(self, path: Path | str, *, training: bool | None = None, create: bool = True,
                 actor: str = "system") -> None:
        self.path = Path(path)
        self.db: sqlite_utils.Database = connect(self.path, create=create)
        self._actor = actor
        try:
            if training is not None:
                self._init_meta(training, actor)
            if self.kind is not None and training is not None and (self.kind == TRAINING) != training:
                want = "a training" if training else "a live"
                raise BookError(f"is a {self.kind} case book, not {want} one", str(self.path))
        except BaseException:
            self.db.conn.close()
            raise

    @property
    def kind(self) -> str | None:
        """'live' or 'training'; None for a new book whose first case has not been written yet."""
        return self._fixed_meta().get("kind")

    @property
    def _secret(self) -> str:
        return self._fixed_meta().get("secret", "")

    def _fixed_meta(self) -> dict[str, str]:
        """The book's meta, cached once written (it never changes after the genesis event)."""
        cached = getattr(self, "_meta_cache", None)
        if cached:
            return cached
        meta = self._meta()
        if meta:
            self._meta_cache = meta
        return meta

    def _writable(self) -> None:
        """Refuse to write to a book whose protective triggers were removed."""
        missing = check_triggers(self.db)
        if missing:
            raise BookError("protective triggers are missing (" + ", ".join(missing) + "): "
                            "the book may have been tampered with; run `pathways audit verify`", str(self.path))

    def __enter__(self) -> CaseBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.db.conn.close()

    @property
    def conn(self) -> Any:
        """The underlying sqlite3 connection."""
        return self.db.conn

    def _meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def _init_meta(self, training: bool, actor: str) -> None:
        """Write the book's kind, id and pseudonym key once, with the genesis audit event.

        A new book takes its kind from --training/--live when given, else from the first case
        written to it (a synthetic QQ number makes a training book); after that it never changes.
        """
        if self._meta():
            return
        with write(self.db) as conn:
            if conn.execute("SELECT COUNT(*) FROM meta").fetchone()[0]:
                return  # another process initialised it while we waited
            kind = TRAINING if training else LIVE
            secret = secrets.token_hex(32)
            book_id = secrets.token_hex(8)
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                             [("kind", kind), ("book_id", book_id), ("secret", secret)])
            A.append(conn, actor, "book.created",
                     {"kind": kind, "book_id": book_id, "secret_sha256": A.sha256_text(secret)})

    def pseudonym(self, value: str) -> str:
        """A keyed pseudonym for a case reference (stable within this book only)."""
        return A.keyed_ref(self._secret, value)

    # -- recording ---------------------------------------------------------------------------

    def check_nino(self, case: Case) -> None:
        """Refuse a NINO of the wrong kind for this book (QQ only in training, never in live)."""
        self._check_kind(case.claimant.nino)

    def record(self, case: Case, decision: Decision, ruleset: RuleSet, adviser: str) -> int:
        """Record one case with its decision and audit event; returns the decision id."""
        return self.record_many([(case, decision, ruleset)], adviser)[0]

    def record_many(self, items: Iterable[tuple[Case, Decision, RuleSet]], adviser: str) -> list[int]:
        """Record many decisions in one transaction (all or none); returns their ids."""
        rulesets: dict[str, RuleSet] = {}
        prepared = []
        for case, decision, ruleset in items:
            if decision.ruleset != ruleset.digest:
                raise ValueError("decision and rule set differ")
            rulesets[ruleset.digest] = ruleset
            prepared.append(Prepared.of(case, decision))
        return self.record_prepared(prepared, rulesets, adviser)

    def record_prepared(self, prepared: list[Prepared], rulesets: dict[str, RuleSet], adviser: str,
                        skip_recorded: bool = False) -> list[int]:
        """Record prepared decisions in one transaction; with skip_recorded, inputs already here are skipped.

        Returns the new decision ids (skipped ones are left out).
        """
        self._writable()
        adviser = _clean_field(adviser, "adviser", 64)
        if not prepared:
            return []
        if self.kind is None:
            self._init_meta(next((p.synthetic for p in prepared if p.nino), False), adviser)
        for item in prepared:
            self._check_kind(item.nino)
        with write(self.db) as conn:
            seen: set[tuple[str, str]] = set()
            if skip_recorded:
                seen = self._already_recorded(conn, prepared)
            fresh = []
            for item in prepared:
                key = (item.ref, item.inputs_hash)
                if skip_recorded and key in seen:
                    continue
                seen.add(key)
                fresh.append(item)
            for digest in dict.fromkeys(item.ruleset for item in fresh):
                self._store_ruleset(conn, rulesets[digest], adviser)
            return self._insert_many(conn, fresh, adviser)

    @staticmethod
    def _already_recorded(conn: Any, prepared: list[Prepared]) -> set[tuple[str, str]]:
        """(ref, inputs hash) pairs among `prepared` that this book already holds."""
        found: set[tuple[str, str]] = set()
        hashes = sorted({p.inputs_hash for p in prepared})
        for start in range(0, len(hashes), 500):
            chunk = hashes[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found |= set(conn.execute(
                f"SELECT ref, inputs_hash FROM cases WHERE inputs_hash IN ({marks})", chunk))  # noqa: S608
        return found

    def check_kind_of(self, item: Prepared) -> None:
        """Refuse a prepared case whose NINO is of the wrong kind (a new book's kind is still open)."""
        self._check_kind(item.nino)

    def _check_kind(self, nino: str | None) -> None:
        """Refuse a NINO of the wrong kind for this book."""
        if nino is None:
            return
        if self.kind == LIVE and is_synthetic(nino):
            raise BookError("a live case book refuses synthetic QQ numbers: use a training book",
                            key="claimant.nino")
        if self.kind == TRAINING and not is_synthetic(nino):
            raise BookError("a training case book accepts only synthetic QQ numbers", key="claimant.nino")

    def _store_ruleset(self, conn: Any, ruleset: RuleSet, actor: str) -> None:
        """Keep the rule set snapshot (content-addressed; stored once, never deleted)."""
        if conn.execute("SELECT 1 FROM rulesets WHERE digest = ?", (ruleset.digest,)).fetchone():
            return
        conn.execute("INSERT INTO rulesets (digest, edition, content) VALUES (?, ?, ?)",
                     (ruleset.digest, ruleset.edition.id, ruleset.canonical))
        A.append(conn, actor, "ruleset.stored", {"ruleset": ruleset.digest, "edition": ruleset.edition.id})

    def _insert_many(self, conn: Any, items: list[Prepared], adviser: str) -> list[int]:
        """Insert the cases, claimants, decisions and their audit events (ids taken under the write lock)."""
        if not items:
            return []
        stamp = A.now()
        case_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM cases").fetchone()[0]
        decision_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM decisions").fetchone()[0]
        cases, claimants, decisions, events, ids = [], [], [], [], []
        for item in items:
            case_id += 1
            decision_id += 1
            case_row = {"id": case_id, "ref": item.ref, "inputs": item.inputs, "inputs_hash": item.inputs_hash,
                        "recorded_at": stamp}
            decision_row = {"id": decision_id, "case_id": case_id, "ref": item.ref, "as_of": item.as_of,
                            "edition": item.edition, "ruleset": item.ruleset, "engine_version": __version__,
                            "priority": item.priority, "outcomes": item.outcomes, "decision": item.decision,
                            "decision_hash": item.decision_hash, "adviser": adviser, "recorded_at": stamp}
            cases.append(tuple(case_row.values()))
            claimants.append((case_id, item.nino))
            decisions.append(tuple(decision_row.values()))
            events.append(("decision.recorded", {
                "decision": decision_id, "case": case_id, "case_key": self.pseudonym(item.ref),
                "inputs_hash": item.inputs_hash, "ruleset": item.ruleset,
                "rows": {
                    "cases": {str(case_id): A.row_hash(case_row)},
                    "claimants": {str(case_id): A.row_hash({"case_id": case_id, "nino": item.nino})},
                    "decisions": {str(decision_id): A.row_hash(decision_row)},
                },
            }))
            ids.append(decision_id)
        conn.executemany("INSERT INTO cases (id, ref, inputs, inputs_hash, recorded_at) VALUES (?, ?, ?, ?, ?)",
                         cases)
        conn.executemany("INSERT INTO claimants (case_id, nino) VALUES (?, ?)", claimants)
        conn.executemany(
            "INSERT INTO decisions (id, case_id, ref, as_of, edition, ruleset, engine_version, priority, outcomes, "
            "decision, decision_hash, adviser, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            decisions)
        A.append_many(conn, adviser, stamp, events)
        return ids

    # -- referrals ---------------------------------------------------------------------------

    def add_referral(self, decision_id: int, code: str, provider: str, actor: str,
                     appointment: dt.date | None = None, notes: str = "") -> int:
        """Log a referral the decision calls for; starts 'proposed', or 'booked' with a date."""
        self._writable()
        provider = _clean_field(provider, "provider", 200)
        notes = _clean_field(notes, "notes", MAX_NOTE, allow_empty=True)
        actor = _clean_field(actor, "adviser", 64)
        with write(self.db) as conn:
            row = conn.execute("SELECT decision FROM decisions WHERE id = ?", (decision_id,)).fetchone()
            if row is None:
                raise BookError(f"no decision {decision_id} in this case book", key="decision")
            outcomes = {o["code"]: o["kind"] for o in json.loads(row[0])["outcomes"]}
            if outcomes.get(code) != "referral":
                allowed = ", ".join(c for c, k in sorted(outcomes.items()) if k == "referral") or "none"
                raise BookError(f"decision {decision_id} does not call for a {code} referral "
                                "(consent is part of the decision)", key="code", allowed=allowed)
            stamp = A.now()
            cur = conn.execute(
                "INSERT INTO referrals (decision_id, code, provider, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
                (decision_id, code, provider, actor, stamp))
            referral_id = int(cur.lastrowid)
            status = "booked" if appointment else "proposed"
            event_id = self._status_row(conn, referral_id, status, appointment, notes, actor, stamp)
            rows = {
                "referrals": {str(referral_id): A.row_hash(A.fetch_row(conn, "referrals", "id", referral_id))},
                "referral_events": {str(event_id): A.row_hash(A.fetch_row(conn, "referral_events", "id", event_id))},
            }
            A.append(conn, actor, "referral.added",
                     {"referral": referral_id, "decision": decision_id, "code": code, "status": status,
                      "rows": rows}, ts=stamp)
        return referral_id

    def update_referral(self, referral_id: int, status: str, actor: str,
                        appointment: dt.date | None = None, notes: str = "") -> None:
        """Move a referral along its lifecycle (refusing transitions the lifecycle does not allow)."""
        self._writable()
        notes = _clean_field(notes, "notes", MAX_NOTE, allow_empty=True)
        actor = _clean_field(actor, "adviser", 64)
        if status not in REFERRAL_STATUSES:
            raise BookError(f"unknown status {status!r}", key="status", allowed=", ".join(REFERRAL_STATUSES))
        if status == "booked" and appointment is None:
            raise BookError("a booked referral needs an appointment date", key="appointment")
        with write(self.db) as conn:
            current = conn.execute(
                "SELECT status FROM referral_events WHERE referral_id = ? ORDER BY id DESC LIMIT 1",
                (referral_id,)).fetchone()
            if current is None:
                raise BookError(f"no referral {referral_id} in this case book", key="referral")
            if status not in TRANSITIONS[current[0]]:
                allowed = ", ".join(TRANSITIONS[current[0]]) or "nothing (closed)"
                raise BookError(f"a {current[0]} referral cannot become {status}", key="status", allowed=allowed)
            stamp = A.now()
            event_id = self._status_row(conn, referral_id, status, appointment, notes, actor, stamp)
            rows = {"referral_events": {
                str(event_id): A.row_hash(A.fetch_row(conn, "referral_events", "id", event_id))}}
            A.append(conn, actor, "referral.updated",
                     {"referral": referral_id, "status": status, "rows": rows}, ts=stamp)

    @staticmethod
    def _status_row(conn: Any, referral_id: int, status: str, appointment: dt.date | None, notes: str,
                    actor: str, stamp: str) -> int:
        """Append one lifecycle event for a referral."""
        cur = conn.execute(
            "INSERT INTO referral_events (referral_id, status, appointment, notes, actor, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (referral_id, status, appointment.isoformat() if appointment else None, notes, actor, stamp))
        return int(cur.lastrowid)

    def referrals(self, decision_id: int | None = None, open_only: bool = False) -> list[Referral]:
        """Referrals with their current status, newest first."""
        sql = "SELECT id, decision_id, code, provider, created_by, created_at FROM referrals"
        args: tuple[Any, ...] = ()
        if decision_id is not None:
            sql += " WHERE decision_id = ?"
            args = (decision_id,)
        out = []
        for rid, did, code, provider, by, at in self.conn.execute(sql + " ORDER BY id DESC", args):
            history = [
                {"status": s, "appointment": ap, "notes": n, "actor": ac, "at": t}
                for s, ap, n, ac, t in self.conn.execute(
                    "SELECT status, appointment, notes, actor, at FROM referral_events "
                    "WHERE referral_id = ? ORDER BY id", (rid,))
            ]
            last = history[-1]
            appointment = next((h["appointment"] for h in reversed(history) if h["appointment"]), None)
            if open_only and last["status"] in ("closed", "declined", "attended"):
                continue
            out.append(Referral(rid, did, code, provider, by, at, last["status"], appointment, tuple(history)))
        return out

    # -- erasure and retention -------------------------------------------------------------------

    def erase(self, ref: str, actor: str, reason: str = "erasure request") -> int:
        """Erase every record of one case reference; returns how many decisions went.

        The case, claimant, decision and referral rows are deleted (secure_delete zeroes them) and
        the WAL is checkpointed, so the data leaves the file. The audit log keeps only what it
        always held (ids, keyed references, row hashes) plus an erasure event naming the rows, so
        the chain still verifies.
        """
        ids = [r[0] for r in self.conn.execute("SELECT id FROM cases WHERE ref = ?", (ref,))]
        if not ids:
            raise BookError(f"no case {ref} in this case book", key="case")
        return self._erase_cases(ids, actor, "case.erased", {"case_key": self.pseudonym(ref), "reason": reason})

    def retain(self, cutoff: str, actor: str) -> int:
        """Erase every case recorded before `cutoff` (ISO time); returns how many decisions went."""
        ids = [r[0] for r in self.conn.execute("SELECT id FROM cases WHERE recorded_at < ?", (cutoff,))]
        if not ids:
            return 0
        return self._erase_cases(ids, actor, "retention.applied", {"before": cutoff})

    def _erase_cases(self, case_ids: list[int], actor: str, event: str, body: dict[str, Any]) -> int:
        """Delete the rows of these cases under the erasure gate, with one audit event; then scrub."""
        self._writable()
        actor = _clean_field(actor, "adviser", 64)
        removed = 0
        with write(self.db) as conn:
            conn.execute("INSERT INTO erasure_gate (open) VALUES (1)")
            rows: dict[str, dict[str, None]] = {t: {} for t in ("cases", "claimants", "decisions", "referrals",
                                                                 "referral_events")}
            for start in range(0, len(case_ids), 500):
                chunk = case_ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                decisions = [r[0] for r in conn.execute(
                    f"SELECT id FROM decisions WHERE case_id IN ({marks})", chunk)]  # noqa: S608
                dmarks = ",".join("?" * len(decisions)) or "NULL"
                referrals = [r[0] for r in conn.execute(
                    f"SELECT id FROM referrals WHERE decision_id IN ({dmarks})", decisions)]  # noqa: S608
                rmarks = ",".join("?" * len(referrals)) or "NULL"
                events = [r[0] for r in conn.execute(
                    f"SELECT id FROM referral_events WHERE referral_id IN ({rmarks})", referrals)]  # noqa: S608
                conn.execute(f"DELETE FROM referral_events WHERE referral_id IN ({rmarks})", referrals)  # noqa: S608
                conn.execute(f"DELETE FROM referrals WHERE decision_id IN ({dmarks})", decisions)  # noqa: S608
                conn.execute(f"DELETE FROM decisions WHERE case_id IN ({marks})", chunk)  # noqa: S608
                conn.execute(f"DELETE FROM claimants WHERE case_id IN ({marks})", chunk)  # noqa: S608
                conn.execute(f"DELETE FROM cases WHERE id IN ({marks})", chunk)  # noqa: S608
                for table, idents in (("cases", chunk), ("claimants", chunk), ("decisions", decisions),
                                      ("referrals", referrals), ("referral_events", events)):
                    rows[table].update({str(i): None for i in idents})
                removed += len(decisions)
            conn.execute("DELETE FROM erasure_gate")
            A.append(conn, actor, event, {**body, "rows": rows})
        self.scrub()
        return removed

    def scrub(self) -> None:
        """Push erased pages out of the WAL into the (zeroed) main file and truncate the WAL."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- reading -----------------------------------------------------------------------------

    def decisions(self, *, ref: str | None = None, adviser: str | None = None, edition: str | None = None,
                  outcome: str | None = None, since: str | None = None, until: str | None = None,
                  priority: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Recorded decisions matching every filter given, newest first (parameterised SQL only)."""
        clauses, args = [], []
        for column, value in (("ref", ref), ("adviser", adviser), ("edition", edition), ("priority", priority)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if since:
            clauses.append("recorded_at >= ?")
            args.append(since)
        if until:
            clauses.append("recorded_at < ?")
            args.append(until)
        if outcome:
            clauses.append("EXISTS (SELECT 1 FROM json_each(decisions.outcomes) WHERE value = ?)")
            args.append(outcome)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = ("SELECT id, case_id, ref, as_of, edition, ruleset, priority, outcomes, adviser, recorded_at "  # noqa: S608
               f"FROM decisions{where} ORDER BY id DESC LIMIT ?")
        cur = self.conn.execute(sql, (*args, limit))
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur]
        for row in rows:
            row["outcomes"] = json.loads(row["outcomes"])
        return rows

    def decision_record(self, decision_id: int) -> dict[str, Any] | None:
        """One decision row with its case row and claimant NINO (for replay and display)."""
        row = A.fetch_row(self.conn, "decisions", "id", decision_id)
        if row is None:
            return None
        row["case_row"] = A.fetch_row(self.conn, "cases", "id", row["case_id"])
        claimant = A.fetch_row(self.conn, "claimants", "case_id", row["case_id"])
        row["nino"] = claimant["nino"] if claimant else None
        return row

    def decision_ids(self) -> list[int]:
        """Every decision id, oldest first."""
        return [r[0] for r in self.conn.execute("SELECT id FROM decisions ORDER BY id")]

    def ruleset_content(self, digest: str) -> str | None:
        """A stored rule set snapshot's canonical JSON."""
        row = self.conn.execute("SELECT content FROM rulesets WHERE digest = ?", (digest,)).fetchone()
        return row[0] if row else None

    def audited_inputs(self) -> dict[int, str]:
        """decision id -> the inputs hash its audit event recorded."""
        out = {}
        for (body,) in self.conn.execute("SELECT body FROM audit WHERE event = 'decision.recorded'"):
            try:
                data = json.loads(body)
                out[int(data["decision"])] = str(data["inputs_hash"])
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def verify(self, anchor: A.Anchor | None = None) -> tuple[int, list[A.Problem]]:
        """Verify the audit chain, every row it vouches for, and the protective triggers."""
        count, problems = A.verify(self.conn, anchor)
        missing = check_triggers(self.db)
        if missing:
            problems.append(A.Problem("schema", "protective triggers are missing: " + ", ".join(missing)))
        return count, problems

    def head(self) -> A.Anchor | None:
        """The audit chain's head, to keep as an anchor elsewhere."""
        return A.head(self.conn)


@attrs.frozen
class Prepared:
    """A decision ready to record: every stored text and hash computed (in a worker, if need be)."""

    ref: str
    nino: str | None
    inputs: str
    inputs_hash: str
    as_of: str
    edition: str
    ruleset: str
    priority: str
    outcomes: str
    decision: str
    decision_hash: str

    @property
    def synthetic(self) -> bool:
        """True when the claimant's NINO is a synthetic QQ number."""
        return self.nino is not None and is_synthetic(self.nino)

    @classmethod
    def of(cls, case: Case, decision: Decision) -> Prepared:
        """Prepare a decided case for recording."""
        inputs = A.canonical_json(replay_inputs(case))
        text = decision.to_json()
        return cls(ref=case.case, nino=case.claimant.nino, inputs=inputs, inputs_hash=A.sha256_text(inputs),
                   as_of=decision.as_of, edition=decision.edition, ruleset=decision.ruleset,
                   priority=decision.priority, outcomes=json.dumps(list(decision.codes)), decision=text,
                   decision_hash=A.sha256_text(text))


def replay_inputs(case: Case) -> dict[str, Any]:
    """What is stored to re-decide a case: its inputs without the NINO (kept apart for erasure)."""
    data = case.to_file_data()
    for key in ("title", "narrative", "expect"):
        data.pop(key, None)
    data["claimant"].pop("nino", None)
    return data


def _clean_field(value: str, key: str, limit: int, allow_empty: bool = False) -> str:
    """A short free-text field: no control characters, within its length."""
    if not isinstance(value, str):
        raise BookError("must be text", key=key)
    value = value.strip()
    if not value and not allow_empty:
        raise BookError("must not be empty", key=key)
    if len(value) > limit:
        raise BookError(f"is longer than {limit} characters", key=key)
    if any(ch != "\n" and is_unsafe(ch) for ch in value):
        raise BookError("must not contain control, format or bidi characters", key=key)
    return value

"""Reading a case book: decisions (filtered lists and whole records), referrals, and what replay needs.

Every query returns typed rows (frozen attrs classes) with parameterised SQL only. Text columns are
read as text whatever a tampered file holds, so a damaged book reads, and replay or verify say what
is wrong with it.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import attrs

from engine.casebook.referrals import CLOSED_STATUSES
from engine.model.adviser import AdviserDecision


def _text(value: Any) -> str:
    """A text column as text (None, from a damaged book, as empty)."""
    return "" if value is None else str(value)


def _maybe_text(value: Any) -> str | None:
    """A nullable text column as text, or None."""
    return None if value is None else str(value)


def _codes(value: Any) -> tuple[str, ...]:
    """The outcomes summary column (a JSON list of codes) as a tuple; () when a damaged book holds anything else."""
    try:
        codes = json.loads(value)
    except (TypeError, ValueError):
        return ()
    return tuple(str(code) for code in codes) if isinstance(codes, list) else ()


@attrs.frozen
class DecisionRow:
    """One recorded decision as lists and exports show it."""

    id: int
    case_id: int
    ref: str = attrs.field(converter=_text)
    as_of: str = attrs.field(converter=_text)
    edition: str = attrs.field(converter=_text)
    ruleset: str = attrs.field(converter=_text)
    priority: str = attrs.field(converter=_text)
    outcomes: tuple[str, ...]
    adviser: str = attrs.field(converter=_text)
    recorded_at: str = attrs.field(converter=_text)


@attrs.frozen
class DecisionRecord:
    """One decision with everything kept to re-decide and check it: the decision JSON, inputs and NINO.

    `outcomes` is the summary column as stored (JSON text); `inputs` and `inputs_hash` are None when
    the case row is missing.
    """

    id: int
    case_id: int
    ref: str = attrs.field(converter=_text)
    as_of: str = attrs.field(converter=_text)
    edition: str = attrs.field(converter=_text)
    ruleset: str = attrs.field(converter=_text)
    priority: str = attrs.field(converter=_text)
    outcomes: str = attrs.field(converter=_text)
    decision: str = attrs.field(converter=_text)
    decision_hash: str = attrs.field(converter=_text)
    adviser: str = attrs.field(converter=_text)
    recorded_at: str = attrs.field(converter=_text)
    inputs: str | None = attrs.field(default=None, converter=_maybe_text)
    inputs_hash: str | None = attrs.field(default=None, converter=_maybe_text)
    nino: str | None = attrs.field(default=None, converter=_maybe_text)
    choices: str | None = attrs.field(default=None, converter=_maybe_text)

    def adviser_decisions(self) -> tuple[AdviserDecision, ...] | None:
        """The adviser's decision on each recommended outcome, or None when none was recorded."""
        if self.choices is None:
            return None
        try:
            return tuple(AdviserDecision.from_data(item) for item in json.loads(self.choices))
        except (ValueError, KeyError, TypeError, AttributeError):
            return ()


@attrs.frozen
class ReferralEvent:
    """One step of a referral's lifecycle."""

    status: str
    appointment: str | None
    notes: str
    actor: str
    at: str


@attrs.frozen
class ReferralRow:
    """A referral with its current status, latest appointment and whole history (oldest first)."""

    id: int
    decision_id: int
    code: str
    provider: str
    created_by: str
    created_at: str
    history: tuple[ReferralEvent, ...]

    @property
    def status(self) -> str:
        """The current status (the latest lifecycle step's)."""
        return self.history[-1].status if self.history else ""

    @property
    def appointment(self) -> str | None:
        """The latest appointment date booked, if any."""
        return next((h.appointment for h in reversed(self.history) if h.appointment), None)

    @property
    def notes(self) -> str:
        """The latest non-empty notes."""
        return next((h.notes for h in reversed(self.history) if h.notes), "")

    @property
    def is_open(self) -> bool:
        """True until the referral is closed, declined or attended."""
        return self.status not in CLOSED_STATUSES


def decisions(conn: sqlite3.Connection, *, ref: str | None = None, adviser: str | None = None,
              edition: str | None = None, outcome: str | None = None, since: str | None = None,
              until: str | None = None, priority: str | None = None, limit: int = 1000) -> list[DecisionRow]:
    """Recorded decisions matching every filter given, newest first (limit -1: all)."""
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
    return [DecisionRow(ident, case_id, ref_, as_of, ed, ruleset, prio, _codes(outcomes), adv, at)
            for ident, case_id, ref_, as_of, ed, ruleset, prio, outcomes, adv, at
            in conn.execute(sql, (*args, limit))]


def decision_record(conn: sqlite3.Connection, decision_id: int) -> DecisionRecord | None:
    """One decision with its case inputs and claimant NINO (for replay and for opening a case)."""
    row = conn.execute(
        "SELECT d.id, d.case_id, d.ref, d.as_of, d.edition, d.ruleset, d.priority, d.outcomes, d.decision, "
        "d.decision_hash, d.adviser, d.recorded_at, c.inputs, c.inputs_hash, n.nino, a.choices FROM decisions d "
        "LEFT JOIN cases c ON c.id = d.case_id LEFT JOIN claimants n ON n.case_id = d.case_id "
        "LEFT JOIN adviser_decisions a ON a.decision_id = d.id WHERE d.id = ?", (decision_id,)).fetchone()
    if row is None:
        return None
    ident, case_id, ref, as_of, edition, ruleset, priority, outcomes, decision, digest, adviser, at, *case = row
    inputs, inputs_hash, nino, choices = case
    return DecisionRecord(ident, case_id, ref, as_of, edition, ruleset, priority, outcomes, decision, digest, adviser,
                          at, inputs, inputs_hash, nino, choices)


@attrs.frozen
class EventRow:
    """The audit event that recorded a decision: its place in the chain, time, actor and hash."""

    seq: int
    ts: str
    actor: str
    hash: str


def decision_event(conn: sqlite3.Connection, decision_id: int) -> EventRow | None:
    """The `decision.recorded` audit event of one decision."""
    row = conn.execute(
        "SELECT seq, ts, actor, hash FROM audit WHERE event = 'decision.recorded' "
        "AND json_extract(body, '$.decision') = ?", (decision_id,)).fetchone()
    return EventRow(int(row[0]), _text(row[1]), _text(row[2]), _text(row[3])) if row else None


def decision_ids(conn: sqlite3.Connection) -> list[int]:
    """Every decision id, oldest first."""
    return [r[0] for r in conn.execute("SELECT id FROM decisions ORDER BY id")]


def referrals(conn: sqlite3.Connection, decision_id: int | None = None,
              open_only: bool = False) -> list[ReferralRow]:
    """Referrals with their history, newest first; with open_only, those not closed, declined or attended."""
    sql = "SELECT id, decision_id, code, provider, created_by, created_at FROM referrals"
    args: tuple[Any, ...] = ()
    if decision_id is not None:
        sql += " WHERE decision_id = ?"
        args = (decision_id,)
    out = []
    for rid, did, code, provider, by, at in conn.execute(sql + " ORDER BY id DESC", args).fetchall():
        history = tuple(ReferralEvent(*step) for step in conn.execute(
            "SELECT status, appointment, notes, actor, at FROM referral_events WHERE referral_id = ? ORDER BY id",
            (rid,)))
        row = ReferralRow(rid, did, code, provider, by, at, history)
        if not open_only or row.is_open:
            out.append(row)
    return out


def ruleset_content(conn: sqlite3.Connection, digest: str) -> str | None:
    """A stored rule set snapshot's canonical JSON."""
    row = conn.execute("SELECT content FROM rulesets WHERE digest = ?", (digest,)).fetchone()
    return row[0] if row else None


def audited_inputs(conn: sqlite3.Connection) -> dict[int, str]:
    """decision id -> the inputs hash its audit event recorded."""
    out = {}
    for (body,) in conn.execute("SELECT body FROM audit WHERE event = 'decision.recorded'"):
        try:
            data = json.loads(body)
            out[int(data["decision"])] = str(data["inputs_hash"])
        except (ValueError, KeyError, TypeError):
            continue
    return out


def decisions_touched(conn: sqlite3.Connection, rows: list[tuple[str, Any]], seqs: list[int]) -> set[int]:
    """The decision ids that (table, key) rows and audit events `seqs` belong to (to flag them in a list)."""
    out: set[int] = set()
    lookups = {
        "decisions": "SELECT id FROM decisions WHERE id = ?",
        "adviser_decisions": "SELECT decision_id FROM adviser_decisions WHERE decision_id = ?",
        "cases": "SELECT id FROM decisions WHERE case_id = ?",
        "claimants": "SELECT id FROM decisions WHERE case_id = ?",
        "referrals": "SELECT decision_id FROM referrals WHERE id = ?",
        "referral_events": "SELECT r.decision_id FROM referral_events e JOIN referrals r ON r.id = e.referral_id "
                           "WHERE e.id = ?",
    }
    for table, key in rows:
        sql = lookups.get(table)
        if sql is None or not isinstance(key, int):
            continue
        out |= {int(r[0]) for r in conn.execute(sql, (key,)) if isinstance(r[0], int)}
    for seq in seqs:
        row = conn.execute("SELECT body FROM audit WHERE seq = ?", (seq,)).fetchone()
        try:
            decision = json.loads(row[0]).get("decision") if row else None
        except (ValueError, TypeError, AttributeError):
            continue
        if isinstance(decision, int) and not isinstance(decision, bool):
            out.add(decision)
    return out


def decisions_recorded_from(conn: sqlite3.Connection, seq: int) -> set[int]:
    """The decisions recorded by audit events `seq` onwards (after a break in the chain: not vouched for)."""
    out = set()
    for (body,) in conn.execute("SELECT body FROM audit WHERE seq >= ? AND event = 'decision.recorded'", (seq,)):
        try:
            decision = json.loads(body).get("decision")
        except (ValueError, TypeError, AttributeError):
            continue
        if isinstance(decision, int) and not isinstance(decision, bool):
            out.add(decision)
    return out


@attrs.frozen
class AuditLine:
    """One audit event as audit mode lists it: number, time, who, what, and a summary of its body."""

    seq: int
    ts: str
    actor: str
    event: str
    summary: str


def _count_rows(rows: Any) -> str:
    """'2 decisions, 2 cases' from an erasure body's rows (how many of each table it erased)."""
    if not isinstance(rows, dict):
        return ""
    parts = [f"{len(ids)} {table}" for table, ids in rows.items() if isinstance(ids, dict) and ids]
    return ", ".join(parts)


def _event_summary(event: str, body: Any) -> str:
    """An audit event's body in a few words (bodies hold ids and keyed references, no personal data)."""
    if not isinstance(body, dict):
        return "(unreadable body)"
    if event == "referral.added":
        return (f"referral {body.get('referral')} for decision {body.get('decision')}: {body.get('code')}, "
                f"{body.get('status')}")
    if event == "referral.updated":
        return f"referral {body.get('referral')} -> {body.get('status')}"
    if event in ("case.erased", "retention.applied"):
        which = (f"case key {body.get('case_key')}" if event == "case.erased"
                 else f"recorded before {body.get('before')}")
        reason = f", reason: {body.get('reason')}" if body.get("reason") else ""
        return f"{which}{reason}; erased {_count_rows(body.get('rows')) or 'nothing'}"
    if event == "ruleset.stored":
        return f"rule set {str(body.get('ruleset'))[:19]} ({body.get('edition')})"
    if event == "book.created":
        return f"{body.get('kind')} book {body.get('book_id')}"
    if event == "decision.recorded":
        return f"decision {body.get('decision')}"
    return ", ".join(f"{k} {v}" for k, v in sorted(body.items()) if k != "rows" and isinstance(v, str | int))[:120]


def audit_lines(conn: sqlite3.Connection, limit: int = 5000) -> list[AuditLine]:
    """The audit events other than recorded decisions (referrals, erasures, retention, rule sets, ...), newest first."""
    out = []
    for seq, ts, actor, event, body in conn.execute(
            "SELECT seq, ts, actor, event, body FROM audit WHERE event != 'decision.recorded' "
            "ORDER BY seq DESC LIMIT ?", (limit,)):
        try:
            data = json.loads(body)
        except (ValueError, TypeError):
            data = None
        out.append(AuditLine(int(seq), _text(ts), _text(actor), _text(event), _event_summary(_text(event), data)))
    return out

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
    row = _decision_event_row(conn, decision_id)
    return EventRow(int(row[0]), _text(row[1]), _text(row[2]), _text(row[3])) if row else None


def _decision_event_row(conn: sqlite3.Connection, decision_id: int) -> tuple[Any, ...] | None:
    """(seq, ts, actor, hash, body) of a decision's `decision.recorded` event: found by the index of
    decisions' events when it points at that decision's event, else by reading every event (a book
    whose index is missing or wrong is slow, never misled)."""
    try:
        row = conn.execute(
            "SELECT a.seq, a.ts, a.actor, a.hash, a.body FROM decision_events AS x JOIN audit AS a ON a.seq = x.seq "
            "WHERE x.decision = ? AND a.event = 'decision.recorded'", (decision_id,)).fetchone()
    except sqlite3.OperationalError:  # a book made before the index, opened read-only
        row = None
    if row is not None and _body_decision(row[4]) == decision_id:
        return tuple(row)
    found = conn.execute(
        "SELECT seq, ts, actor, hash, body FROM audit WHERE event = 'decision.recorded' "
        "AND json_valid(body) AND json_extract(body, '$.decision') = ? ORDER BY seq DESC", (decision_id,)).fetchone()
    return tuple(found) if found else None


def _body_decision(body: Any) -> int | None:
    """The decision id an event body names, or None."""
    try:
        value = json.loads(body)["decision"]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def audited_input(conn: sqlite3.Connection, decision_id: int) -> str | None:
    """The inputs hash a decision's audit event recorded (one indexed read), or None."""
    row = _decision_event_row(conn, decision_id)
    if row is None:
        return None
    try:
        return str(json.loads(row[4])["inputs_hash"])
    except (ValueError, KeyError, TypeError):
        return None


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

"""Reading a case book: decisions (filtered lists and whole records), referrals, and what replay needs.

Every query returns typed rows (frozen attrs classes) with parameterised SQL only. Text columns are
read as text whatever a tampered file holds, so a damaged book reads, and replay or verify say what
is wrong with it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

import attrs
import orjson

from engine.casebook.compact import expand
from engine.casebook.referrals import CLOSED_STATUSES
from engine.model.adviser import AdviserDecision
from engine.model.nino import nino_problem


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


_RECORD_COLUMNS = (
    "SELECT d.id, d.case_id, d.ref, d.as_of, d.edition, d.ruleset, d.priority, d.outcomes, d.decision, "
    "d.decision_hash, d.adviser, d.recorded_at, c.inputs, c.inputs_hash, n.nino, a.choices")
_RECORD_FROM = (
    " FROM decisions d LEFT JOIN cases c ON c.id = d.case_id LEFT JOIN claimants n ON n.case_id = d.case_id "
    "LEFT JOIN adviser_decisions a ON a.decision_id = d.id")
_REPLAY_SQL = (  # constant pieces; the ids are one parameter
    _RECORD_COLUMNS + ", e.body" + _RECORD_FROM + " LEFT JOIN decision_events x ON x.decision = d.id "  # noqa: S608
    "LEFT JOIN audit e ON e.seq = x.seq AND e.event = 'decision.recorded' "
    "WHERE d.id IN (SELECT value FROM json_each(?))")


def decision_record(conn: sqlite3.Connection, decision_id: int) -> DecisionRecord | None:
    """One decision with its case inputs and claimant NINO (for replay and for opening a case)."""
    row = conn.execute(_RECORD_COLUMNS + _RECORD_FROM + " WHERE d.id = ?", (decision_id,)).fetchone()
    return None if row is None else _record(conn, row)


def _record(conn: sqlite3.Connection, row: Any) -> DecisionRecord:
    """A `DecisionRecord` from a row of `_RECORD_COLUMNS` (its stored compact forms expanded)."""
    ident, case_id, ref, as_of, edition, ruleset, priority, outcomes, decision, digest, adviser, at, *case = row[:16]
    inputs, inputs_hash, nino, choices = case
    inputs = expand(conn, inputs)
    return DecisionRecord(ident, case_id, ref, as_of, edition, ruleset, priority, outcomes, expand(conn, decision),
                          digest, adviser, at, inputs, inputs_hash, nino, choices)


def replay_records(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple[DecisionRecord, str | None]]:
    """Decisions of `ids` (those still in the book), each with the inputs hash its audit event recorded, in one
    read for the lot (#14): what `decision_record` and `audited_input` give one id at a time, a query a chunk.

    A decision whose rows the join does not give exactly once, or whose indexed event does not name it, is
    read as `decision_record` and `audited_input` read it, so a damaged book reads exactly as it does one by one.
    """
    try:
        rows = conn.execute(_REPLAY_SQL, (json.dumps(ids),)).fetchall()
    except sqlite3.OperationalError:  # a book made before the index, opened read-only: one at a time
        rows = None
    by_id: dict[int, Any] = {}
    twice = set()
    for row in rows or ():
        if row[0] in by_id:
            twice.add(row[0])
        by_id[row[0]] = row
    out: dict[int, tuple[DecisionRecord, str | None]] = {}
    for ident in ids:
        if rows is None or ident in twice:
            record = decision_record(conn, ident)
            if record is not None:
                out[ident] = (record, audited_input(conn, ident))
        elif (row := by_id.get(ident)) is not None:
            named, inputs_hash = _event_fields(row[16])
            out[ident] = (_record(conn, row), inputs_hash if named == ident else audited_input(conn, ident))
    return out


def _event_fields(body: Any) -> tuple[int | None, str | None]:
    """The decision id a `decision.recorded` event body names and the inputs hash it records (None for either
    it does not give): `_body_decision` and `audited_input`'s reading, from one parse."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:  # what orjson refuses (NaN, integers beyond 64 bits) the standard library reads
        try:
            data = json.loads(body)
        except (ValueError, TypeError):
            return None, None
    except TypeError:
        return None, None
    try:
        value = data["decision"]
        named = value if isinstance(value, int) and not isinstance(value, bool) else None
    except (KeyError, TypeError):
        named = None
    try:
        return named, str(data["inputs_hash"])
    except (KeyError, TypeError):
        return named, None


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


# -- the case list: one page at a time, from indexes (#12) -------------------------------------------

CASE_PAGE = 100
"""Cases per page of the case list."""


def _nino_key(text: str) -> str | None:
    """The NINO a search text spells (spaces ignored, any case), or None when it spells none."""
    candidate = "".join(text.split()).upper()
    return candidate if nino_problem(candidate) is None else None


@attrs.frozen
class CaseQuery:
    """What the case list shows: cases whose reference contains `text` (or whose NINO is exactly `text`),
    at `priority`, and only those with open referrals if `open_only`."""

    text: str = ""
    priority: str | None = None
    open_only: bool = False

    @property
    def search(self) -> str:
        """The reference part searched for (case references are upper case)."""
        return self.text.strip().upper()

    @property
    def nino(self) -> str | None:
        """The NINO searched for, when the text is one: only an exact NINO matches, never part of one."""
        return _nino_key(self.text)


EVERY_CASE = CaseQuery()
"""The whole case list: no search, no filter."""


@attrs.frozen
class PageKey:
    """Where a page of the case list ends: its last case's reference and decision (the next page starts after)."""

    ref: str
    decision_id: int


@attrs.frozen
class CaseListRow:
    """One case in the list: its latest decision, and the referrals of every decision of its reference."""

    decision_id: int
    case_id: int
    ref: str = attrs.field(converter=_text)
    as_of: str = attrs.field(converter=_text)
    edition: str = attrs.field(converter=_text)
    priority: str = attrs.field(converter=_text)
    outcomes: int
    adviser: str = attrs.field(converter=_text)
    recorded_at: str = attrs.field(converter=_text)
    referrals: tuple[ReferralRow, ...] = ()

    @property
    def open_referrals(self) -> int:
        """How many of the case's referrals are still open."""
        return sum(1 for r in self.referrals if r.is_open)

    @property
    def key(self) -> PageKey:
        """Where a page ending at this row ends."""
        return PageKey(self.ref, self.decision_id)


@attrs.frozen
class CasePage:
    """One page of the case list, and where the next starts (None: this is the last page)."""

    rows: tuple[CaseListRow, ...]
    next: PageKey | None


_REF_PART = re.compile(r"[A-Z0-9-]+", re.ASCII)
"""What part of a case reference can be (CONTRACT.md: 1-32 of A-Z, 0-9 and -)."""

_LATEST = "NOT EXISTS (SELECT 1 FROM decisions AS l WHERE l.ref = d.ref AND l.id > d.id)"
"""A decision that is its case reference's latest (one index probe, decisions_ref_id)."""

_OPEN_REFS = (
    "SELECT DISTINCT o.ref FROM referrals AS r CROSS JOIN decisions AS o ON o.id = r.decision_id "
    "WHERE (SELECT e.status FROM referral_events AS e WHERE e.referral_id = r.id ORDER BY e.id DESC LIMIT 1) "
    "NOT IN (SELECT value FROM json_each(?))"
)
"""Case references with an open referral (reads the referrals, never the whole book)."""

_NINO_REFS = (
    "SELECT DISTINCT o.ref FROM claimants AS n CROSS JOIN decisions AS o ON o.case_id = n.case_id WHERE n.nino = ?"
)
"""Case references recorded with one exact NINO (claimants_nino, then decisions_case)."""


def case_page(conn: sqlite3.Connection, query: CaseQuery = EVERY_CASE, after: PageKey | None = None,
              limit: int = CASE_PAGE) -> CasePage:
    """One page of cases (each case reference's latest decision) matching `query`, after the page key `after`.

    Without search text the list runs newest first; a search lists by case reference. Pages are
    keyset queries on indexes (no OFFSET, no full read), so a page costs the same on any book, and
    a search reads only the reference index. The NINO is matched whole, so typing part of one
    reveals nothing.
    """
    search, nino = query.search, query.nino
    terms: list[tuple[str, tuple[Any, ...]]] = [(_LATEST, ())]
    if query.priority is not None:  # a search, or open referrals, drive by reference: `+` keeps this index out
        terms.append(("+d.priority = ?" if search or query.open_only else "d.priority = ?", (query.priority,)))
    if query.open_only:
        terms.append((f"d.ref IN ({_OPEN_REFS})", (json.dumps(CLOSED_STATUSES),)))
    if not search:
        if after is not None:
            terms.append(("d.id < ?", (after.decision_id,)))
        found = _page_ids(conn, terms, "d.id DESC", limit + 1)
    else:
        if after is not None:
            terms.append(("d.ref > ?", (after.ref,)))
        found = []
        if nino is not None:  # the NINO's few cases, looked up by index (claimants_nino)
            found += _page_ids(conn, [(f"d.ref IN ({_NINO_REFS})", (nino,)), *terms], "d.ref", limit + 1)
        if _REF_PART.fullmatch(search):  # case references hold only A-Z, 0-9 and -
            found += _page_ids(conn, [("instr(d.ref, ?) > 0", (search,)), *terms], "d.ref", limit + 1)
        found = sorted(set(found))
    ids = [ident for _ref, ident in found[:limit + 1]]
    rows = case_rows(conn, ids[:limit])
    return CasePage(rows, rows[-1].key if len(ids) > limit and rows else None)


def _page_ids(conn: sqlite3.Connection, terms: list[tuple[str, tuple[Any, ...]]], order: str,
              limit: int) -> list[tuple[str, int]]:
    """(ref, decision id) of the first `limit` decisions meeting every term, in `order`."""
    where = " AND ".join(sql for sql, _ in terms)
    args = [a for _, values in terms for a in values]
    sql = f"SELECT d.ref, d.id FROM decisions AS d WHERE {where} ORDER BY {order} LIMIT ?"  # noqa: S608 - constants
    return [(_text(ref), int(ident)) for ref, ident in conn.execute(sql, (*args, limit))]


def case_rows(conn: sqlite3.Connection, decision_ids: list[int]) -> tuple[CaseListRow, ...]:
    """The case list rows of these decisions, in the order given, each with its reference's referrals."""
    if not decision_ids:
        return ()
    found = {}
    for ident, case_id, ref, as_of, edition, priority, outcomes, adviser, at in conn.execute(
            "SELECT id, case_id, ref, as_of, edition, priority, outcomes, adviser, recorded_at FROM decisions "
            "WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(decision_ids),)):
        found[int(ident)] = CaseListRow(int(ident), int(case_id), ref, as_of, edition, priority,
                                        len(_codes(outcomes)), adviser, at)
    by_ref = referrals_of_refs(conn, sorted({row.ref for row in found.values()}))
    return tuple(attrs.evolve(found[ident], referrals=by_ref.get(found[ident].ref, ()))
                 for ident in decision_ids if ident in found)


def referrals_of_refs(conn: sqlite3.Connection, refs: list[str]) -> dict[str, tuple[ReferralRow, ...]]:
    """Case reference -> the referrals of every decision of it, newest first, each with its history."""
    rows = conn.execute(
        "SELECT r.id, r.decision_id, r.code, r.provider, r.created_by, r.created_at, d.ref FROM referrals AS r "
        "JOIN decisions AS d ON d.id = r.decision_id WHERE d.ref IN (SELECT value FROM json_each(?)) "
        "ORDER BY r.id DESC", (json.dumps(refs),)).fetchall()
    if not rows:
        return {}
    history: dict[int, list[ReferralEvent]] = {}
    for rid, *step in conn.execute(
            "SELECT referral_id, status, appointment, notes, actor, at FROM referral_events "
            "WHERE referral_id IN (SELECT value FROM json_each(?)) ORDER BY id", (json.dumps([r[0] for r in rows]),)):
        history.setdefault(int(rid), []).append(ReferralEvent(*step))
    out: dict[str, list[ReferralRow]] = {}
    for rid, did, code, provider, by, at, ref in rows:
        out.setdefault(_text(ref), []).append(
            ReferralRow(rid, did, code, provider, by, at, tuple(history.get(int(rid), ()))))
    return {ref: tuple(items) for ref, items in out.items()}


def case_count(conn: sqlite3.Connection) -> int:
    """How many cases (distinct case references) the book holds (reads the reference index once)."""
    return int(conn.execute("SELECT COUNT(DISTINCT ref) FROM decisions").fetchone()[0])


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
    """The audit events other than recorded decisions (referrals, erasures, retention, rule sets, ...), newest first.

    Its condition is the partial index's (engine.casebook.db.OTHER_EVENTS_INDEX), word for word, so SQLite reads
    only those events, however many decisions the book holds.
    """
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

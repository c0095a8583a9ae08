"""What `audit verify` found about one row, in plain words: which row, what happened, and which field.

An audit event holds only a row's hash, not its values. When a row no longer matches its hash, the
field that changed (and its value when recorded) is found by putting back, one or two at a time,
the values that other records still hold: the recommendation's own JSON, the audit event's actor,
time and body, the case's reference on its decision. A value that then makes the row match its
recorded hash is, beyond doubt, what was recorded. Personal data (the NINO, case inputs, notes,
providers, the decision text) is never printed: such a field is named, its values are not.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
from typing import TYPE_CHECKING, Any

from engine.casebook.compact import expand, repacks

if TYPE_CHECKING:
    from engine.casebook.keyed import Keyed

NOUNS = {
    "cases": "case",
    "claimants": "the claimant record of case",
    "decisions": "decision",
    "adviser_decisions": "the record of the adviser's decisions on decision",
    "referrals": "referral",
    "referral_events": "referral event",
}
"""How each table's row is named in a sentence (followed by its key)."""

FIELD_WORDS = {
    "nino": "National Insurance number",
    "inputs": "case inputs",
    "decision": "recorded recommendation",
    "notes": "notes",
    "choices": "adviser's decisions",
    "provider": "provider",
    "adviser": "adviser",
    "recorded_at": "recorded time",
    "outcomes": "outcomes",
    "as_of": "decision date",
}
"""Field names as said in a sentence (others are said as they are)."""

NOT_SHOWN = frozenset({"nino", "inputs", "decision", "notes", "choices", "provider"})
"""Fields whose values are never printed (personal data, or free text that may hold it)."""

LONG_VALUE = 40
"""Values longer than this are cut in a sentence."""


def row_name(table: str, ident: Any) -> str:
    """'decision 8', 'the claimant record of case 3', ..."""
    return f"{NOUNS.get(table, table)} {ident}"


def _sha256(text: Any) -> str | None:
    """Hex sha256 of a text value (None for anything else)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if isinstance(text, str) else None


def _inputs_hash(conn: sqlite3.Connection, row: dict[str, Any], keyed: Keyed | None) -> str | None:
    """The hash a case row's inputs should have: keyed when the row's is (and the key is at hand), else sha256."""
    from engine.casebook.audit import KEYED_PREFIX  # audit imports this module

    inputs = expand(conn, row.get("inputs"))
    if keyed is not None and isinstance(inputs, str) and str(row.get("inputs_hash", "")).startswith(KEYED_PREFIX):
        return keyed.text_hash(inputs)
    return _sha256(inputs)


def _said(value: Any) -> str:
    """A recorded value as shown in a sentence (cut when long)."""
    text = "nothing" if value is None else str(value)
    return text if len(text) <= LONG_VALUE else text[:LONG_VALUE - 3] + "..."


def change_words(column: str, old: Any, new: Any) -> str:
    """'priority priority -> routine' (or just the field's name, for personal data)."""
    name = FIELD_WORDS.get(column, column)
    if column in NOT_SHOWN:
        return f"its {name} (not shown)"
    return f"{name} {_said(old)} -> {_said(new)}"


def _event(conn: sqlite3.Connection, recorded: str) -> tuple[str, str, dict[str, Any]] | None:
    """(actor, time, body) of the audit event holding a row hash (found by that hash)."""
    try:
        row = conn.execute("SELECT actor, ts, body FROM audit WHERE instr(body, ?) > 0 ORDER BY seq LIMIT 1",
                           (recorded,)).fetchone()
        body = json.loads(row[2]) if row else None
    except (sqlite3.Error, ValueError, TypeError):
        return None
    if row is None or not isinstance(body, dict):
        return None
    return str(row[0]), str(row[1]), body


def _decision_fields(text: Any) -> dict[str, Any]:
    """The summary columns a decision row copies from its recommendation's JSON."""
    try:
        data = json.loads(text)
        return {"as_of": data["as_of"], "edition": data["edition"], "ruleset": data["ruleset"],
                "priority": data["priority"], "ref": data["case"],
                "outcomes": json.dumps([o["code"] for o in data["outcomes"]]), "decision_hash": _sha256(text)}
    except (ValueError, KeyError, TypeError):
        return {}


ACTOR_COLUMNS = {"decisions": "adviser", "referrals": "created_by", "referral_events": "actor",
                 "adviser_decisions": "decided_by"}
"""The column that holds who made the row: the same as its audit event's actor."""

TIME_COLUMNS = {"decisions": "recorded_at", "cases": "recorded_at", "referrals": "created_at",
                "referral_events": "at", "adviser_decisions": "decided_at"}
"""The column that holds when the row was made: the same as its audit event's time."""


def _candidates(conn: sqlite3.Connection, table: str, row: dict[str, Any],
                event: tuple[str, str, dict[str, Any]] | None, keyed: Keyed | None = None) -> dict[str, set[Any]]:
    """column -> values other records say it held when recorded."""
    out: dict[str, set[Any]] = {}

    def offer(column: str, value: Any) -> None:
        if column in row and value is not None and value != row[column]:
            out.setdefault(column, set()).add(value if not isinstance(value, list | dict) else json.dumps(value))

    if event is not None:
        actor, ts, body = event
        if table in ACTOR_COLUMNS:
            offer(ACTOR_COLUMNS[table], actor)
        if table in TIME_COLUMNS:
            offer(TIME_COLUMNS[table], ts)
        for column, key in (("case_id", "case"), ("inputs_hash", "inputs_hash"), ("ruleset", "ruleset"),
                            ("decision_id", "decision"), ("referral_id", "referral"), ("code", "code"),
                            ("status", "status")):
            value = body.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                offer(column, value)
    if table == "decisions":
        text = expand(conn, row.get("decision"))
        for column, value in _decision_fields(text).items():
            offer(column, value)
        if isinstance(row.get("decision"), str):  # a compact decision put back whole: its compact form
            for packed in repacks(conn, row.get("ruleset"), text):
                offer("decision", packed)
    if table == "cases":
        offer("inputs_hash", _inputs_hash(conn, row, keyed))
        try:
            for ref, ruleset in conn.execute("SELECT ref, ruleset FROM decisions WHERE case_id = ?", (row.get("id"),)):
                offer("ref", ref)
                if isinstance(row.get("inputs"), str):  # compact inputs put back whole: their compact form
                    for packed in repacks(conn, ruleset, row.get("inputs")):
                        offer("inputs", packed)
        except sqlite3.Error:
            pass
    return out


def _put_back(row: dict[str, Any], recorded: str, candidates: dict[str, set[Any]],
              keyed: Keyed | None = None) -> list[tuple[str, Any]] | None:
    """The one or two (column, recorded value) pairs that make the row match its recorded hash, if any."""
    from engine.casebook.audit import row_matches  # audit imports this module

    pairs = [(column, value) for column, values in sorted(candidates.items()) for value in sorted(values, key=str)]
    for size in (1, 2, 3):
        for combo in itertools.combinations(pairs, size):
            columns = [c for c, _ in combo]
            if len(set(columns)) < size:
                continue
            if row_matches({**row, **dict(combo)}, recorded, keyed):
                return list(combo)
        if len(pairs) > 24:
            break  # keep a badly damaged row cheap: singles and pairs only
    return None


UNCOPIED = {"adviser_decisions": ("choices",), "referrals": ("provider",), "referral_events": ("appointment", "notes"),
            "decisions": ("engine_version",)}
"""The fields of each table that no other record copies: when every other field checks out, one of these changed."""


def _unrecoverable(conn: sqlite3.Connection, table: str, row: dict[str, Any], event_found: bool,
                   keyed: Keyed | None = None) -> str:
    """What can still be said of a changed row whose recorded values are nowhere else."""
    if table == "claimants":
        return "its National Insurance number (not shown)"
    text = expand(conn, row.get("decision")) if table == "decisions" else None
    if table == "decisions" and _sha256(text) != row.get("decision_hash"):
        fields = _decision_fields(text)
        said = [f"{FIELD_WORDS.get(c, c)} {_said(fields[c])} where the row says {_said(row.get(c))}"
                for c in ("priority", "outcomes", "as_of", "edition") if c in fields and fields[c] != row.get(c)]
        return ("its recorded recommendation no longer matches its hash"
                + (": it now says " + "; ".join(said) if said else ""))
    if table == "cases" and _inputs_hash(conn, row, keyed) != row.get("inputs_hash"):
        return "its case inputs (not shown) no longer match their hash"
    if table in UNCOPIED and event_found:  # who and when (and the keys) agree with the event
        names = " or ".join(FIELD_WORDS.get(c, c) for c in UNCOPIED[table])
        return f"its {names} (kept nowhere else, so not shown)"
    return "the audit log holds only the row's hash, so which field cannot be told"


def explain_changed(conn: sqlite3.Connection, table: str, row: dict[str, Any], recorded: str,
                    keyed: Keyed | None = None) -> str:
    """Why a row differs from what was recorded, in words: 'was changed after it was recorded: priority x -> y'.

    `keyed` (the book's key) checks rows recorded with keyed hashes.
    """
    event = _event(conn, recorded)
    found = _put_back(row, recorded, _candidates(conn, table, row, event, keyed), keyed)
    if found:
        return "was changed after it was recorded: " + ", ".join(change_words(c, old, row.get(c)) for c, old in found)
    return "was changed after it was recorded: " + _unrecoverable(conn, table, row, event is not None, keyed)

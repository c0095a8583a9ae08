"""Recording decisions: cases, claimants, decisions and rule set snapshots, each with its audit event.

Everything here runs inside the caller's `BEGIN IMMEDIATE` write, so a chunk of decisions is
recorded whole or not at all. The NINO is kept in its own table, apart from the inputs, for erasure.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from engine import __version__, jsonfast
from engine.casebook import audit, compact
from engine.casebook.audit import sha256_text
from engine.casebook.bulk import insert_rows
from engine.casebook.keyed import Keyed
from engine.intake.stored import replay_inputs
from engine.model.adviser import AdviserDecision
from engine.model.case import Case
from engine.model.decision import Decision
from engine.model.nino import is_synthetic
from engine.policy.rulebook import RuleSet, canonical_json


@attrs.frozen
class Prepared:
    """A decision ready to record: every stored text and hash computed (in a worker, if need be)."""

    ref: str
    nino: str | None
    inputs: str
    inputs_hash: str
    """The sha256 of `inputs` (a book with a key stores its keyed hash instead, made while recording)."""
    as_of: str
    edition: str
    ruleset: str
    priority: str
    outcomes: str
    decision: str
    """The decision JSON, or its compact stored form when a batch worker packed it with this book's dictionary."""
    decision_hash: str
    announced: bool = False
    choices: str | None = None
    packed_inputs: str | None = None
    """`inputs` in its compact stored form, when a batch worker packed them with this book's dictionary (#14)."""

    @property
    def synthetic(self) -> bool:
        """True when the claimant's NINO is a synthetic QQ number."""
        return self.nino is not None and is_synthetic(self.nino)

    @classmethod
    def of(cls, case: Case, decision: Decision, choices: Sequence[AdviserDecision] | None = None) -> Prepared:
        """Prepare a decided case, and the adviser's decisions on it if made, for recording."""
        inputs = jsonfast.canonical(replay_inputs(case), nan_free=True)  # a validated case holds no NaN
        text = decision.to_json()
        chosen = canonical_json([c.to_data() for c in choices]) if choices is not None else None
        return cls(ref=case.case, nino=case.nino, inputs=inputs, inputs_hash=audit.sha256_text(inputs),
                   as_of=decision.as_of, edition=decision.edition, ruleset=decision.ruleset,
                   priority=decision.priority, outcomes=json.dumps(list(decision.codes)), decision=text,
                   decision_hash=audit.sha256_text(text), announced=decision.announced, choices=chosen)


def record(conn: sqlite3.Connection, prepared: list[Prepared], rulesets: dict[str, RuleSet], adviser: str,
           case_key: Callable[[str], str], skip_recorded: bool = False, *, keyed: Keyed | None = None,
           os_user: str | None = None) -> list[int]:
    """Record decisions and the rule sets they used (in the caller's write); returns the new decision ids.

    With skip_recorded, a (case ref, inputs) pair the book already holds is left out, so a batch
    that was interrupted can be run again. `case_key` makes the keyed reference the audit event keeps.
    With `keyed` (the book's key), the inputs hash and every row hash are keyed (#15). With `os_user`
    (the operating-system user, in a live book), the events name it as actor and record `adviser` as
    `on_behalf_of`.
    """
    hashes = [keyed.text_hash(item.inputs) for item in prepared] if keyed is not None else \
        [item.inputs_hash for item in prepared]  # the inputs hash each case is stored with
    plain = [item.inputs_hash for item in prepared] if skip_recorded and keyed is not None else hashes
    seen: set[tuple[str, str]] = already_recorded(conn, prepared, hashes, plain) if skip_recorded else set()
    fresh, fresh_hashes = [], []
    for item, inputs_hash, unkeyed in zip(prepared, hashes, plain, strict=True):
        key = (item.ref, inputs_hash)
        if skip_recorded and (key in seen or (item.ref, unkeyed) in seen):
            continue
        seen.add(key)
        fresh.append(item)
        fresh_hashes.append(inputs_hash)
    packers = {digest: store_ruleset(conn, rulesets[digest], os_user or adviser, adviser if os_user else None,
                                     keyed=keyed)
               for digest in dict.fromkeys(item.ruleset for item in fresh)}
    return _insert(conn, fresh, adviser, case_key, keyed, os_user, packers, fresh_hashes)


def already_recorded(conn: sqlite3.Connection, prepared: list[Prepared], hashes: list[str] | None = None,
                     plain: list[str] | None = None) -> set[tuple[str, str]]:
    """(ref, inputs hash) pairs among `prepared` that this book already holds.

    `hashes` are the inputs hashes they would be stored with and `plain` their sha256s (what a book before
    keyed hashes holds); both are made here when not given.
    """
    found: set[tuple[str, str]] = set()
    wanted = set(hashes) if hashes is not None else {p.inputs_hash for p in prepared}
    wanted |= set(plain) if plain is not None else {sha256_text(p.inputs) for p in prepared}
    tails = sorted({h[-16:] for h in wanted})  # what the index (db.INPUTS_TAIL_INDEX) holds
    for start in range(0, len(tails), 500):
        chunk = tails[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found |= {(str(ref), str(digest)) for ref, digest in conn.execute(
            f"SELECT ref, inputs_hash FROM cases WHERE substr(inputs_hash, -16) IN ({marks})", chunk)  # noqa: S608
            if digest in wanted}
    return found


def store_ruleset(conn: sqlite3.Connection, ruleset: RuleSet, actor: str, on_behalf_of: str | None = None, *,
                  keyed: Keyed | None = None) -> compact.Packer:
    """Keep the rule set snapshot (content-addressed; stored once, never deleted) and its decisions' dictionary.

    Returns the packer its decisions are stored with. A new dictionary's row hash goes in the snapshot's
    `ruleset.stored` event, or (a rule set stored before #14) in a `dictionary.stored` event of its own.
    """
    new = not conn.execute("SELECT 1 FROM rulesets WHERE digest = ?", (ruleset.digest,)).fetchone()
    if new:
        conn.execute("INSERT INTO rulesets (digest, edition, content) VALUES (?, ?, ?)",
                     (ruleset.digest, ruleset.edition.id, ruleset.canonical))
    packer, stored = compact.packer(conn, ruleset, lambda case: canonical_json(replay_inputs(case)))
    if not new and stored is None:
        return packer
    body: dict[str, Any] = {"ruleset": ruleset.digest, "edition": ruleset.edition.id} if new else \
        {"ruleset": ruleset.digest, "dictionary": packer.ident}
    if stored is not None:
        row_hash = keyed.row_hash if keyed is not None else audit.row_hash
        body["rows"] = {"decision_dictionaries": {str(packer.ident): row_hash(stored)}}
    if on_behalf_of is not None:
        body["on_behalf_of"] = on_behalf_of
    audit.append(conn, actor, "ruleset.stored" if new else "dictionary.stored", body)
    return packer


def _insert(conn: sqlite3.Connection, items: list[Prepared], adviser: str,
            case_key: Callable[[str], str], keyed: Keyed | None = None, os_user: str | None = None,
            packers: dict[str, compact.Packer] | None = None, inputs_hashes: list[str] | None = None) -> list[int]:
    """Insert the cases, claimants, decisions and their audit events (ids taken under the write lock).

    A decision and its case's inputs are stored in their compact form when its rule set's packer is given
    (engine.casebook.compact). Each case is stored with its item's inputs hash, or the one `inputs_hashes`
    gives for it.
    """
    if not items:
        return []
    row_hash = keyed.row_hash if keyed is not None else audit.row_hash
    stamp = audit.now()
    case_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM cases").fetchone()[0]
    decision_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM decisions").fetchone()[0]
    hashes = inputs_hashes if inputs_hashes is not None else [item.inputs_hash for item in items]
    cases, claimants, decisions, chosen, ids, events = [], [], [], [], [], []
    stored = [_stored_inputs(item, packers[item.ruleset]) for item in items] if packers else \
        [item.inputs for item in items]
    for item, inputs_hash, inputs in zip(items, hashes, stored, strict=True):
        case_id += 1
        decision_id += 1
        packer = packers[item.ruleset] if packers else None
        case_row = {"id": case_id, "ref": item.ref, "inputs": inputs,
                    "inputs_hash": inputs_hash, "recorded_at": stamp}
        decision_row = {"id": decision_id, "case_id": case_id, "ref": item.ref, "as_of": item.as_of,
                        "edition": item.edition, "ruleset": item.ruleset, "engine_version": __version__,
                        "priority": item.priority, "outcomes": item.outcomes,
                        "decision": _stored_decision(conn, item.decision, packer),
                        "decision_hash": item.decision_hash, "adviser": adviser, "recorded_at": stamp}
        cases.append(tuple(case_row.values()))
        claimants.append((case_id, item.nino))
        decisions.append(tuple(decision_row.values()))
        rows = {
            "cases": {str(case_id): row_hash(case_row)},
            "claimants": {str(case_id): row_hash({"case_id": case_id, "nino": item.nino})},
            "decisions": {str(decision_id): row_hash(decision_row)},
        }
        if item.choices is not None:
            choice_row = {"decision_id": decision_id, "choices": item.choices, "decided_by": adviser,
                          "decided_at": stamp}
            chosen.append(tuple(choice_row.values()))
            rows["adviser_decisions"] = {str(decision_id): row_hash(choice_row)}
        body = {"decision": decision_id, "case": case_id, "case_key": case_key(item.ref),
                "inputs_hash": inputs_hash, "rows": rows}  # the rule set is in the decision row it hashes
        if os_user is not None:
            body["on_behalf_of"] = adviser
        events.append(("decision.recorded", _body_json(body)))
        ids.append(decision_id)
    insert_rows(conn, "INSERT INTO cases (id, ref, inputs, inputs_hash, recorded_at)", cases)
    insert_rows(conn, "INSERT INTO claimants (case_id, nino)", claimants)
    insert_rows(conn, "INSERT INTO decisions (id, case_id, ref, as_of, edition, ruleset, engine_version, priority, "
                "outcomes, decision, decision_hash, adviser, recorded_at)", decisions)
    insert_rows(conn, "INSERT INTO adviser_decisions (decision_id, choices, decided_by, decided_at)", chosen)
    seqs = audit.append_encoded(conn, os_user or adviser, stamp, events)
    insert_rows(conn, "INSERT INTO decision_events (decision, seq)", list(zip(ids, seqs, strict=True)))
    return ids


def _stored_inputs(item: Prepared, packer: compact.Packer) -> str:
    """A case's inputs as its row stores them: packed with its rule set's dictionary (as a batch worker packed
    them, when it used that dictionary)."""
    packed = item.packed_inputs
    if packed is not None and compact.ident_of(packed) == packer.ident:
        return packed
    return packer.pack(item.inputs)


def _stored_decision(conn: sqlite3.Connection, decision: str, packer: compact.Packer | None) -> str:
    """A decision as its row stores it: packed with its rule set's dictionary (kept as it is when a worker already
    packed it with that dictionary; whole when there is no packer)."""
    if compact.is_compact(decision):
        if packer is not None and compact.ident_of(decision) == packer.ident:
            return decision
        decision = compact.expand(conn, decision)
        if not decision:
            raise ValueError("a batch worker packed a decision this book cannot read")
    return packer.pack(decision) if packer else decision


def _body_json(body: dict[str, Any]) -> str:
    """A decision event's body in canonical JSON: it holds text and integers only, so no float scan is needed
    (anything else takes the general road)."""
    if type(body["inputs_hash"]) is str:  # the one value a caller gives (the rest are ids, keyed refs, hashes)
        return audit.plain_json(body)
    return canonical_json(body)

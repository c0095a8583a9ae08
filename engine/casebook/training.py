"""Trainees' attempts at training scenarios: the prediction, the right answer and the marks, per trainee.

Only a training book holds them (the caller checks the book's kind). Each attempt is one
`training_attempts` row with its `training.attempt` audit event, so `audit verify` vouches for it
like any other row; nothing about a claimant is stored (scenarios are synthetic).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

import attrs

from engine.casebook import audit
from engine.casebook.keyed import Keyed
from engine.errors import BookError
from engine.model.decision import Decision
from engine.model.training import Score, score


@attrs.frozen
class Attempt:
    """One recorded attempt: who, which scenario, what they predicted, and the marks it earned."""

    id: int
    trainee: str
    scenario: str
    edition: str
    predicted: tuple[str, ...]
    predicted_priority: str | None
    outcomes: tuple[str, ...]
    priority: str
    marks: int
    out_of: int
    recorded_at: str


@attrs.frozen
class Tally:
    """A trainee's attempts added up: how many, and the marks out of the most they could earn."""

    attempts: int = 0
    marks: int = 0
    out_of: int = 0

    def add(self, marks: int, out_of: int) -> Tally:
        """This tally with one more attempt."""
        return Tally(self.attempts + 1, self.marks + marks, self.out_of + out_of)

    @property
    def percent(self) -> int:
        """The marks as a whole percentage (0 before any attempt)."""
        return round(100 * self.marks / self.out_of) if self.out_of else 0


def add(conn: sqlite3.Connection, trainee: str, decision: Decision, predicted: Iterable[str],
        predicted_priority: str | None, keyed: Keyed | None = None) -> tuple[int, Score]:
    """Score a prediction against the scenario's decision and record it (in the caller's write; row hash
    keyed with the book's key when `keyed` is given, as every row's is)."""
    chosen = sorted(set(predicted))
    if predicted_priority is not None and not isinstance(predicted_priority, str):
        raise BookError("the predicted priority must be text", key="priority")
    result = score(chosen, predicted_priority, decision)
    stamp = audit.now()
    cur = conn.execute(
        "INSERT INTO training_attempts (trainee, scenario, as_of, edition, predicted, predicted_priority, outcomes, "
        "priority, marks, out_of, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (trainee, decision.case, str(decision.as_of), decision.edition, json.dumps(chosen),
         predicted_priority, json.dumps(sorted(decision.codes)), decision.priority, result.marks, result.out_of,
         stamp))
    if cur.lastrowid is None:
        raise BookError("the case book did not return the new row's id")
    ident = int(cur.lastrowid)
    row = audit.fetch_row(conn, "training_attempts", "id", ident)
    if row is None:
        raise BookError(f"the new training_attempts row {ident} cannot be read back")
    audit.append(conn, trainee, "training.attempt",
                 {"attempt": ident, "scenario": decision.case, "marks": result.marks, "out_of": result.out_of,
                  "rows": {"training_attempts": {str(ident): keyed.row_hash(row) if keyed else audit.row_hash(row)}}},
                 ts=stamp)
    return ident, result


def _codes(value: Any) -> tuple[str, ...]:
    """A JSON list of codes as a tuple (() when a damaged book holds anything else)."""
    try:
        codes = json.loads(value)
    except (TypeError, ValueError):
        return ()
    return tuple(str(c) for c in codes) if isinstance(codes, list) else ()


def attempts(conn: sqlite3.Connection, trainee: str | None = None) -> list[Attempt]:
    """Recorded attempts, oldest first (only `trainee`'s, if given)."""
    present = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'training_attempts'")
    if present.fetchone() is None:
        return []
    sql = ("SELECT id, trainee, scenario, edition, predicted, predicted_priority, outcomes, priority, marks, out_of, "
           "recorded_at FROM training_attempts")
    rows = conn.execute(sql + (" WHERE trainee = ? ORDER BY id" if trainee is not None else " ORDER BY id"),
                        (trainee,) if trainee is not None else ())
    return [Attempt(int(r[0]), str(r[1]), str(r[2]), str(r[3]), _codes(r[4]), None if r[5] is None else str(r[5]),
                    _codes(r[6]), str(r[7]), int(r[8]), int(r[9]), str(r[10])) for r in rows]


def tally(items: Iterable[Attempt]) -> Tally:
    """Attempts added up."""
    total = Tally()
    for item in items:
        total = total.add(item.marks, item.out_of)
    return total

"""Erasure and retention: deleting a claimant's rows under the erasure gate, then scrubbing them from the file.

The case, claimant, decision and referral rows go (secure_delete zeroes their pages) and the WAL is
checkpointed, so the data leaves the file. The audit log keeps only what it always held (ids, keyed
references, row hashes) plus one event naming the erased rows, so the chain still verifies.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlite_utils

from engine.casebook import audit
from engine.casebook.db import ERASABLE, write
from engine.errors import BookError

CHUNK = 500
"""Cases deleted per statement (keeps each IN (...) list within SQLite's limits)."""


def case_ids_for_ref(conn: sqlite3.Connection, ref: str) -> list[int]:
    """Every case row recorded under one case reference; refused (BookError) when there is none."""
    ids = [r[0] for r in conn.execute("SELECT id FROM cases WHERE ref = ?", (ref,))]
    if not ids:
        raise BookError(f"no case {ref} in this case book", key="case")
    return ids


def case_ids_before(conn: sqlite3.Connection, cutoff: str) -> list[int]:
    """Every case row recorded before `cutoff` (ISO time)."""
    return [r[0] for r in conn.execute("SELECT id FROM cases WHERE recorded_at < ?", (cutoff,))]


def erase_cases(db: sqlite_utils.Database, case_ids: list[int], actor: str, event: str,
                body: dict[str, Any]) -> int:
    """Delete these cases' rows under the erasure gate, with one audit event, then scrub; returns decisions gone."""
    removed = 0
    with write(db) as conn:
        conn.execute("INSERT INTO erasure_gate (open) VALUES (1)")
        rows: dict[str, dict[str, None]] = {table: {} for table in ERASABLE}
        for start in range(0, len(case_ids), CHUNK):
            chunk = case_ids[start:start + CHUNK]
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
            chosen = [r[0] for r in conn.execute(
                f"SELECT decision_id FROM adviser_decisions WHERE decision_id IN ({dmarks})", decisions)]  # noqa: S608
            conn.execute(f"DELETE FROM adviser_decisions WHERE decision_id IN ({dmarks})", decisions)  # noqa: S608
            conn.execute(f"DELETE FROM decisions WHERE case_id IN ({marks})", chunk)  # noqa: S608
            conn.execute(f"DELETE FROM claimants WHERE case_id IN ({marks})", chunk)  # noqa: S608
            conn.execute(f"DELETE FROM cases WHERE id IN ({marks})", chunk)  # noqa: S608
            for table, idents in (("cases", chunk), ("claimants", chunk), ("decisions", decisions),
                                  ("adviser_decisions", chosen), ("referrals", referrals),
                                  ("referral_events", events)):
                rows[table].update({str(i): None for i in idents})
            removed += len(decisions)
        conn.execute("DELETE FROM erasure_gate")
        audit.append(conn, actor, event, {**body, "rows": rows})
    scrub(db.conn)
    return removed


def scrub(conn: sqlite3.Connection) -> None:
    """Push erased pages out of the WAL into the (zeroed) main file and truncate the WAL."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

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
    """Every case row recorded under one case reference; refused (BookError) when the book holds nothing of it
    (no case, and no draft)."""
    ids = [r[0] for r in conn.execute("SELECT id FROM cases WHERE ref = ?", (ref,))]
    if not ids and conn.execute("SELECT 1 FROM drafts WHERE ref = ? LIMIT 1", (ref,)).fetchone() is None:
        raise BookError(f"no case {ref} in this case book", key="case")
    return ids


def case_ids_before(conn: sqlite3.Connection, cutoff: str) -> list[int]:
    """Every case row recorded before `cutoff` (ISO time)."""
    return [r[0] for r in conn.execute("SELECT id FROM cases WHERE recorded_at < ?", (cutoff,))]


def erase_cases(db: sqlite_utils.Database, case_ids: list[int], actor: str, event: str,
                body: dict[str, Any], refs: list[str] | None = None, drafts_before: str | None = None) -> int:
    """Delete these cases' rows under the erasure gate, with one audit event, then scrub; returns decisions gone.

    With `refs`, those case references' drafts and status history go too; with `drafts_before`, every
    draft saved before that time, and the status history of every case left with no case rows.
    """
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
        _erase_casework(conn, rows, refs, drafts_before)
        conn.execute("DELETE FROM erasure_gate")
        audit.append(conn, actor, event, {**body, "rows": rows})
    scrub(db.conn)
    return removed


def _erase_casework(conn: sqlite3.Connection, rows: dict[str, dict[str, None]], refs: list[str] | None,
                    drafts_before: str | None) -> None:
    """Delete drafts and case status rows with the cases (the gate is open); note them in `rows`."""
    wanted: list[tuple[str, str, tuple[Any, ...]]] = []
    for ref in refs or ():
        wanted += [("drafts", "ref = ?", (ref,)), ("case_status", "ref = ?", (ref,))]
    if drafts_before is not None:
        wanted += [("drafts", "saved_at < ?", (drafts_before,)),
                   ("case_status", "NOT EXISTS (SELECT 1 FROM cases WHERE cases.ref = case_status.ref)", ())]
    for table, where, args in wanted:
        idents = [r[0] for r in conn.execute(f"SELECT id FROM {table} WHERE {where}", args)]  # noqa: S608
        conn.execute(f"DELETE FROM {table} WHERE {where}", args)  # noqa: S608 - constant tables and clauses
        rows[table].update({str(i): None for i in idents})


def case_ids_or_drafts_before(conn: sqlite3.Connection, cutoff: str) -> tuple[list[int], bool]:
    """Cases recorded before `cutoff`, and whether any draft was saved before it (retention takes both)."""
    ids = case_ids_before(conn, cutoff)
    old_draft = conn.execute("SELECT 1 FROM drafts WHERE saved_at < ? LIMIT 1", (cutoff,)).fetchone() is not None
    return ids, old_draft


def scrub(conn: sqlite3.Connection) -> None:
    """Push erased pages out of the WAL into the (zeroed) main file and truncate the WAL."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

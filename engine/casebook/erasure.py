"""Erasure and retention: deleting a claimant's rows under the erasure gate, then scrubbing them from the file.

The case, claimant, decision and referral rows go (secure_delete zeroes their pages) and the WAL is
checkpointed, so the data leaves the file. The audit log keeps only what it always held (ids, keyed
references, row hashes) plus one event naming the erased rows, so the chain still verifies.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any

import attrs
import sqlite_utils

from engine.casebook import audit
from engine.casebook.db import BUSY_TIMEOUT_MS, ERASABLE, write
from engine.errors import BookError
from engine.model.nino import nino_problem

CHUNK = 500
"""Cases deleted per statement (keeps each IN (...) list within SQLite's limits)."""

ERASURE_REASONS = ("erasure_request", "recorded_in_error", "wrong_claimant", "duplicate_record",
                   "legal_obligation", "court_order")
"""Why a case may be erased: a fixed list, so no free text (which could hold personal data) enters the log."""

RETENTION_REASONS = ("retention_schedule", "legal_obligation")
"""Why a retention period may be applied."""

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._-]{0,39}", re.ASCII)

SCRUB_WAIT_MS = 3000
"""How long erasure waits for readers to let go of the book before reporting it is not yet scrubbed."""


@attrs.frozen
class Erased:
    """What an erasure or retention did: decisions gone, and whether their data has left the file."""

    decisions: int
    scrubbed: bool


def check_reason(reason: str, allowed: tuple[str, ...], reference: str | None) -> dict[str, str]:
    """The reason and reference as an event records them; refused (BookError) unless from the list and well-formed.

    A reference names the request (a ticket or letter number), never the person: one that looks
    like a National Insurance number is refused.
    """
    if reason not in allowed:
        raise BookError("is not one of the reasons allowed", key="reason", allowed=", ".join(allowed))
    out = {"reason": reason}
    if reference is not None:
        if not _REFERENCE.fullmatch(reference) or nino_problem(reference.upper()) is None:
            raise BookError("must be 1-40 letters, digits and / . _ - naming the request, not the person",
                            key="reference")
        out["reference"] = reference
    return out


def case_ids_for_ref(conn: sqlite3.Connection, ref: str) -> list[int]:
    """Every case row recorded under one case reference; refused (BookError) when the book holds nothing of it
    (no case, and no draft)."""
    ids = [r[0] for r in conn.execute("SELECT id FROM cases WHERE ref = ?", (ref,))]
    if not ids and conn.execute("SELECT 1 FROM drafts WHERE ref = ? LIMIT 1", (ref,)).fetchone() is None:
        raise BookError(f"no case {ref} in this case book", key="case")
    return ids


def case_ids_for_nino(conn: sqlite3.Connection, nino: str) -> list[int]:
    """Every case row recorded for one NINO, under whatever case reference; refused when there is none."""
    ids = [r[0] for r in conn.execute("SELECT case_id FROM claimants WHERE nino = ?", (nino,))]
    if not ids and conn.execute("SELECT 1 FROM drafts WHERE nino = ? LIMIT 1", (nino,)).fetchone() is None:
        raise BookError("no case with that National Insurance number in this case book", key="nino")
    return ids


def refs_for_nino(conn: sqlite3.Connection, nino: str) -> list[str]:
    """Every case reference a NINO was recorded or drafted under (their drafts and status history go with it)."""
    rows = conn.execute("SELECT c.ref FROM claimants AS n JOIN cases AS c ON c.id = n.case_id WHERE n.nino = ? "
                        "UNION SELECT ref FROM drafts WHERE nino = ?", (nino, nino))
    return sorted(str(r[0]) for r in rows)


def case_ids_before(conn: sqlite3.Connection, cutoff: str) -> list[int]:
    """Every case row recorded before `cutoff` (ISO time)."""
    return [r[0] for r in conn.execute("SELECT id FROM cases WHERE recorded_at < ?", (cutoff,))]


Signer = Callable[[sqlite3.Connection, str, str, str, dict[str, Any]], dict[str, Any]]
"""Signs an event body inside the write that appends it: (conn, actor, ts, event, body) -> signed body."""


def erase_cases(db: sqlite_utils.Database, case_ids: list[int], actor: str, event: str,
                body: dict[str, Any], signer: Signer | None = None, refs: list[str] | None = None,
                drafts_before: str | None = None) -> Erased:
    """Delete these cases' rows under the erasure gate, with one (signed) audit event, then scrub.

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
        stamp = audit.now()
        full = {**body, "rows": rows}
        if signer is not None:
            full = signer(conn, actor, stamp, event, full)
        audit.append(conn, actor, event, full, ts=stamp)
    return Erased(removed, scrub(db.conn))


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


def scrub(conn: sqlite3.Connection, wait_ms: int | None = None) -> bool:
    """Push erased pages out of the WAL into the (zeroed) main file and truncate the WAL; True when done.

    A reader holding an older snapshot keeps the WAL (and the erased data in it) alive: this waits
    up to `wait_ms` for readers to finish, then says honestly whether the data has left the file.
    """
    conn.execute(f"PRAGMA busy_timeout={int(SCRUB_WAIT_MS if wait_ms is None else wait_ms)}")
    try:
        busy, log, done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError:
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return busy == 0 and log in (0, -1) and done in (0, -1)

"""Drafts of unfinished interviews and each case's open/closed status, every row vouched for by an audit event.

A draft holds personal data (the answers, the NINO), so it lives only in the case book it was
started on (0600), one per case reference: saving again replaces it, recording the case or
discarding the draft removes it. A removed draft is deleted under the erasure gate (secure_delete
zeroes its pages) with an audit event that names the row as gone, so `audit verify` still checks
every row. A case's status is a history of changes (open, closed), appended, never updated; the
latest is current, and a case with none is open. Audit bodies hold ids, keyed references and row
hashes only. Everything here runs inside the caller's `BEGIN IMMEDIATE` write.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import attrs

from engine.casebook import audit
from engine.casebook.keyed import Keyed
from engine.errors import BookError

CASE_STATUSES = ("open", "closed")
"""A case's statuses: open until an adviser closes it (and it can be reopened)."""

DRAFT_SAVED = "draft.saved"
"""The audit event of a draft written (naming the draft it replaced as gone)."""
DRAFT_REMOVED = "draft.removed"
"""The audit event of a draft discarded, or removed because its case was recorded."""
CASE_STATUS = "case.status"
"""The audit event of a case's status changed."""


@attrs.frozen
class Draft:
    """An interview saved before it was recorded: the case, its date, NINO and answers (JSON-ready)."""

    id: int
    ref: str
    as_of: str
    nino: str | None
    answers: dict[str, Any]
    saved_by: str
    saved_at: str


def _lastrowid(cur: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just made."""
    if cur.lastrowid is None:
        raise BookError("the case book did not return the new row's id")
    return int(cur.lastrowid)


def _row_hash(conn: sqlite3.Connection, table: str, ident: int, keyed: Keyed | None) -> str:
    """The row hash of a row this write just made (keyed with the book's key when `keyed` is given)."""
    row = audit.fetch_row(conn, table, audit.ROW_TABLES[table], ident)
    if row is None:
        raise BookError(f"the new {table} row {ident} cannot be read back")
    return keyed.row_hash(row) if keyed is not None else audit.row_hash(row)


def _by(actor: str, os_user: str | None, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The event's actor and body: the OS user, on behalf of the adviser, in a live book; else the adviser."""
    return (actor, body) if os_user is None else (os_user, {**body, "on_behalf_of": actor})


def _delete_drafts(conn: sqlite3.Connection, ids: list[int]) -> dict[str, None]:
    """Delete drafts under the erasure gate (in the caller's write); their row entries for the audit event."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    conn.execute("INSERT INTO erasure_gate (open) VALUES (1)")
    conn.execute(f"DELETE FROM drafts WHERE id IN ({marks})", ids)  # noqa: S608 - placeholders only
    conn.execute("DELETE FROM erasure_gate")
    return {str(i): None for i in ids}


def draft_ids(conn: sqlite3.Connection, ref: str) -> list[int]:
    """The ids of the drafts held for a case reference (at most one, unless written outside Pathways)."""
    return [int(r[0]) for r in conn.execute("SELECT id FROM drafts WHERE ref = ? ORDER BY id", (ref,))]


def save_draft(conn: sqlite3.Connection, ref: str, as_of: str, nino: str | None, answers: dict[str, Any],
               actor: str, case_key: Callable[[str], str], *, keyed: Keyed | None = None,
               os_user: str | None = None) -> int:
    """Save an interview as the draft of its case, replacing any earlier draft of it; returns the draft id."""
    old = draft_ids(conn, ref)
    rows: dict[str, dict[str, str | None]] = {"drafts": dict(_delete_drafts(conn, old))}
    stamp = audit.now()
    cur = conn.execute("INSERT INTO drafts (ref, as_of, nino, answers, saved_by, saved_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (ref, as_of, nino, json.dumps(answers, sort_keys=True), actor, stamp))
    draft_id = _lastrowid(cur)
    rows["drafts"][str(draft_id)] = _row_hash(conn, "drafts", draft_id, keyed)
    who, body = _by(actor, os_user, {"draft": draft_id, "case_key": case_key(ref), "rows": rows})
    audit.append(conn, who, DRAFT_SAVED, body, ts=stamp)
    return draft_id


def remove_drafts(conn: sqlite3.Connection, ref: str, actor: str, case_key: Callable[[str], str],
                  why: str, *, os_user: str | None = None) -> int:
    """Remove a case's draft (discarded, or its case recorded); returns how many went (0: none held)."""
    ids = draft_ids(conn, ref)
    if not ids:
        return 0
    rows = {"drafts": _delete_drafts(conn, ids)}
    who, body = _by(actor, os_user, {"case_key": case_key(ref), "why": why, "rows": rows})
    audit.append(conn, who, DRAFT_REMOVED, body)
    return len(ids)


def drafts(conn: sqlite3.Connection) -> list[Draft]:
    """Every draft, newest first (answers that a damaged book cannot give back as an object read as none)."""
    out = []
    for ident, ref, as_of, nino, answers, by, at in conn.execute(
            "SELECT id, ref, as_of, nino, answers, saved_by, saved_at FROM drafts ORDER BY id DESC"):
        try:
            data = json.loads(answers)
        except (TypeError, ValueError):
            data = {}
        out.append(Draft(int(ident), str(ref), str(as_of), None if nino is None else str(nino),
                         data if isinstance(data, dict) else {}, str(by), str(at)))
    return out


def draft(conn: sqlite3.Connection, draft_id: int) -> Draft | None:
    """One draft by id."""
    return next((d for d in drafts(conn) if d.id == draft_id), None)


def set_status(conn: sqlite3.Connection, ref: str, status: str, actor: str, notes: str,
               case_key: Callable[[str], str], *, keyed: Keyed | None = None, os_user: str | None = None) -> int:
    """Record a case's new status (a case held in this book, and a change); returns the status row id."""
    if status not in CASE_STATUSES:
        raise BookError(f"unknown case status {status!r}", key="status", allowed=", ".join(CASE_STATUSES))
    if conn.execute("SELECT 1 FROM cases WHERE ref = ? LIMIT 1", (ref,)).fetchone() is None:
        raise BookError(f"no case {ref} in this case book", key="case")
    current = statuses(conn, [ref]).get(ref, "open")
    if current == status:
        raise BookError(f"case {ref} is already {status}", key="status")
    stamp = audit.now()
    cur = conn.execute("INSERT INTO case_status (ref, status, notes, actor, at) VALUES (?, ?, ?, ?, ?)",
                       (ref, status, notes, actor, stamp))
    row_id = _lastrowid(cur)
    who, body = _by(actor, os_user, {"case_key": case_key(ref), "status": status,
                                     "rows": {"case_status": {str(row_id): _row_hash(conn, "case_status", row_id,
                                                                                     keyed)}}})
    audit.append(conn, who, CASE_STATUS, body, ts=stamp)
    return row_id


def statuses(conn: sqlite3.Connection, refs: list[str] | None = None) -> dict[str, str]:
    """ref -> current status, for the cases whose status was ever changed (the others are open)."""
    sql = ("SELECT ref, status FROM case_status WHERE id IN (SELECT MAX(id) FROM case_status GROUP BY ref)")
    if refs is None:
        return {str(r): str(s) for r, s in conn.execute(sql)}
    out: dict[str, str] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start:start + 500]
        marks = ",".join("?" * len(chunk))
        out.update({str(r): str(s) for r, s in conn.execute(f"{sql} AND ref IN ({marks})", chunk)})
    return out

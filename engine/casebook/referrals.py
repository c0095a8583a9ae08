"""The referral lifecycle: logging a referral a decision calls for, and moving it from status to status.

Each change is a new `referral_events` row with its audit event; nothing is updated in place.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

from engine.casebook import audit, compact
from engine.casebook.keyed import Keyed
from engine.errors import BookError
from engine.textsafe import shown_code

REFERRAL_STATUSES = ("proposed", "booked", "attended", "did_not_attend", "declined", "closed")
"""A referral's lifecycle states."""

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("booked", "declined", "closed"),
    "booked": ("booked", "attended", "did_not_attend", "declined", "closed"),
    "did_not_attend": ("booked", "declined", "closed"),
    "attended": ("closed",),
    "declined": ("closed",),
    "closed": (),
}
"""Which status may follow which (re-booking after a missed appointment is allowed)."""

CLOSED_STATUSES = ("closed", "declined", "attended")
"""Statuses of a referral that is no longer open."""


def add(conn: sqlite3.Connection, decision_id: int, code: str, provider: str, actor: str,
        appointment: dt.date | None, notes: str, *, keyed: Keyed | None = None, os_user: str | None = None) -> int:
    """Log a referral the decision calls for (in the caller's write); starts 'proposed', or 'booked' with a date.

    With `keyed`, the row hashes are keyed; with `os_user`, the event names it and `actor` as on behalf of.
    """
    row = conn.execute("SELECT decision FROM decisions WHERE id = ?", (decision_id,)).fetchone()
    if row is None:
        raise BookError(f"no decision {decision_id} in this case book", key="decision")
    outcomes = {o["code"]: o["kind"] for o in json.loads(compact.expand(conn, row[0]))["outcomes"]}
    if outcomes.get(code) != "referral":
        allowed = ", ".join(c for c, k in sorted(outcomes.items()) if k == "referral") or "none"
        raise BookError(f"decision {decision_id} does not call for a {shown_code(code)} referral "
                        "(consent is part of the decision)", key="code", allowed=allowed)
    chosen = conn.execute("SELECT choices FROM adviser_decisions WHERE decision_id = ?", (decision_id,)).fetchone()
    if chosen is not None:
        accepted = {c.get("code") for c in json.loads(chosen[0]) if isinstance(c, dict) and c.get("accepted")}
        if code not in accepted:
            raise BookError(f"the adviser declined {code} for decision {decision_id}: only an accepted "
                            "referral can be logged", key="code")
    stamp = audit.now()
    cur = conn.execute(
        "INSERT INTO referrals (decision_id, code, provider, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
        (decision_id, code, provider, actor, stamp))
    referral_id = _lastrowid(cur)
    status = "booked" if appointment else "proposed"
    event_id = _status_row(conn, referral_id, status, appointment, notes, actor, stamp)
    rows = {"referrals": _row_hashes(conn, "referrals", referral_id, keyed),
            "referral_events": _row_hashes(conn, "referral_events", event_id, keyed)}
    audit.append(conn, os_user or actor, "referral.added",
                 _on_behalf({"referral": referral_id, "decision": decision_id, "code": code, "status": status,
                             "rows": rows}, actor, os_user), ts=stamp)
    return referral_id


def _check_status(status: str, appointment: dt.date | None) -> None:
    """Refuse an unknown status, or 'booked' without an appointment date."""
    if status not in REFERRAL_STATUSES:
        raise BookError(f"unknown status {status!r}", key="status", allowed=", ".join(REFERRAL_STATUSES))
    if status == "booked" and appointment is None:
        raise BookError("a booked referral needs an appointment date", key="appointment")


def update(conn: sqlite3.Connection, referral_id: int, status: str, actor: str, appointment: dt.date | None,
           notes: str, *, keyed: Keyed | None = None, os_user: str | None = None) -> None:
    """Move a referral along its lifecycle (in the caller's write), refusing transitions it does not allow."""
    _check_status(status, appointment)
    current = conn.execute(
        "SELECT status FROM referral_events WHERE referral_id = ? ORDER BY id DESC LIMIT 1",
        (referral_id,)).fetchone()
    if current is None:
        raise BookError(f"no referral {referral_id} in this case book", key="referral")
    if status not in TRANSITIONS[current[0]]:
        allowed = ", ".join(TRANSITIONS[current[0]]) or "nothing (closed)"
        raise BookError(f"a {current[0]} referral cannot become {status}", key="status", allowed=allowed)
    stamp = audit.now()
    event_id = _status_row(conn, referral_id, status, appointment, notes, actor, stamp)
    audit.append(conn, os_user or actor, "referral.updated",
                 _on_behalf({"referral": referral_id, "status": status,
                             "rows": {"referral_events": _row_hashes(conn, "referral_events", event_id, keyed)}},
                            actor, os_user), ts=stamp)


def _on_behalf(body: dict[str, Any], adviser: str, os_user: str | None) -> dict[str, Any]:
    """An event body with the adviser recorded as `on_behalf_of` when the actor is the operating-system user."""
    return body if os_user is None else {**body, "on_behalf_of": adviser}


def _status_row(conn: sqlite3.Connection, referral_id: int, status: str, appointment: dt.date | None, notes: str,
                actor: str, stamp: str) -> int:
    """Append one lifecycle event for a referral; returns its id."""
    cur = conn.execute(
        "INSERT INTO referral_events (referral_id, status, appointment, notes, actor, at) VALUES (?, ?, ?, ?, ?, ?)",
        (referral_id, status, appointment.isoformat() if appointment else None, notes, actor, stamp))
    return _lastrowid(cur)


def _lastrowid(cur: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just made."""
    if cur.lastrowid is None:
        raise BookError("the case book did not return the new row's id")
    return int(cur.lastrowid)


def _row_hashes(conn: sqlite3.Connection, table: str, ident: int, keyed: Keyed | None = None) -> dict[str, str]:
    """{id: row hash} of a row this write just made, for its audit event (keyed when `keyed` is given)."""
    row = audit.fetch_row(conn, table, audit.ROW_TABLES[table], ident)
    if row is None:
        raise BookError(f"the new {table} row {ident} cannot be read back")
    return {str(ident): keyed.row_hash(row) if keyed is not None else audit.row_hash(row)}

"""Export decisions and referrals as CSV or JSON Lines, pseudonymised unless asked otherwise."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

from engine.casebook.book import CaseBook
from engine.textsafe import clean, escape_json

DECISION_FIELDS = ("decision", "case", "as_of", "edition", "edition_status", "ruleset", "priority", "outcomes",
                   "accepted", "declined", "adviser", "recorded_at")
REFERRAL_FIELDS = ("referral", "decision", "case", "code", "provider", "status", "appointment", "created_by",
                   "created_at")


def decision_rows(book: CaseBook, identified: bool) -> Iterator[dict[str, Any]]:
    """Decisions for export: case refs pseudonymised (keyed hash) unless `identified`."""
    for row in reversed(book.decisions(limit=-1)):
        out: dict[str, Any] = {
            "decision": row.id,
            "case": row.ref if identified else book.pseudonym(row.ref),
            "as_of": row.as_of,
            "edition": row.edition,
            "edition_status": None,
            "ruleset": row.ruleset,
            "priority": row.priority,
            "outcomes": " ".join(row.outcomes),
            "accepted": None,
            "declined": None,
            "adviser": row.adviser,
            "recorded_at": row.recorded_at,
        }
        record = book.decision_record(row.id)
        if record is not None:
            out["edition_status"] = _edition_status(record.decision)
        choices = record.adviser_decisions() if record else None
        if choices is not None:  # reasons are codes; the adviser's free-text notes are never exported
            out["accepted"] = " ".join(c.code for c in choices if c.accepted)
            out["declined"] = " ".join(f"{c.code}:{c.reason}" for c in choices if not c.accepted)
        if identified:
            out["nino"] = record.nino if record else None
        yield out


def _edition_status(decision_json: str) -> str | None:
    """`announced` or `in_force` from a recorded decision (v1 decisions predate the field: None)."""
    try:
        status = json.loads(decision_json).get("edition_status")
    except (ValueError, AttributeError):
        return None
    return str(status) if status is not None else None


def referral_rows(book: CaseBook, identified: bool) -> Iterator[dict[str, Any]]:
    """Referrals for export, with their current status."""
    refs = {r.id: r.ref for r in book.decisions(limit=-1)}
    for ref in reversed(book.referrals()):
        case = refs.get(ref.decision_id, "")
        yield {
            "referral": ref.id,
            "decision": ref.decision_id,
            "case": case if identified else book.pseudonym(case),
            "code": ref.code,
            "provider": ref.provider,
            "status": ref.status,
            "appointment": ref.appointment,
            "created_by": ref.created_by,
            "created_at": ref.created_at,
        }


def write_export(rows: Iterator[dict[str, Any]], fmt: str, out: IO[str], fields: tuple[str, ...]) -> int:
    """Write rows as CSV (with header) or JSON Lines; returns how many."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(fields), extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_safe(v) for k, v in row.items()})
            count += 1
    else:
        for row in rows:
            out.write(escape_json(json.dumps(row, ensure_ascii=False)) + "\n")
            count += 1
    return count


def _csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas (CSV injection) and terminal escapes or bidi controls in text cells."""
    if not isinstance(value, str):
        return value
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        value = "'" + value
    return clean(value, keep_newlines=True)

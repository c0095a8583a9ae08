"""Export decisions and referrals as CSV, a JSON array or JSON Lines, pseudonymised unless asked otherwise.

Each format is what its usual reader expects: `json` is one JSON array of records
(`pandas.read_json(path, orient="records")`), `jsonl` one object a line, and in both the list
fields (`outcomes`, `accepted`, `declined`) are real lists. CSV is for spreadsheets: lists are
space-joined and times are written `YYYY-MM-DD HH:MM:SS` in UTC, which LibreOffice, Excel and
`pandas.read_csv(parse_dates=...)` read as dates (JSON keeps ISO 8601 with its offset).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any, Protocol

from engine.casebook.book import CaseBook
from engine.textsafe import clean, escape_json

FORMATS = ("csv", "json", "jsonl")
"""Export formats: CSV with a header, one JSON array, JSON Lines."""

DECISION_FIELDS = ("decision", "case", "as_of", "edition", "edition_status", "ruleset", "priority", "outcomes",
                   "accepted", "declined", "adviser", "recorded_at")
REFERRAL_FIELDS = ("referral", "decision", "case", "code", "provider", "status", "appointment", "created_by",
                   "created_at")
TIME_FIELDS = ("recorded_at", "created_at")
"""Columns holding a moment (ISO 8601 in the book): written as spreadsheet dates in CSV."""


def decision_rows(book: CaseBook, identified: bool) -> Iterator[dict[str, Any]]:
    """Decisions for export, oldest first: case refs pseudonymised (keyed hash) unless `identified`.

    `accepted` is the list of outcome codes the adviser accepted and `declined` a list of
    {"code", "reason"}; both are None when no adviser's decisions were recorded. The adviser's
    free-text notes are never exported.
    """
    for row in reversed(book.decisions(limit=-1)):
        out: dict[str, Any] = {
            "decision": row.id,
            "case": row.ref if identified else book.pseudonym(row.ref),
            "as_of": row.as_of,
            "edition": row.edition,
            "edition_status": None,
            "ruleset": row.ruleset,
            "priority": row.priority,
            "outcomes": list(row.outcomes),
            "accepted": None,
            "declined": None,
            "adviser": row.adviser,
            "recorded_at": row.recorded_at,
        }
        record = book.decision_record(row.id)
        if record is not None:
            out["edition_status"] = _edition_status(record.decision)
        choices = record.adviser_decisions() if record else None
        if choices is not None:
            out["accepted"] = [c.code for c in choices if c.accepted]
            out["declined"] = [{"code": c.code, "reason": c.reason} for c in choices if not c.accepted]
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
    """Referrals for export, oldest first, with their current status (and the claimant's NINO if `identified`)."""
    refs = {r.id: r.ref for r in book.decisions(limit=-1)}
    ninos: dict[int, str | None] = {}
    for ref in reversed(book.referrals()):
        case = refs.get(ref.decision_id, "")
        out: dict[str, Any] = {
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
        if identified:
            if ref.decision_id not in ninos:
                record = book.decision_record(ref.decision_id)
                ninos[ref.decision_id] = record.nino if record else None
            out["nino"] = ninos[ref.decision_id]
        yield out


class TextSink(Protocol):
    """Anything text can be written to: an open file, standard output, a private file being written."""

    def write(self, text: str, /) -> int:
        """Write text."""


def write_export(rows: Iterator[dict[str, Any]], fmt: str, out: TextSink, fields: tuple[str, ...]) -> int:
    """Write rows as CSV (with header), a JSON array or JSON Lines; returns how many."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(fields), extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(k, v) for k, v in row.items()})
            count += 1
    elif fmt == "json":
        out.write("[")
        for row in rows:
            out.write(("," if count else "") + "\n" + _json(row))
            count += 1
        out.write("\n]\n" if count else "]\n")
    else:
        for row in rows:
            out.write(_json(row) + "\n")
            count += 1
    return count


def _json(row: dict[str, Any]) -> str:
    """One record as JSON, every unsafe character escaped (lossless)."""
    return escape_json(json.dumps(row, ensure_ascii=False))


def spreadsheet_time(value: Any) -> Any:
    """An ISO 8601 moment as `YYYY-MM-DD HH:MM:SS` in UTC (what spreadsheets read as a date); else unchanged."""
    if not isinstance(value, str):
        return value
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _csv_cell(key: str, value: Any) -> Any:
    """A CSV cell: lists space-joined, times as spreadsheet dates, text made safe."""
    if key in TIME_FIELDS:
        value = spreadsheet_time(value)
    if isinstance(value, list):
        value = " ".join(f"{v['code']}:{v['reason']}" if isinstance(v, dict) else str(v) for v in value)
    return _csv_safe(value)


def _csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas (CSV injection) and terminal escapes or bidi controls in text cells."""
    if not isinstance(value, str):
        return value
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        value = "'" + value
    return clean(value, keep_newlines=True)

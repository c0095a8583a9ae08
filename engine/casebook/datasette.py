"""Datasette metadata for a case book: what each table, view and column holds, and auditors' canned queries.

`pathways datasette-metadata --db book.db -o metadata.json`, then
`datasette book.db --metadata metadata.json`. Datasette opens a book read-only; the views it shows
are created by the case book's migrations (`db.VIEWS`).
"""

from __future__ import annotations

from typing import Any

WHEN = "When it was recorded (UTC, ISO 8601)."
WHO = "Who recorded it (the adviser's id, or 'system')."

VIEW_DOCS: dict[str, tuple[str, dict[str, str]]] = {
    "decisions_readable": (
        "Every recorded decision with the edition it was made under and the adviser's review.",
        {
            "decision": "Decision id (what `pathways show` takes).",
            "case": "The case reference.",
            "as_of": "The date the case was decided as on: it selects the edition in force.",
            "edition": "The policy edition applied.",
            "edition_status": "in_force, or announced (policy announced and never in force: training only).",
            "priority": "urgent, priority or routine.",
            "outcomes": "The recommended outcome codes (JSON list).",
            "outcome_count": "How many outcomes were recommended.",
            "reviewed": "1 when the adviser's decision on each outcome was recorded.",
            "declined": "The outcome codes the adviser declined (JSON list; null when not reviewed).",
            "ruleset": "sha256 of the exact rule set: replay re-decides under it.",
            "engine_version": "Pathways version that recorded it.",
            "recorded_by": WHO,
            "recorded_at": WHEN,
        },
    ),
    "referrals_current": (
        "Every referral with its current status (the latest step of its lifecycle).",
        {
            "referral": "Referral id.",
            "decision": "The decision that called for it.",
            "case": "The case reference.",
            "code": "The referral outcome code.",
            "provider": "Who the claimant was referred to.",
            "status": "proposed, booked, attended, did_not_attend, declined or closed.",
            "appointment": "The latest appointment date booked, if any.",
            "open": "1 until the referral is attended, declined or closed.",
            "status_recorded_at": "When the current status was recorded.",
            "status_recorded_by": "Who recorded the current status.",
            "recorded_by": "Who logged the referral.",
            "recorded_at": "When the referral was logged.",
        },
    ),
    "audit_events_readable": (
        "The hash-chained audit log with the ids each event names. Verify it with `pathways audit verify`.",
        {
            "seq": "Position in the chain.",
            "event": "book.created, ruleset.stored, decision.recorded, referral.added, referral.updated, "
                     "draft.saved, draft.removed, case.status, case.erased or retention.applied.",
            "recorded_at": WHEN,
            "recorded_by": WHO,
            "decision": "The decision the event recorded or refers to.",
            "referral": "The referral the event recorded or updated.",
            "status": "A referral's status set by the event.",
            "case_key": "Keyed pseudonym of the case reference (survives erasure; reveals nothing).",
            "ruleset": "The rule set the event stored (decision events before #14 also name the one used; "
                       "a decision's rule set is in decisions_readable).",
            "hash": "sha256 of this event, covering the previous one's.",
            "prev_hash": "The previous event's hash.",
            "body": "The event as recorded (JSON, with the hashes of the rows it wrote).",
        },
    ),
    "case_history": (
        "A case's history, one row per step: decisions, the adviser's review, each referral step. "
        "Filter by case and sort by recorded_at.",
        {
            "case": "The case reference.",
            "recorded_at": WHEN,
            "recorded_by": WHO,
            "what": "decision recorded, adviser decided, or referral STATUS.",
            "decision": "Decision id.",
            "referral": "Referral id, for referral steps.",
            "detail": "Priority and outcomes; what was declined and why; the referral and appointment.",
        },
    ),
}
"""The auditors' views (db.VIEWS), described."""

TABLE_DOCS: dict[str, str] = {
    "decisions": "Recorded recommendations (the full decision JSON, its hash and trace). Readable: decisions_readable.",
    "adviser_decisions": "The adviser's decision on each recommended outcome: `choices` is a JSON list of "
                         "{code, accepted, reason, note}.",
    "cases": "Each case's validated inputs (JSON) and their hash, as replay needs them.",
    "claimants": "National Insurance numbers, apart from the inputs so that erasure can remove them.",
    "referrals": "Referrals logged. Current status: referrals_current.",
    "referral_events": "Every step of every referral's lifecycle.",
    "drafts": "Interviews saved before they were recorded (answers as JSON, NINO): personal data, removed when "
              "the case is recorded or the draft discarded, and by erasure and retention.",
    "case_status": "Each change of a case's status (open, closed); the latest is current, none means open.",
    "rulesets": "Every rule set ever used, content-addressed; never deleted.",
    "audit": "The append-only, hash-chained audit log. Readable: audit_events_readable.",
}
"""The tables, described (the tables keep their own column names: the views use consistent ones)."""

HIDDEN = ("meta", "erasure_gate", "_sqlite_migrations")
"""Bookkeeping tables hidden from Datasette's lists (still reachable by SQL)."""

QUERIES: dict[str, dict[str, str]] = {
    "open_referrals_by_age": {
        "title": "Open referrals by age",
        "description": "Referrals not yet attended, declined or closed, oldest first, with days since logged.",
        "sql": "SELECT referral, \"case\", code, provider, status, appointment, recorded_at, recorded_by, "
               "CAST(julianday('now') - julianday(recorded_at) AS INTEGER) AS age_days "
               "FROM referrals_current WHERE open ORDER BY recorded_at, referral",
    },
    "decisions_by_edition_and_outcome": {
        "title": "Decisions by edition and outcome",
        "description": "How many decisions under each edition recommended each outcome.",
        "sql": "SELECT d.edition, o.value AS outcome, COUNT(*) AS decisions "
               "FROM decisions_readable AS d, json_each(d.outcomes) AS o "
               "GROUP BY d.edition, o.value ORDER BY d.edition, decisions DESC, outcome",
    },
    "declined_outcomes": {
        "title": "Decisions where the adviser declined an outcome",
        "description": "Each declined outcome with the adviser's reason and note.",
        "sql": "SELECT a.decision_id AS decision, d.ref AS \"case\", d.edition, "
               "json_extract(c.value, '$.code') AS code, json_extract(c.value, '$.reason') AS reason, "
               "json_extract(c.value, '$.note') AS note, a.decided_by AS recorded_by, a.decided_at AS recorded_at "
               "FROM adviser_decisions AS a JOIN decisions AS d ON d.id = a.decision_id, json_each(a.choices) AS c "
               "WHERE json_extract(c.value, '$.accepted') = 0 ORDER BY a.decision_id, code",
    },
}
"""Canned queries for auditors."""


def metadata(database: str) -> dict[str, Any]:
    """Datasette metadata for the case book Datasette names `database` (its file name without .db)."""
    tables: dict[str, Any] = {name: {"description": text, "columns": columns}
                              for name, (text, columns) in VIEW_DOCS.items()}
    tables.update({name: {"description": text} for name, text in TABLE_DOCS.items()})
    tables.update({name: {"hidden": True} for name in HIDDEN})
    return {
        "title": "Pathways case book",
        "description": "Decisions, referrals and the audit log of a Pathways case book. Personal data: "
                       "special-category (drug use, health). Start with the *_readable views.",
        "databases": {
            database: {
                "description": "One Pathways case book. Times are UTC; `recorded_at` and `recorded_by` name "
                               "when and who in every view.",
                "tables": tables,
                "queries": QUERIES,
            }
        },
    }

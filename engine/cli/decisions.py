"""Reading recorded decisions: `show` one, `decisions list`, and the claimant's `letter`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from engine.casebook.book import CaseBook
from engine.casebook.queries import DecisionRecord
from engine.cli.book import db_option, open_book
from engine.cli.root import parse_date
from engine.errors import InputError
from engine.files import create_private
from engine.model.adviser import REASON_WORDS, AdviserDecision
from engine.model.decision import ANNOUNCED_WORDS, Decision
from engine.textsafe import clean


def _load(book: CaseBook, decision_id: int) -> tuple[DecisionRecord, Decision]:
    """A recorded decision and its recommendation, or InputError naming the decision."""
    record = book.decision_record(decision_id)
    if record is None:
        raise InputError(f"no decision {decision_id} in this case book", key="DECISION")
    try:
        return record, Decision.from_data(json.loads(record.decision))
    except (ValueError, KeyError, TypeError):
        raise InputError(f"decision {decision_id} is unreadable: run `pathways audit verify`",
                         key="DECISION") from None


def show_data(book: CaseBook, decision_id: int) -> dict[str, Any]:
    """One recorded decision as CONTRACT.md's `show --json` gives it."""
    record, decision = _load(book, decision_id)
    choices = record.adviser_decisions()
    event = book.decision_event(decision_id)
    return {
        "decision": record.id,
        "case": record.ref,
        "adviser": record.adviser,
        "recorded_at": record.recorded_at,
        "recommendation": decision.to_data(),
        "adviser_decisions": [c.to_data() for c in choices] if choices is not None else None,
        "referrals": [{"referral": r.id, "code": r.code, "provider": r.provider, "status": r.status,
                       "appointment": r.appointment} for r in book.referrals(decision_id)],
        "audit_event": {"seq": event.seq, "ts": event.ts, "actor": event.actor, "hash": event.hash}
        if event else None,
    }


def _choice_words(choice: AdviserDecision) -> str:
    """One adviser decision in words."""
    if choice.accepted:
        return "accepted" + (" (confirmed reasonable)" if choice.reasonable else "")
    reason = REASON_WORDS.get(choice.reason or "", choice.reason or "")
    return f"declined: {reason}" + (f" ({choice.note})" if choice.note else "")


@click.command()
@click.argument("decision_id", metavar="DECISION", type=int)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON (CONTRACT.md).")
def show(decision_id: int, db: Path | None, as_json: bool) -> None:
    """One recorded decision: the recommendation, the adviser's decisions with reasons, referrals, audit event.

    \b
    Examples:
      pathways show 12
      pathways show 12 --json
    """
    with open_book(db, readonly=True) as book:
        data = show_data(book, decision_id)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    rec = data["recommendation"]
    lines = [f"Decision {data['decision']}: case {data['case']}, recorded {data['recorded_at']} by {data['adviser']}",
             f"Edition {rec['edition']}" + (f" ({ANNOUNCED_WORDS})" if rec.get("edition_status") == "announced"
                                           else "") + f"; priority {rec['priority']}"]
    choices = {c["code"]: AdviserDecision.from_data(c) for c in data["adviser_decisions"] or ()}
    lines.append("Recommendation and the adviser's decisions:" if choices else
                 "Recommendation (no adviser's decisions recorded):")
    for outcome in Decision.from_data(rec).in_reading_order():
        said = f" - {_choice_words(choices[outcome.code])}" if outcome.code in choices else ""
        lines.append(f"  {outcome.code} ({outcome.kind}){said}")
    for item in rec.get("open", ()):
        lines.append(f"  open: {item['code']} (waits on {', '.join(item['needs'])})")
    for ref in data["referrals"]:
        lines.append(f"  referral {ref['referral']}: {ref['code']} to {ref['provider']}, {ref['status']}")
    if data["audit_event"]:
        event = data["audit_event"]
        by = f" by account {event['actor']}" if event["actor"] != data["adviser"] else ""  # live books (#15)
        lines.append(f"Audit event {event['seq']} at {event['ts']}{by} ({event['hash'][:16]}...)")
    click.echo(clean("\n".join(lines), keep_newlines=True))


@click.group()
def decisions() -> None:
    """Recorded decisions: list them (newest first)."""


@decisions.command("list")
@db_option
@click.option("--case", "case_ref", default=None, metavar="REF", help="Only this case reference.")
@click.option("--since", default=None, metavar="DATE", help="Only decisions recorded on or after this date.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def list_command(db: Path | None, case_ref: str | None, since: str | None, as_json: bool) -> None:
    """Recorded decisions, newest first.

    \b
    Examples:
      pathways decisions list --since 2026-01-01
      pathways decisions list --case TRN-0001 --json
    """
    day = parse_date(since, "--since")
    with open_book(db, readonly=True) as book:
        rows = book.decisions(ref=case_ref, since=day.isoformat() if day else None, limit=-1)
        reviewed = {row.id: book.decision_record(row.id) for row in rows} if rows else {}
    for row in rows:
        record = reviewed.get(row.id)
        choices = record.adviser_decisions() if record is not None else None
        declined = [c.code for c in choices or () if not c.accepted]
        if as_json:
            click.echo(json.dumps({"decision": row.id, "case": row.ref, "as_of": row.as_of, "edition": row.edition,
                                   "priority": row.priority, "outcomes": list(row.outcomes), "adviser": row.adviser,
                                   "recorded_at": row.recorded_at, "reviewed": choices is not None,
                                   "declined": declined}, ensure_ascii=False))
            continue
        review = "not reviewed" if choices is None else (f"declined {', '.join(declined)}" if declined
                                                         else "all accepted")
        click.echo(clean(f"{row.id:>6}  {row.recorded_at[:19]}  {row.ref:<14} {row.edition:<15} {row.priority:<8} "
                         f"{len(row.outcomes)} outcome(s), {review}"))


@click.command()
@click.argument("decision_id", metavar="DECISION", type=int)
@db_option
@click.option("--format", "fmt", type=click.Choice(["html", "text"]), default="html", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default=None,
              help="Write to this new file (created 0600); '-' or none: standard output.")
@click.option("--identified", is_flag=True, help="Print the claimant's National Insurance number on it.")
def letter(decision_id: int, db: Path | None, fmt: str, output: Path | None, identified: bool) -> None:
    """The claimant's copy of a recorded decision: what the adviser accepted, and who decides what.

    \b
    Examples:
      pathways letter 12 -o letter-12.html
      pathways letter 12 --format text
    """
    from engine.model.letter import build_letter, render_html, render_text

    with open_book(db, readonly=True) as book:
        record, decision = _load(book, decision_id)
    choices = record.adviser_decisions()
    if choices is None:
        raise InputError(f"decision {decision_id} has no adviser's decisions recorded: there is nothing "
                         "decided to tell the claimant", key="DECISION")
    built = build_letter(decision, choices, decision_id=record.id, recorded_on=record.recorded_at[:10],
                         nino=record.nino if identified else None)
    text = render_html(built) if fmt == "html" else render_text(built)
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    with create_private(output) as handle:
        handle.write(text)
    click.echo(f"letter written to {clean(output)}", err=True)

"""What the screens read and write for a case's life after the interview: drafts, case status, referral steps.

Plain functions, no Textual (like tui/data.py): each opens its own CaseBook and closes it, so it can
run in a worker thread. Refusals come back as InputError (one clean line).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs

from engine.casebook.book import CaseBook
from engine.casebook.casework import Draft
from engine.casebook.queries import ReferralRow
from engine.errors import InputError
from engine.intake.interview import Interview


def save_draft(path: Path, interview: Interview, adviser: str) -> int:
    """Save an unfinished interview as its case's draft in the book it works on; returns the draft id."""
    with CaseBook(path) as book:
        return book.save_draft(interview.ref, interview.as_of, interview.nino, interview.to_draft(), adviser)


def discard_draft(path: Path, ref: str, adviser: str, why: str = "discarded") -> int:
    """Remove a case's draft; returns how many went (0 when it had none, or there is no book yet)."""
    if not path.exists():
        return 0
    with CaseBook(path, create=False) as book:
        return book.remove_drafts(ref, adviser, why)


def open_draft(path: Path, draft_id: int) -> Interview:
    """The interview saved as draft `draft_id`, resumed (answers given again in order)."""
    with CaseBook(path, create=False) as book:
        draft: Draft | None = book.draft(draft_id)
    if draft is None:
        raise InputError(f"no draft {draft_id} in this case book (recorded or discarded since?)", key="draft")
    try:
        as_of = dt.date.fromisoformat(draft.as_of)
    except ValueError:
        raise InputError(f"draft {draft_id} is unreadable: run `pathways audit verify`", key="draft") from None
    return Interview.from_draft(draft.ref, as_of, draft.nino, draft.answers)


def set_case_status(path: Path, ref: str, status: str, adviser: str) -> str:
    """Open or close a case (audited); returns the new status."""
    with CaseBook(path, create=False) as book:
        book.set_case_status(ref, status, adviser)
    return status


@attrs.frozen
class CaseReferrals:
    """A case's referrals, newest first, for the lifecycle dialog."""

    ref: str
    referrals: tuple[ReferralRow, ...]


def case_referrals(path: Path, ref: str) -> CaseReferrals:
    """Every referral logged under any decision of case `ref`."""
    with CaseBook(path, create=False) as book:
        ids = {d.id for d in book.decisions(ref=ref, limit=-1)}
        return CaseReferrals(ref, tuple(r for r in book.referrals() if r.decision_id in ids))


@attrs.frozen
class ReferralStep:
    """A referral moved on: the new status, appointment date and notes (validated by the dialog)."""

    referral_id: int
    status: str
    appointment: dt.date | None
    notes: str


def update_referral(path: Path, step: ReferralStep, adviser: str) -> ReferralStep:
    """Move a referral on along its lifecycle (audited); the lifecycle refuses a step it does not allow."""
    with CaseBook(path, create=False) as book:
        book.update_referral(step.referral_id, step.status, adviser, step.appointment, step.notes)
    return step


def open_duplicates(path: Path, decision_id: int, code: str) -> list[ReferralRow]:
    """Referrals already open for the same decision and outcome (logging another is probably a mistake)."""
    with CaseBook(path, create=False) as book:
        return [r for r in book.referrals(decision_id, open_only=True) if r.code == code]

"""The adviser's decisions: each recommended outcome accepted, or declined with a reason.

The engine recommends; the adviser decides (UK GDPR Art 22: human involvement that is active). A
requirement is accepted only when the adviser confirms it is reasonable, having considered the
matters of the Jobseeker's Allowance Regulations 1996, regulation 72. Open outcomes cannot be
decided: they depend on answers nobody has given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from engine.errors import InputError
from engine.model.decision import Decision
from engine.textsafe import shown_code, shown_value

REASONS = ("not_reasonable", "claimant_declined", "not_available_locally", "facts_disputed", "other")
"""Why an adviser may decline a recommended outcome (`other` needs a note)."""

REASON_WORDS = {
    "not_reasonable": "not reasonable for this claimant",
    "claimant_declined": "the claimant declined it",
    "not_available_locally": "not available locally",
    "facts_disputed": "the facts are disputed",
    "other": "another reason",
}
"""Each reason in plain words."""

REASONABLENESS_MATTERS = (
    "significant harm to health, or excessive physical or mental stress",
    "a sincerely held religious or conscientious objection",
    "caring responsibilities",
    "the time it takes to travel there",
    "what it would cost the claimant",
)
"""What an adviser weighs before accepting a requirement (JSA Regulations 1996, regulation 72)."""

MAX_NOTE = 500
"""Longest note an adviser may give with a declined outcome, in characters."""


@attrs.frozen
class AdviserDecision:
    """The adviser's decision on one recommended outcome."""

    code: str
    accepted: bool
    reason: str | None = None
    note: str = ""
    reasonable: bool = False

    def to_data(self) -> dict[str, Any]:
        """JSON-ready data as CONTRACT.md's `show --json` gives it."""
        data: dict[str, Any] = {"code": self.code, "accepted": self.accepted, "reason": self.reason,
                                "note": self.note}
        if self.reasonable:
            data["reasonable"] = True
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AdviserDecision:
        """Rebuild from `to_data` output."""
        return cls(code=str(data["code"]), accepted=bool(data["accepted"]), reason=data.get("reason"),
                   note=str(data.get("note") or ""), reasonable=bool(data.get("reasonable", False)))


def parse_decline(spec: str) -> tuple[str, str, str]:
    """`CODE=REASON[:NOTE]` as (code, reason, note); InputError naming `--decline` otherwise."""
    code, sep, rest = spec.partition("=")
    if not sep or not code.strip():
        raise InputError("a decline is not CODE=REASON[:NOTE]", key="--decline", allowed=", ".join(REASONS))
    reason, _, note = rest.partition(":")
    return code.strip(), reason.strip(), note.strip()


def _clean_note(note: str, code: str) -> str:
    """A short note without control characters."""
    if len(note) > MAX_NOTE:
        raise InputError(f"the note for {code} is longer than {MAX_NOTE} characters", key="--decline")
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in note):
        raise InputError(f"the note for {code} holds control characters", key="--decline")
    return note


def adviser_decisions(decision: Decision, declines: Iterable[tuple[str, str, str]],
                      reasonable: bool) -> tuple[AdviserDecision, ...]:
    """Every applying outcome accepted unless declined, checked as CONTRACT.md says.

    Declining an open or absent code, an unknown reason, `other` without a note, a code declined
    twice, or an accepted requirement without `reasonable` is an InputError (exit 2, nothing written).
    """
    applying = {o.code: o for o in decision.outcomes}
    opened = {o.code for o in decision.open}
    declined: dict[str, tuple[str, str]] = {}
    for code, reason, note in declines:
        if code in opened:
            raise InputError(f"{code} is open (it depends on unknown answers): it cannot be decided yet",
                             key="--decline")
        if code not in applying:
            raise InputError(f"{shown_code(code)} is not recommended for this case", key="--decline",
                             allowed=", ".join(sorted(applying)) or "nothing to decline")
        if reason not in REASONS:
            raise InputError(f"{shown_value(reason)} is not a reason", key="--decline", allowed=", ".join(REASONS))
        if reason == "other" and not note:
            raise InputError(f"declining {code} for 'other' needs a note: {code}=other:NOTE", key="--decline")
        if code in declined:
            raise InputError(f"{code} is declined twice", key="--decline")
        declined[code] = (reason, _clean_note(note, code))
    out = []
    for code in sorted(applying):
        if code in declined:
            reason, note = declined[code]
            out.append(AdviserDecision(code, False, reason, note))
            continue
        is_requirement = applying[code].kind == "requirement"
        if is_requirement and not reasonable:
            raise InputError(f"{code} is a requirement: accept it only after confirming it is reasonable "
                             "(health, caring, travel and the other matters of JSA Regs 1996 reg 72)",
                             key="--reasonable")
        out.append(AdviserDecision(code, True, reasonable=is_requirement))
    return tuple(out)

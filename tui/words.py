"""How the UI puts the engine's codes into words: kinds of outcome and the adviser's decisions."""

from __future__ import annotations

from engine.model.adviser import REASON_WORDS, AdviserDecision

KIND_WORDS = {
    "requirement": "requirement: the claimant must do it",
    "referral": "referral: passed on with the claimant's consent",
    "offer": "offer: the claimant's choice",
    "priority": "priority: how soon to act",
    "signpost": "signpost: details the claimant can use",
    "note": "note for the adviser",
}
"""Each kind of outcome spelt out (the code stays beside it)."""

KIND_NAMES = {
    "requirement": "requirement",
    "referral": "referral",
    "offer": "offer",
    "priority": "priority",
    "signpost": "signpost",
    "note": "note for the adviser",
}
"""Each kind of outcome in a word or three, for one line of a list (never cut to an abbreviation)."""

STATE_WORDS = {"applies": "applies", "undecided": "open: waits on answers", "does not apply": "does not apply"}
"""Each state of an outcome in words."""

LEGEND = "✔ applies  ? open  · doesn't apply"
"""The key to the marks in the outcome lists."""


def kind_name(kind: str) -> str:
    """A kind of outcome in a few words (an unknown kind as itself)."""
    return KIND_NAMES.get(kind, kind)


def state_words(state: str) -> str:
    """An outcome's state in words (an unknown state as itself)."""
    return STATE_WORDS.get(state, state)


def kind_words(kind: str) -> str:
    """A kind of outcome in words (an unknown kind as itself)."""
    return KIND_WORDS.get(kind, kind)


def reason_words(reason: str | None) -> str:
    """A decline reason in words (an unknown one as itself)."""
    return REASON_WORDS.get(reason or "", reason or "no reason given")


def choice_words(choice: AdviserDecision) -> str:
    """One adviser's decision in words: accepted (and confirmed reasonable), or declined and why."""
    if choice.accepted:
        return "accepted" + (", confirmed reasonable" if choice.reasonable else "")
    return f"declined: {reason_words(choice.reason)}"

"""The decision (CONTRACT.md decision schema 1, with the v2 fields) and its canonical JSON.

A decision made under a v1 rule set snapshot (format 1) renders exactly as v1 did, so decisions
recorded before v2 still replay byte for byte; format 2 adds `edition_status`, each outcome's
`adviser_note` and `sources`, and the `open` outcomes.
"""

from __future__ import annotations

from typing import Any

import attrs

from engine import jsonfast

KIND_ORDER = ("requirement", "referral", "offer", "priority", "signpost", "note")
"""Reading order of outcome kinds (POLICY.md "Reading order"): most binding first."""

ANNOUNCED = "announced"
"""The status of an edition that was announced and never in force."""
ANNOUNCED_WORDS = "announced policy, never in force"
"""What every readable output of an announced edition's decision says."""


def reading_order(kind: str, code: str) -> tuple[int, str]:
    """Sort key putting outcomes in reading order: by kind, then code."""
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), code)


@attrs.frozen
class Outcome:
    """One outcome that applies: code, kind, rule, sources, what to say, what to do, and why."""

    code: str
    kind: str
    rule: str
    citation: str
    text: str
    because: dict[str, Any]
    adviser_note: str = ""
    sources: tuple[dict[str, Any], ...] = ()

    def to_data(self, fmt: int = 2) -> dict[str, Any]:
        """JSON-ready data in contract order."""
        data: dict[str, Any] = {"code": self.code, "kind": self.kind, "rule": self.rule, "citation": self.citation}
        if fmt >= 2:
            data["sources"] = [dict(s) for s in self.sources]
        data["text"] = self.text
        if fmt >= 2:
            data["adviser_note"] = self.adviser_note
        data["because"] = self.because
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Outcome:
        """Rebuild from `to_data` output."""
        return cls(code=data["code"], kind=data["kind"], rule=data["rule"], citation=data["citation"],
                   text=data["text"], because=data["because"], adviser_note=data.get("adviser_note", ""),
                   sources=tuple(data.get("sources", ())))


@attrs.frozen
class OpenOutcome:
    """An outcome that may apply depending on unknown answers, and the answers it waits on."""

    code: str
    kind: str
    rule: str
    needs: tuple[str, ...]

    def to_data(self) -> dict[str, Any]:
        """JSON-ready data in contract order."""
        return {"code": self.code, "kind": self.kind, "rule": self.rule, "needs": list(self.needs)}


@attrs.frozen
class Firing:
    """One rule firing: the rule, the facts it saw, what it concluded."""

    rule: str
    facts: dict[str, Any]
    concluded: tuple[str, ...]

    def to_data(self) -> dict[str, Any]:
        """JSON-ready data in contract order."""
        return {"rule": self.rule, "facts": self.facts, "concluded": list(self.concluded)}


@attrs.frozen
class Decision:
    """What the rules recommend for one case, under which edition and rule set, and how."""

    case: str
    as_of: str
    edition: str
    ruleset: str
    priority: str
    outcomes: tuple[Outcome, ...]
    trace: tuple[Firing, ...]
    derived: dict[str, bool] = attrs.field(factory=dict, eq=False)
    edition_status: str = "in_force"
    open: tuple[OpenOutcome, ...] = ()
    format: int = 2

    @property
    def codes(self) -> tuple[str, ...]:
        """The outcome codes, sorted."""
        return tuple(o.code for o in self.outcomes)

    @property
    def announced(self) -> bool:
        """True when the edition was announced and never in force (training and audit only)."""
        return self.edition_status == ANNOUNCED

    def in_reading_order(self) -> list[Outcome]:
        """The outcomes by kind (requirement first), then code."""
        return sorted(self.outcomes, key=lambda o: reading_order(o.kind, o.code))

    def to_data(self) -> dict[str, Any]:
        """The contract's decision object."""
        data: dict[str, Any] = {"schema": 1, "case": self.case, "as_of": self.as_of, "edition": self.edition}
        if self.format >= 2:
            data["edition_status"] = self.edition_status
        data["ruleset"] = self.ruleset
        data["priority"] = self.priority
        data["outcomes"] = [o.to_data(self.format) for o in self.outcomes]
        if self.format >= 2:
            data["open"] = [o.to_data() for o in self.open]
        data["trace"] = [f.to_data() for f in self.trace]
        return data

    def to_json(self) -> str:
        """One line of JSON, byte-for-byte repeatable for the same case and rule set.

        A decision holds validated answers and rule texts, never a NaN: its nulls keep the fast road.
        """
        return jsonfast.compact(self.to_data(), nan_free=True)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Decision:
        """Rebuild from `to_data` output (a recorded decision, v1 or v2)."""
        fmt = 2 if "edition_status" in data else 1
        return cls(
            case=data["case"],
            as_of=data["as_of"],
            edition=data["edition"],
            ruleset=data["ruleset"],
            priority=data["priority"],
            outcomes=tuple(Outcome.from_data(o) for o in data["outcomes"]),
            trace=tuple(
                Firing(rule=f["rule"], facts=f["facts"], concluded=tuple(f["concluded"]))
                for f in data["trace"]
            ),
            edition_status=data.get("edition_status", "in_force"),
            open=tuple(OpenOutcome(o["code"], o["kind"], o["rule"], tuple(o["needs"])) for o in data.get("open", ())),
            format=fmt,
        )

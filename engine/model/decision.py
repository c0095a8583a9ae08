"""The decision (CONTRACT.md decision schema 1) and its canonical JSON."""

from __future__ import annotations

import json
from typing import Any

import attrs


@attrs.frozen
class Outcome:
    """One outcome that applies: code, kind, rule, citation, text, and the facts that made it apply."""

    code: str
    kind: str
    rule: str
    citation: str
    text: str
    because: dict[str, Any]

    def to_data(self) -> dict[str, Any]:
        """JSON-ready data in contract order."""
        return {
            "code": self.code,
            "kind": self.kind,
            "rule": self.rule,
            "citation": self.citation,
            "text": self.text,
            "because": self.because,
        }


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
    """What the rules decided for one case, under which edition and rule set, and how."""

    case: str
    as_of: str
    edition: str
    ruleset: str
    priority: str
    outcomes: tuple[Outcome, ...]
    trace: tuple[Firing, ...]
    derived: dict[str, bool] = attrs.field(factory=dict, eq=False)

    @property
    def codes(self) -> tuple[str, ...]:
        """The outcome codes, sorted."""
        return tuple(o.code for o in self.outcomes)

    def to_data(self) -> dict[str, Any]:
        """The contract's decision object."""
        return {
            "schema": 1,
            "case": self.case,
            "as_of": self.as_of,
            "edition": self.edition,
            "ruleset": self.ruleset,
            "priority": self.priority,
            "outcomes": [o.to_data() for o in self.outcomes],
            "trace": [f.to_data() for f in self.trace],
        }

    def to_json(self) -> str:
        """One line of JSON, byte-for-byte repeatable for the same case and rule set."""
        return json.dumps(self.to_data(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Decision:
        """Rebuild from `to_data` output (a recorded decision)."""
        return cls(
            case=data["case"],
            as_of=data["as_of"],
            edition=data["edition"],
            ruleset=data["ruleset"],
            priority=data["priority"],
            outcomes=tuple(Outcome(**o) for o in data["outcomes"]),
            trace=tuple(
                Firing(rule=f["rule"], facts=f["facts"], concluded=tuple(f["concluded"]))
                for f in data["trace"]
            ),
        )

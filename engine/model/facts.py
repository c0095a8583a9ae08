"""The input facts rules may read: their types, and how a case encodes them for durable_rules."""

from __future__ import annotations

from typing import Any

import attrs

from engine.model.case import BENEFITS, GOOD_CAUSES, HOUSING, KNOWN_BY, SUBSTANCES


@attrs.frozen
class FactSpec:
    """One input fact: its name, type and allowed values (kind: bool, enum, int, list, date)."""

    name: str
    kind: str
    choices: tuple[str, ...] = ()
    low: int = 0
    high: int = 0
    nullable: bool = False

    @property
    def attr(self) -> str:
        """The flat attribute name in the durable_rules fact."""
        return _ATTRS.get(self.name) or self.name.replace(".", "__")


INPUT_FACTS: dict[str, FactSpec] = {
    spec.name: spec
    for spec in (
        FactSpec("as_of", "date"),
        FactSpec("claimant.age", "int", low=16, high=120),
        FactSpec("benefit", "enum", BENEFITS),
        FactSpec("drugs.substances", "list", SUBSTANCES),
        FactSpec("drugs.known_by", "enum", KNOWN_BY, nullable=True),
        FactSpec("drugs.in_treatment", "bool"),
        FactSpec("drugs.on_drr", "bool"),
        FactSpec("drugs.failed_treatment_episodes", "int", low=0, high=50),
        FactSpec("children.dependants", "int", low=0, high=20),
        FactSpec("children.youngest_age", "int", low=0, high=19, nullable=True),
        FactSpec("children.at_risk", "bool"),
        FactSpec("children.pregnant", "bool"),
        FactSpec("children.kinship_carer", "bool"),
        FactSpec("housing", "enum", HOUSING),
        FactSpec("prison_release_weeks", "int", low=0, high=520, nullable=True),
        FactSpec("mental_health", "bool"),
        FactSpec("consent.treatment_provider", "bool"),
        FactSpec("consent.housing_advice", "bool"),
        FactSpec("missed_discussion", "bool"),
        FactSpec("missed_discussion.good_cause", "enum", GOOD_CAUSES, nullable=True),
    )
}
"""Every input fact a rule may test, by dotted name."""

_ATTRS: dict[str, str] = {name: name.replace(".", "__") for name in INPUT_FACTS}

SET_SUFFIX = "__set"
"""Suffix of the flag attribute saying a nullable fact has a value."""


def encode_case_fact(values: dict[str, Any], names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The case as one flat durable_rules fact (only `names`, if given); nulls as explicit flags."""
    fact: dict[str, Any] = {"kind": "case"}
    for name in INPUT_FACTS if names is None else names:
        spec = INPUT_FACTS[name]
        attr = spec.attr
        value = values[name]
        if spec.kind == "list":
            for choice in spec.choices:
                fact[f"{attr}__{choice}"] = choice in value
            fact[f"{attr}__count"] = len(value)
            continue
        if spec.nullable:
            fact[attr + SET_SUFFIX] = value is not None
            if value is None:
                continue
        fact[attr] = value.toordinal() if spec.kind == "date" else value
    return fact

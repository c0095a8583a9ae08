"""Condition coverage: for each condition of each rule, does some case fail on that condition alone?

A case "fails on a condition alone" when the condition is false for it and the rule would hold if
that one condition held instead (the other conditions, `any` branches included, as they are). A
library that reaches every condition this way shows each condition matters: remove one and a
scenario's expectation changes (the MC/DC idea, as decision-table tools report it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from engine.policy import conditions as C
from engine.policy.conditions import UNKNOWN, Truth
from engine.policy.explain import evaluate, lookup_of
from engine.policy.rulebook import Rule, RuleSet


@attrs.frozen
class ConditionCoverage:
    """One condition of one rule in one edition, and the first case that fails on it alone (if any)."""

    edition: str
    rule: str
    index: int
    condition: str
    case: str | None

    @property
    def covered(self) -> bool:
        """True when some case fails on this condition alone."""
        return self.case is not None


def _evaluate_forcing(cond: C.Cond, look: Mapping[str, Any], target: int, counter: list[int]) -> Truth:
    """Kleene evaluation with the `target`-th test (in reading order) taken as true."""
    if isinstance(cond, C.Test):
        index = counter[0]
        counter[0] += 1
        if index == target:
            return True
        return C.evaluate(cond, look)
    parts = [_evaluate_forcing(part, look, target, counter) for part in cond.parts]
    if isinstance(cond, C.All):
        if any(p is False for p in parts):
            return False
        return UNKNOWN if any(p is UNKNOWN for p in parts) else True
    if any(p is True for p in parts):
        return True
    return UNKNOWN if any(p is UNKNOWN for p in parts) else False


def fails_alone(rule: Rule, look: Mapping[str, Any], index: int) -> bool:
    """True when the rule's `index`-th condition is false here and the rule would hold without it."""
    test = list(C.tests(rule.when))[index]
    if C.evaluate(test, look) is not False:
        return False
    return _evaluate_forcing(rule.when, look, index, [0]) is True


def condition_coverage(rulesets: Iterable[RuleSet], cases: Iterable[tuple[str, str, Mapping[str, Any]]]
                       ) -> list[ConditionCoverage]:
    """Coverage of every condition of every rule per edition, from (case ref, edition id, values) triples."""
    by_edition = {rs.edition.id: rs for rs in rulesets}
    found: dict[tuple[str, str, int], str] = {}
    for ref, edition, values in cases:
        ruleset = by_edition[edition]
        look = lookup_of(values, evaluate(ruleset, values))
        for rule in ruleset.rules:
            for index in range(len(list(C.tests(rule.when)))):
                key = (edition, rule.id, index)
                if key not in found and fails_alone(rule, look, index):
                    found[key] = ref
    out = []
    for ruleset in by_edition.values():
        for rule in ruleset.rules:
            for index, test in enumerate(C.tests(rule.when)):
                key = (ruleset.edition.id, rule.id, index)
                out.append(ConditionCoverage(ruleset.edition.id, rule.id, index, test.describe(), found.get(key)))
    return out

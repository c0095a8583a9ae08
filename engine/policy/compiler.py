"""Compile a RuleSet into a durable_rules ruleset: one durable rule per DNF term, explicit negation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from engine.errors import RuleFileError
from engine.model.facts import INPUT_FACTS, case_fact_encoder
from engine.policy import conditions as C
from engine.policy.operators import encode
from engine.policy.rulebook import Rule, RuleSet

CASE_ALIAS = "c"
"""durable_rules alias of the case fact in every rule."""


@attrs.frozen
class Conclusion:
    """What a durable rule concludes: a derived fact's value, or an outcome code."""

    rule: Rule
    term: tuple[C.Test, ...]
    derived: str | None = None
    value: bool = True
    outcome: str | None = None

    def label(self) -> str:
        """How the trace names the conclusion: `name=true` or the outcome code."""
        if self.derived is not None:
            return f"{self.derived}={'true' if self.value else 'false'}"
        return str(self.outcome)


@attrs.frozen
class Compiled:
    """A rule set compiled for durable_rules: the definition and what each rule concludes."""

    ruleset: RuleSet
    definition: dict[str, Any]
    conclusions: dict[str, Conclusion]
    consumed_derived: frozenset[tuple[str, bool]]
    consumed_outcomes: frozenset[str]
    input_names: tuple[str, ...]
    encode_case: Callable[[Mapping[str, Any]], str] = attrs.field(eq=False, repr=False)
    """The case fact as JSON text without its closing brace, holding only attributes some rule tests."""


def _one(parts: list[dict[str, Any]], op: str) -> dict[str, Any]:
    """A single condition, or parts joined with `$and` / `$or`."""
    return parts[0] if len(parts) == 1 else {op: parts}


def encode_test(test: C.Test) -> dict[str, Any]:
    """One input-fact test as a durable_rules condition on the case fact (same truth as Python)."""
    spec = INPUT_FACTS[test.fact]
    if spec.kind not in test.operator.kinds:
        raise RuleFileError(f"operator {test.op} cannot test {test.fact} ({spec.kind})")
    if test.op == "given" and not spec.optional:
        raise RuleFileError(f"'given' tests an optional fact, and {test.fact} is always given")
    return encode(test.operator, spec, test.value, test.negated)


def _term_to_durable(term: tuple[C.Test, ...], derived: set[str]) -> list[dict[str, Any]]:
    """A conjunction of tests as the `all` list of a durable rule (one alias per fact)."""
    case_parts: list[dict[str, Any]] = [{"kind": "case"}]
    others: dict[str, dict[str, Any]] = {}
    for test in term:
        if test.fact == C.OUTCOME_KEY:
            if test.negated:
                raise RuleFileError(f"an outcome can only be tested as applying: {test.value}")
            others[f"o_{test.value}"] = {"outcome": test.value}
        elif test.fact in derived:
            if test.op != "eq" or not isinstance(test.value, bool) or test.negated:
                raise RuleFileError(f"derived fact {test.fact} can only be tested true or false")
            alias = f"d_{test.fact}"
            existing = others.get(alias)
            if existing is not None and existing[test.fact] != test.value:
                return []  # contradictory term: can never match
            others[alias] = {test.fact: test.value}
        elif test.fact in INPUT_FACTS:
            case_parts.append(encode_test(test))
        else:
            raise RuleFileError(f"unknown fact {test.fact}")
    needs_case = len(case_parts) > 1 or not others
    out: list[dict[str, Any]] = []
    if needs_case:
        out.append({CASE_ALIAS: _one(case_parts, "$and")})
    out.extend({alias: cond} for alias, cond in sorted(others.items()))
    return out


SESSION_END = "session-end"
"""A rule of no policy that matches only a closing fact: the driver asserts that fact when a case matched
some conditions but fired no rule, because durable_rules 2.0.28 crashes the process ("free(): invalid
pointer") deleting a session left partly matched with no action ever run; one action run first avoids it."""


def compile_ruleset(ruleset: RuleSet) -> Compiled:
    """Compile every rule of an edition; derived facts get explicit true and false rules."""
    derived = {r.derives for r in ruleset.rules if r.derives}
    consumed_derived: set[tuple[str, bool]] = set()
    consumed_outcomes: set[str] = set()
    for rule in ruleset.rules:
        for test in C.tests(rule.when):
            if test.fact in derived:
                consumed_derived.add((test.fact, bool(test.value)))
            elif test.fact == C.OUTCOME_KEY:
                consumed_outcomes.add(test.value)
    definition: dict[str, Any] = {}
    conclusions: dict[str, Conclusion] = {}

    def add(rule: Rule, cond: C.Cond, suffix: str, **what: Any) -> None:
        for index, term in enumerate(C.dnf(cond)):
            body = _term_to_durable(term, derived)
            if not body:
                continue
            name = f"{rule.id}{suffix}#{index}"
            definition[name] = {"all": body}
            conclusions[name] = Conclusion(rule=rule, term=term, **what)

    seen_derived: set[str] = set()
    for rule in ruleset.rules:
        if rule.derives:
            if rule.derives in seen_derived:
                raise RuleFileError(f"{rule.derives} is derived by more than one rule in {ruleset.edition.id}")
            seen_derived.add(rule.derives)
            if (rule.derives, True) in consumed_derived:
                add(rule, rule.when, "", derived=rule.derives, value=True)
            if (rule.derives, False) in consumed_derived:
                if rule.positive_only:
                    raise RuleFileError(f"{rule.derives} is positive-only and cannot be tested false")
                add(rule, C.negate(rule.when), "!not", derived=rule.derives, value=False)
        elif rule.concludes:
            add(rule, rule.when, "", outcome=rule.concludes)
    definition[SESSION_END] = {"all": [{"m": {"kind": SESSION_END}}]}
    read = {t.fact for rule in ruleset.rules for t in C.tests(rule.when)}
    input_names = tuple(name for name in INPUT_FACTS if name in read)
    return Compiled(
        ruleset=ruleset,
        definition=definition,
        conclusions=conclusions,
        consumed_derived=frozenset(consumed_derived),
        consumed_outcomes=frozenset(consumed_outcomes),
        input_names=input_names,
        encode_case=case_fact_encoder(input_names, frozenset(_keys(definition))),
    )


def _keys(data: Any) -> Iterator[str]:
    """Every key in a durable_rules definition but operators (`$and`...): a superset of the attributes it tests."""
    if isinstance(data, dict):
        for key, value in data.items():
            if not key.startswith("$"):
                yield key
            yield from _keys(value)
    elif isinstance(data, list):
        for value in data:
            yield from _keys(value)

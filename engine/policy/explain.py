"""Explain decisions in plain Python: three-valued evaluation, why-not, and which questions matter.

This evaluator reads the same condition trees durable_rules is compiled from. It is the reference
the property tests hold durable_rules to, and it works on partly answered cases (an interview),
where unanswered facts are UNKNOWN and Kleene logic says what is already settled.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import attrs

from engine.model.decision import OpenOutcome
from engine.model.facts import INPUT_FACTS, FactSpec, is_unknown
from engine.policy import conditions as C
from engine.policy.conditions import UNANSWERED, UNKNOWN, Truth
from engine.policy.ordering import Cycle, dependency_order
from engine.policy.rulebook import Rule, RuleSet

_MAX_PASSES = 8


@attrs.frozen
class Evaluation:
    """Truth of every derived fact, rule and outcome code for one (possibly partial) case."""

    derived: dict[str, Truth]
    rules: dict[str, Truth]
    outcomes: dict[str, Truth]
    priority: str | None

    def applies(self) -> list[str]:
        """Outcome codes that certainly apply, sorted."""
        return sorted(code for code, truth in self.outcomes.items() if truth is True)

    def undecided(self) -> list[str]:
        """Outcome codes that still depend on unanswered questions, sorted."""
        return sorted(code for code, truth in self.outcomes.items() if truth is UNKNOWN)


def _lookup(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every input fact, unanswered ones marked."""
    return {name: values.get(name, UNANSWERED) for name in INPUT_FACTS}


def evaluate(ruleset: RuleSet, values: Mapping[str, Any]) -> Evaluation:
    """Evaluate every rule over `values` (missing facts are unanswered) to a fixed point.

    Where no derived fact or outcome depends on itself (the shipped rules), each is worked out once,
    after everything it reads: that is the fixed point the passes reach, without the passes that only
    confirm it. Rules that depend on themselves are evaluated pass by pass.
    """
    steps = _steps(ruleset)
    if steps is None:
        return evaluate_by_passes(ruleset, values)
    nodes, never, derived_names, outcome_keys, order = steps
    look = _lookup(values)
    look.update(never)  # an outcome no rule of the edition concludes never applies
    truths: dict[str, Truth] = {}
    evaluate_cond = C.evaluate
    for name, rules, is_outcome in nodes:
        if len(rules) == 1:  # one rule: its truth is the node's (the OR of one truth is that truth)
            rule_id, when = rules[0]
            combined = truths[rule_id] = evaluate_cond(when, look)
        else:
            found = [evaluate_cond(when, look) for _rule_id, when in rules]
            truths.update((rule_id, truth) for (rule_id, _when), truth in zip(rules, found, strict=True))
            combined = _any(found) if is_outcome else found[0]
        look[name] = UNANSWERED if combined is UNKNOWN else combined
    derived = {name: _truth(look[name]) for name in derived_names}
    outcomes = {code: _truth(look[key]) for code, key in outcome_keys}
    return Evaluation(derived, {rule_id: truths[rule_id] for rule_id in order}, outcomes,
                      _priority(ruleset, outcomes))


_Steps = tuple[tuple[tuple[str, tuple[tuple[str, C.Cond], ...], bool], ...], dict[str, bool], tuple[str, ...],
               tuple[tuple[str, str], ...], tuple[str, ...]]


@functools.lru_cache(maxsize=256)
def _steps(ruleset: RuleSet) -> _Steps | None:
    """`_plan` with what `evaluate` needs worked out once per rule set: each node's rules (id, condition) and
    whether it is an outcome, the outcomes that never apply until concluded, the derived fact names, the
    outcomes' look-up keys in code order, and the rule ids in the order an Evaluation lists them."""
    plan = _plan(ruleset)
    if plan is None:
        return None
    nodes = tuple((name, tuple((rule.id, rule.when) for rule in rules), name.startswith(C.OUTCOME_KEY + ":"))
                  for name, rules in plan)
    never = {f"{C.OUTCOME_KEY}:{code}": False for code in ruleset.outcomes}
    derived_names = tuple(r.derives for r in ruleset.rules if r.derives)
    outcome_keys = tuple((code, f"{C.OUTCOME_KEY}:{code}") for code in sorted(ruleset.outcomes))
    order = [r.id for name in ruleset.derived_names for r in ruleset.rules if r.derives == name]
    order += [r.id for r in ruleset.rules if r.concludes]
    return nodes, never, derived_names, outcome_keys, tuple(order)


@functools.lru_cache(maxsize=256)
def _plan(ruleset: RuleSet) -> tuple[tuple[str, tuple[Rule, ...]], ...] | None:
    """Derived facts and outcomes (`outcome:CODE`) in an order where each follows all it reads, each with
    its rules; None when they depend on each other in a cycle."""
    nodes: dict[str, list[Rule]] = {}
    for rule in ruleset.rules:
        if rule.derives:
            nodes.setdefault(rule.derives, []).append(rule)
        elif rule.concludes:
            nodes.setdefault(f"{C.OUTCOME_KEY}:{rule.concludes}", []).append(rule)
    if any(len(rules) > 1 for name, rules in nodes.items() if not name.startswith(C.OUTCOME_KEY)):
        return None  # a fact derived by two rules: leave it to the passes, as they always did
    reads = {name: {f"{C.OUTCOME_KEY}:{t.value}" if t.fact == C.OUTCOME_KEY else t.fact
                    for rule in rules for t in C.tests(rule.when)} & set(nodes)
             for name, rules in nodes.items()}
    try:
        order = dependency_order(nodes, lambda name: sorted(reads[name]))
    except Cycle:
        return None
    return tuple((name, tuple(nodes[name])) for name in order)


def evaluate_by_passes(ruleset: RuleSet, values: Mapping[str, Any]) -> Evaluation:
    """Evaluate every rule over `values` pass after pass until nothing changes (the general method)."""
    look = _lookup(values)
    derived_rules = {r.derives: r for r in ruleset.rules if r.derives}
    outcome_rules = [r for r in ruleset.rules if r.concludes]
    codes = sorted(ruleset.outcomes)
    for name in derived_rules:
        look[name] = UNANSWERED
    for code in codes:
        look[f"{C.OUTCOME_KEY}:{code}"] = UNANSWERED
    rule_truth: dict[str, Truth] = {}
    for _ in range(_MAX_PASSES):
        before = dict(look)
        for name in ruleset.derived_names:
            truth = C.evaluate(derived_rules[name].when, look)
            rule_truth[derived_rules[name].id] = truth
            look[name] = UNANSWERED if truth is UNKNOWN else truth
        per_code: dict[str, list[Truth]] = {code: [] for code in codes}
        for rule in outcome_rules:
            truth = C.evaluate(rule.when, look)
            rule_truth[rule.id] = truth
            per_code.setdefault(str(rule.concludes), []).append(truth)
        for code, truths in per_code.items():
            combined = _any(truths)
            look[f"{C.OUTCOME_KEY}:{code}"] = UNANSWERED if combined is UNKNOWN else combined
        if look == before:
            break
    derived = {n: _truth(look[n]) for n in derived_rules}
    outcomes = {code: _truth(look[f"{C.OUTCOME_KEY}:{code}"]) for code in codes}
    return Evaluation(derived, rule_truth, outcomes, _priority(ruleset, outcomes))


def _truth(value: Any) -> Truth:
    """A lookup entry as a truth value."""
    return UNKNOWN if value is UNANSWERED else bool(value)


def _any(truths: list[Truth]) -> Truth:
    """Kleene OR of several truths (False when there are none)."""
    if any(t is True for t in truths):
        return True
    if any(t is UNKNOWN for t in truths):
        return UNKNOWN
    return False


def _priority(ruleset: RuleSet, outcomes: dict[str, Truth]) -> str | None:
    """The priority if it is settled, else None."""
    for level, code in ruleset.priority_levels:
        truth = outcomes.get(code, False)
        if truth is True:
            return level
        if truth is UNKNOWN:
            return None
    return ruleset.priority_default


@attrs.frozen
class WhyNot:
    """Why one rule for an outcome did not apply: the first condition that failed."""

    rule: str
    title: str
    failed: str
    fact: str
    seen: Any
    test: C.Test | None = attrs.field(default=None, eq=False)
    """The condition that failed (for putting it into words)."""


def why_not(ruleset: RuleSet, values: Mapping[str, Any], code: str) -> list[WhyNot]:
    """For an outcome that does not apply, each of its rules' first failing condition."""
    ev = evaluate(ruleset, values)
    look = lookup_of(values, ev)
    out = []
    for rule in ruleset.rules:
        if rule.concludes != code:
            continue
        test = C.first_failure(rule.when, look)
        if test is None:
            continue
        if test.fact == C.OUTCOME_KEY:
            seen: Any = False
        else:
            seen = look.get(test.fact)
        out.append(WhyNot(rule.id, rule.title, test.describe(), test.fact, seen, test))
    return out


def inputs_behind(ruleset: RuleSet, code: str) -> set[str]:
    """Every input fact an outcome's rules read, through derived facts and other outcomes."""
    return set(_inputs_behind(ruleset, code))


@functools.lru_cache(maxsize=4096)
def _inputs_behind(ruleset: RuleSet, code: str) -> frozenset[str]:
    """`inputs_behind`, worked out once per rule set and code (every decision with an open outcome asks)."""
    return frozenset(t.fact for r in ruleset.rules_behind((code,)) for t in C.tests(r.when) if t.fact in INPUT_FACTS)


def open_outcomes(ruleset: RuleSet, values: Mapping[str, Any], ev: Evaluation | None = None) -> tuple[OpenOutcome, ...]:
    """The outcomes that depend on unknown answers, sorted by code, each with the answers it waits on."""
    ev = ev or evaluate(ruleset, values)
    out = []
    for code in ev.undecided():
        rule = next((r for r in _concluding(ruleset, code) if ev.rules.get(r.id) is UNKNOWN), None)
        behind = _inputs_behind(ruleset, code)
        needs = tuple(name for name in INPUT_FACTS
                      if name in behind and (values.get(name, UNANSWERED) is UNANSWERED or is_unknown(values[name])))
        out.append(OpenOutcome(code, ruleset.outcomes[code].kind, rule.id if rule else "", needs))
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _concluding(ruleset: RuleSet, code: str) -> tuple[Rule, ...]:
    """The rules concluding an outcome, in rule order (worked out once per rule set and code)."""
    return tuple(r for r in ruleset.rules if r.concludes == code)


def lookup_of(values: Mapping[str, Any], ev: Evaluation) -> dict[str, Any]:
    """Answers, derived facts and outcomes in one lookup (the shape conditions are evaluated on)."""
    look = _lookup(values)
    for name, truth in ev.derived.items():
        look[name] = UNANSWERED if truth is UNKNOWN else truth
    for code, truth in ev.outcomes.items():
        look[f"{C.OUTCOME_KEY}:{code}"] = UNANSWERED if truth is UNKNOWN else truth
    return look


def _candidates(spec: FactSpec, thresholds: set[Any]) -> list[Any]:
    """Representative values of a fact: enough to flip every test on it."""
    if spec.kind in ("bool", "flag"):
        return [True, False]
    if spec.kind == "enum":
        return [*spec.choices, *([None] if spec.optional else [])]
    if spec.kind == "list":
        return [(), *((choice,) for choice in spec.choices)]
    if spec.kind == "int":
        points = {spec.low, spec.high}
        for t in thresholds:
            points |= {t - 1, t, t + 1}
        picked = sorted(p for p in points if spec.low <= p <= spec.high)
        return [*picked, *([None] if spec.optional else [])]
    return []


def _thresholds(ruleset: RuleSet) -> dict[str, set[Any]]:
    """Numbers each input fact is compared with somewhere in the rules."""
    out: dict[str, set[Any]] = {}
    for rule in ruleset.rules:
        for test in C.tests(rule.when):
            if test.op in ("gte", "gt", "lte", "lt", "eq") and isinstance(test.value, int):
                out.setdefault(test.fact, set()).add(test.value)
    return out


def relevant_questions(ruleset: RuleSet, values: Mapping[str, Any]) -> list[str]:
    """Unanswered input facts whose answer could still change an outcome or the priority."""
    base = evaluate(ruleset, values)
    if not base.undecided() and base.priority is not None:
        return []
    thresholds = _thresholds(ruleset)
    relevant = []
    for name, spec in INPUT_FACTS.items():
        if name in values and values[name] is not UNANSWERED:
            continue  # answered, "don't know" and "declined" included: not asked again
        for candidate in _candidates(spec, thresholds.get(name, set())):
            trial = evaluate(ruleset, {**values, name: candidate})
            if trial.outcomes != base.outcomes or trial.priority != base.priority:
                relevant.append(name)
                break
    return relevant


"""The finite classes of cases an edition's rules can tell apart, derived from the rules themselves.

Every test in a rule or a text variant compares one input fact with a constant, so each fact's
values fall into a few classes whose members pass and fail exactly the same tests: numbers are cut
at every threshold, choices are grouped by the tests they pass, lists by which tested items they
hold, and dates at every edition, benefit-start and `before`/`on_or_after` boundary. An absent
optional fact and an unknown answer are classes of their own. A new rule adds its constants, so it
extends the space by itself. Two cases whose facts fall in the same classes are decided alike by
every rule of the edition: checking one representative per class checks them all.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from engine.model.facts import INPUT_FACTS, NOT_KNOWN, FactSpec, is_unknown
from engine.policy import conditions as C
from engine.policy.editions import Calendar, Edition
from engine.policy.rulebook import Rule, RuleSet

Signature = tuple[Any, ...]


@attrs.frozen
class ValueClass:
    """One class of a fact's values: the representative, how it reads, and what else belongs to it.

    `others` are members a case may use when the representative is not allowed with its other
    answers (Income Support for a lone parent needs a child; Incapacity Benefit does not); `spans`
    are the ranges (first, last) of numbers or dates the class stands for.
    """

    value: Any
    words: str = ""
    others: tuple[Any, ...] = ()
    spans: tuple[tuple[Any, Any], ...] = ()
    kinds: tuple[tuple[str, ...], ...] = ()
    """For a list fact: the items each item of the representative stands for (heroin: heroin, crack)."""

    @property
    def members(self) -> tuple[Any, ...]:
        """The representative, then the other members a case may use instead (each span's first value
        too: "5 to 19 or not given" must offer 5 where an answer is required)."""
        firsts = tuple(first for first, _last in self.spans if first not in (self.value, *self.others))
        return (self.value, *self.others, *firsts)


@attrs.frozen(eq=False)
class Space:
    """One edition's classes (or every edition's: `edition` None): each input fact's classes, in a fixed order."""

    edition: Edition | None
    domains: Mapping[str, tuple[ValueClass, ...]]
    tests: Mapping[str, tuple[C.Test, ...]]

    def size(self, names: Iterable[str]) -> int:
        """How many combinations of classes the named facts have."""
        total = 1
        for name in names:
            total *= len(self.domains[name])
        return total

    def product(self, names: Iterable[str]) -> Iterator[dict[str, ValueClass]]:
        """Every combination of classes of the named facts (registry order), one mapping each."""
        wanted = set(names)
        ordered = [name for name in INPUT_FACTS if name in wanted]
        for combo in itertools.product(*(self.domains[name] for name in ordered)):
            yield dict(zip(ordered, combo, strict=True))

    def class_of(self, name: str, value: Any) -> ValueClass | None:
        """The class a fact's value falls in: the one passing the same tests (for the date, the same
        range); None for a date outside the edition."""
        domain = self.domains[name]
        if is_unknown(value):
            return next((vc for vc in domain if is_unknown(vc.value)), None)
        if INPUT_FACTS[name].kind == "date":
            return next((vc for vc in domain if any(lo <= value <= hi for lo, hi in vc.spans)), None)
        return self._by_signature[name].get(_signature(self.tests.get(name, ()), value))

    @functools.cached_property
    def _by_signature(self) -> dict[str, dict[Signature, ValueClass]]:
        """Each fact's known-value classes by the truths of the tests on it."""
        return {name: {_signature(self.tests.get(name, ()), vc.value): vc for vc in domain if not is_unknown(vc.value)}
                for name, domain in self.domains.items()}


def same_value(a: Any, b: Any) -> bool:
    """Two answers are the same: equal and of one type (True is not 1, False is not 0)."""
    return type(a) is type(b) and a == b


def conditions_of(ruleset: RuleSet) -> Iterator[C.Cond]:
    """Every condition in the rule set: rules' `when` and their texts' variant conditions."""
    for rule in ruleset.rules:
        yield rule.when
        for variant in rule.text + rule.adviser_note:
            if variant.when is not None:
                yield variant.when


def tests_by_fact(conds: Iterable[C.Cond]) -> dict[str, list[C.Test]]:
    """The tests on each input fact, in the order met, without repeats."""
    out: dict[str, list[C.Test]] = {}
    for cond in conds:
        for test in C.tests(cond):
            if test.fact in INPUT_FACTS and test not in out.setdefault(test.fact, []):
                out[test.fact].append(test)
    return out


def _signature(tests: Iterable[C.Test], value: Any) -> Signature:
    """The truth of every test for one value (a known value, or None for an absent optional fact)."""
    return tuple(C.eval_test(test, value) for test in tests)


def _grouped(atoms: list[tuple[Any, str]], tests: list[C.Test]) -> list[tuple[list[Any], list[str]]]:
    """Atoms grouped by signature, groups in the order their first atom appears."""
    groups: dict[Signature, tuple[list[Any], list[str]]] = {}
    for value, words in atoms:
        members, labels = groups.setdefault(_signature(tests, value), ([], []))
        members.append(value)
        labels.append(words)
    return list(groups.values())


def _join_or(words: list[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _choice_classes(spec: FactSpec, tests: list[C.Test]) -> list[ValueClass]:
    """Classes of an enum or true/false fact: its values grouped by the tests they pass (default first)."""
    values: list[Any] = [True, False] if spec.kind in ("bool", "flag") else list(spec.choices)
    if spec.optional:
        values.append(None)
    values.sort(key=lambda v: not same_value(v, spec.default))
    atoms = [(v, "not given" if v is None else str(v).lower()) for v in values]
    return [ValueClass(members[0], _join_or(labels), tuple(members[1:])) for members, labels in _grouped(atoms, tests)]


_CUT_AT_OPERAND = frozenset({"lt", "gte"})
"""Comparisons whose truth changes between operand - 1 and the operand; the others change just after it."""


def _int_classes(spec: FactSpec, tests: list[C.Test]) -> list[ValueClass]:
    """Classes of a whole-number fact: ranges cut at every constant a test compares it with."""
    cuts = {spec.low, spec.high + 1}
    for test in tests:
        operands = test.value if isinstance(test.value, tuple) else (test.value,)
        for x in operands:
            if isinstance(x, int) and not isinstance(x, bool):
                cuts |= {x} if test.op in _CUT_AT_OPERAND else {x + 1} if test.op in ("lte", "gt") else {x, x + 1}
    points = sorted(c for c in cuts if spec.low <= c <= spec.high + 1)
    last = {lo: hi - 1 for lo, hi in itertools.pairwise(points)}
    atoms: list[tuple[Any, str]] = [(lo, "") for lo in last]
    if spec.optional:
        atoms.insert(0 if spec.default is None else len(atoms), (None, "not given"))
    out = []
    for members, _labels in _grouped(atoms, tests):
        spans = _merged([(m, last[m]) for m in members if m is not None])
        words = [f"{lo}" if lo == hi else f"{lo} to {hi}" for lo, hi in spans]
        words += ["not given"] if None in members else []
        out.append(ValueClass(members[0], _join_or(words), spans=tuple(spans)))
    return out


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Adjacent ranges joined into one."""
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        if out and out[-1][1] + 1 == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _list_classes(spec: FactSpec, tests: list[C.Test]) -> list[ValueClass]:
    """Classes of a list fact: which kinds of tested item the list holds, grouped by the tests it passes."""
    item_groups: dict[Signature, list[str]] = {}
    for choice in spec.choices:
        key = tuple(choice in t.value for t in tests if isinstance(t.value, tuple))
        item_groups.setdefault(key, []).append(choice)
    groups = list(item_groups.values())
    stands_for = {group[0]: tuple(group) for group in groups}
    atoms: list[tuple[Any, str]] = []
    for size in range(len(groups) + 1):
        for picked in itertools.combinations(groups, size):
            value = tuple(sorted((group[0] for group in picked), key=spec.choices.index))
            words = " and ".join(_join_or(group) for group in picked) or "none"
            words = words if len(picked) < 2 else "both " + words
            atoms.append((value, words))
    return [ValueClass(members[0], labels[0], tuple(members[1:]), kinds=tuple(stands_for[i] for i in members[0]))
            for members, labels in _grouped(atoms, tests)]


def date_cuts(edition: Edition, calendar: Calendar, tests: list[C.Test]) -> list[dt.date]:
    """The first day of each date class in an edition: its start, and every boundary falling inside it."""
    days = {edition.start}
    days |= {t.value for t in tests if isinstance(t.value, dt.date)}
    days |= set(calendar.benefits_from.values())
    return sorted(d for d in days if edition.in_force(d))


def _date_classes(edition: Edition, calendar: Calendar, tests: list[C.Test]) -> list[ValueClass]:
    """Classes of the case date within one edition, each from one boundary to the day before the next."""
    starts = date_cuts(edition, calendar, tests)
    out = []
    for index, start in enumerate(starts):
        end = starts[index + 1] - dt.timedelta(days=1) if index + 1 < len(starts) else edition.end
        words = f"{start.isoformat()} to {end.isoformat()}" if end else f"{start.isoformat()} onwards"
        out.append(ValueClass(start, words, spans=((start, end or dt.date.max),)))
    return out


def fact_classes(spec: FactSpec, tests: list[C.Test]) -> list[ValueClass]:
    """The classes of one (non-date) fact's values under the given tests, unknown last where allowed."""
    if spec.kind == "int":
        out = _int_classes(spec, tests)
    elif spec.kind == "list":
        out = _list_classes(spec, tests)
    else:
        out = _choice_classes(spec, tests)
    if spec.unknowable:
        out.append(ValueClass(NOT_KNOWN, "unknown"))
    return out


def edition_space(ruleset: RuleSet, calendar: Calendar) -> Space:
    """The classes of every input fact that one edition's rules (and their texts' variants) distinguish."""
    tests = tests_by_fact(conditions_of(ruleset))
    domains: dict[str, tuple[ValueClass, ...]] = {}
    for name, spec in INPUT_FACTS.items():
        found = tests.get(name, [])
        if spec.kind == "date":
            domains[name] = tuple(_date_classes(ruleset.edition, calendar, found))
        else:
            domains[name] = tuple(fact_classes(spec, found))
    return Space(ruleset.edition, domains, {name: tuple(found) for name, found in tests.items()})


def book_space(rulesets: Iterable[RuleSet], calendar: Calendar) -> Space:
    """The classes every edition's rules distinguish together, dates cut at every edition's boundaries."""
    chosen = list(rulesets)
    tests = tests_by_fact(cond for rs in chosen for cond in conditions_of(rs))
    domains: dict[str, tuple[ValueClass, ...]] = {}
    for name, spec in INPUT_FACTS.items():
        found = tests.get(name, [])
        if spec.kind == "date":
            domains[name] = tuple(vc for rs in chosen for vc in _date_classes(rs.edition, calendar, found))
        else:
            domains[name] = tuple(fact_classes(spec, found))
    return Space(None, domains, {name: tuple(found) for name, found in tests.items()})


def rules_behind(ruleset: RuleSet, codes: Iterable[str]) -> RuleSet:
    """The part of a rule set that decides the given outcome codes: their rules and every rule they read."""
    asked = frozenset(codes)
    rules = ruleset.rules_behind(asked)
    wanted = set(asked) | {t.value for r in rules for t in C.tests(r.when) if t.fact == C.OUTCOME_KEY}
    outcomes = {code: info for code, info in ruleset.outcomes.items() if code in wanted}
    return RuleSet(ruleset.edition, rules, outcomes, (), ruleset.priority_default, ruleset.format)


def rule_inputs(ruleset: RuleSet, rule: Rule) -> set[str]:
    """The input facts one rule reads, through the derived facts and outcomes it tests."""
    facts: set[str] = set()
    for test in C.tests(rule.when):
        if test.fact in INPUT_FACTS:
            facts.add(test.fact)
        elif test.fact == C.OUTCOME_KEY:
            for other in ruleset.rules:
                if other.concludes == test.value:
                    facts |= rule_inputs(ruleset, other)
        else:
            for derive in ruleset.rules:
                if derive.derives == test.fact:
                    facts |= rule_inputs(ruleset, derive)
    return facts

"""Decisions rendered by class: durable_rules decides the first case of a class, the rest are filled in.

Two cases whose input facts fire the same durable rules, pass the same tests of those rules' text
variants and (with an unknown answer) leave the same outcomes open are decided alike by
durable_rules: the same rules fire in the same order, the same texts are chosen, the same outcomes
are open. Only the case reference, the date and the values the firing rules saw differ.
So the first case of a class is decided by durable_rules and its decision JSON is kept as a
template with a hole for each such value; later cases of the class are the template with their own
values encoded into the holes, byte for byte the JSON durable_rules' decision gives (a template is
kept only after it re-renders its own case exactly). Replay never uses this: it re-runs
durable_rules on every decision, so it checks every cached decision too (#14).
"""

from __future__ import annotations

import functools
import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import orjson

from engine import jsonfast
from engine.model.decision import Decision, OpenOutcome
from engine.model.facts import INPUT_FACTS, is_unknown
from engine.policy import conditions as C
from engine.policy.classes import conditions_of
from engine.policy.compiler import Compiled
from engine.policy.explain import open_outcomes
from engine.policy.ordering import Cycle, dependency_order

_HOLE = re.compile(r'"\\u0000(\d+)\\u0000"')
"""A hole in a template as the JSON encoder writes its marker string."""


@attrs.frozen
class Summary:
    """A decision's summary columns (edition, rule set, priority, outcome codes): the same for every case of a class."""

    edition: str
    ruleset: str
    priority: str
    codes: tuple[str, ...]
    announced: bool
    outcomes: str
    """The outcome codes as the decisions table's `outcomes` column holds them."""

    @classmethod
    def of(cls, decision: Decision) -> Summary:
        """The summary of a decision durable_rules made."""
        return cls(decision.edition, decision.ruleset, decision.priority, decision.codes, decision.announced,
                   outcomes_column(decision.codes))


@attrs.frozen
class Rendered:
    """A decision as batch recording needs it: its JSON text, its date and its summary columns."""

    text: str
    as_of: str
    summary: Summary

    @classmethod
    def of(cls, decision: Decision) -> Rendered:
        """The rendering of a decision durable_rules made."""
        return cls(decision.to_json(), decision.as_of, Summary.of(decision))


def outcomes_column(codes: tuple[str, ...]) -> str:
    """The `outcomes` column: the codes as `json.dumps` writes a list (what `Prepared.of` stores)."""
    return json.dumps(list(codes))


@attrs.frozen
class Template:
    """One class's decision JSON with a hole for each per-case value, and what fills each hole."""

    pieces: tuple[str, ...]
    """The JSON between the holes (one more piece than holes): filled by one join, with no format string to parse."""
    slots: Callable[[list[str]], tuple[str, ...]]
    """The filled values of `names` in hole order, then "" (an `itemgetter`: a name may be shown in several holes)."""
    names: tuple[str, ...]
    """What the holes stand for, each named once: `case` (the case reference) first, then `as_of` and input facts."""
    summary: Summary
    frame: tuple[str | None, ...] = attrs.field(
        init=False, eq=False, repr=False,
        default=attrs.Factory(lambda self: _frame(self.pieces), takes_self=True))
    """The pieces with a gap after each, which `slots` fills: copied and filled by one slice assignment (#14: a
    case filled in 4.8 us where interleaving pieces and values took 6.7)."""


def _frame(pieces: tuple[str, ...]) -> tuple[str | None, ...]:
    """The pieces with a gap (None) after each."""
    frame: list[str | None] = [None] * (2 * len(pieces))
    frame[0::2] = pieces
    return tuple(frame)


def _json_value(value: Any) -> Any:
    """A fact value as a decision shows it (tuples as lists, dates as ISO text, unknown as its word)."""
    from engine.policy.driver import json_value

    return json_value(value)


@attrs.frozen
class First:
    """The first case of a class as durable_rules decided it, its decision written straight from the session into
    the class's template (engine.policy.written, #14)."""

    template: Template
    whole: Callable[[], str]
    """The decision's JSON written whole, by the road replay takes: what the template is checked against."""


CHECKED = 64
"""A rule set's first templates written straight from the session that are checked against the decision written
whole (#14): if one ever differs, that rule set's classes are no longer kept and every case of it is written
whole."""


def _marked(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str], int]:
    """The decision data with every per-case value replaced by a marker numbered for what it stands for (the
    same number wherever the same fact is shown), the markers by name, and how many were put in.

    The case, its date and each shown block's facts are replaced, not changed: `data`'s own values stay.
    """
    markers: dict[str, str] = {}
    count = 0

    def mark(name: str) -> str:
        nonlocal count
        count += 1
        found = markers.get(name)
        if found is None:
            found = markers[name] = f"\x00{len(markers)}\x00"
        return found

    data = {**data, "case": mark("case"), "as_of": mark("as_of")}
    for block, key in (("outcomes", "because"), ("trace", "facts")):
        data[block] = [{**item, key: {name: mark(name) if name in INPUT_FACTS else value
                                      for name, value in item[key].items()}} for item in data[block]]
    return data, markers, count


def _mask(bits: Iterable[int]) -> int:
    """The bits as one mask (a test met twice counts once)."""
    mask = 0
    for bit in bits:
        mask |= 1 << bit
    return mask


@attrs.frozen(eq=False)
class _Tests:
    """One rule set's input tests as bits, and each compiled durable rule as what it needs and concludes."""

    facts: tuple[tuple[str, tuple[tuple[int, C.Test], ...], int], ...]
    """Each input fact, its tests with their bit, and the bit saying it is unknown."""
    rules: tuple[tuple[int, frozenset[tuple[str, bool]], frozenset[str], str | None, bool, str | None], ...]
    """Each durable rule: the mask of its input tests, the derived facts and outcomes it needs, what it concludes."""
    shown: tuple[int, ...]
    """Each durable rule's mask of the tests its rule's text variants make (the texts it may be shown with)."""

    @classmethod
    def of(cls, compiled: Compiled) -> _Tests:
        """Number every input test (rules, their negations, text variants) and every fact's unknown bit."""
        ruleset = compiled.ruleset
        terms = [c.term for c in compiled.conclusions.values()]
        index: dict[C.Test, int] = {}
        every = [t for cond in conditions_of(ruleset) for t in C.tests(cond)] + [t for term in terms for t in term]
        for test in every:
            if test.fact in INPUT_FACTS:
                index.setdefault(test, len(index))
        by_fact: dict[str, list[tuple[int, C.Test]]] = {}
        for test, bit in index.items():
            by_fact.setdefault(test.fact, []).append((bit, test))
        facts = tuple((name, tuple(by_fact.get(name, ())), len(index) + n) for n, name in enumerate(INPUT_FACTS))
        rules = tuple((_mask(index[t] for t in c.term if t.fact in INPUT_FACTS),
                       frozenset((t.fact, bool(t.value)) for t in c.term
                                 if t.fact not in INPUT_FACTS and t.fact != C.OUTCOME_KEY),
                       frozenset(t.value for t in c.term if t.fact == C.OUTCOME_KEY),
                       c.derived, c.value, None if c.outcome is None else str(c.outcome))
                      for c in compiled.conclusions.values())
        per_rule: dict[str, int] = {}
        for rule in ruleset.rules:
            per_rule[rule.id] = 0
            for variant in rule.text + rule.adviser_note:
                if variant.when is not None:
                    per_rule[rule.id] |= _mask(index[t] for t in C.tests(variant.when) if t.fact in INPUT_FACTS)
        return cls(facts, rules, tuple(per_rule[c.rule.id] for c in compiled.conclusions.values()))

    def shown_by(self, fired: int) -> int:
        """The mask of the variant tests of the rules that fired (only their texts are chosen)."""
        found = self._shown.get(fired)
        if found is None:
            found = 0
            for bit, mask in enumerate(self.shown):
                if fired >> bit & 1:
                    found |= mask
            if len(self._shown) < 4 * LIMIT:
                self._shown[fired] = found
        return found

    @functools.cached_property
    def _shown(self) -> dict[int, int]:
        """`shown_by`'s answers so far, by fired rules."""
        return {}

    @functools.cached_property
    def _ordered(self) -> tuple[tuple[int, int, frozenset[tuple[str, bool]], frozenset[str], str | None, bool, str],
                                ...] | None:
        """The durable rules numbered, each after every rule that makes a derived fact or outcome it needs
        (so one pass settles them); None if they need each other in a circle."""
        makers: dict[str, list[int]] = {}
        for bit, (_mask, _needs, _reads, name, _value, outcome) in enumerate(self.rules):
            makers.setdefault(name if name is not None else f"outcome:{outcome}", []).append(bit)

        def makers_of_needs(bit: int) -> list[int]:
            _mask, needs, reads, _name, _value, _outcome = self.rules[bit]
            wanted = [n for n, _v in needs] + [f"outcome:{code}" for code in reads]
            return [other for made in wanted for other in makers.get(made, ())]

        try:
            order = dependency_order(range(len(self.rules)), makers_of_needs)
        except Cycle:
            return None
        return tuple((bit, *self.rules[bit][:5], str(self.rules[bit][5])) for bit in order)

    @functools.cached_property
    def _terms(self) -> tuple[int, dict[int, int]]:
        """The mask of every test a durable rule makes, and `fired`'s answers so far by the tests passed of it."""
        mask = 0
        for rule in self.rules:
            mask |= rule[0]
        return mask, {}

    def fired(self, passed: int) -> int:
        """The durable rules whose every test holds once derived facts and outcomes settle: one bit each.

        Only the durable rules' own tests decide it, and cases pass few combinations of them: memoised on those.
        """
        mask, memo = self._terms
        found = memo.get(passed & mask)
        if found is None:
            found = self._fired(passed & mask)
            if len(memo) < 4 * LIMIT:
                memo[passed & mask] = found
        return found

    def _fired(self, passed: int) -> int:
        """`fired`, worked out."""
        ordered = self._ordered
        derived: dict[str, bool] = {}
        outcomes: set[str] = set()
        fired = 0
        if ordered is not None:
            made: set[tuple[str, bool]] = set()
            for bit, mask, needs, reads, name, value, outcome in ordered:
                if passed & mask != mask or (reads and not reads <= outcomes) or (needs and not needs <= made):
                    continue
                fired |= 1 << bit
                if name is not None:
                    if name not in derived:  # the first value stands, as in the driver
                        derived[name] = value
                        made.add((name, value))
                else:
                    outcomes.add(outcome)
            return fired
        candidates = [(bit, rule) for bit, rule in enumerate(self.rules) if passed & rule[0] == rule[0]]
        changed = True
        while changed:
            changed = False
            for bit, (_mask, wants, reading, making, making_value, code) in candidates:
                if fired >> bit & 1 or not reading <= outcomes or any(derived.get(n) is not v for n, v in wants):
                    continue
                fired |= 1 << bit
                changed = True
                if making is not None:
                    derived.setdefault(making, making_value)
                else:
                    outcomes.add(str(code))
        return fired


def _bits(tests: tuple[tuple[int, C.Test], ...], unknown_bit: int, value: Any) -> tuple[int, int]:
    """One value's truths: the bits of the tests it passes, and the bits of the tests it leaves unknown."""
    if is_unknown(value):
        return 0, sum(1 << bit for bit, _t in tests) | 1 << unknown_bit
    return sum(1 << bit for bit, test in tests if C.eval_test(test, value)), 0


LIMIT = 40_000
"""Classes kept at most (a template's own objects take about 2 KB, its text pieces being shared with other templates':
engine.policy.written): 100,000 generated cases make about 25,000."""


def _reference(case_ref: str) -> str:
    """The case reference as JSON text (never memoised: every case has its own).

    orjson writes a string as the standard library does (jsonfast's checks are for numbers and null, which
    a string cannot be); one it refuses (a lone surrogate) goes the standard library's way.
    """
    try:
        return orjson.dumps(case_ref).decode("utf-8") if type(case_ref) is str else jsonfast.compact(case_ref)
    except orjson.JSONEncodeError:
        return jsonfast.compact(case_ref)


Decide = Callable[[tuple[OpenOutcome, ...] | None], "Decision | First"]
"""How a class's first case is decided: given its open outcomes, durable_rules' decision (or its template)."""


class ClassCache:
    """Decisions by class for one engine: keys cases by the truths of their rule sets' tests, keeps templates.

    A case is looked up first by the truth of every test (cheap, from each value's memoised bits), then
    by the durable rules that fire, their texts' variant tests and the open outcomes (`key`): everything
    a decision shows but the values in its holes. Only a case new at both is decided.
    """

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._tests: dict[str, _Tests] = {}
        self._bits: dict[str, tuple[tuple[str, tuple[tuple[int, C.Test], ...], int,
                                          dict[tuple[type, Any], tuple[int, int]]], ...]] = {}
        self._fine: dict[tuple[str, int, int], Template | None] = {}
        self._templates: dict[tuple[Any, ...], Template | None] = {}
        self._encoded: dict[tuple[type, Any], str] = {}
        self._checks: dict[str, int] = {}
        """Per rule set: how many more templates written from the session to check (-1: one differed)."""
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._templates)

    def _of(self, compiled: Compiled) -> _Tests:
        """The rule set's tests as bits (made once per rule set)."""
        found = self._tests.get(compiled.ruleset.digest)
        if found is None:
            found = self._tests[compiled.ruleset.digest] = _Tests.of(compiled)
        return found

    def truths(self, compiled: Compiled, values: Mapping[str, Any]) -> tuple[int, int]:
        """The bits of every test the case passes, and of every test (and fact) it leaves unknown."""
        facts = self._bits.get(compiled.ruleset.digest)
        if facts is None:
            facts = self._bits[compiled.ruleset.digest] = tuple(
                (name, tests, bit, {}) for name, tests, bit in self._of(compiled).facts)
        passed = unknown = 0
        for name, tests, unknown_bit, table in facts:
            value = values[name]
            try:
                memo = (type(value), value)
                found = table.get(memo)
            except TypeError:  # an unhashable value: its bits are worked out every time
                memo, found = None, None
            if found is None:
                found = _bits(tests, unknown_bit, value)
                if memo is not None:
                    table[memo] = found
            passed |= found[0]
            unknown |= found[1]
        return passed, unknown

    def key(self, compiled: Compiled, passed: int, unknown: int, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The case's class: the durable rules that fire, the tests of their texts' variants and, with an
        unknown answer, the open outcomes.

        A decision is made of the rules that fire (in durable_rules' order, which they settle), the text
        variants of those rules (only theirs are chosen; an unknown answer passes none of their tests, as
        the choice counts unknown as not holding) and the open outcomes, which come only with an unknown
        answer and are worked out here by the same evaluator the decision uses. Nothing else of a case
        shows but the values in the holes, so two cases with the same key have the same template (#14).
        No open outcome shows as none does: `render` keeps such a class under the key without them.
        """
        tests = self._of(compiled)
        fired = tests.fired(passed)
        shown = passed & tests.shown_by(fired)
        if unknown:
            return (compiled.ruleset.digest, fired, shown, open_outcomes(compiled.ruleset, values))
        return (compiled.ruleset.digest, fired, shown)

    def render(self, compiled: Compiled, case_ref: str, values: Mapping[str, Any],
               decide: Callable[[tuple[OpenOutcome, ...] | None], Decision | First]) -> Rendered:
        """The case's decision: from its class's template, or decided by `decide` (durable_rules) and kept.

        `decide` is given the case's open outcomes, from the key (none where no answer is unknown).
        """
        return self.render_all(compiled, [(case_ref, values, decide)])[0]

    def render_all(self, compiled: Compiled, cases: Sequence[tuple[str, Mapping[str, Any], Decide]]) -> list[Rendered]:
        """`render` for each case of one rule set, in passes over the cases: the classes already known at the
        finest level; the class key of each other case (which the three-valued evaluator may work on); the first
        case of each new class decided by durable_rules, in order; then every template filled.

        Each pass keeps its own tables in the processor's caches, where one case after another took each in turn
        (#14). The decisions, and the classes decided and kept, are what rendering one case at a time gives.
        """
        digest = compiled.ruleset.digest
        fine_of = self._fine.get
        found: list[Template | Rendered | None] = []
        later: list[tuple[int, int, int]] = []
        for index, (_ref, values, _decide) in enumerate(cases):
            passed, unknown = self.truths(compiled, values)
            template = fine_of((digest, passed, unknown))
            if template is None:
                later.append((index, passed, unknown))
            found.append(template)
        keys: dict[tuple[str, int, int], tuple[Any, ...]] = {}
        new: dict[tuple[Any, ...], list[tuple[int, tuple[str, int, int]]]] = {}
        for index, passed, unknown in later:
            fine = (digest, passed, unknown)
            key = keys.get(fine)
            if key is None:
                key = keys[fine] = self._key(compiled, passed, unknown, cases[index][1])
                template = self._templates.get(key)
                if template is not None:
                    found[index] = self._kept_fine(fine, template)
                    continue
            new.setdefault(key, []).append((index, fine))
        for key, waiting in new.items():  # a new class's first case, then the others of the class in the call
            for index, fine in waiting:
                template = self._templates.get(key)
                found[index] = self._kept_fine(fine, template) if template is not None else \
                    self._decided(compiled, key, fine, *cases[index])
        out: list[Rendered] = []
        for made, (case_ref, values, _decide) in zip(found, cases, strict=True):
            if isinstance(made, Template):
                self.hits += 1
                out.append(self._fill(made, case_ref, values))
            else:
                out.append(made)  # type: ignore[arg-type]  # a first case, rendered when its class was made
        return out

    def _key(self, compiled: Compiled, passed: int, unknown: int, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """`key`, and a case whose unknown answers leave nothing open in the class of the same case without them
        (#14: a decision shows its open outcomes, not that an answer was unknown)."""
        key = self.key(compiled, passed, unknown, values)
        return key[:3] if len(key) > 3 and key[3] == () else key

    def _kept_fine(self, fine: tuple[str, int, int], template: Template) -> Template:
        """The template, kept for its class at the finest level too while there is room."""
        if len(self._fine) < 4 * self.limit:
            self._fine[fine] = template
        return template

    def _decided(self, compiled: Compiled, key: tuple[Any, ...], fine: tuple[str, int, int], case_ref: str,
                 values: Mapping[str, Any], decide: Decide) -> Template | Rendered:
        """The first case of a new class, decided by durable_rules (`decide`), its rendering; the class's template
        kept once it gives that case's decision exactly."""
        digest = compiled.ruleset.digest
        opened = key[3] if len(key) > 3 else ()  # `key` ends with the open outcomes (none without an unknown)
        self.misses += 1
        first = decide(opened)
        if isinstance(first, Decision):
            own = Rendered.of(first)
            made = self._template(first)
            if made is None or self._fill(made, case_ref, values) != own:
                return own  # a template is kept only once it gives its own case's decision exactly
        else:
            made = first.template
            own = self._fill(made, case_ref, values)
            checks = self._checks.get(digest, CHECKED)
            if checks != 0:
                whole = first.whole()
                if checks < 0 or whole != own.text:  # this rule set's cases are written whole from now on
                    self._checks[digest] = -1
                    return Rendered(whole, own.as_of, own.summary)
                self._checks[digest] = checks - 1
        if len(self._templates) >= self.limit or len(self._fine) >= 4 * self.limit:
            self._templates.clear()  # memory stays flat on any caseload: start the classes again
            self._fine.clear()
        self._templates[key] = self._fine[fine] = made
        return own

    def _template(self, first: Decision) -> Template | None:
        """A built decision's JSON cut at every per-case value: the same encoder, so the same bytes once filled.

        The JSON is cut at the markers by one C-level split; a template is kept only if exactly the markers
        put in were found (no other text looks like one).
        """
        data, markers, count = _marked(first.to_data())
        cut = _HOLE.split(jsonfast.compact(data, nan_free=True))
        slots = [int(n) for n in cut[1::2]]
        if len(slots) != count or next(iter(markers)) != "case":
            return None
        return Template(tuple(cut[::2]), operator.itemgetter(*slots, len(markers)), tuple(markers), Summary.of(first))

    def _encode(self, value: Any) -> str:
        """One value as the decision JSON writes it (memoised: the values of a caseload repeat)."""
        try:
            memo = (type(value), value)
            found = self._encoded.get(memo)
        except TypeError:
            return jsonfast.compact(_json_value(value), nan_free=True)
        if found is None:
            found = self._encoded[memo] = jsonfast.compact(_json_value(value), nan_free=True)
        return found

    def _fill(self, template: Template, case_ref: str, values: Mapping[str, Any]) -> Rendered:
        """The template with this case's values in its holes."""
        encode = self._encode
        filled = [_reference(case_ref), *[encode(values[name]) for name in template.names[1:]], ""]
        text: list[Any] = list(template.frame)  # every gap filled below
        text[1::2] = template.slots(filled)
        return Rendered("".join(text), values["as_of"].isoformat(), template.summary)

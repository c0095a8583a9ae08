"""The smallest changes of answers that would flip an outcome (`pathways explain`).

For one case and one outcome code, the search tries every change of the answers behind that code
(through derived facts, in every edition, and the case date) to every other class of values the
rules tell apart (engine.policy.classes), one change, then two, then three. A set of changes
counts when the three-valued evaluator then gives the wanted answer (an outcome that applies stops
applying; one that does not starts; an open one is settled either way) and the changed case is
valid; where validation needs a companion answer (a kinship carer needs a child), the fewest such
changes to answers the outcome does not read are added. Only minimal sets are kept (no smaller
set of the same changes works), those of the smallest size and of the next size up, smallest
first and changes to what a person cannot change (age, the date) last.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from engine.errors import InputError
from engine.intake.classcases import Realizer, validated
from engine.model.case import Case, input_values
from engine.model.facts import INPUT_FACTS, is_unknown
from engine.policy.classes import Space, book_space, edition_space, rules_behind, same_value
from engine.policy.conditions import UNANSWERED, Truth
from engine.policy.editions import Calendar
from engine.policy.explain import evaluate, inputs_behind
from engine.policy.rulebook import Book, RuleSet
from engine.policy.wording import Words

UNCHANGEABLE = ("claimant.age", "as_of")
"""Facts a person cannot change: change sets using them are listed last."""
MAX_CHANGES = 3
"""The most answers changed together before the search gives up on a size."""


@attrs.frozen
class Change:
    """One answer changed: the fact and its new value (a representative of its class)."""

    fact: str
    to: Any


@attrs.frozen
class ChangeSet:
    """Changes that together flip an outcome, and what the outcome then is (True, False or open: None)."""

    changes: tuple[Change, ...]
    then: Truth

    @property
    def unchangeable(self) -> bool:
        """True when it changes something a person cannot change (age, the date)."""
        return any(c.fact in UNCHANGEABLE for c in self.changes)


@attrs.frozen
class Counterfactual:
    """One outcome of a case: whether it applies now, and the smallest change sets that would flip it."""

    code: str
    kind: str
    applies: Truth
    sets: tuple[ChangeSet, ...]


class Explainer:
    """Finds counterfactuals under one rules folder (the classes and rule slices are worked out once)."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self.space: Space = book_space(book.all_rulesets(), book.calendar)
        self._realizers: dict[str, Realizer] = {}
        self._spaces: dict[str, Space] = {}
        self._parts: dict[tuple[str, str], RuleSet] = {}
        self._behind: dict[tuple[str, str], tuple[str, ...]] = {}
        self._truths: dict[tuple[Any, ...], Truth] = {}
        self._facts: dict[str, tuple[str, ...]] = {}

    def explain(self, case: Case, codes: Iterable[str] | None = None) -> list[Counterfactual]:
        """Each outcome's counterfactual (every code of the catalogue, or those given), in code order."""
        values = input_values(case)
        wanted = sorted(codes) if codes is not None else sorted(self.book.outcomes)
        return [self._one(values, code) for code in wanted]

    def truth(self, values: Mapping[str, Any], code: str) -> Truth:
        """An outcome's three-valued truth for these answers, under the edition in force on their date
        (remembered by the answers it depends on)."""
        edition = self.book.calendar.edition_for(values["as_of"]).id
        key = (edition, code)
        if key not in self._parts:
            ruleset = self.book.ruleset(edition)
            self._parts[key] = rules_behind(ruleset, [code])
            self._behind[key] = tuple(sorted(inputs_behind(ruleset, code)))
        memo = (edition, code, *(values[name] for name in self._behind[key]))
        if memo not in self._truths:
            self._truths[memo] = evaluate(self._parts[key], values).outcomes.get(code, False)
        return self._truths[memo]

    def _facts_behind(self, code: str) -> tuple[str, ...]:
        """The answers that can change an outcome in some edition, and the date (registry order)."""
        if code not in self._facts:
            found = {"as_of"}
            for rs in self.book.all_rulesets():
                found |= inputs_behind(rs, code)
            self._facts[code] = tuple(name for name in INPUT_FACTS if name in found)
        return self._facts[code]

    def _one(self, values: dict[str, Any], code: str) -> Counterfactual:
        """The search for one outcome (see the module docstring)."""
        now = self.truth(values, code)
        facts = self._facts_behind(code)
        options = {name: [vc for vc in self.space.domains[name]
                          if not is_unknown(vc.value) and self.space.class_of(name, values[name]) != vc]
                   for name in facts}
        found: dict[tuple[Change, ...], ChangeSet] = {}
        working: list[frozenset[Change]] = []
        for size in range(1, MAX_CHANGES + 1):
            for names in itertools.combinations(facts, size):
                for changes in self._candidates(values, code, now, names, options, ()):
                    if any(w <= changes for w in working):
                        continue  # a smaller set of these changes already works: not minimal
                    result = self._try(values, code, now, changes, facts)
                    if result is not None:
                        working.append(changes)
                        found.setdefault(result.changes, result)
            if any(not s.unchangeable for s in found.values()):
                break  # a change a person can make is found: larger sets would only add noise
        ordered = sorted(found.values(), key=lambda s: (s.unchangeable, len(s.changes), _order(s)))
        return Counterfactual(code, self.book.outcomes[code].kind, now, tuple(ordered))

    def _candidates(self, values: dict[str, Any], code: str, now: Truth, names: tuple[str, ...],
                    options: Mapping[str, list[Any]], partial: tuple[Change, ...]) -> Iterator[frozenset[Change]]:
        """Every assignment of new classes to `names` that might flip the outcome.

        Kleene logic is monotone: when the outcome is already settled as it is now with the answers
        still to choose left unknown, no choice of them can change it, and that branch is skipped.
        """
        trial = {**values, **{c.fact: c.to for c in partial}}
        rest = names[len(partial):]
        if not rest:
            yield frozenset(partial)
            return
        if now is not None and "as_of" not in rest:
            blank = {**trial, **{name: UNANSWERED for name in rest}}
            if self.truth(blank, code) is now:
                return
        for value_class in options[rest[0]]:
            yield from self._candidates(values, code, now, names, options,
                                        (*partial, Change(rest[0], value_class.value)))

    def _try(self, values: dict[str, Any], code: str, now: Truth, changes: frozenset[Change],
             facts: tuple[str, ...]) -> ChangeSet | None:
        """The change set, completed to a valid case, when it gives the wanted answer; else None."""
        trial = {**values, **{c.fact: c.to for c in changes}}
        then = self.truth(trial, code)
        if then is None or then is now:
            return None  # the wanted answer: the opposite of a settled outcome, either for an open one
        edition = self.book.calendar.edition_for(trial["as_of"]).id
        space = self._edition_space(edition)
        fixed = {}
        for name in facts:
            value_class = space.class_of(name, trial[name])
            if value_class is None:
                return None
            fixed[name] = value_class
        case = self._realizer(edition).realize(fixed, trial)
        if case is None:
            return None
        made = input_values(case)
        if self.truth(made, code) is not then:
            return None
        diff = {n: made[n] for n in INPUT_FACTS if not same_value(made[n], values[n])}
        for name in reversed(list(diff)):  # drop what validation implies (no missed discussion: no reason for it)
            fewer = {n: v for n, v in diff.items() if n != name}
            if _validates_to(values, fewer, made, self.book.calendar):
                diff = fewer
        return ChangeSet(tuple(Change(n, v) for n, v in diff.items()), then)

    def _edition_space(self, edition: str) -> Space:
        """One edition's classes (made once)."""
        if edition not in self._spaces:
            self._spaces[edition] = edition_space(self.book.ruleset(edition), self.book.calendar)
        return self._spaces[edition]

    def _realizer(self, edition: str) -> Realizer:
        """One edition's case maker (made once)."""
        if edition not in self._realizers:
            self._realizers[edition] = Realizer(self._edition_space(edition), self.book.calendar, known_only=True)
        return self._realizers[edition]


def _validates_to(values: Mapping[str, Any], changes: Mapping[str, Any], made: Mapping[str, Any],
                  calendar: Calendar) -> bool:
    """True when these changes alone give, through validation, the answers `made`."""
    try:
        other = validated({**values, **changes}, "CHANGED", calendar)
    except InputError:
        return False
    got = input_values(other)
    return all(same_value(got[name], made[name]) for name in INPUT_FACTS)


def _order(change_set: ChangeSet) -> tuple[int, ...]:
    """Change sets of one size in the order of their facts in the registry."""
    names = list(INPUT_FACTS)
    return tuple(names.index(c.fact) for c in change_set.changes)


def change_words(change_set: ChangeSet, words: Words, space: Space) -> str:
    """A change set as one clause: "the claimant agrees to a referral to housing advice, and ..."."""
    parts = []
    for change in change_set.changes:
        if change.to is None and any(o.fact.split(".")[0] == change.fact.split(".")[0] and o.to is not None
                                     for o in change_set.changes):
            continue  # an answer that goes with another change (no substances: no "known by"), said by it
        value_class = space.class_of(change.fact, change.to)
        parts.append(words.is_class(change.fact, value_class, change.to) if value_class
                     else f"{change.fact} is {change.to}")
    text = ", and ".join(parts)
    return text + (" (a change to the age or the date)" if change_set.unchangeable else "")

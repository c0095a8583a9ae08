"""The declared properties of the policy (rules/invariants.yaml) and what each one requires of a class.

Each invariant is data: an id, its words, a check and its sources or reason. This module reads them
and says, for one class of cases and its three-valued evaluation, whether an invariant is broken
there (the checks' exact meaning with unknown answers is written atop rules/invariants.yaml). The
search over classes that uses it is engine.intake.verify.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from engine.errors import RuleFileError
from engine.model.facts import INPUT_FACTS
from engine.policy import conditions as C
from engine.policy.conditions import UNKNOWN, Truth
from engine.policy.explain import Evaluation, inputs_behind
from engine.policy.rulebook import Book, Citation, RuleSet, parse_citations

INVARIANTS_FILE = "invariants.yaml"
"""The file in the rules folder holding the invariants."""

CLASS_CHECKS = ("at_most_one", "same_as", "never", "implies")
"""Checks decided class by class: a broken one has a counterexample case."""
RULE_CHECKS = ("reachable", "no_redundant_rule")
"""Checks about the rules themselves: each rule, or pair of rules, is searched for over the classes."""
CHECKS = CLASS_CHECKS + RULE_CHECKS
"""Every check an invariant may name."""

KEYS = frozenset({"id", "words", "check", "outcomes", "as", "kind", "when", "edition_status", "sources", "reason"})
"""Keys an invariant entry may hold."""


@attrs.frozen
class Invariant:
    """One declared property of the policy (see the checks atop rules/invariants.yaml)."""

    id: str
    words: str
    check: str
    outcomes: tuple[str, ...] = ()
    as_: tuple[str, ...] = ()
    kind: str = ""
    when: C.Cond | None = None
    edition_status: str = ""
    sources: tuple[Citation, ...] = ()
    reason: str = ""

    def concerns(self, ruleset: RuleSet) -> bool:
        """True when the invariant says something about this edition."""
        return not self.edition_status or ruleset.edition.status == self.edition_status

    def codes(self, ruleset: RuleSet) -> tuple[str, ...]:
        """The outcome codes the invariant is about in this rule set (all codes of its `kind`, if given)."""
        if self.kind:
            return tuple(code for code, info in sorted(ruleset.outcomes.items()) if info.kind == self.kind)
        return self.outcomes + self.as_

    def facts(self, ruleset: RuleSet) -> set[str]:
        """The input facts that can change whether the invariant holds: those behind its codes and its `when`."""
        found = {t.fact for t in C.tests(self.when)} if self.when is not None else set()
        for code in self.codes(ruleset):
            found |= inputs_behind(ruleset, code)
        return found

    def broken(self, ev: Evaluation, values: Mapping[str, Any], codes: tuple[str, ...]) -> str | None:
        """How this class breaks the invariant, in words, or None when it holds here.

        `ev` is the class's three-valued evaluation, `values` its answers, `codes` what `codes()` gives
        for the edition (computed once by the caller).
        """
        truth = {code: ev.outcomes.get(code, False) for code in self.outcomes + self.as_}
        if self.check == "at_most_one":
            applying = [code for code in self.outcomes if truth[code] is True]
            return f"{' and '.join(applying)} all apply" if len(applying) > 1 else None
        if self.check == "same_as":
            left, right = _any(truth[c] for c in self.outcomes), _any(truth[c] for c in self.as_)
            if left is True and right is False:
                return f"{_applying(truth, self.outcomes)} applies, but none of {', '.join(self.as_)} can"
            if left is False and right is True:
                return f"{_applying(truth, self.as_)} applies, but none of {', '.join(self.outcomes)} can"
            return None
        held = C.evaluate(self.when, values) if self.when is not None else True
        if self.check == "never":
            if held is not True:
                return None
            bad = [f"{code} {'applies' if ev.outcomes[code] else 'is open'}" for code in codes
                   if ev.outcomes.get(code, False) is not False]
            return "; ".join(bad) or None
        if self.check == "implies":
            if held is False or any(truth[c] is not False for c in self.outcomes):
                return None
            return f"none of {', '.join(self.outcomes)} applies or is open"
        raise ValueError(f"{self.check} is not decided class by class")


def _any(truths: Any) -> Truth:
    """Kleene OR."""
    values = list(truths)
    if any(t is True for t in values):
        return True
    return UNKNOWN if any(t is UNKNOWN for t in values) else False


def _applying(truth: Mapping[str, Truth], codes: tuple[str, ...]) -> str:
    """The codes that apply, joined."""
    return " and ".join(code for code in codes if truth[code] is True)


def read_invariants(book: Book, path: Path | None = None) -> tuple[Invariant, ...]:
    """The invariants of a rules folder (none when it has no invariants file); RuleFileError on a defect."""
    where_file = path or book.directory / INVARIANTS_FILE
    if not where_file.exists():
        return ()
    try:
        data = yaml.safe_load(where_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RuleFileError(f"{where_file.name}: cannot read: {exc}") from None
    items = data.get("invariants") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RuleFileError(f"{where_file.name}: must be a mapping with an 'invariants' list")
    kinds = {info.kind for info in book.outcomes.values()}
    out: list[Invariant] = []
    for item in items:
        invariant = _parse(item, where_file.name, book, kinds)
        if any(inv.id == invariant.id for inv in out):
            raise RuleFileError(f"{where_file.name}: invariant {invariant.id}: duplicate id")
        out.append(invariant)
    return tuple(out)


def _parse(item: Any, source: str, book: Book, kinds: set[str]) -> Invariant:
    """One invariant entry, checked: known keys, check, codes, kind, input-fact conditions, sources or reason."""
    if not isinstance(item, dict):
        raise RuleFileError(f"{source}: an invariant must be a mapping")
    where = f"{source}: invariant {item.get('id', '?')}"
    unknown = set(item) - KEYS
    if unknown:
        raise RuleFileError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("id", "words", "check"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise RuleFileError(f"{where}: '{key}' must be text")
    check = item["check"]
    if check not in CHECKS:
        raise RuleFileError(f"{where}: check: {check!r} is not one of {', '.join(CHECKS)}")
    codes = {}
    for key in ("outcomes", "as"):
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise RuleFileError(f"{where}: '{key}' must be a list of outcome codes")
        for code in value:
            if code not in book.outcomes:
                raise RuleFileError(f"{where}: {key}: unknown outcome {code}")
        codes[key] = tuple(value)
    kind = str(item.get("kind", ""))
    if kind and kind not in kinds:
        raise RuleFileError(f"{where}: kind: {kind!r} is not a kind of outcome")
    when = None
    if "when" in item:
        try:
            when = C.parse(item["when"])
        except C.ConditionError as exc:
            raise RuleFileError(f"{where}: when: {exc}") from None
        for test in C.tests(when):
            if test.fact not in INPUT_FACTS:
                raise RuleFileError(f"{where}: when: {test.fact} is not an input fact (say it in answers, "
                                    "so the invariant does not lean on the rules it checks)")
    needs = {"at_most_one": ("outcomes",), "same_as": ("outcomes", "as"), "implies": ("outcomes", "when")}
    for key in needs.get(check, ()):
        if key not in item or not item[key]:
            raise RuleFileError(f"{where}: check {check} needs '{key}'")
    if check == "never" and not (kind or codes["outcomes"]):
        raise RuleFileError(f"{where}: check never needs 'kind' or 'outcomes'")
    status = str(item.get("edition_status", ""))
    if status and status not in {e.status for e in book.calendar.editions}:
        raise RuleFileError(f"{where}: edition_status: no edition has status {status!r}")
    sources = parse_citations(item.get("sources"), where, book.sources)
    reason = " ".join(str(item.get("reason", "")).split())
    if not sources and not reason:
        raise RuleFileError(f"{where}: give 'sources' or a 'reason'")
    for cite in sources:
        if not cite.title:
            raise RuleFileError(f"{where}: source {cite.source} is not in sources.yaml")
    return Invariant(id=item["id"], words=" ".join(item["words"].split()), check=check, outcomes=codes["outcomes"],
                     as_=codes["as"], kind=kind, when=when, edition_status=status, sources=sources, reason=reason)

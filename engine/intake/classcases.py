"""Turn classes of answers into real cases: completed, written as case files and validated.

A check over classes (engine.policy.classes) fixes the facts it is about and leaves the rest free.
`Realizer.case` gives the free facts their defaults, writes the whole case out as case-file data
and builds it through `validate.build_case`, so every case checked is one `pathways evaluate`
would accept. When validation refuses it (a kinship carer of no children, a Universal Credit
group on another benefit), the refusal's key says where to look: the free facts of that block of
the case file, and the top-level ones, are tried with their other classes, a change at a time,
until the case is valid or nothing helps. A class whose answers no valid case can have is None.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import yaml

from engine.errors import InputError
from engine.intake.loader import RawCase
from engine.intake.validate import build_case
from engine.model.case import Case, input_values
from engine.model.facts import INPUT_FACTS, is_unknown
from engine.policy.classes import Space, ValueClass, same_value
from engine.policy.editions import Calendar

MAX_REPAIRS = 6
"""Refusals a case may be repaired from before its class is given up as impossible."""

_TOP = ""
"""The group of top-level facts (benefit, as_of, housing, ...): constraints across blocks go through them."""


@functools.lru_cache(maxsize=256)
def group(name: str) -> str:
    """The case-file block a fact or an error key belongs to (`_TOP` for top-level keys).

    A flag fact (`missed_discussion`) is the presence of its block, so it belongs to that block.
    """
    spec = INPUT_FACTS.get(name)
    if spec is not None and spec.kind == "flag":
        return name
    return name.split(".", 1)[0] if "." in name else _TOP


def case_data(values: Mapping[str, Any], ref: str) -> dict[str, Any]:
    """Case-file data (schema 1) for a full set of answers by fact name, `as_of` included."""
    answers = {name: value for name, value in values.items() if name != "as_of"}
    return Case(case=ref, as_of=values["as_of"], answers=answers).to_file_data()


def validated(values: Mapping[str, Any], ref: str, calendar: Calendar | None = None) -> Case:
    """The case for a full set of answers, through the same validation as a case file (InputError if refused)."""
    return build_case(RawCase(case_data(values, ref), f"<{ref}>", None, lambda _path: None), calendar)


class Realizer:
    """Makes valid cases for classes of one edition's space (one instance per space; it remembers its work).

    Validation's cross-field rules each stay within one block of the case file and the top-level
    keys, so a combination is tried whole only when each of its blocks, with the top-level classes,
    has a valid case on its own: combinations doomed by one block cost a lookup.
    """

    def __init__(self, space: Space, calendar: Calendar, ref: str = "CLASS", known_only: bool = False) -> None:
        self.space = space
        self.calendar = calendar
        self.ref = ref
        self.known_only = known_only
        """Repair with known answers only (never turn an answer into `unknown` to make a case valid)."""
        self.fillers = {name: _filler(space, name) for name in INPUT_FACTS}
        self._hopeless: set[tuple[Any, ...]] = set()
        self._made: dict[tuple[Any, ...], Case | None] = {}

    def case(self, chosen: Mapping[str, ValueClass]) -> Case | None:
        """A valid case whose answers fall in the chosen classes (free facts completed), or None."""
        key = tuple(sorted(chosen.items()))
        if key not in self._made:
            self._made[key] = self._compose(chosen)
        return self._made[key]

    def _compose(self, chosen: Mapping[str, ValueClass]) -> Case | None:
        """Check the parts first (the top level alone, each block alone, then each block with the top
        level), and validate the whole starting from the parts' own valid answers."""
        groups = sorted({group(name) for name in chosen})
        if len(groups) < 2:
            return self._realize(chosen, self._start(chosen))
        if any(self.case({n: vc for n, vc in chosen.items() if group(n) == g}) is None for g in groups):
            return None
        blocks = [g for g in groups if g != _TOP]
        if len(blocks) < 2:
            return self._realize(chosen, self._start(chosen))
        parts = [(g, self.case({n: vc for n, vc in chosen.items() if group(n) in (g, _TOP)})) for g in blocks]
        found = [(g, part) for g, part in parts if part is not None]
        if len(found) < len(parts):
            return None
        return self._realize(chosen, self._joined(chosen, found))

    def _start(self, chosen: Mapping[str, ValueClass]) -> dict[str, Any]:
        """Fillers for the free facts, representatives for the chosen ones."""
        return {**self.fillers, **{name: vc.value for name, vc in chosen.items()}}

    def _joined(self, chosen: Mapping[str, ValueClass], parts: list[tuple[str, Case]]) -> dict[str, Any]:
        """The blocks' own valid answers put together; top-level answers where the blocks agree on them."""
        values = self._start(chosen)
        tops = [input_values(part) for _block, part in parts]
        for (block, _part), got in zip(parts, tops, strict=True):
            values.update({name: got[name] for name in INPUT_FACTS if group(name) == block})
        for name in INPUT_FACTS:
            if group(name) == _TOP and all(same_value(got[name], tops[0][name]) for got in tops):
                values[name] = tops[0][name]
        return values

    def realize(self, chosen: Mapping[str, ValueClass], values: Mapping[str, Any]) -> Case | None:
        """The case for these answers, validated; where refused, repaired by changing only facts not in `chosen`."""
        return self._realize(chosen, dict(values))

    def _realize(self, chosen: Mapping[str, ValueClass], values: dict[str, Any]) -> Case | None:
        """Validate and, where validation refuses, repair (see the module docstring)."""
        tried: set[tuple[str, str]] = set()
        for _ in range(MAX_REPAIRS):
            outcome = self._attempt(values, chosen)
            if isinstance(outcome, Case):
                return outcome
            where = group(outcome.key)
            memo = (outcome.key, outcome.problem,
                    *((values[n], n in chosen) for n in INPUT_FACTS if group(n) in (where, _TOP)))
            if memo in self._hopeless or (outcome.key, outcome.problem) in tried:
                return None
            tried.add((outcome.key, outcome.problem))
            repaired = self._repair(values, chosen, outcome, where)
            if repaired is None:
                self._hopeless.add(memo)
                return None
            values = repaired
        return None

    def _attempt(self, values: dict[str, Any], chosen: Mapping[str, ValueClass]) -> Case | InputError:
        """The validated case, or why not (a case that validation normalised out of its classes is refused)."""
        try:
            case = validated(values, self.ref, self.calendar)
        except InputError as exc:
            return exc
        got = input_values(case)
        for name, value_class in chosen.items():
            if self.space.class_of(name, got[name]) != value_class:
                return InputError("validation changed the answer", key=name)
        return case

    def _repair(self, values: dict[str, Any], chosen: Mapping[str, ValueClass], error: InputError,
                where: str) -> dict[str, Any] | None:
        """One change after which the refusal is gone: another member of the refused fact's class, or
        another class of a free fact of the refused block, then of the top level. A change that makes
        the case valid is taken first; else the first that leads to a different refusal; else None."""
        options: list[tuple[str, Any]] = []
        if error.key in chosen:
            options += [(error.key, member) for member in chosen[error.key].members if member != values[error.key]]
        for wanted in (where, _TOP) if where != _TOP else (_TOP,):
            for name in INPUT_FACTS:
                if name not in chosen and group(name) == wanted:
                    options += [(name, vc.value) for vc in self.space.domains[name] if vc.value != values[name]
                                and not (self.known_only and is_unknown(vc.value))]
        onward = None
        for name, value in options:
            trial = {**values, name: value}
            outcome = self._attempt(trial, chosen)
            if isinstance(outcome, Case):
                return trial
            if onward is None and (outcome.key, outcome.problem) != (error.key, error.problem):
                onward = trial
        return onward


def _filler(space: Space, name: str) -> Any:
    """The value a free fact takes: its default, else (age, benefit, date) a class that suits most cases."""
    spec = INPUT_FACTS[name]
    domain = space.domains[name]
    if spec.kind == "date":
        return domain[-1].value  # the latest class of the edition: every benefit of the edition exists then
    if spec.default is not None or spec.optional:
        return spec.default
    known = [vc.value for vc in domain if not is_unknown(vc.value)]
    return known[-1] if spec.kind == "int" else known[0]  # the claimant's age: an adult


def case_file_text(case: Case, comment: str = "") -> str:
    """A case as the text of a YAML case file (`pathways evaluate` reads it), a comment line on top."""
    head = "".join(f"# {line}\n" for line in comment.splitlines() if line.strip())
    return head + yaml.safe_dump(case.to_file_data(), sort_keys=False, allow_unicode=True, width=100)

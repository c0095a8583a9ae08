"""What a change of rule set does to a caseload (`pathways impact`), streamed in flat memory.

Each case's answers are decided under both editions' rule sets with `Engine.decide(case, ruleset)`,
its own date kept (date checks aside: a 2017 case is decided by the 2008 rules as they are written,
so a rule tested on dates applies as its dates say). Only running totals are kept, and the first
`KEPT` changed cases for a report: memory does not grow with the caseload.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

from engine.errors import InputError
from engine.intake.loader import CASE_SUFFIXES
from engine.intake.scenarios import iter_cases
from engine.model.case import Case
from engine.policy.driver import Engine
from engine.policy.rulebook import RuleSet

KEPT = 200
"""Changed cases kept in memory for a report (every one is streamed to JSON output)."""


@attrs.frozen
class CaseChange:
    """One case whose outcomes differ: the codes it gains and loses under the new rule set."""

    case: str
    gained: tuple[str, ...]
    lost: tuple[str, ...]

    def to_data(self) -> dict[str, object]:
        """The CONTRACT.md change object."""
        return {"case": self.case, "gained": list(self.gained), "lost": list(self.lost)}


@attrs.define
class Tally:
    """Running totals of an impact run."""

    old: str
    new: str
    requirement_codes: frozenset[str]
    cases: int = 0
    changed: int = 0
    refused: int = 0
    gained: collections.Counter[str] = attrs.field(factory=collections.Counter)
    lost: collections.Counter[str] = attrs.field(factory=collections.Counter)
    requirements_gained: int = 0
    requirements_lost: int = 0
    kept: list[CaseChange] = attrs.field(factory=list)

    def add(self, change: CaseChange | None) -> None:
        """Count one decided case (None: decided the same under both rule sets)."""
        self.cases += 1
        if change is None:
            return
        self.changed += 1
        self.gained.update(change.gained)
        self.lost.update(change.lost)
        self.requirements_gained += bool(self.requirement_codes & set(change.gained))
        self.requirements_lost += bool(self.requirement_codes & set(change.lost))
        if len(self.kept) < KEPT:
            self.kept.append(change)

    def outcomes(self) -> dict[str, dict[str, int]]:
        """Per outcome code that any case gains or loses: how many cases gain it and how many lose it."""
        codes = sorted(set(self.gained) | set(self.lost))
        return {code: {"gained": self.gained[code], "lost": self.lost[code]} for code in codes}

    def summary(self) -> dict[str, object]:
        """The totals as the CONTRACT.md impact object has them (without `changes`), plus requirements."""
        return {"from": self.old, "to": self.new, "cases": self.cases, "changed": self.changed,
                "outcomes": self.outcomes(), "refused": self.refused,
                "requirements": {"gained": self.requirements_gained, "lost": self.requirements_lost}}


def compare(engine: Engine, case: Case, old: RuleSet, new: RuleSet) -> CaseChange | None:
    """The outcomes a case gains and loses going from one rule set to the other (None: none)."""
    before = set(engine.decide(case, old).codes)
    after = set(engine.decide(case, new).codes)
    if before == after:
        return None
    return CaseChange(case.case, tuple(sorted(after - before)), tuple(sorted(before - after)))


def count_cases(path: Path) -> int:
    """How many cases the input holds, counted without reading them (for the progress bar)."""
    if path.is_dir():
        return sum(count_cases(p) for p in sorted(path.iterdir())
                   if p.is_file() and p.suffix.lower() in CASE_SUFFIXES)
    if path.suffix.lower() != ".jsonl":
        return 1
    try:
        with path.open("rb") as handle:
            return sum(1 for raw in handle if raw.strip())
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", str(path)) from None


def run(engine: Engine, path: Path, old: RuleSet, new: RuleSet,
        tally: Tally) -> Iterator[CaseChange | InputError | None]:
    """Decide every case under `path` both ways, counting into `tally`: yield, case by case, its change
    (None when it has none) or the refusal of a case that is not valid."""
    return run_items(engine, iter_cases(path), old, new, tally)


def run_items(engine: Engine, items: Iterable[Case | InputError], old: RuleSet, new: RuleSet,
              tally: Tally) -> Iterator[CaseChange | InputError | None]:
    """`run` over cases from anywhere (a case book's recorded answers, say)."""
    for item in items:
        if isinstance(item, InputError):
            tally.refused += 1
            yield item
            continue
        change = compare(engine, item, old, new)
        tally.add(change)
        yield change

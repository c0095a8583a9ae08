"""Example cases for `rules diff`: someone an outcome now reaches, or no longer reaches.

The search runs over the classes both editions' rules tell apart (engine.policy.classes), known
answers only, for the facts behind the outcome in either edition; each combination becomes a valid
case (engine.intake.classcases) and is decided by the three-valued evaluator under both rule sets,
with its own date (as `impact` decides a caseload). The first case decided differently is the example.
"""

from __future__ import annotations

import itertools

from engine.intake.classcases import Realizer
from engine.model.case import Case, input_values
from engine.model.facts import INPUT_FACTS, is_unknown
from engine.policy.classes import Space, book_space, rules_behind
from engine.policy.editions import Calendar
from engine.policy.explain import evaluate, inputs_behind
from engine.policy.rulebook import RuleSet


class DiffSearch:
    """Finds example cases decided differently by two rule sets (the classes are worked out once)."""

    def __init__(self, old: RuleSet, new: RuleSet, calendar: Calendar) -> None:
        self.old = old
        self.new = new
        self.space: Space = book_space([old, new], calendar)
        self.realizer = Realizer(self.space, calendar, known_only=True)

    def facts(self, code: str) -> tuple[str, ...]:
        """The answers behind an outcome in either edition, in registry order."""
        found = inputs_behind(self.old, code) | inputs_behind(self.new, code)
        return tuple(name for name in INPUT_FACTS if name in found)

    def example(self, code: str, gained: bool) -> Case | None:
        """A case the outcome applies to under the new rules and not the old (`gained`), or the reverse."""
        names = self.facts(code)
        old_part, new_part = rules_behind(self.old, [code]), rules_behind(self.new, [code])
        domains = [[vc for vc in self.space.domains[name] if not is_unknown(vc.value)] for name in names]
        for picked in itertools.product(*domains):
            case = self.realizer.case(dict(zip(names, picked, strict=True)))
            if case is None:
                continue
            values = input_values(case)
            before = evaluate(old_part, values).outcomes.get(code, False)
            after = evaluate(new_part, values).outcomes.get(code, False)
            if (after is True and before is False) if gained else (before is True and after is False):
                return case
        return None

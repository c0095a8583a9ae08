"""The three-valued evaluator works each fact out once, in order, and reaches the same fixed point as passes."""

from __future__ import annotations

import random

from engine.intake.generate import generate_cases
from engine.intake.loader import RawCase
from engine.intake.validate import build_case
from engine.model.case import input_values
from engine.policy import conditions as C
from engine.policy.explain import _plan, evaluate, evaluate_by_passes
from engine.policy.rulebook import Rule, RuleSet, load_book

BOOK = load_book()


def test_one_ordered_pass_equals_the_passes_on_generated_cases_with_unanswered_facts() -> None:
    rng = random.Random(11)
    for data in generate_cases(1500, seed=21):
        case = build_case(RawCase(data, "generated", None, lambda _p: None))
        ruleset = BOOK.ruleset(BOOK.calendar.edition_for(case.as_of).id)
        values = {name: (C.UNANSWERED if name != "as_of" and rng.random() < 0.15 else value)
                  for name, value in input_values(case).items()}
        ordered, passes = evaluate(ruleset, values), evaluate_by_passes(ruleset, values)
        assert ordered == passes
        assert list(ordered.rules) == list(passes.rules)


def test_the_shipped_rules_have_an_order_and_a_cycle_falls_back_to_passes() -> None:
    assert all(_plan(rs) is not None for rs in BOOK.all_rulesets())
    ruleset = BOOK.ruleset("2017-recovery")
    loop = (Rule("a", "A", C.parse([{"outcome": "PARENT_PRIORITY"}]), "c", concludes="SIGNPOST_MUTUAL_AID"),
            Rule("b", "B", C.parse([{"outcome": "SIGNPOST_MUTUAL_AID"}]), "c", concludes="PARENT_PRIORITY"))
    cyclic = RuleSet(ruleset.edition, loop, ruleset.outcomes, ruleset.priority_levels, ruleset.priority_default)
    assert _plan(cyclic) is None
    result = evaluate(cyclic, {"as_of": ruleset.edition.start})
    assert result == evaluate_by_passes(cyclic, {"as_of": ruleset.edition.start})
    assert result.outcomes["SIGNPOST_MUTUAL_AID"] is None and result.outcomes["PARENT_PRIORITY"] is None

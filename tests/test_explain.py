"""Explanations: why an outcome did not apply, and which questions still matter."""

from __future__ import annotations

import datetime as dt

from engine.policy.explain import evaluate, relevant_questions, why_not
from engine.policy.rulebook import load_book

BOOK = load_book()
R2008 = BOOK.ruleset("2008-announced")
R2017 = BOOK.ruleset("2017-recovery")


def test_why_not_names_the_first_failing_condition() -> None:
    values = {"as_of": dt.date(2008, 6, 2), "benefit": "jsa", "drugs.substances": ("heroin",),
              "drugs.known_by": "self_disclosure", "drugs.in_treatment": True, "drugs.on_drr": False}
    reasons = why_not(R2008, values, "JSD_TREATMENT_DISCUSSION")
    assert [(r.rule, r.fact, r.seen) for r in reasons] == [
        ("jsd-treatment-discussion", "requirement_route", False)]
    assert reasons[0].failed == "requirement_route is true"


def test_unanswered_questions_that_cannot_change_anything_are_skipped() -> None:
    start = relevant_questions(R2017, {"as_of": dt.date(2018, 1, 1)})
    assert "benefit" in start and "drugs.substances" in start
    no_drugs = {"as_of": dt.date(2018, 1, 1), "benefit": "jsa", "drugs.substances": (), "drugs.known_by": None}
    left = relevant_questions(R2017, no_drugs)
    for irrelevant in ("drugs.in_treatment", "drugs.on_drr", "drugs.failed_treatment_episodes",
                       "consent.treatment_provider", "mental_health", "missed_discussion"):
        assert irrelevant not in left
    for still in ("children.at_risk", "children.kinship_carer", "housing", "prison_release_weeks"):
        assert still in left


def test_settled_outcomes_while_others_are_open() -> None:
    values = {"as_of": dt.date(2018, 1, 1), "benefit": "esa_support"}
    ev = evaluate(R2017, values)
    assert ev.outcomes["NO_WORK_CONDITIONALITY"] is True
    assert ev.outcomes["TAILOR_AGREEMENT"] is False
    assert ev.outcomes["PARENT_PRIORITY"] is None
    assert ev.priority is None

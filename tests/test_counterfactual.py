"""`pathways explain`: every change set flips its outcome when the changed case is decided by
durable_rules, none of them can be made smaller, and no smaller set exists (brute force on a sample)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from cases import CASES_DIR
from engine.errors import InputError
from engine.intake.classcases import validated
from engine.intake.counterfactual import ChangeSet, Explainer
from engine.intake.scenarios import iter_cases
from engine.model.case import Case, input_values
from engine.model.decision import Decision
from engine.model.facts import INPUT_FACTS, is_unknown
from engine.policy.driver import default_engine
from engine.policy.rulebook import load_book
from tests.helpers import CASES, run_main

BOOK = load_book()
EXPLAINER = Explainer(BOOK)
SCENARIOS = [c for c in iter_cases(CASES_DIR) if isinstance(c, Case)]


def changed(case: Case, changes: dict[str, Any]) -> Case | None:
    """The case with some answers changed, through case-file validation (None when it is refused)."""
    try:
        return validated({**input_values(case), **changes}, "CHANGED")
    except InputError:
        return None


def status(decision: Decision, code: str) -> bool | None:
    """Whether the decision applies an outcome, leaves it open (None) or not."""
    if code in decision.codes:
        return True
    return None if code in {o.code for o in decision.open} else False


def flips(case: Case, code: str, now: bool | None, changes: dict[str, Any]) -> bool | None:
    """What the outcome becomes when the changed case is decided (None: refused or not flipped)."""
    other = changed(case, changes)
    if other is None:
        return None
    then = status(default_engine().decide(other), code)
    wanted = (then is not None) if now is None else (then is (not now))
    return then if wanted else None


def as_dict(change_set: ChangeSet) -> dict[str, Any]:
    return {c.fact: c.to for c in change_set.changes}


def test_every_change_set_flips_its_outcome_when_decided() -> None:
    engine = default_engine()
    checked = 0
    for case in SCENARIOS:
        decision = engine.decide(case)
        for item in EXPLAINER.explain(case):
            assert item.applies is status(decision, item.code), (case.case, item.code)
            for change_set in item.sets:
                then = flips(case, item.code, item.applies, as_dict(change_set))
                assert then is not None and then is change_set.then, (case.case, item.code, change_set)
                checked += 1
            unchangeable = [s.unchangeable for s in item.sets]
            assert unchangeable == sorted(unchangeable), (case.case, item.code)  # age and date changes last
            sizes = [len(s.changes) for s in item.sets if not s.unchangeable]
            assert sizes == sorted(sizes)
    assert checked > 3000


def test_no_change_set_can_be_made_smaller() -> None:
    for case in SCENARIOS[::6]:
        for item in EXPLAINER.explain(case):
            for change_set in item.sets:
                pairs = list(as_dict(change_set).items())
                for size in range(1, len(pairs)):
                    for fewer in itertools.combinations(pairs, size):
                        assert flips(case, item.code, item.applies, dict(fewer)) is None, (case.case, item.code, fewer)


def _brute_force_smallest(case: Case, code: str, now: bool | None, below: int) -> dict[str, Any] | None:
    """Any valid change of fewer than `below` answers, to any class of any fact, that flips the outcome."""
    values = input_values(case)
    options = {name: [vc.value for vc in EXPLAINER.space.domains[name]
                      if not is_unknown(vc.value) and EXPLAINER.space.class_of(name, values[name]) != vc]
               for name in INPUT_FACTS}
    for size in range(1, below):
        for names in itertools.combinations(INPUT_FACTS, size):
            for picked in itertools.product(*(options[n] for n in names)):
                changes = dict(zip(names, picked, strict=True))
                if flips(case, code, now, changes) is not None:
                    return changes
    return None


SAMPLE = [("TRN-0001", "REFER_EMPLOYMENT_SUPPORT"), ("TRN-0005", "WFI_TREATMENT_DISCUSSION"),
          ("TRN-0012", "SIGNPOST_LOCAL_DRUG_SERVICES"), ("TRN-0018", "SIGNPOST_COMPLEX_NEEDS"),
          ("TRN-0003", "SIGNPOST_KINSHIP_CARER_SUPPORT"), ("TRN-0009", "REFER_TREATMENT_PROVIDER")]
"""(case, outcome) pairs whose smallest change needs two answers or more (three for the last two)."""


@pytest.mark.parametrize(("ref", "code"), SAMPLE)
def test_no_smaller_change_exists_by_brute_force(ref: str, code: str) -> None:
    case = next(c for c in SCENARIOS if c.case == ref)
    (item,) = EXPLAINER.explain(case, [code])
    changeable = [s for s in item.sets if not s.unchangeable]
    assert changeable, (ref, code)
    smallest = min(len(s.changes) for s in item.sets)
    assert smallest >= 2, (ref, code, item.sets[0])
    assert _brute_force_smallest(case, code, item.applies, smallest) is None


def test_json_is_one_contract_object_per_code(capsys) -> None:
    result = run_main(capsys, "explain", str(CASES / "049-jsa-heroin-rough-sleeping-housing-consent-refused.yaml"),
                      "--json")
    assert result.code == 0, result.err
    objects = [json.loads(line) for line in result.out.splitlines()]
    assert [o["code"] for o in objects] == sorted(BOOK.outcomes)
    housing = next(o for o in objects if o["code"] == "REFER_HOUSING_ADVICE")
    assert housing["applies"] is False
    assert housing["changes"][0] == [{"fact": "consent.housing_advice", "to": True}]
    for obj in objects:
        assert set(obj) <= {"code", "kind", "applies", "changes", "then"}
        assert all(set(change) == {"fact", "to"} for changes in obj["changes"] for change in changes)


def test_readable_output_says_it_in_plain_words(capsys) -> None:
    result = run_main(capsys, "explain", str(CASES / "049-jsa-heroin-rough-sleeping-housing-consent-refused.yaml"),
                      "--code", "REFER_HOUSING_ADVICE")
    assert result.code == 0
    assert "REFER_HOUSING_ADVICE (referral): Refer for housing advice and advocacy. It does not apply." in result.out
    assert "It would apply if:\n    - the claimant agrees to a referral to housing advice" in result.out


def test_open_outcomes_are_settled_either_way(capsys) -> None:
    opened = [(c, o.code) for c in SCENARIOS for o in default_engine().decide(c).open]
    assert opened, "the scenario library has cases with open outcomes"
    case, code = opened[0]
    (item,) = EXPLAINER.explain(case, [code])
    assert item.applies is None and {s.then for s in item.sets} == {True, False}


def test_an_unknown_code_is_a_usage_error(capsys) -> None:
    result = run_main(capsys, "explain", str(CASES / "001-jsa-heroin-toddlers-nfa.yaml"), "--code", "NO_SUCH_CODE")
    assert result.code == 2 and "no outcome NO_SUCH_CODE" in result.err

"""The engine's laws, checked on generated cases (hypothesis)."""

from __future__ import annotations

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.model.case import Case, input_values
from engine.policy.driver import Engine, decide, default_engine
from engine.policy.explain import evaluate
from tests.strategies import cases

FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(cases(unknowns=True))
def test_python_evaluator_and_durable_rules_agree(case: Case) -> None:
    """durable_rules concludes exactly what the three-valued evaluator says is certain; the rest is open."""
    engine = default_engine()
    decision = engine.decide(case)
    reference = evaluate(engine.ruleset_for(case), input_values(case))
    assert list(decision.codes) == reference.applies()
    assert [o.code for o in decision.open] == reference.undecided()
    assert decision.priority == engine.ruleset_for(case).priority_for(set(reference.applies()))
    for name, value in decision.derived.items():
        assert reference.derived[name] is value, name


@FAST
@given(cases())
def test_same_case_same_bytes(case: Case) -> None:
    first = decide(case).to_json()
    assert decide(case).to_json() == first
    fresh = Engine()
    try:
        assert fresh.decide(case).to_json() == first
    finally:
        fresh.close()


@FAST
@given(cases(), st.text(max_size=40), st.text(max_size=200))
def test_facts_no_rule_reads_change_nothing(case: Case, title: str, narrative: str) -> None:
    decision = decide(case).to_data()
    other = attrs.evolve(case, title=title, narrative=narrative, nino=None)
    assert decide(other).to_data() == decision


@FAST
@given(cases())
def test_every_outcome_cites_a_rule_that_fired(case: Case) -> None:
    decision = decide(case)
    ruleset = default_engine().ruleset_for(case)
    fired = {f.rule for f in decision.trace}
    codes = [o.code for o in decision.outcomes]
    assert codes == sorted(set(codes))
    for outcome in decision.outcomes:
        rule = ruleset.rule(outcome.rule)
        assert rule.concludes == outcome.code
        assert outcome.rule in fired
        assert outcome.citation and outcome.sources and (outcome.text or outcome.adviser_note)
        assert outcome.kind == ruleset.outcomes[outcome.code].kind
        assert outcome.because


@FAST
@given(cases())
def test_policy_ground_truths(case: Case) -> None:
    """Never a requirement on suspicion alone; never a requirement after the 2008 edition."""
    decision = decide(case)
    kinds = {o.kind for o in decision.outcomes}
    substances = case["drugs.substances"]
    if case["drugs.known_by"] == "adviser_suspicion" or (
            isinstance(substances, tuple) and not {"heroin", "crack"} & set(substances)):
        assert "requirement" not in kinds
    if decision.edition != "2008-announced":
        assert "requirement" not in kinds
        assert "REFER_DECISION_MAKER" not in decision.codes
    expected = "urgent" if "SAFEGUARDING_CONSIDERATION" in decision.codes else (
        "priority" if "PARENT_PRIORITY" in decision.codes else "routine")
    assert decision.priority == expected

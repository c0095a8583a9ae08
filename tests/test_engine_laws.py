"""The engine's laws, checked on generated cases (hypothesis)."""

from __future__ import annotations

import json

import attrs
import durable_rules_engine as dre
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import EngineError
from engine.model.case import Case, input_values
from engine.policy.driver import Engine, decide, default_engine
from engine.policy.explain import evaluate
from engine.policy.rulebook import Citation, RuleSet
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


_V1 = {rs.digest: RuleSet.from_snapshot(json.loads(attrs.evolve(rs, format=1).canonical))
       for rs in default_engine().book.all_rulesets()}
"""Each edition's rule set as a snapshot made before v2 (format 1) reads back: what old books replay under."""


def _summary(decision: object) -> tuple[object, ...]:
    return tuple(getattr(decision, name) for name in ("case", "as_of", "edition", "ruleset", "priority", "codes"))


@FAST
@given(st.one_of(cases(), cases(unknowns=True)), st.booleans())
def test_the_json_replay_compares_is_the_decisions_json(case: Case, before_v2: bool) -> None:
    """Replay compares the JSON written straight from durable_rules' session (#14): byte for byte the built
    decision's JSON and summary, under current snapshots and format-1 ones."""
    engine = default_engine()
    ruleset = engine.ruleset_for(case)
    ruleset = _V1[ruleset.digest] if before_v2 else ruleset
    written = engine.decide_text(case, ruleset)
    decision = engine.decide(case, ruleset)
    assert written.text == decision.to_json()
    assert _summary(written) == _summary(decision)


def test_a_rule_set_showing_a_number_is_written_by_the_decision() -> None:
    """A rule set that shows something other than text (a float, which the fast encoder writes differently:
    1e-05) is not written straight from the session; its JSON is still the decision's, in the standard form."""
    engine = default_engine()
    case = next(c for c in _cases_of_every_edition() if engine.decide(c).outcomes)
    ruleset = engine.ruleset_for(case)
    code = engine.decide(case).outcomes[0].rule
    odd = attrs.evolve(ruleset, rules=tuple(
        attrs.evolve(r, sources=(Citation("P1", "A title", 1e-05),)) if r.id == code else r  # type: ignore[arg-type]
        for r in ruleset.rules))
    written = engine.decide_text(case, odd)
    assert written.text == engine.decide(case, odd).to_json()
    assert '"locator":1e-05' in written.text


def _cases_of_every_edition() -> list[Case]:
    from engine.intake.generate import generate_cases
    from engine.intake.loader import RawCase
    from engine.intake.validate import build_case

    return [build_case(RawCase(d, "generated", None, lambda _p: None)) for d in generate_cases(50, 3)]


_FRESH = Engine(keep_sessions=False)
"""An engine that makes a durable_rules session for each case and deletes it after (the kept session's reference)."""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(cases(), cases(unknowns=True)), min_size=1, max_size=8))
def test_a_kept_session_decides_each_case_as_a_session_of_its_own_would(caseload: list[Case]) -> None:
    """The engine keeps one durable_rules session per rule set and empties it after each case (#14): whatever
    was decided before, a case's decision is byte for byte a fresh session's, and between cases the kept
    session holds no fact."""
    engine = default_engine()
    for case in caseload:
        assert engine.decide(case).to_json() == _FRESH.decide(case).to_json()
        for handle, sid in engine._kept.items():
            assert dre.get_facts(handle, sid) == "[]"


def test_an_action_that_fails_leaves_nothing_for_the_next_case(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule's action failing mid-case deletes the kept session; the next case is decided as if alone."""
    engine = Engine()
    first, second = [c for c in _cases_of_every_edition() if _FRESH.decide(c).outcomes][:2]
    engine.decide(first)
    handle = engine._handle(engine.ruleset_for(second))[1]

    def fails(*_args: object) -> None:
        raise RuntimeError("an action failed")

    with monkeypatch.context() as patch:
        patch.setattr(Engine, "_act", fails)
        with pytest.raises(EngineError, match="an action failed"):
            engine.decide(second)
    assert handle not in engine._kept
    assert engine.decide(second).to_json() == _FRESH.decide(second).to_json()
    assert engine.decide(first).to_json() == _FRESH.decide(first).to_json()
    engine.close()

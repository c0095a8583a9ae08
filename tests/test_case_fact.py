"""The case fact as the driver writes it (#14): the same attributes and values as `encode_case_fact`,
less only those no compiled rule tests."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.model.case import Case, input_values
from engine.model.facts import encode_case_fact
from engine.policy.compiler import compile_ruleset
from engine.policy.driver import Engine
from tests.strategies import cases

ENGINE = Engine()
COMPILED = {rs.digest: compile_ruleset(rs) for rs in ENGINE.book.all_rulesets()}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(cases(), cases(unknowns=True)))
def test_the_written_case_fact_is_the_encoded_one_less_what_no_rule_tests(case: Case) -> None:
    values = input_values(case)
    for compiled in COMPILED.values():
        written = json.loads(compiled.encode_case(values) + "}")
        full = encode_case_fact(values, compiled.input_names)
        definition = json.dumps(compiled.definition)
        assert written == {k: v for k, v in full.items() if k in written}
        assert all(f'"{k}"' not in definition for k in full.keys() - written.keys())


def test_a_list_item_no_rule_tests_is_left_out_of_the_case_fact() -> None:
    compiled = next(iter(COMPILED.values()))
    written = compiled.encode_case(input_values(next(iter(_one_case()))))
    assert '"drugs__substances__heroin"' in written and '"drugs__substances__cannabis"' not in written


def _one_case() -> list[Case]:
    from engine.intake.generate import generate_cases
    from engine.intake.loader import RawCase
    from engine.intake.validate import build_case

    return [build_case(RawCase(d, "generated", None, lambda _p: None)) for d in generate_cases(1, 3)]

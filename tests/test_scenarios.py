"""The bundled scenario library: every expectation holds, and together they cover the policy."""

from __future__ import annotations

import json

import pytest

from cases import CASES_DIR
from engine.errors import InputError
from engine.intake.scenarios import check_expectations, iter_cases
from engine.model.case import Case
from engine.policy.driver import decide
from engine.policy.rulebook import load_book
from tests.helpers import run_main

SCENARIOS = [c for c in iter_cases(CASES_DIR)]


def test_every_scenario_file_is_valid() -> None:
    refused = [str(c) for c in SCENARIOS if isinstance(c, InputError)]
    assert refused == []
    assert len(SCENARIOS) >= 25


@pytest.mark.parametrize("case", [c for c in SCENARIOS if isinstance(c, Case)], ids=lambda c: c.case)
def test_scenario_expectation(case: Case) -> None:
    check = check_expectations(case, decide(case))
    assert check.checked, "every bundled scenario states what it expects"
    assert check.passed, (check.missing, check.unexpected, check.decision.priority)


def test_scenarios_for_trainers_have_title_narrative_and_synthetic_nino() -> None:
    for case in SCENARIOS:
        assert case.title and case.narrative, case.case
        assert case.nino is None or case.nino.startswith("QQ"), case.case


def test_library_covers_every_outcome_and_edition() -> None:
    book = load_book()
    decisions = [decide(c) for c in SCENARIOS]
    assert {d.edition for d in decisions} == {e.id for e in book.calendar.editions}
    assert set().union(*(d.codes for d in decisions)) == set(book.outcomes)
    assert {d.priority for d in decisions} == {"urgent", "priority", "routine"}


def test_cases_test_command_reports_and_fails(tmp_path, capsys) -> None:
    result = run_main(capsys, "cases", "test")
    assert result.code == 0
    assert result.out.strip().splitlines()[-1] == f"{len(SCENARIOS)} passed, 0 failed"
    wrong = (CASES_DIR / "001-jsa-heroin-toddlers-nfa.yaml").read_text().replace("priority: urgent", "priority: routine")
    (tmp_path / "wrong.yaml").write_text(wrong)
    result = run_main(capsys, "cases", "test", str(tmp_path), "--json")
    assert result.code == 1
    assert json.loads(result.out)["priority_ok"] is False


def test_rules_coverage_command(capsys) -> None:
    result = run_main(capsys, "rules", "coverage", "--json")
    report = json.loads(result.out)
    assert result.code == 0
    assert report["outcomes_never_produced"] == []
    assert set(report["editions"]) == {"2008-announced", "2009-voluntary", "2017-recovery"}


def test_every_condition_of_every_rule_fails_alone_in_some_scenario(capsys) -> None:
    """Condition coverage (#10): the library shows that every condition of every rule matters."""
    from tests.helpers import run_main

    result = run_main(capsys, "rules", "coverage", "--conditions", "--strict")
    assert result.code == 0, result.out
    assert "(100.0%) fail alone" in result.out

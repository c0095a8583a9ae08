"""One explanation: the interview's live panel shows exactly what `evaluate --json` records (#9)."""

from __future__ import annotations

import json

from engine.intake.generate import generate_cases
from engine.intake.interview import APPLIES, DOES_NOT_APPLY, UNDECIDED, Interview
from engine.intake.loader import RawCase
from engine.intake.validate import build_case
from engine.policy.driver import default_engine
from tests.helpers import CASES, run_main

GENERATED = 2000


def _panel(case) -> dict[str, tuple]:
    """What the UI's interview shows for every outcome of a case reopened from its answers."""
    iv = Interview.from_case(case)
    rows = {row.code: row.state for row in iv.outcome_rows()}
    shown = {}
    for code, state in rows.items():
        if state == DOES_NOT_APPLY:
            shown[code] = (state,)
            continue
        ex = iv.explain(code)
        assert ex.state == state, code
        shown[code] = (state, ex.rule, ex.text, ex.adviser_note, ex.because) if state == APPLIES else (
            state, ex.rule, ex.waiting_on)
    return shown


def _recorded(data: dict) -> dict[str, tuple]:
    """The same, read from the decision JSON."""
    out: dict[str, tuple] = {code: (DOES_NOT_APPLY,) for code in default_engine().book.outcomes}
    for o in data["outcomes"]:
        out[o["code"]] = (APPLIES, o["rule"], o["text"], o["adviser_note"], o["because"])
    for o in data["open"]:
        out[o["code"]] = (UNDECIDED, o["rule"], tuple(o["needs"]))
    return out


def test_the_panel_and_the_recorded_decision_agree_on_generated_cases() -> None:
    engine = default_engine()
    for number, data in enumerate(generate_cases(GENERATED, seed=2024)):
        case = build_case(RawCase(data, f"generated {number}", None, lambda _path: None))
        recorded = json.loads(engine.decide(case).to_json())
        assert _panel(case) == _recorded(recorded), case.case


def test_evaluate_json_is_what_the_panel_shows_for_every_scenario(capsys) -> None:
    for path in sorted(CASES.glob("*.yaml")):
        result = run_main(capsys, "evaluate", str(path), "--json")
        assert result.code == 0, result.err
        from engine.intake.loader import read_case_file
        assert _panel(build_case(read_case_file(path))) == _recorded(json.loads(result.out)), path.name


def test_the_decision_maker_referral_shows_the_good_cause_given_in_the_panel() -> None:
    from engine.intake.loader import read_case_file
    for ref in ("013", "014", "037"):
        (path,) = CASES.glob(f"{ref}-*.yaml")
        case = build_case(read_case_file(path))
        because = Interview.from_case(case).explain("REFER_DECISION_MAKER").because
        assert "missed_discussion.good_cause" in because, path.name

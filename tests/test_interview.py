"""The interview: asks only what can still change the outcome, goes back, and ends in the engine's decision."""

from __future__ import annotations

import datetime as dt

import pytest

from cases import CASES_DIR
from engine.errors import InputError
from engine.intake.interview import APPLIES, DOES_NOT_APPLY, UNDECIDED, Interview
from engine.intake.scenarios import iter_cases
from engine.model.case import input_values
from engine.model.facts import DECLINED, NOT_KNOWN
from engine.policy.driver import decide

SCENARIOS = list(iter_cases(CASES_DIR))
DAY = dt.date(2008, 6, 2)


def step_through(case) -> tuple[Interview, list[str]]:
    """Answer each question the interview asks with the scenario's own value."""
    iv = Interview(case.case, case.as_of, nino=case.nino)
    values = input_values(case)
    asked = []
    while (q := iv.next_question()) is not None:
        asked.append(q.fact)
        iv.answer(q.fact, values[q.fact])
    return iv, asked


def test_first_question_is_the_benefit_in_questions_order() -> None:
    iv = Interview("NEW-1", DAY)
    assert iv.next_question().fact == "benefit"
    assert iv.next_question().text.startswith("Which benefit")


def test_benefits_that_did_not_exist_yet_are_not_offered() -> None:
    choices = [c for c, _ in Interview("NEW-1", DAY).question("benefit").choices]
    assert "jsa" in choices and "uc" not in choices and "esa_wrag" not in choices


def test_no_drugs_skips_every_drug_question_and_ends_early() -> None:
    iv = Interview("NEW-1", DAY)
    for fact, value in [("benefit", "jsa"), ("claimant.age", 40), ("drugs.substances", ())]:
        assert iv.next_question().fact == fact
        iv.answer(fact, value)
    assert "drugs.known_by" not in iv.pending()  # implied: no drugs, nobody knows of any
    assert "drugs.in_treatment" not in iv.pending()  # cannot change anything without drug use
    assert "children.youngest_age" not in iv.pending()


def test_relevance_skipping_asks_fewer_questions_but_decides_the_same() -> None:
    total_questions = len(Interview("X", DAY).questions)
    fewer = 0
    for case in SCENARIOS:
        iv, asked = step_through(case)
        assert iv.is_complete()
        got, want = iv.decision(), decide(case)
        assert (got.codes, got.priority) == (want.codes, want.priority), case.case
        fewer += len(asked) < total_questions
    assert fewer == len(SCENARIOS), "every scenario skips at least one question"


def test_answered_fully_the_interview_decides_byte_for_byte_like_the_case_file() -> None:
    for case in SCENARIOS:
        iv = Interview.from_case(case)
        if NOT_KNOWN not in case.answers.values():
            assert iv.is_complete(), case.case
        else:  # a question never answered is shown unanswered, and asked again only if it matters
            assert all(case[fact] is NOT_KNOWN for fact in iv.pending()), case.case
        assert iv.decision().to_json() == decide(case).to_json(), case.case


def test_going_back_asks_the_previous_question_again_and_forgets_its_answer() -> None:
    iv = Interview("NEW-1", DAY)
    iv.answer("benefit", "jsa")
    iv.answer("claimant.age", 30)
    iv.answer("drugs.substances", ("heroin",))
    assert iv.next_question().fact == "drugs.known_by"
    assert iv.back() == "drugs.substances"
    assert iv.next_question().fact == "drugs.substances"
    assert "drugs.substances" not in iv.answers
    iv.answer("drugs.substances", ())
    assert iv.next_question().fact != "drugs.known_by"
    assert iv.back() == "drugs.substances"
    assert iv.back() == "claimant.age"
    assert iv.back() == "benefit"
    assert iv.back() is None


def test_changing_an_earlier_answer_reopens_it_and_updates_the_decision() -> None:
    case = next(c for c in SCENARIOS if c.case == "TRN-0001")
    iv, _ = step_through(case)
    assert "PARENT_PRIORITY" in iv.evaluation().applies()
    assert iv.reopen("children.dependants").fact == "children.dependants"
    assert iv.next_question().fact == "children.dependants"
    iv.answer("children.dependants", 0)
    assert "PARENT_PRIORITY" not in iv.evaluation().applies()
    while (q := iv.next_question()) is not None:
        iv.answer(q.fact, input_values(case)[q.fact])
    assert iv.to_case()["children.youngest_age"] is None


def test_live_panel_states_and_explanations() -> None:
    iv = Interview("NEW-1", DAY)
    rows = iv.outcome_rows()
    assert UNDECIDED in {r.state for r in rows} and APPLIES not in {r.state for r in rows}
    iv.answer("benefit", "jsa")
    iv.answer("claimant.age", 30)
    iv.answer("drugs.substances", ("heroin",))
    iv.answer("drugs.known_by", "self_disclosure")
    iv.answer("drugs.in_treatment", False)
    iv.answer("drugs.on_drr", False)
    why = iv.explain("JSD_TREATMENT_DISCUSSION")
    assert why.state == APPLIES and why.citation and why.because["benefit"] == "jsa"
    assert why.because["requirement_route"] is True
    nope = iv.explain("WFI_TREATMENT_DISCUSSION")
    assert nope.state == DOES_NOT_APPLY and nope.why_not and "benefit" in nope.why_not[0].failed
    waiting = iv.explain("REFER_TREATMENT_PROVIDER")
    assert waiting.state == UNDECIDED and "consent.treatment_provider" in waiting.waiting_on
    first = iv.outcome_rows()[0]
    assert first.state == APPLIES and first.kind == "requirement"


def test_answers_are_checked() -> None:
    iv = Interview("NEW-1", DAY)
    with pytest.raises(InputError):
        iv.answer("benefit", "esa_wrag")  # not on 2008-06-02
    with pytest.raises(InputError):
        iv.answer("claimant.age", 12)
    with pytest.raises(InputError):
        iv.answer("drugs.substances", ("heroin", "heroin"))
    with pytest.raises(InputError):
        iv.answer("mental_health", "yes")
    q = iv.question("prison_release_weeks")
    assert q.parse_text("") is None and q.parse_text(" 4 ") == 4
    with pytest.raises(InputError):
        q.parse_text("٣")  # a non-ASCII digit
    with pytest.raises(InputError):
        iv.question("claimant.age").parse_text("")


def test_to_case_goes_through_validation() -> None:
    iv = Interview("NEW-1", DAY, nino="QQ123456C")
    iv.answer("benefit", "jsa")
    with pytest.raises(InputError) as err:
        iv.to_case()  # age is required
    assert "age" in str(err.value)
    iv.answer("claimant.age", 30)
    iv.answer("drugs.substances", ())
    case = iv.to_case()
    assert case.nino == "QQ123456C" and case["drugs.known_by"] is None
    bad = Interview("bad ref", DAY)
    bad.answer("benefit", "jsa")
    bad.answer("claimant.age", 30)
    with pytest.raises(InputError):
        bad.to_case()


def test_a_skipped_question_is_recorded_unknown_and_reopens_unanswered() -> None:
    """What was not asked is unknown, never "no" (POLICY.md v2)."""
    iv = Interview("NEW-2", DAY)
    iv.answer("benefit", "jsa")
    iv.answer("claimant.age", 30)
    iv.answer("drugs.substances", ())
    while (q := iv.next_question()) is not None:
        iv.answer(q.fact, input_values(build_case_for_defaults())[q.fact])
    case = iv.to_case()
    skipped = [fact for fact in ("consent.housing_advice", "children.pregnant", "children.at_risk")
               if fact not in iv.answers]
    assert skipped, "some questions were skipped as irrelevant"
    for fact in skipped:
        assert case[fact] is NOT_KNOWN, fact
    inputs = case.inputs()
    assert inputs["consent"]["housing_advice"] == "unknown" or "consent.housing_advice" in iv.answers
    again = Interview.from_case(case)
    for fact in skipped:
        assert fact not in again.answers
        assert fact not in dict((q.fact, v) for q, v in again.answered())
    assert iv.decision().to_json() == again.decision().to_json()


def test_dont_know_and_declined_are_offered_on_optional_questions() -> None:
    iv = Interview("NEW-3", DAY)
    pregnant = iv.question("children.pregnant")
    labels = [label for _value, label in pregnant.choices]
    assert "Don't know" in labels and "Declined to say" in labels
    assert "Don't know" not in [label for _v, label in iv.question("benefit").choices]
    iv.answer("benefit", "jsa")
    iv.answer("claimant.age", 30)
    iv.answer("children.pregnant", DECLINED)
    assert iv.to_case()["children.pregnant"] is DECLINED
    assert iv.label("children.pregnant", DECLINED) == "Declined to say"
    assert iv.question("prison_release_weeks").parse_text("?") is NOT_KNOWN


def build_case_for_defaults():
    """A case whose answers are every fact's default (to answer what the interview asks)."""
    from engine.intake.loader import RawCase
    from engine.intake.validate import build_case
    return build_case(RawCase({"schema": 1, "case": "D-1", "as_of": DAY.isoformat(), "claimant": {"age": 30},
                               "benefit": "jsa"}, "<defaults>", None, lambda _p: None))


def test_going_back_keeps_the_undone_answer_to_preselect() -> None:
    """Esc then Enter must not turn "No" into the first choice, "Yes" (#12)."""
    iv = Interview("NEW-4", dt.date(2010, 6, 1))
    iv.answer("benefit", "jsa")
    iv.answer("claimant.age", 30)
    iv.answer("children.at_risk", False)
    assert iv.back() == "children.at_risk"
    assert "children.at_risk" not in iv.answers
    assert iv.current("children.at_risk") is False
    assert iv.current("children.pregnant") is None

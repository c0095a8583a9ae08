"""The decision panel shows, for a finished interview, what would change the highlighted outcome."""

from __future__ import annotations

from engine.intake.interview import Interview
from engine.intake.loader import read_case_file
from engine.intake.validate import build_case
from tests.helpers import CASES
from tui.widgets.decision import changes_text


def test_the_panel_words_the_smallest_changes_like_explain() -> None:
    case = build_case(read_case_file(CASES / "049-jsa-heroin-rough-sleeping-housing-consent-refused.yaml"))
    interview = Interview.from_case(case)
    assert interview.is_complete()
    text = changes_text(interview, "REFER_HOUSING_ADVICE").plain
    assert text.startswith("It would apply if:\n  - the claimant agrees to a referral to housing advice")
    shown = changes_text(interview, "JSD_TREATMENT_DISCUSSION").plain.splitlines()
    assert shown[0] == "It would not apply if:" and len(shown) == 4  # the first three change sets only


"""Advise mode end to end: a new case stepped through, reviewed, recorded, and a referral logged in the case book."""

from __future__ import annotations

import attrs

from cases import CASES_DIR
from engine.casebook.book import CaseBook
from engine.intake.loader import read_case_file
from engine.intake.validate import build_case
from engine.policy.driver import decide
from tests.tui_helpers import answer_current, app_for, new_case, settle, step_through, type_text
from tui.dialogs.referral import ReferralDialog
from tui.screens.advise import AdviseScreen
from tui.screens.interview import InterviewScreen
from tui.screens.review import ReviewScreen
from tui.widgets.question import QuestionPanel

SCENARIO = build_case(read_case_file(CASES_DIR / "039-jsa-heroin-toddler-temporary-housing.yaml"))
"""A 2009 case: a live book records only decisions under an edition in force."""


async def test_new_case_is_stepped_through_recorded_and_referred(tmp_path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await new_case(pilot, "TST-0001", "2010-01-11", "AB123456C")
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        asked = await step_through(pilot, SCENARIO)
        assert screen.interview.is_complete()
        assert len(asked) < len(screen.interview.questions), "questions that cannot matter are skipped"
        await pilot.press("ctrl+r")
        await pilot.pause()
        review = app.screen
        assert isinstance(review, ReviewScreen) and not review.requirements
        for _outcome in review.outcomes:  # each list: Enter opens it, Down to Accept, Enter, Tab to the next
            await pilot.press("enter", "down", "enter", "tab")
        assert review.missing() is None
        await pilot.press("enter")  # Record
        await settle(pilot)
        assert app.screen is screen and screen.decision_id is not None
        assert screen.choices is not None and all(c.accepted for c in screen.choices)

        await pilot.press("ctrl+l")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ReferralDialog)
        await pilot.press("enter", "down", "down", "enter")  # open the list, pick the second referral
        await pilot.pause()
        await pilot.press("tab")
        await type_text(pilot, "Leeds Drug Service")
        await pilot.press("tab")
        await type_text(pilot, "2008-06-10")
        await pilot.press("tab")
        await type_text(pilot, "Key worker: Sam")
        await pilot.press("tab", "tab", "enter")  # past the consent box to Save: refused
        await pilot.pause()
        assert app.screen is dialog, "no referral without the consent check"
        assert "consent" in str(dialog.query_one("#error").content)
        await pilot.press("shift+tab", "space", "tab", "enter")  # tick consent, then Save
        await settle(pilot)
        assert app.screen is screen and len(screen.referral_ids) == 1

    with CaseBook(tmp_path / "live.db", create=False) as book:
        rows = book.decisions()
        assert [r.ref for r in rows] == ["TST-0001"] and rows[0].adviser == "A1"
        want = decide(attrs.evolve(SCENARIO, case="TST-0001", nino="AB123456C"))
        assert rows[0].outcomes == want.codes and rows[0].priority == want.priority
        (ref,) = book.referrals(rows[0].id)
        assert ref.provider == "Leeds Drug Service" and ref.status == "booked" and ref.appointment == "2008-06-10"
        assert ref.code in ("REFER_HOUSING_ADVICE", "REFER_TREATMENT_PROVIDER")
        assert ref.history[0].notes == "Key worker: Sam"
        assert book.verify()[1] == []


async def test_questions_that_cannot_matter_are_skipped(tmp_path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await new_case(pilot, "TST-0002", "2008-06-02", "QQ123456C")  # a QQ number: a new training book
        screen = app.screen
        assert await answer_current(pilot, "jsa") == "benefit"
        assert await answer_current(pilot, 40) == "claimant.age"
        assert await answer_current(pilot, ()) == "drugs.substances"
        panel = screen.query_one(QuestionPanel)
        assert panel.question is not None
        skipped = {"drugs.known_by", "drugs.in_treatment", "drugs.on_drr", "drugs.failed_treatment_episodes"}
        assert panel.question.fact not in skipped
        asked = ["benefit", "claimant.age", "drugs.substances"]
        while (question := screen.interview.next_question()) is not None:
            if question.kind == "bool":
                value = False
            elif question.choices:
                value = question.choices[0][0]
            else:
                value = 0
            asked.append(await answer_current(pilot, value))
        assert not skipped & set(asked)


async def test_going_back_and_changing_an_answer(tmp_path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await new_case(pilot, "TST-0003", "2008-06-02", "QQ123456C")
        screen = app.screen
        panel = screen.query_one(QuestionPanel)
        await answer_current(pilot, "jsa")
        await answer_current(pilot, 30)
        await answer_current(pilot, ("heroin",))
        assert panel.question.fact == "drugs.known_by"
        await pilot.press("escape")  # back: the drugs question again
        await pilot.pause()
        assert panel.question.fact == "drugs.substances"
        assert "drugs.substances" not in screen.interview.answers
        await answer_current(pilot, ("heroin",))
        await answer_current(pilot, "self_disclosure")
        # change the benefit from the answers list: tab to it, pick the first answer
        screen.query_one("#answers").focus()
        await pilot.press("home", "enter")
        await pilot.pause()
        assert panel.question.fact == "benefit"
        await answer_current(pilot, "ib")
        assert screen.interview.answers["benefit"] == "ib"
        ev = screen.interview.evaluation()
        assert "JSD_TREATMENT_DISCUSSION" not in ev.applies() and "JSD_TREATMENT_DISCUSSION" not in ev.undecided()


async def test_case_list_filters_and_opening_a_recorded_case(tmp_path) -> None:
    from tests.conftest import record_scenarios

    with CaseBook(tmp_path / "live.db", training=True) as book:
        ids = record_scenarios(book, limit=4)
        book.add_referral(ids[0], "REFER_HOUSING_ADVICE", "Housing Options", "T1")
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AdviseScreen) and len(screen.shown) == 4
        await pilot.press("o")
        await settle(pilot)  # each page loads in a worker
        assert [r.ref for r in screen.shown] == ["TRN-0001"]
        await pilot.press("o", "p")
        await settle(pilot)
        assert {r.priority for r in screen.shown} == {"urgent"}
        await pilot.press("p", "p", "p")
        await settle(pilot)
        assert screen.priority is None and len(screen.shown) == 4
        await pilot.press("slash")
        await type_text(pilot, "0003")
        await settle(pilot)
        assert [r.ref for r in screen.shown] == ["TRN-0003"]
        await pilot.press("t")  # typed into the search box: no mode change
        await settle(pilot)
        assert app.current_mode == "advise" and screen.shown == []
        await pilot.press("backspace", "enter")  # back to the list
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        opened = app.screen
        assert isinstance(opened, InterviewScreen) and opened.interview.ref == "TRN-0003"
        assert opened.decision_id is not None and opened.interview.is_complete()
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("t")
        await settle(pilot)
        assert app.current_mode == "train"


async def test_escape_then_enter_keeps_a_no(tmp_path) -> None:
    """Back keeps the previous answer highlighted: Esc, Enter must not turn "No" into "Yes" (#12)."""
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await new_case(pilot, "TST-0009", "2010-06-02")
        screen = app.screen
        panel = screen.query_one(QuestionPanel)
        values = {"benefit": "jsa", "claimant.age": 30, "drugs.substances": ("heroin",),
                  "drugs.known_by": "self_disclosure"}
        defaults = {"enum": None, "int": 0, "list": (), "flag": False}
        while panel.question is not None and panel.question.kind != "bool":
            q = panel.question
            default = defaults[q.kind] if q.kind != "enum" else q.choices[0][0]
            await answer_current(pilot, values.get(q.fact, default))
        assert panel.question is not None
        fact = panel.question.fact
        await answer_current(pilot, False)
        assert screen.interview.answers[fact] is False
        await pilot.press("escape")
        await pilot.pause()
        assert panel.question.fact == fact
        await pilot.press("enter")
        await pilot.pause()
        assert screen.interview.answers[fact] is False

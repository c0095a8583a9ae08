"""The review step (#11): the adviser accepts or declines each recommended outcome, confirms a
requirement's reasonableness, records; then logs only accepted referrals, writes the claimant's copy,
and finds the decisions and reasons in `show --json` and in audit mode."""

from __future__ import annotations

import html as markup
import stat
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, Input, Select, Static

from cases import CASES_DIR
from engine.casebook.book import CaseBook
from engine.cli.decisions import show_data
from engine.intake.loader import read_case_file
from engine.intake.validate import build_case
from engine.model.adviser import REASON_WORDS, REASONS, adviser_decisions
from engine.policy.driver import default_engine
from tests.tui_helpers import app_for, new_case, refused_by_live_book_form, settle, step_through, type_text
from tui.data import LETTERS_FOLDER
from tui.dialogs.letter import LetterDialog
from tui.dialogs.referral import ReferralDialog
from tui.screens.interview import InterviewScreen
from tui.screens.replay import ReplayScreen
from tui.screens.review import ACCEPT, ReviewScreen

TODDLERS = build_case(read_case_file(CASES_DIR / "001-jsa-heroin-toddlers-nfa.yaml"))
"""2008 (announced): a requirement, two referrals and two priorities; a training book records it."""
CONSENT_UNKNOWN = build_case(read_case_file(CASES_DIR / "086-uc-heroin-sofa-surfing-housing-consent-unknown.yaml"))
"""2019: housing consent unknown, so the housing referral and signpost are open."""

CHOICES = [ACCEPT, *REASONS]
"""The choices in each outcome's list, after the blank prompt."""


def training_book(tmp_path) -> Any:
    """An empty training book: it accepts only QQ numbers, and the announced 2008 policy."""
    db = tmp_path / "training.db"
    CaseBook(db, training=True).close()
    return db


async def review_case(pilot: Pilot[Any], case: Any) -> ReviewScreen:
    """Start the case in advise mode, answer every question from the keyboard, and open the review."""
    await settle(pilot)
    await new_case(pilot, case.case, case.as_of.isoformat(), case.nino or "")
    await step_through(pilot, case)
    interview = pilot.app.screen
    assert isinstance(interview, InterviewScreen) and interview.interview.is_complete()
    assert not interview.reviewed and "letter" not in palette_actions(pilot, interview)
    await pilot.press("ctrl+r")
    await pilot.pause()
    review = pilot.app.screen
    assert isinstance(review, ReviewScreen)
    return review


def palette_actions(pilot: Pilot[Any], screen: Any) -> set[str]:
    """The screen actions the command palette offers now (from the live bindings)."""
    titles = {c.title for c in pilot.app.get_system_commands(screen)}
    return {"letter"} if "Claimant's copy" in titles else set()


async def choose(pilot: Pilot[Any], review: ReviewScreen, code: str, value: str, *, focus: bool = False) -> None:
    """With the outcome's list focused (or focused first), open it and pick `value` with arrows and Enter."""
    select = review.query_one(f"#choice-{code}", Select)
    if focus:
        select.focus()
        await pilot.pause()
    assert pilot.app.focused is select, f"{code} is not focused ({pilot.app.focused})"
    now = review.choice(code)
    at = 0 if now is None else 1 + CHOICES.index(now)
    to = 1 + CHOICES.index(value)
    moves = ["down"] * (to - at) if to >= at else ["up"] * (at - to)
    await pilot.press("enter", *moves, "enter")
    await pilot.pause()
    assert review.choice(code) == value


def plain(widget: Any) -> str:
    """The text a Static holds (always a rich Text here, never markup)."""
    assert isinstance(widget, Static)
    content = widget.content
    return content.plain if hasattr(content, "plain") else str(content)


def record_button(review: ReviewScreen) -> Button:
    """The Record button."""
    return review.query_one("#record", Button)


async def test_review_declines_with_reasons_confirms_the_requirement_and_records(tmp_path) -> None:
    db = training_book(tmp_path)
    app = app_for(tmp_path, db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        review = await review_case(pilot, TODDLERS)
        order = [o.code for o in review.outcomes]
        assert order == ["JSD_TREATMENT_DISCUSSION", "REFER_HOUSING_ADVICE", "REFER_TREATMENT_PROVIDER",
                         "PARENT_PRIORITY", "SAFEGUARDING_CONSIDERATION"], "reading order: requirement first"
        assert all(review.choice(code) is None for code in order), "nothing is chosen for the adviser"
        assert record_button(review).disabled

        # Keyboard only: Enter opens a list, arrows move, Enter picks; Tab moves on; Space ticks.
        await choose(pilot, review, "JSD_TREATMENT_DISCUSSION", ACCEPT)
        assert review.query_one("#checklist").display, "an accepted requirement shows the checklist"
        await pilot.press("tab")
        assert app.focused is review.query_one("#reasonable", Checkbox)
        await pilot.press("space")
        assert review.reasonable
        await pilot.press("tab")
        await choose(pilot, review, "REFER_HOUSING_ADVICE", "claimant_declined")
        await pilot.press("tab")
        assert app.focused is review.query_one("#note-REFER_HOUSING_ADVICE", Input)
        await type_text(pilot, "Wants to call them herself")
        await pilot.press("tab")
        await choose(pilot, review, "REFER_TREATMENT_PROVIDER", ACCEPT)
        assert not review.query_one("#note-REFER_TREATMENT_PROVIDER", Input).display, "no note for an accepted one"
        await pilot.press("tab")
        await choose(pilot, review, "PARENT_PRIORITY", "other")
        assert record_button(review).disabled, "`other` needs a note"
        await pilot.press("tab")
        await type_text(pilot, "Provider already fast-tracks her")
        await pilot.press("tab")
        await choose(pilot, review, "SAFEGUARDING_CONSIDERATION", ACCEPT)
        assert review.missing() is None and not record_button(review).disabled
        await pilot.press("tab")
        assert app.focused is record_button(review)
        await pilot.press("enter")
        await settle(pilot)

        interview = app.screen
        assert isinstance(interview, InterviewScreen) and interview.reviewed
        decision_id = interview.decision_id
        assert decision_id is not None
        declined = {c.code: (c.reason, c.note) for c in interview.choices or () if not c.accepted}
        assert declined == {"REFER_HOUSING_ADVICE": ("claimant_declined", "Wants to call them herself"),
                            "PARENT_PRIORITY": ("other", "Provider already fast-tracks her")}

        # Referrals: only the accepted one is offered.
        assert interview.accepted_referrals()[0][0] == "REFER_TREATMENT_PROVIDER"
        await pilot.press("ctrl+l")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ReferralDialog)
        assert [code for code, _title in dialog.choices] == ["REFER_TREATMENT_PROVIDER"]
        await pilot.press("escape")
        await pilot.pause()

        # The claimant's copy: offered now (key and palette), written 0600 beside the book, shown as text.
        assert "letter" in palette_actions(pilot, interview)
        await pilot.press("ctrl+g")
        await settle(pilot)
        shown = app.screen
        assert isinstance(shown, LetterDialog)
        (path,) = interview.letters
        assert path.parent == db.parent / LETTERS_FOLDER and path.suffix == ".html"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        html = path.read_text(encoding="utf-8")
        decision = {o.code: o for o in interview.recorded.outcomes}
        assert "training copy" in html and "training copy" in shown.text.lower()
        assert markup.escape(decision["REFER_TREATMENT_PROVIDER"].text) in html
        assert markup.escape(decision["REFER_HOUSING_ADVICE"].text) not in html, "a declined outcome is not in it"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+g")  # a second copy never overwrites the first
        await settle(pilot)
        assert len(interview.letters) == 2 and len(set(interview.letters)) == 2 and path.read_text() == html

    with CaseBook(db, create=False) as book:
        data = show_data(book, decision_id)
        assert book.verify()[1] == []
    got = {c["code"]: c for c in data["adviser_decisions"]}
    assert got["JSD_TREATMENT_DISCUSSION"] == {"code": "JSD_TREATMENT_DISCUSSION", "accepted": True,
                                               "reason": None, "note": "", "reasonable": True}
    assert got["REFER_HOUSING_ADVICE"]["reason"] == "claimant_declined" and not got["REFER_HOUSING_ADVICE"]["accepted"]
    assert got["PARENT_PRIORITY"]["reason"] == "other"
    assert got["PARENT_PRIORITY"]["note"] == "Provider already fast-tracks her"
    assert {o["code"] for o in data["recommendation"]["outcomes"]} == set(got)


async def test_record_waits_until_the_requirement_is_confirmed_or_declined(tmp_path) -> None:
    db = training_book(tmp_path)
    app = app_for(tmp_path, db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        review = await review_case(pilot, TODDLERS)
        await choose(pilot, review, "JSD_TREATMENT_DISCUSSION", ACCEPT)
        for code in [o.code for o in review.outcomes][1:]:
            await choose(pilot, review, code, ACCEPT, focus=True)
        assert record_button(review).disabled and "reasonable" in (review.missing() or "")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.screen is review and "reasonable" in review.error, "Record refuses, in one line"
        assert "\n" not in review.error

        # Declining the requirement instead is allowed (the checklist goes with it).
        await choose(pilot, review, "JSD_TREATMENT_DISCUSSION", "not_reasonable", focus=True)
        assert not review.query_one("#checklist").display and review.missing() is None
        assert not record_button(review).disabled

        # A note with a control character is refused with one line; nothing is written.
        review.query_one("#note-JSD_TREATMENT_DISCUSSION", Input).value = "caring\x1b[2J for her mother"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.screen is review and "control characters" in review.error
        review.query_one("#note-JSD_TREATMENT_DISCUSSION", Input).value = "Caring for her mother all day"
        await pilot.pause()
        with CaseBook(db, create=False) as book:
            assert book.decisions() == []

        # Escape goes back to the interview without recording; Ctrl+R opens a fresh review.
        await pilot.press("escape")
        await pilot.pause()
        interview = app.screen
        assert isinstance(interview, InterviewScreen) and interview.decision_id is None
        await pilot.press("ctrl+r")
        await pilot.pause()
        review = app.screen
        assert isinstance(review, ReviewScreen)
        await choose(pilot, review, "JSD_TREATMENT_DISCUSSION", "not_reasonable")
        for code in [o.code for o in review.outcomes][1:]:
            await choose(pilot, review, code, ACCEPT, focus=True)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.screen is interview and interview.decision_id is not None
        (jsd,) = [c for c in interview.choices or () if c.code == "JSD_TREATMENT_DISCUSSION"]
        assert not jsd.accepted and jsd.reason == "not_reasonable" and not jsd.reasonable


async def test_open_outcomes_are_listed_apart_and_cannot_be_accepted(tmp_path) -> None:
    db = training_book(tmp_path)
    app = app_for(tmp_path, db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        review = await review_case(pilot, CONSENT_UNKNOWN)
        opened = [o.code for o in review.decision.open]
        assert opened == ["REFER_HOUSING_ADVICE", "SIGNPOST_HOUSING_ADVICE"]
        assert not review.query(".review-item").filter("#item-REFER_HOUSING_ADVICE")
        assert not any(f"-{code}" in (w.id or "") for code in opened for w in review.query("Select, Input"))
        text = plain(review.query_one("#review-open"))
        assert "open: cannot be decided until" in text and "is answered" in text
        # Tab visits every control on the screen: none of them belongs to an open outcome.
        seen = set()
        for _ in range(30):
            await pilot.press("tab")
            seen.add(app.focused.id if app.focused else None)
        assert not any(code in (ident or "") for code in opened for ident in seen)
        for outcome in review.outcomes:
            await choose(pilot, review, outcome.code, ACCEPT, focus=True)
        await pilot.press("ctrl+r")
        await settle(pilot)
        interview = app.screen
        assert isinstance(interview, InterviewScreen) and interview.choices is not None
        assert {c.code for c in interview.choices} == set(interview.recorded.codes)
        assert not {c.code for c in interview.choices} & set(opened)


async def test_a_live_book_refuses_the_announced_edition_in_one_line(tmp_path) -> None:
    """The refusal comes in the new-case form, before any question is asked (#12), not after the review."""
    error = await refused_by_live_book_form(tmp_path, TODDLERS.case, TODDLERS.as_of.isoformat(), "AB123456C")
    assert error.startswith("Date: ") and "announced" in error and "\n" not in error
    with CaseBook(tmp_path / "live.db", create=False) as book:
        assert book.decisions() == []


async def test_audit_shows_the_adviser_s_decisions_beside_the_replay(tmp_path) -> None:
    db = tmp_path / "audit.db"
    engine = default_engine()
    ruleset = engine.ruleset_for(TODDLERS)
    decision = engine.decide(TODDLERS, ruleset)
    choices = adviser_decisions(decision, [("REFER_HOUSING_ADVICE", "not_available_locally", "No service in town"),
                                           ("PARENT_PRIORITY", "facts_disputed", "")], reasonable=True)
    with CaseBook(db, training=True) as book:
        book.record(TODDLERS, decision, ruleset, "A1", choices)
        book.record(TODDLERS, decision, ruleset, "A1")  # recorded without a review
    app = app_for(tmp_path, "audit", audit_db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")  # the older decision: reviewed
        await settle(pilot)
        replay = app.screen
        assert isinstance(replay, ReplayScreen) and replay.decision_id == 1
        assert replay.view is not None and replay.view.choices == choices
        shown = plain(replay.query_one("#choices"))
        assert f"declined: {REASON_WORDS['not_available_locally']}" in shown and "No service in town" in shown
        assert f"declined: {REASON_WORDS['facts_disputed']}" in shown
        assert "accepted, confirmed reasonable" in shown
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("up", "enter")
        await settle(pilot)
        replay = app.screen
        assert isinstance(replay, ReplayScreen) and replay.decision_id == 2
        assert replay.view.choices is None and "none recorded" in plain(replay.query_one("#choices"))

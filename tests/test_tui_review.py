"""The review step (#11): the adviser accepts or declines each recommended outcome, confirms a
requirement's reasonableness, records; then logs only accepted referrals, writes the claimant's copy,
and finds the decisions and reasons in `show --json` and in audit mode."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from cases import CASES_DIR
from engine.casebook.book import CaseBook
from engine.intake.loader import read_case_file
from engine.intake.validate import build_case
from engine.model.adviser import REASON_WORDS, adviser_decisions
from engine.policy.driver import default_engine
from tests.tui_helpers import app_for, settle
from tui.screens.replay import ReplayScreen

TODDLERS = build_case(read_case_file(CASES_DIR / "001-jsa-heroin-toddlers-nfa.yaml"))
"""2008 (announced): a requirement, two referrals and two priorities; a training book records it."""


def plain(widget: Any) -> str:
    """The text a Static holds (always a rich Text here, never markup)."""
    assert isinstance(widget, Static)
    content = widget.content
    return content.plain if hasattr(content, "plain") else str(content)


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

"""Train mode: a scenario stepped through, predicted and revealed; only ever a training case book."""

from __future__ import annotations

from cases import CASES_DIR
from engine.casebook.book import CaseBook
from engine.intake.loader import read_case_file
from engine.intake.validate import build_case
from engine.policy.driver import decide
from tests.helpers import run_main
from tests.tui_helpers import app_for, settle
from tui.screens.scenario import ScenarioScreen
from tui.screens.train import TrainScreen

SCENARIO = build_case(read_case_file(CASES_DIR / "001-jsa-heroin-toddlers-nfa.yaml"))


async def test_scenario_is_stepped_predicted_revealed_and_recorded_in_training(tmp_path) -> None:
    training = tmp_path / "training.db"
    app = app_for(tmp_path, "train", db=training, training_db=training, audit_db=training)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        library = app.screen
        assert isinstance(library, TrainScreen) and library.book_ok
        assert len(library.cases) == len(list(CASES_DIR.glob("*.yaml")))
        assert library.highlighted_case().case == "TRN-0001"
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ScenarioScreen) and screen.case.case == "TRN-0001"
        await pilot.press("n", "n", "n")
        assert screen.steps == ["benefit", "claimant.age", "drugs.substances"]
        await pilot.press("b")
        assert screen.steps == ["benefit", "claimant.age"]
        for _ in range(30):
            await pilot.press("n")
        assert screen.interview.is_complete() and len(screen.steps) < len(screen.interview.questions)
        # predict: every true outcome but SAFEGUARDING_CONSIDERATION, plus one that does not apply
        codes = sorted(screen.interview.ruleset.outcomes)
        want = set(decide(SCENARIO).codes)
        chosen = (want - {"SAFEGUARDING_CONSIDERATION"}) | {"SIGNPOST_MUTUAL_AID"}
        await pilot.press("home")
        at = 0
        for code in sorted(chosen, key=codes.index):
            await pilot.press(*(["down"] * (codes.index(code) - at)), "space")
            at = codes.index(code)
        assert set(screen.predicted) == chosen
        await pilot.press("p", "p")  # urgent, then priority
        assert screen.predicted_priority == "priority"
        assert screen.result is None, "nothing is revealed before the trainee asks"
        await pilot.press("v")
        result = screen.result
        assert result is not None
        assert result.missed == ("SAFEGUARDING_CONSIDERATION",) and result.wrong == ("SIGNPOST_MUTUAL_AID",)
        assert set(result.right) == want - {"SAFEGUARDING_CONSIDERATION"}
        assert not result.priority_ok and result.priority == "urgent"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert screen.recorded_id is not None
        await pilot.press("escape")
        assert app.screen is library
    with CaseBook(training, create=False) as book:
        assert book.kind == "training" and [d.ref for d in book.decisions()] == ["TRN-0001"]


async def test_train_mode_never_uses_a_live_book(tmp_path) -> None:
    live = tmp_path / "live.db"
    CaseBook(live, training=False).close()
    app = app_for(tmp_path, "train", db=live, training_db=live)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        library = app.screen
        assert isinstance(library, TrainScreen) and not library.book_ok
        await pilot.press("enter")
        await pilot.pause()
        scenario = app.screen
        assert isinstance(scenario, ScenarioScreen) and scenario.training_db is None
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert scenario.recorded_id is None
    with CaseBook(live, create=False) as book:
        assert book.decisions() == []


def test_tui_refuses_a_live_book_for_train_mode(tmp_path, capsys) -> None:
    live = tmp_path / "live.db"
    CaseBook(live, training=False).close()
    result = run_main(capsys, "tui", "--mode", "train", "--db", str(live))
    assert result.code == 2
    assert "only a training case book" in result.err and len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err

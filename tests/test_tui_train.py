"""Train mode: a scenario stepped through, predicted by outcome titles, revealed after a confirmation with
the reasons, and the trainee's prediction and marks recorded per trainee in the training book only (#12)."""

from __future__ import annotations

from typing import TypeVar

from textual.widgets import SelectionList, Static

from cases import CASES_DIR
from engine.casebook.book import CaseBook
from engine.intake.loader import read_case_file
from engine.intake.validate import build_case
from engine.policy.driver import decide
from tests.helpers import run_main
from tests.tui_helpers import app_for, settle
from tui.dialogs.confirm import ConfirmDialog
from tui.screens.presenter import PresenterScreen
from tui.screens.scenario import REVEAL_QUESTION, ScenarioScreen
from tui.screens.train import TrainScreen

SCENARIO = build_case(read_case_file(CASES_DIR / "001-jsa-heroin-toddlers-nfa.yaml"))


def plain(widget: Static) -> str:
    """The text a Static holds."""
    content = widget.content
    return content.plain if hasattr(content, "plain") else str(content)


async def tick(pilot, screen: ScenarioScreen, codes: set[str]) -> None:
    """Tick outcomes in the prediction list from the keyboard."""
    await pilot.press("home")
    at = 0
    for code in sorted(codes, key=screen.choices.index):
        await pilot.press(*(["down"] * (screen.choices.index(code) - at)), "space")
        at = screen.choices.index(code)


T = TypeVar("T")


async def from_library(pilot, app, key: str, kind: type[T]) -> tuple[TrainScreen, T]:
    """The library, then `key` on its first scenario (Enter: the scenario; f: the presenter view)."""
    await settle(pilot)
    library = app.screen
    assert isinstance(library, TrainScreen)
    await pilot.press(key)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, kind) and screen.case.case == "TRN-0001"
    return library, screen


async def open_scenario(pilot, app) -> tuple[TrainScreen, ScenarioScreen]:
    """The library, then the first scenario."""
    return await from_library(pilot, app, "enter", ScenarioScreen)


async def test_scenario_is_predicted_by_title_revealed_on_confirmation_and_scored(tmp_path, capsys) -> None:
    training = tmp_path / "training.db"
    app = app_for(tmp_path, "train", db=training, training_db=training, audit_db=training, adviser="trainee-7")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        library = app.screen
        assert isinstance(library, TrainScreen) and library.book_ok
        assert len(library.cases) == len(list(CASES_DIR.glob("*.yaml")))
        library, screen = await open_scenario(pilot, app)
        await pilot.press("n", "n", "n")
        assert screen.steps == ["benefit", "claimant.age", "drugs.substances"]
        await pilot.press("b")
        assert screen.steps == ["benefit", "claimant.age"]
        for _ in range(30):
            await pilot.press("n")
        assert screen.interview.is_complete() and len(screen.steps) < len(screen.interview.questions)
        # the choices: titles of the outcomes the 2008 edition can reach, not every code in the catalogue
        ruleset = screen.interview.ruleset
        reachable = {r.concludes for r in ruleset.rules if r.concludes}
        assert set(screen.choices) == reachable and len(screen.choices) < len(ruleset.outcomes)
        plist = screen.query_one("#prediction", SelectionList)
        shown = [plist.get_option_at_index(i).prompt for i in range(plist.option_count)]
        assert [str(p) for p in shown] == [ruleset.outcomes[c].title for c in screen.choices]
        want = set(decide(SCENARIO).codes)
        chosen = (want - {"SAFEGUARDING_CONSIDERATION"}) | {"SIGNPOST_MUTUAL_AID"}
        await tick(pilot, screen, chosen)
        assert set(screen.predicted) == chosen
        await pilot.press("p", "p")  # urgent, then priority
        assert screen.predicted_priority == "priority"
        # one stray v does not end the exercise: it asks, and "no" keeps predicting
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and app.screen.title_text == REVEAL_QUESTION
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and screen.result is None and set(screen.predicted) == chosen
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        result = screen.result
        assert result is not None
        assert result.missed == ("SAFEGUARDING_CONSIDERATION",) and result.wrong == ("SIGNPOST_MUTUAL_AID",)
        assert set(result.right) == want - {"SAFEGUARDING_CONSIDERATION"}
        assert not result.priority_ok and result.priority == "urgent"
        # the reveal says why: each rule that applied (by title), the answers it saw, the sources; and why not
        revealed = plain(screen.query_one("#result", Static))
        assert revealed.count("Because the rule “") == len(want) and revealed.count("Sources: ") >= len(want)
        for outcome in decide(SCENARIO).outcomes:
            assert f"“{ruleset.rule(outcome.rule).title}”" in revealed
        assert "Signpost mutual aid and family support" in revealed and "Why not: it needs" in revealed
        # the trainee's prediction and marks are recorded; the right answer is not
        assert screen.recorded_id is not None
        assert library.session is not None and library.session.tally.attempts == 1
        assert library.session.tally.marks == result.marks == len(result.right) - 1  # one wrong, priority wrong
        assert "session: 1 done" in plain(screen.query_one("#banner", Static))
        await pilot.press("ctrl+r")  # already recorded: nothing more is written
        await settle(pilot)
        await pilot.press("escape")
        assert app.screen is library
    with CaseBook(training, create=False) as book:
        assert book.kind == "training" and book.decisions() == []
        (attempt,) = book.attempts("trainee-7")
        assert set(attempt.predicted) == chosen and attempt.predicted_priority == "priority"
        assert (attempt.marks, attempt.out_of) == (result.marks, result.out_of) and attempt.scenario == "TRN-0001"
    assert run_main(capsys, "audit", "verify", "--db", str(training)).code == 0


async def test_ctrl_r_records_the_trainees_prediction_not_the_right_answer(tmp_path) -> None:
    training = tmp_path / "training.db"
    app = app_for(tmp_path, "train", db=training, training_db=training, audit_db=training, adviser="trainee-8")
    async with app.run_test(size=(80, 24)) as pilot:
        library, screen = await open_scenario(pilot, app)
        await tick(pilot, screen, {"SIGNPOST_MUTUAL_AID"})
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert screen.result is not None and screen.recorded_id is not None
        assert library.session is not None and library.session.tally.attempts == 1
    with CaseBook(training, create=False) as book:
        assert book.decisions() == [] and [a.predicted for a in book.attempts("trainee-8")] == [
            ("SIGNPOST_MUTUAL_AID",)]
        assert book.attempts("someone-else") == []


async def test_train_mode_never_uses_a_live_book(tmp_path) -> None:
    live = tmp_path / "live.db"
    CaseBook(live, training=False).close()
    app = app_for(tmp_path, "train", db=live, training_db=live)
    async with app.run_test(size=(80, 24)) as pilot:
        library, scenario = await open_scenario(pilot, app)
        assert not library.book_ok and scenario.training_db is None
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert scenario.result is not None and scenario.recorded_id is None
        assert library.session is not None and library.session.tally.attempts == 1  # scored, not recorded
    with CaseBook(live, create=False) as book:
        assert book.decisions() == [] and book.attempts() == []


async def test_presenter_view_hides_the_answers_until_a_key(tmp_path) -> None:
    training = tmp_path / "training.db"
    app = app_for(tmp_path, "train", db=training, training_db=training, audit_db=training)
    async with app.run_test(size=(80, 24)) as pilot:
        library, presenter = await from_library(pilot, app, "f", PresenterScreen)
        story = plain(presenter.query_one("#presenter-story", Static))
        assert "Kerry, 27, claims Jobseeker's Allowance" in story and "?" not in story  # newlines kept, not "?"
        decision = decide(SCENARIO)
        assert not presenter.answers_shown
        hidden = plain(presenter.query_one("#presenter-answers", Static))
        assert "URGENT" not in hidden and not any(o.text and o.text in hidden for o in decision.outcomes)
        await pilot.press("space")
        await pilot.pause()
        assert presenter.answers_shown
        shown = plain(presenter.query_one("#presenter-answers", Static))
        assert "Priority: URGENT" in shown and all(o.text in shown for o in decision.outcomes if o.text)
        await pilot.press("space")
        await pilot.pause()
        assert "URGENT" not in plain(presenter.query_one("#presenter-answers", Static))
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is library


def test_tui_refuses_a_live_book_for_train_mode(tmp_path, capsys) -> None:
    live = tmp_path / "live.db"
    CaseBook(live, training=False).close()
    result = run_main(capsys, "tui", "--mode", "train", "--db", str(live))
    assert result.code == 2
    assert "only a training case book" in result.err and len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err

"""Nothing lost, nothing misleading (#12 items 2, 3 and 6): drafts, the book checked at open, case and
referral lifecycles in the UI, and a case list that follows changes made elsewhere."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from cases import CASES_DIR
from engine.casebook.book import CaseBook
from engine.casebook.health import CORRUPT, FOREIGN, NOT_A_FILE, NOT_SQLITE, READ_ONLY
from engine.intake.scenarios import iter_cases
from engine.model.adviser import adviser_decisions
from engine.policy.driver import default_engine
from tests.conftest import record_scenarios
from tests.live_books import file_bytes
from tests.tui_helpers import (
    answer_current,
    app_for,
    new_case,
    press_each,
    refused_by_live_book_form,
    settle,
    settle_until,
    type_text,
)
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.new_case import NewCaseDialog
from tui.dialogs.referral import ReferralDialog
from tui.dialogs.referral_steps import ReferralStepsDialog
from tui.dialogs.unsaved import UnsavedDialog
from tui.screens.advise import AdviseScreen
from tui.screens.book_problem import BookProblemScreen
from tui.screens.interview import InterviewScreen

LIVE_NINO = "AB123456C"


async def start_case(pilot: Pilot[Any], ref: str = "TST-0100", day: str = "2013-06-03",
                     nino: str = LIVE_NINO) -> InterviewScreen:
    """A new case with the benefit and age answered."""
    await settle(pilot)
    await new_case(pilot, ref, day, nino)
    screen = pilot.app.screen
    assert isinstance(screen, InterviewScreen)
    await answer_current(pilot, "jsa")
    await answer_current(pilot, 34)
    return screen


def drafts(db: Path) -> list[Any]:
    """The drafts held in a book."""
    with CaseBook(db, create=False) as book:
        return book.drafts()


# -- item 2: quitting or leaving with unrecorded answers asks; drafts saved and resumed -------------------------

async def test_ctrl_q_with_unrecorded_answers_asks_and_saves_a_draft(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_case(pilot)
        await press_each(pilot, "ctrl+q")
        assert isinstance(app.screen, UnsavedDialog), "Ctrl+Q must not drop the answers silently"
        assert not app._exit
        await press_each(pilot, "escape")  # cancel: back to the interview, answers intact
        screen = app.screen
        assert isinstance(screen, InterviewScreen) and screen.interview.answers["claimant.age"] == 34
        await press_each(pilot, "ctrl+q", "s")
        assert app._exit
    (draft,) = drafts(tmp_path / "live.db")
    assert (draft.ref, draft.as_of, draft.nino) == ("TST-0100", "2013-06-03", LIVE_NINO)
    assert dict(draft.answers["answers"]) == {"benefit": "jsa", "claimant.age": 34}
    with CaseBook(tmp_path / "live.db", create=False) as book:
        assert book.kind == "live" and book.verify()[1] == []


async def test_ctrl_q_discard_writes_nothing(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_case(pilot)
        await press_each(pilot, "ctrl+q", "d")
        assert app._exit
    assert not (tmp_path / "live.db").exists() or drafts(tmp_path / "live.db") == []


async def test_a_draft_is_resumed_from_the_case_list_and_goes_when_recorded(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_case(pilot, "TST-0101")
        q = screen.interview.next_question()
        assert q is not None and q.choices
        await answer_current(pilot, q.choices[-1][0])
        given = dict(screen.interview.answers)
        assert len(given) == 3
        await pilot.press("ctrl+o")  # leave the case: asked, and saved as a draft
        await pilot.pause()
        assert isinstance(app.screen, UnsavedDialog)
        await pilot.press("s")
        await settle_until(pilot, lambda: isinstance(app.screen, AdviseScreen) and bool(app.screen.shown))
        advise = app.screen
        assert isinstance(advise, AdviseScreen)
        assert [(r.ref, r.status_words) for r in advise.shown] == [("TST-0101", "DRAFT")]
        await pilot.press("enter")
        await settle_until(pilot, lambda: isinstance(app.screen, InterviewScreen))
        resumed = app.screen
        assert isinstance(resumed, InterviewScreen) and resumed is not screen
        assert resumed.interview.answers == given
        assert resumed.interview.nino == LIVE_NINO and not resumed.unsaved
        await pilot.press("ctrl+o")  # nothing new since the draft: leaves without asking
        await pilot.pause()
        assert app.screen is advise
        await pilot.press("enter")
        await settle_until(pilot, lambda: isinstance(app.screen, InterviewScreen))
        resumed = app.screen
        assert isinstance(resumed, InterviewScreen)
        while (q := resumed.interview.next_question()) is not None:  # finish it, then review and record
            default = {"bool": False, "list": (), "int": 0}.get(q.kind, q.choices[0][0] if q.choices else None)
            await answer_current(pilot, default)
        await pilot.press("ctrl+r")
        await pilot.pause()
        for _outcome in app.screen.outcomes:
            await pilot.press("enter", "down", "enter", "tab")
        await pilot.press("enter")
        await settle_until(pilot, lambda: app.screen is resumed and resumed.decision_id is not None)
        assert app.screen is resumed and resumed.decision_id is not None
    assert drafts(tmp_path / "live.db") == [], "a recorded case's draft goes"
    with CaseBook(tmp_path / "live.db", create=False) as book:
        assert book.verify()[1] == []


async def test_a_draft_in_a_training_book_stays_there(tmp_path: Path) -> None:
    training = tmp_path / "training.db"
    CaseBook(training, training=True).close()
    app = app_for(tmp_path, db=training)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_case(pilot, "TRN-9001", nino="QQ123456C")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not screen.unsaved
    assert [d.ref for d in drafts(training)] == ["TRN-9001"]
    assert not (tmp_path / "live.db").exists()


# -- item 3: the book checked when the app opens; refusals at the start; corrections mid-interview -------------

def foreign_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.execute("INSERT INTO recipes VALUES ('soup')")
    conn.commit()
    conn.close()


def corrupt_book(path: Path) -> None:
    with CaseBook(path, training=True) as book:
        record_scenarios(book, limit=1)
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("make", "state"), [
    (lambda p: p.mkdir(), NOT_A_FILE),
    (lambda p: p.write_bytes(b"shopping list: eggs, milk\n" * 10), NOT_SQLITE),
    (foreign_file, FOREIGN),
    (corrupt_book, CORRUPT),
    (lambda p: (CaseBook(p, training=False).close(), os.chmod(p, 0o400)), READ_ONLY),
])
async def test_a_book_that_cannot_be_used_is_explained_before_any_interview(tmp_path: Path, make: Any,
                                                                            state: str) -> None:
    db = tmp_path / "book.db"
    make(db)
    before = file_bytes(db) if db.is_file() else None
    app = app_for(tmp_path, db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BookProblemScreen) and screen.health.state == state
        assert screen.health.problem and screen.health.advice
        await pilot.press("n")  # no new case can start
        await pilot.press("r")  # checked again: still not usable
        await settle(pilot)
        assert app.screen is screen and not any(isinstance(s, (NewCaseDialog, AdviseScreen))
                                                for s in app.screen_stack)
    if before is not None:
        assert file_bytes(db) == before, "the app never writes to a file that is not a usable case book"


async def test_the_book_fixed_while_the_problem_shows_opens_on_r(tmp_path: Path) -> None:
    db = tmp_path / "book.db"
    CaseBook(db, training=False).close()
    os.chmod(db, 0o400)
    app = app_for(tmp_path, db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BookProblemScreen)
        os.chmod(db, 0o600)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, AdviseScreen) and app.current_mode == "advise"


async def test_a_qq_number_is_refused_when_a_live_case_starts(tmp_path: Path) -> None:
    error = await refused_by_live_book_form(tmp_path, "TST-0102", "2013-06-03", "QQ123456C")
    assert error.startswith("NINO: this live case book refuses")


async def correct(pilot: Pilot[Any], screen: InterviewScreen, day: str | None, nino: str | None) -> NewCaseDialog:
    """Open the case's date and NINO from the answers list (its last line) and change them."""
    screen.query_one("#answers").focus()
    await pilot.press("end", "enter")
    await pilot.pause()
    form = pilot.app.screen
    assert isinstance(form, NewCaseDialog) and form.current is not None
    if day is not None:
        await pilot.press("ctrl+u")
        await type_text(pilot, day)
    await pilot.press("enter")  # to the NINO
    if nino is not None:
        await pilot.press("ctrl+u")
        await type_text(pilot, nino)
    await pilot.press("enter")
    await pilot.pause()
    return form


async def test_date_and_nino_are_corrected_from_the_answers_list(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    CaseBook(db, training=False).close()
    app = app_for(tmp_path, db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_case(pilot, "TST-0103", "2013-06-03", "")
        assert screen.interview.ruleset.edition.id == "2009-voluntary"
        form = await correct(pilot, screen, "2019-01-07", LIVE_NINO)
        assert app.screen is screen, form.query_one("#error").content
        assert screen.interview.as_of == dt.date(2019, 1, 7) and screen.interview.nino == LIVE_NINO
        assert screen.interview.ruleset.edition.id == "2017-recovery"
        assert screen.interview.answers == {"benefit": "jsa", "claimant.age": 34}, "answers carried over"
        form = await correct(pilot, screen, None, "QQ123456C")  # the live book would refuse it: refused here
        assert app.screen is form and "live case book refuses" in str(form.query_one("#error").content)
        await pilot.press("escape")
        await pilot.pause()
        assert screen.interview.nino == LIVE_NINO
        # the benefit is corrected from the same list (its first line)
        screen.query_one("#answers").focus()
        await pilot.press("home", "enter")
        await pilot.pause()
        await answer_current(pilot, "uc")
        assert screen.interview.answers["benefit"] == "uc"


# -- item 6: case status, referral lifecycle, duplicate warning, live refresh ----------------------------------

def recorded_book(tmp_path: Path, limit: int = 3) -> tuple[Path, list[int]]:
    db = tmp_path / "live.db"
    with CaseBook(db, training=True) as book:
        ids = record_scenarios(book, limit=limit)
    return db, ids


async def test_a_case_is_closed_and_reopened_from_the_list(tmp_path: Path) -> None:
    db, _ids = recorded_book(tmp_path)
    app = app_for(tmp_path, db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AdviseScreen)
        ref = screen.highlighted().ref
        assert screen.highlighted().status_words == "open"
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert {r.ref: r.status for r in screen.shown}[ref] == "closed"
        await pilot.press("c", "y")
        await settle(pilot)
        assert {r.ref: r.status for r in screen.shown}[ref] == "open"
    with CaseBook(db, create=False) as book:
        assert book.verify()[1] == []


async def test_a_referral_is_moved_on_from_the_list(tmp_path: Path) -> None:
    db, ids = recorded_book(tmp_path, limit=1)
    with CaseBook(db) as book:
        referral = book.add_referral(ids[0], "REFER_HOUSING_ADVICE", "Housing Options", "T1", dt.date(2026, 12, 1))
    app = app_for(tmp_path, db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ReferralStepsDialog)
        steps = [value for _label, value in dialog._steps(dialog.movable[0])]
        assert steps == ["booked", "attended", "did_not_attend", "declined", "closed"]
        await pilot.press("enter", *(["down"] * (1 + steps.index("attended"))), "enter")  # the step list
        await pilot.pause()
        dialog.query_one("#save").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AdviseScreen)
    with CaseBook(db, create=False) as book:
        (row,) = book.referrals()
        assert row.id == referral and row.status == "attended" and not row.is_open
        assert book.verify()[1] == []


async def test_logging_the_same_open_referral_twice_warns(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    case = next(c for c in iter_cases(CASES_DIR) if c.case == "TRN-0001")
    engine = default_engine()
    ruleset = engine.ruleset_for(case)
    decision = engine.decide(case, ruleset)
    with CaseBook(db, training=True) as book:  # reviewed: every outcome accepted
        book.record(case, decision, ruleset, "T1", adviser_decisions(decision, [], reasonable=True))
    app = app_for(tmp_path, db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        interview = app.screen
        assert isinstance(interview, InterviewScreen) and interview.reviewed

        async def log_housing() -> None:
            await pilot.press("ctrl+l")
            await pilot.pause()
            form = app.screen
            assert isinstance(form, ReferralDialog)
            codes = [code for code, _title in form.choices]
            await pilot.press("enter", *(["down"] * (1 + codes.index("REFER_HOUSING_ADVICE"))), "enter", "tab")
            await type_text(pilot, "Shelter")
            form.query_one("#consent").value = True
            form.query_one("#save").focus()
            await pilot.press("enter")
            await settle(pilot)

        await log_housing()
        assert app.screen is interview and len(interview.referral_ids) == 1
        await log_housing()
        assert isinstance(app.screen, ConfirmDialog), "a second open referral of the same kind is questioned"
        await pilot.press("n")
        await settle(pilot)
    with CaseBook(db, create=False) as book:
        assert [r.code for r in book.referrals()] == ["REFER_HOUSING_ADVICE"]


async def test_the_case_list_follows_changes_made_elsewhere(tmp_path: Path) -> None:
    db, ids = recorded_book(tmp_path, limit=2)
    app = app_for(tmp_path, db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AdviseScreen) and len(screen.shown) == 2
        with CaseBook(db) as book:  # another program: the command line, another adviser
            record_scenarios(book, limit=3)
            book.add_referral(ids[0], "REFER_HOUSING_ADVICE", "Shelter", "T2")
        screen.watch_book()  # what the screen's timer does every WATCH_SECONDS
        await settle(pilot)
        assert len(screen.shown) == 3 and sum(r.open_referrals for r in screen.shown) == 1
        screen.watch_book()  # nothing changed since: no reload
        assert screen.watcher is not None and not screen.watcher.changed()


def test_the_watcher_never_holds_back_erasure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The list's read-only watcher keeps no read open, so erasure still truncates the WAL: the NINO leaves."""
    from tests.helpers import run_main
    from tui.watch import BookWatcher

    db = tmp_path / "live.db"
    with CaseBook(db) as book:
        book.save_draft("TST-0200", dt.date(2013, 6, 3), "QQ975310B", {"answers": []}, "A1")
    watcher = BookWatcher(db)
    watcher.changed()
    with CaseBook(db) as book:
        book.save_draft("TST-0201", dt.date(2013, 6, 3), "QQ975311B", {"answers": []}, "A1")
    assert watcher.changed() and not watcher.changed()
    assert run_main(capsys, "erase", "TST-0200", "--db", str(db), "--yes").code == 0
    assert watcher.changed()
    assert b"QQ975310B" not in file_bytes(db)
    watcher.close()

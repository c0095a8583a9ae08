"""Work off the UI thread: results reach the screen, and failures show as one line without case data."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App

from engine.errors import BookError, InputError
from tui.dialogs.new_case import check_new_case
from tui.dialogs.referral import check_referral
from tui.jobs import JobScreen
from tui.problems import form_problem, problem_text


class Probe(JobScreen):
    """A screen that records what its jobs brought back."""

    def __init__(self) -> None:
        super().__init__()
        self.results: list[Any] = []
        self.failures: list[str] = []


class ProbeApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []

    def on_mount(self) -> None:
        self.push_screen(Probe())

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.notes.append(message)


def fail_with(exc: Exception) -> Any:
    def job() -> Any:
        raise exc
    return job


async def test_a_job_result_reaches_the_screen_and_failures_are_one_line() -> None:
    app = ProbeApp()
    async with app.run_test() as pilot:
        screen = app.screen
        assert isinstance(screen, Probe)
        screen.run_job(lambda: 41 + 1, screen.results.append, group="a")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.results == [42]

        screen.run_job(fail_with(BookError("no such case book", "/books/x.db")), screen.results.append, group="b")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.notes == ["/books/x.db: no such case book"]

        secret = "claimant AB123456C uses heroin"
        screen.run_job(fail_with(KeyError(secret)), screen.results.append, group="c",
                       failed=screen.failures.append)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.failures == ["internal error (KeyError)"]
        assert screen.results == [42] and len(app.notes) == 1


def test_problem_text_never_carries_an_unexpected_error_message() -> None:
    assert problem_text(InputError("must be a number", "case.yaml", 3, "claimant.age")) == (
        "case.yaml:3: claimant.age: must be a number")
    assert problem_text(RuntimeError("AB123456C")) == "internal error (RuntimeError)"


@pytest.mark.parametrize(("fields", "shown"), [
    (("bad ref!", "2008-06-02", ""), "Case reference: 1-32 of A-Z, 0-9 and -"),
    (("TST-1", "2008-02-30", ""), "Date: a real date as YYYY-MM-DD"),
    (("TST-1", "1990-01-01", ""), "Date: the rules start on"),
    (("TST-1", "2008-06-02", "AB12"), "NINO: "),
])
def test_the_new_case_form_names_the_field_it_refuses(fields: tuple[str, str, str], shown: str) -> None:
    with pytest.raises(InputError) as refused:
        check_new_case(*fields)
    assert form_problem(refused.value).startswith(shown)


def test_the_referral_form_refuses_without_consent() -> None:
    with pytest.raises(InputError) as refused:
        check_referral("REFER_HOUSING_ADVICE", "Shelter", "", "", consent=False)
    assert "consent" in form_problem(refused.value)
    with pytest.raises(InputError) as refused:
        check_referral("REFER_HOUSING_ADVICE", "Shelter", "2008-13-01", "", consent=True)
    assert form_problem(refused.value) == "Appointment: a real date as YYYY-MM-DD, or empty"


def test_the_referral_step_form_names_the_field_it_refuses(tmp_path) -> None:
    from engine.casebook.book import CaseBook
    from engine.casebook.fields import MAX_NOTE
    from tests.conftest import record_scenarios
    from tui.dialogs.referral_steps import check_step

    with CaseBook(tmp_path / "b.db", training=True) as book:
        (decision_id,) = record_scenarios(book, limit=1)
        book.add_referral(decision_id, "REFER_HOUSING_ADVICE", "Housing Options", "T1")
        (referral,) = book.referrals()
    for status, day, notes, shown in (
            ("declined", "2008-13-01", "", "Appointment: a real date as YYYY-MM-DD, or empty"),
            ("booked", "", "", "Appointment: a booked referral needs its appointment date"),
            ("declined", "", "x" * (MAX_NOTE + 1), f"Notes: at most {MAX_NOTE} characters")):
        with pytest.raises(InputError) as refused:
            check_step(referral, status, day, notes)
        assert form_problem(refused.value) == shown
    step = check_step(referral, "booked", "2026-12-01", " rang them ")
    assert (step.status, str(step.appointment), step.notes) == ("booked", "2026-12-01", "rang them")

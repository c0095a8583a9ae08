"""The advise case list on a book bigger than a page (#12): pages load as the adviser goes down, search by
reference or NINO runs in SQLite, and keys typed while the list loads are kept."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from textual import events

from engine.casebook.book import CaseBook
from engine.casebook.keys import key_dir
from engine.casebook.queries import CASE_PAGE
from engine.cli.bigbook import build
from tests.conftest import record_scenarios
from tests.tui_helpers import app_for, settle
from tui import data
from tui.screens.advise import AdviseScreen

BIG = 260
"""Cases in the paging book: more than two pages."""


@pytest.fixture(scope="module")
def big_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A training book of BIG generated cases built as `pathways bench --big` builds its book (cases 100 and
    200 recorded a second time, so they are the newest)."""
    folder = tmp_path_factory.mktemp("paging")
    build(folder / "live.db", key_dir(), BIG)
    return folder


def expected_newest_first(path: Path) -> list[str]:
    """Every case reference, by its latest decision, newest first (from every decision, in Python)."""
    with CaseBook(path, create=False) as book:
        return list(dict.fromkeys(row.ref for row in book.decisions(limit=-1)))


def burst(app: Any, keys: str) -> None:
    """Send keys the way a terminal delivers fast typing to a busy app: all queued before any is handled."""
    for char in keys:
        event = events.Key("slash" if char == "/" else char, char)
        event.set_sender(app)
        app._driver.send_message(event)


@pytest.fixture
def held_loading(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Hold every case list page back until the test releases it, as a slow disk would."""
    gate = threading.Event()
    real = data.case_page

    def slow(*args: Any, **kwargs: Any) -> data.CasesPage:
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(data, "case_page", slow)
    return gate


@pytest.mark.parametrize("typed", ["/0003", "0003"])
async def test_keys_typed_while_the_list_loads_are_kept(tmp_path: Path, held_loading: threading.Event,
                                                        typed: str) -> None:
    """"12345" typed fast while the list loads used to arrive as "2345" or nothing: every key now reaches
    the search box, in order, whether after `/` or typed straight on the list."""
    with CaseBook(tmp_path / "live.db", training=True) as book:
        record_scenarios(book, limit=4)
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, AdviseScreen) and screen.shown == []  # still loading
        burst(app, typed)
        await pilot.pause()
        assert screen.query_one("#search").value == "0003"
        assert screen.shown == []  # the list has not loaded yet
        await pilot.press("4")  # a key typed after the burst lands after it
        await pilot.press("backspace")
        held_loading.set()
        await settle(pilot)
        assert screen.query_one("#search").value == "0003"
        assert [r.ref for r in screen.shown] == ["TRN-0003"]


async def test_pages_load_as_the_adviser_goes_down(big_book: Path) -> None:
    """The list opens with one page, newest first; Ctrl+End walks down and each next page follows, until every
    case is listed once, at its latest decision, in the right order."""
    want = expected_newest_first(big_book / "live.db")
    assert len(want) == BIG and want[:2] == ["SYN-00000200", "SYN-00000100"]
    app = app_for(big_book)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AdviseScreen)
        assert [r.ref for r in screen.shown] == want[:CASE_PAGE]
        assert screen.query_one("#cases").more and screen.total == BIG  # counted after the first page showed
        screen.query_one("#cases").focus()
        for _ in range(4):
            await pilot.press("ctrl+end")
            await settle(pilot)
        assert [r.ref for r in screen.shown] == want and screen.total == BIG
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.interview.ref == want[-1]  # type: ignore[attr-defined]


async def test_a_search_pages_by_reference(big_book: Path) -> None:
    """A search lists matching cases by reference and pages on through them."""
    app = app_for(big_book)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash", *"SYN-00000", "enter")
        await settle(pilot)
        assert [r.ref for r in screen.shown] == [f"SYN-{n:08d}" for n in range(1, CASE_PAGE + 1)]
        await pilot.press("ctrl+end")
        await settle(pilot)
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert [r.ref for r in screen.shown] == [f"SYN-{n:08d}" for n in range(1, BIG + 1)]
        await pilot.press("slash", "ctrl+u", *"-0000025")
        await settle(pilot)
        assert [r.ref for r in screen.shown] == [f"SYN-{n:08d}" for n in range(250, 260)]


async def test_search_by_nino_finds_the_case(big_book: Path) -> None:
    """The whole NINO, as the adviser types it (any case, with spaces), finds its case; part of it finds none."""
    with CaseBook(big_book / "live.db", create=False) as book:
        ref, nino = book.conn.execute(
            "SELECT d.ref, n.nino FROM decisions d JOIN claimants n ON n.case_id = d.case_id "
            "WHERE n.nino IS NOT NULL AND d.id = 137").fetchone()
        holders = sorted({r for (r,) in book.conn.execute(
            "SELECT d.ref FROM decisions d JOIN claimants n ON n.case_id = d.case_id WHERE n.nino = ?", (nino,))})
    app = app_for(big_book)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        spaced = f"{nino[:2]} {nino[2:4]} {nino[4:6]} {nino[6:8]} {nino[8]}".lower()
        await pilot.press("slash", *spaced)
        await settle(pilot)
        assert screen.query_one("#search").value == spaced
        assert ref in holders and [r.ref for r in screen.shown] == holders
        await pilot.press("backspace")  # one character short of a NINO
        await settle(pilot)
        assert screen.shown == []


def test_the_count_is_read_again_only_after_a_change(tmp_path: Path) -> None:
    """Counting reads the whole reference index, so it is redone only when the book has a new audit event."""
    db = tmp_path / "live.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=3)
    first = data.case_count(db)
    assert first.cases == 3
    stale = data.CaseCount(first.head, 99)  # what a count before would have said, at the same head
    assert data.case_count(db, stale) is stale
    with CaseBook(db) as book:
        ids = book.decision_ids()
        book.add_referral(ids[0], *_a_referral(book, ids[0]))
    assert data.case_count(db, stale) == data.CaseCount(first.head + 1, 3)


def _a_referral(book: CaseBook, decision_id: int) -> tuple[str, str, str]:
    """A referral the decision calls for: code, provider, actor."""
    import json

    text = book.decision_record(decision_id).decision  # type: ignore[union-attr]
    code = next(o["code"] for o in json.loads(text)["outcomes"] if o["kind"] == "referral")
    return code, "Provider", "T1"

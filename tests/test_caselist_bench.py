"""`pathways bench --big` (#12): its book is built once from real recorded rows and reused; the case list is
timed on it through the engine's queries and through the UI's widget."""

from __future__ import annotations

from pathlib import Path

from engine.casebook.book import CaseBook
from engine.casebook.replay import MATCH, Replayer
from engine.cli.benchmark import caselist_queries, run_caselist_bench
from engine.cli.bigbook import RERECORD_EVERY, big_book
from engine.policy.driver import default_engine
from tui.bench import caselist_figures


def test_the_big_book_is_built_once_of_real_rows_and_reused(tmp_path: Path) -> None:
    built = big_book(1000, tmp_path)
    assert built.built_seconds is not None and built.path.exists()
    assert not list(tmp_path.glob("*.building*")), "built under a temporary name, renamed when whole"
    again = big_book(1000, tmp_path)
    assert again.path == built.path and again.built_seconds is None
    with CaseBook(built.path, create=False, key_dir=built.key_dir) as book:
        assert book.kind == "training"
        assert book.case_count() == 1000
        assert len(book.decision_ids()) == 1000 + 1000 // RERECORD_EVERY
        assert book.referrals(), "some cases have referrals, some of them closed"
        assert book.verify()[1] == []
        replayer = Replayer(book, default_engine())
        assert all(replayer.replay(ident).status == MATCH for ident in book.decision_ids()[::97])


def test_the_case_list_is_timed_through_the_engine_and_the_ui(tmp_path: Path) -> None:
    book = big_book(1000, tmp_path)
    figures = run_caselist_bench(book.path, plugins=False)
    queries = caselist_queries(book.path)
    assert figures["caselist_cases"] == 1000
    labels = [label for _key, label, _wall, _cpu in figures["caselist_engine"]]
    assert labels[:2] == ["open the book at the first page of the list", "a page near the end of the list (keyset)"]
    assert labels[2:] == [f"search for {label}" for label in queries]
    assert all(wall > 0 and cpu >= 0 for _k, _l, wall, cpu in figures["caselist_engine"])
    ui = caselist_figures(book.path, {"a NINO": queries["a NINO typed without spaces"]}, repeat=1)
    assert [key for key, *_ in ui] == ["ui_start", "ui_open", "ui_search_1"]
    assert all(wall > 0 for _k, _l, wall, _cpu in ui)

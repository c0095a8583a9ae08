"""One replay reads one audit event, found through the index of decisions' events, whatever the book's size."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from engine.casebook.book import CaseBook
from engine.casebook.replay import INPUTS_ALTERED, MATCH, Replayer
from tests.helpers import drop_decision_events_index, edit_inputs


def _index(path: Path) -> dict[int, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT decision, seq FROM decision_events"))


def test_every_recorded_decision_is_indexed_at_its_own_event(training_book: CaseBook) -> None:
    ids = training_book.decision_ids()
    index = _index(training_book.path)
    assert sorted(index) == ids
    for decision, seq in index.items():
        event, body = training_book.conn.execute("SELECT event, body FROM audit WHERE seq = ?", (seq,)).fetchone()
        assert event == "decision.recorded" and json.loads(body)["decision"] == decision
    assert training_book.verify()[1] == []


def test_a_book_made_before_the_index_gains_it_on_opening_and_still_verifies(training_book: CaseBook) -> None:
    path = training_book.path
    ids = training_book.decision_ids()
    training_book.close()
    drop_decision_events_index(path)  # as a book from before the index was
    with CaseBook(path, create=False) as book:
        assert sorted(_index(path)) == ids
        assert book.verify()[1] == []
        assert {Replayer(book).replay(i).status for i in ids} == {MATCH}


def test_a_wrong_index_entry_never_lends_a_decision_another_decisions_event(training_book: CaseBook) -> None:
    path = training_book.path
    first, second = training_book.decision_ids()[:2]
    training_book.close()
    with sqlite3.connect(path) as conn:  # point the first decision at the second one's event
        conn.execute("DROP TRIGGER decision_events_no_update")
        conn.execute("UPDATE decision_events SET seq = (SELECT seq FROM decision_events WHERE decision = ?) "
                      "WHERE decision = ?", (second, first))
    with CaseBook(path, create=False) as book:
        assert Replayer(book).replay(first).status == MATCH  # found by reading the events instead
        assert book.decision_event(first) is not None
        assert book.decision_event(first).seq != book.decision_event(second).seq


def test_altered_inputs_are_still_caught_through_the_index(training_book: CaseBook) -> None:
    decision = training_book.decision_ids()[0]
    path = training_book.path
    training_book.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER cases_no_update")
        case_id = conn.execute("SELECT case_id FROM decisions WHERE id = ?", (decision,)).fetchone()[0]
        edit_inputs(conn, case_id, '"benefit"', '"benefit" ')
    with CaseBook(path, create=False) as book:
        assert Replayer(book).replay(decision).status == INPUTS_ALTERED

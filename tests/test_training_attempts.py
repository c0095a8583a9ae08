"""Trainees' attempts: kept per trainee in a training book only, vouched for by the audit chain (#12)."""

from __future__ import annotations

import sqlite3

import pytest

from cases import CASES_DIR
from engine.casebook.book import CaseBook
from engine.casebook.training import tally
from engine.errors import BookError
from engine.intake.loader import read_case_file
from engine.intake.validate import build_case
from engine.model.training import score
from engine.policy.driver import decide
from tests.helpers import run_main

SCENARIO = build_case(read_case_file(CASES_DIR / "001-jsa-heroin-toddlers-nfa.yaml"))


def test_attempts_are_kept_per_trainee_scored_and_verified(tmp_path, capsys) -> None:
    db = tmp_path / "training.db"
    decision = decide(SCENARIO)
    right = sorted(decision.codes)
    with CaseBook(db, training=True) as book:
        first, result = book.record_attempt("trainee-a", decision, right, decision.priority)
        assert result.marks == result.out_of == len(right) + 1
        second, _ = book.record_attempt("trainee-b", decision, [*right, "SIGNPOST_MUTUAL_AID"], None)
        assert second > first
        mine = book.attempts("trainee-a")
        assert [a.id for a in mine] == [first] and mine[0].predicted == tuple(right)
        theirs = book.attempts("trainee-b")[0]
        assert theirs.marks == len(right) - 1 and theirs.out_of == len(right) + 1  # a wrong tick costs a mark
        assert tally(book.attempts()).attempts == 2
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0


def test_ticking_everything_earns_nothing() -> None:
    decision = decide(SCENARIO)
    every = ["CONSENT_NEEDED_TREATMENT", "NOTE_SUSPICION_ONLY", "SIGNPOST_MUTUAL_AID", "TAILOR_AGREEMENT",
             "SIGNPOST_PRISON_CONTINUITY", "NO_WORK_CONDITIONALITY", *decision.codes]
    result = score(every, None, decision)
    assert result.marks < len(decision.codes) - 3


def test_a_live_book_refuses_attempts_and_stays_unchanged(tmp_path) -> None:
    live = tmp_path / "live.db"
    CaseBook(live, training=False).close()
    before = live.read_bytes()
    with CaseBook(live, create=False) as book, pytest.raises(BookError, match="not a training case book"):
        book.record_attempt("trainee-a", decide(SCENARIO), [], None)
    assert live.read_bytes() == before
    with CaseBook(live, create=False) as book:
        assert book.attempts() == []


def test_an_attempt_inserted_outside_pathways_is_found(tmp_path, capsys) -> None:
    db = tmp_path / "training.db"
    with CaseBook(db, training=True) as book:
        book.record_attempt("trainee-a", decide(SCENARIO), [], "urgent")
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("INSERT INTO training_attempts (trainee, scenario, as_of, edition, predicted, outcomes, "
                     "priority, marks, out_of, recorded_at) VALUES ('x', 'TRN-0001', '2008-06-02', 'e', '[]', "
                     "'[]', 'urgent', 99, 1, 'now')")
    conn.close()
    result = run_main(capsys, "audit", "verify", "--db", str(db))
    assert result.code != 0 and "training_attempts 2" in result.out + result.err

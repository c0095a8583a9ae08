"""Drafts and case status in the case book: audited, erasable, and `audit verify` stays clean (#12)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from engine.casebook.book import CaseBook
from engine.casebook.erasure import Erased
from engine.casebook.queries import EVERY_CASE
from engine.errors import BookError
from engine.policy.driver import default_engine
from tests.helpers import CASES, run_main
from tests.live_books import file_bytes
from tui import data

NINO = "QQ246810C"


def record_one(db: Path, ref: str = "TRN-0001") -> None:
    from engine.intake.scenarios import iter_cases
    case = next(c for c in iter_cases(CASES) if not isinstance(c, Exception) and c.case == ref)
    engine = default_engine()
    ruleset = engine.ruleset_for(case)
    with CaseBook(db, training=True) as book:
        book.record(case, engine.decide(case, ruleset), ruleset, "tester")


def test_a_draft_is_saved_replaced_removed_and_verify_stays_clean(tmp_path: Path) -> None:
    db = tmp_path / "book.db"
    with CaseBook(db) as book:
        first = book.save_draft("DRAFT-1", dt.date(2013, 6, 1), NINO, {"benefit": "jsa"}, "tester")
        assert book.kind == "training"  # a QQ number makes a new book a training book, as record does
        second = book.save_draft("DRAFT-1", dt.date(2013, 6, 1), NINO, {"benefit": "esa_wrag"}, "tester")
        assert [(d.id, d.answers) for d in book.drafts()] == [(second, {"benefit": "esa_wrag"})]
        assert first != second
        assert book.verify()[1] == []
        assert book.remove_drafts("DRAFT-1", "tester") == 1
        assert book.drafts() == []
        assert book.verify()[1] == []
    assert NINO.encode() not in file_bytes(db)


def test_a_draft_edited_outside_pathways_fails_verify(tmp_path: Path) -> None:
    db = tmp_path / "book.db"
    with CaseBook(db) as book:
        book.save_draft("DRAFT-1", dt.date(2013, 6, 1), NINO, {"benefit": "jsa"}, "tester")
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER drafts_no_update")
    conn.execute("UPDATE drafts SET answers = '{}'")
    conn.execute("CREATE TRIGGER drafts_no_update BEFORE UPDATE ON drafts "
                 "BEGIN SELECT RAISE(ABORT, 'drafts is append-only'); END")
    conn.commit()
    conn.close()
    with CaseBook(db, create=False) as book:
        problems = [str(p) for p in book.verify()[1]]
    assert problems == ["drafts 1 was changed after it was recorded: the audit log holds only the row's hash, "
                        "so which field cannot be told"]


def test_drafts_are_append_only(tmp_path: Path) -> None:
    db = tmp_path / "book.db"
    with CaseBook(db) as book:
        book.save_draft("DRAFT-1", dt.date(2013, 6, 1), NINO, {}, "tester")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            book.conn.execute("DELETE FROM drafts")


def test_a_live_book_refuses_a_qq_draft(tmp_path: Path) -> None:
    db = tmp_path / "book.db"
    with CaseBook(db, training=False) as book, pytest.raises(BookError, match="synthetic"):
        book.save_draft("DRAFT-1", dt.date(2013, 6, 1), NINO, {}, "tester")


def test_erase_takes_a_cases_draft_and_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "book.db"
    record_one(db)
    with CaseBook(db) as book:
        book.save_draft("TRN-0001", dt.date(2013, 6, 1), NINO, {"benefit": "jsa"}, "tester")
        book.save_draft("ONLY-DRAFT", dt.date(2013, 6, 1), "QQ135791A", {}, "tester")
        book.set_case_status("TRN-0001", "closed", "tester", "moved away")
        assert book.case_statuses() == {"TRN-0001": "closed"}
    assert run_main(capsys, "erase", "TRN-0001", "--db", str(db), "--yes").code == 0
    assert run_main(capsys, "erase", "ONLY-DRAFT", "--db", str(db), "--yes").code == 0
    with CaseBook(db) as book:
        assert book.drafts() == [] and book.case_statuses() == {}
    assert NINO.encode() not in file_bytes(db) and b"QQ135791A" not in file_bytes(db)
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0


def test_retention_takes_old_drafts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "book.db"
    with CaseBook(db) as book:
        book.save_draft("OLD-DRAFT", dt.date(2013, 6, 1), NINO, {}, "tester")
        assert book.retain("9999-01-01T00:00:00+00:00", "tester") == Erased(0, True)
        assert book.drafts() == []
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0


def test_case_status_changes_are_audited_and_checked(tmp_path: Path) -> None:
    db = tmp_path / "book.db"
    record_one(db)
    with CaseBook(db) as book:
        with pytest.raises(BookError, match="already open"):
            book.set_case_status("TRN-0001", "open", "tester")
        with pytest.raises(BookError, match="no case"):
            book.set_case_status("NOPE", "closed", "tester")
        book.set_case_status("TRN-0001", "closed", "tester")
        book.set_case_status("TRN-0001", "open", "tester")
        assert book.case_statuses() == {"TRN-0001": "open"}
        assert book.verify()[1] == []
    page = data.case_page(db, EVERY_CASE)
    assert [(r.ref, r.status) for r in page.rows] == [("TRN-0001", "open")]

"""The case book: private files, live/training separation, referrals, export, concurrency, crashes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.casebook.book import CaseBook
from engine.casebook.db import BookError
from engine.intake.loader import read_case_file
from engine.intake.validate import build_case
from engine.policy.driver import default_engine
from tests.conftest import record_scenarios
from tests.helpers import CASES, ROOT, run_main

CASE1 = CASES / "001-jsa-heroin-toddlers-nfa.yaml"


def test_files_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "new" / "dir" / "book.db"
        with CaseBook(path, training=True) as book:
            record_scenarios(book, 2)
            for suffix in ("", "-wal", "-shm"):
                mode = stat.S_IMODE((path.parent / (path.name + suffix)).stat().st_mode)
                assert mode == 0o600, (suffix, oct(mode))
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    finally:
        os.umask(old)


def test_every_pragma_is_set(tmp_path: Path) -> None:
    with CaseBook(tmp_path / "b.db") as book:
        get = lambda p: book.conn.execute(f"PRAGMA {p}").fetchone()[0]  # noqa: E731
        assert get("journal_mode") == "wal"
        assert (get("foreign_keys"), get("synchronous"), get("secure_delete"), get("trusted_schema")) == (1, 2, 1, 0)
        assert get("busy_timeout") >= 5000


def test_live_and_training_books_stay_apart(tmp_path: Path, capsys) -> None:
    live = tmp_path / "live.db"
    result = run_main(capsys, "record", "--reasonable", str(CASE1), "--db", str(live), "--live")
    assert result.code == 2 and "live case book refuses synthetic QQ" in result.err
    result = run_main(capsys, "record", "--reasonable", str(CASE1), "--db", str(live))
    assert result.code == 2 and "live case book refuses synthetic QQ" in result.err
    with CaseBook(live) as book:
        assert book.kind == "live" and book.decisions() == []
    with pytest.raises(BookError, match="is a live case book"):
        CaseBook(live, training=True)
    training = tmp_path / "training.db"
    assert run_main(capsys, "record", "--reasonable", str(CASE1), "--db", str(training), "--training").code == 0
    real = CASE1.read_text().replace("QQ", "AB")
    (tmp_path / "real.yaml").write_text(real)
    result = run_main(capsys, "record", "--reasonable", str(tmp_path / "real.yaml"), "--db", str(training))
    assert result.code == 2 and "accepts only synthetic QQ" in result.err
    with CaseBook(training) as book:
        assert book.conn.execute("SELECT value FROM meta WHERE key='kind'").fetchone()[0] == "training"
        assert len(book.decisions()) == 1


def test_a_new_book_takes_the_kind_of_its_first_case(tmp_path: Path, capsys) -> None:
    assert run_main(capsys, "record", "--reasonable", str(CASE1), "--db", str(tmp_path / "a.db")).code == 0
    with CaseBook(tmp_path / "a.db") as book:
        assert book.kind == "training"
    real = tmp_path / "real.yaml"
    real.write_text(CASE1.read_text().replace("QQ", "AB").replace("as_of: 2008-06-02", "as_of: 2010-06-02"))
    assert run_main(capsys, "record", "--reasonable", str(real), "--db", str(tmp_path / "b.db")).code == 0
    with CaseBook(tmp_path / "b.db") as book:
        assert book.kind == "live"
    assert run_main(capsys, "record", "--reasonable", str(CASE1), "--db", str(tmp_path / "b.db")).code == 2


def test_referral_lifecycle_is_validated(training_book: CaseBook) -> None:
    first = training_book.decisions(ref="TRN-0001")[0].id
    with pytest.raises(BookError, match="does not call for a REFER_EMPLOYMENT_SUPPORT"):
        training_book.add_referral(first, "REFER_EMPLOYMENT_SUPPORT", "Progress2work", "T1")
    rid = training_book.add_referral(first, "REFER_HOUSING_ADVICE", "Housing Options", "T1")
    with pytest.raises(BookError, match="needs an appointment date"):
        training_book.update_referral(rid, "booked", "T1")
    with pytest.raises(BookError, match="a proposed referral cannot become attended"):
        training_book.update_referral(rid, "attended", "T1")
    import datetime as dt
    training_book.update_referral(rid, "booked", "T1", dt.date(2008, 6, 9), "Tuesday 10am")
    training_book.update_referral(rid, "did_not_attend", "T1")
    training_book.update_referral(rid, "booked", "T1", dt.date(2008, 6, 16))
    training_book.update_referral(rid, "attended", "T2")
    (ref,) = training_book.referrals(first)
    assert ref.status == "attended" and ref.appointment == "2008-06-16"
    assert [h.status for h in ref.history] == ["proposed", "booked", "did_not_attend", "booked", "attended"]
    assert [h.actor for h in ref.history][-1] == "T2"
    with pytest.raises(BookError, match="control, format or bidi characters"):
        training_book.add_referral(first, "REFER_HOUSING_ADVICE", "Evil\x1b[2J", "T1")
    assert training_book.verify()[1] == []


def test_export_is_pseudonymised_by_default(training_book: CaseBook, tmp_path: Path, capsys) -> None:
    db = str(training_book.path)
    out = run_main(capsys, "export", "--db", db, "--format", "json").out
    rows = json.loads(out)
    assert len(rows) == len(training_book.decisions())
    text = out
    assert "QQ" not in text and "TRN-" not in text
    identified = run_main(capsys, "export", "--db", db, "--identified", "--format", "csv").out
    assert "TRN-0001" in identified and "QQ" in identified
    target = tmp_path / "export.csv"
    assert run_main(capsys, "export", "--db", db, "-o", str(target)).code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert run_main(capsys, "export", "--db", db, "-o", str(target)).code == 2


WRITER = """
import sys
from engine.casebook.book import CaseBook
from engine.policy.driver import default_engine
from engine.intake.loader import read_case_file
from engine.intake.validate import build_case
import attrs
engine = default_engine()
base = build_case(read_case_file(sys.argv[2]))
with CaseBook(sys.argv[1], training=True) as book:
    for i in range(int(sys.argv[3])):
        case = attrs.evolve(base, case=f"P{sys.argv[4]}-{i}")
        rs = engine.ruleset_for(case)
        book.record(case, engine.decide(case, rs), rs, "W" + sys.argv[4])
"""


def test_four_processes_recording_at_once_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    CaseBook(db, training=True).close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(CASE1), "60", str(n)], cwd=ROOT,
                              stderr=subprocess.PIPE) for n in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()[-2000:]
    with CaseBook(db) as book:
        assert len(book.decisions(limit=-1)) == 240
        count, problems = book.verify()
        assert problems == [] and count == 1 + 1 + 240  # genesis, one rule set snapshot, 240 decisions


BATCH_WRITER = """
import sys, attrs
from engine.casebook.book import CaseBook
from engine.policy.driver import default_engine
from engine.intake.loader import read_case_file
from engine.intake.validate import build_case
engine = default_engine()
base = build_case(read_case_file(sys.argv[2]))
items = []
for i in range(4000):
    case = attrs.evolve(base, case=f"K-{i}")
    rs = engine.ruleset_for(case)
    items.append((case, engine.decide(case, rs), rs))
with CaseBook(sys.argv[1], training=True) as book:
    print("ready", flush=True)
    while True:
        book.record_many(items, "K")
"""


def test_sigkill_during_a_write_leaves_no_partial_decision(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    proc = subprocess.Popen([sys.executable, "-c", BATCH_WRITER, str(db), str(CASE1)], cwd=ROOT,
                            stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with CaseBook(db) as book:
        decisions = len(book.decisions(limit=-1))
        assert decisions % 4000 == 0
        orphans = book.conn.execute(
            "SELECT COUNT(*) FROM cases WHERE id NOT IN (SELECT case_id FROM decisions)").fetchone()[0]
        assert orphans == 0
        assert book.verify()[1] == []


def test_record_prints_the_decision_id(tmp_path: Path, capsys) -> None:
    result = run_main(capsys, "record", "--reasonable", str(CASE1), "--db", str(tmp_path / "t.db"), "--training", "--adviser", "A1")
    assert (result.code, result.out.strip()) == (0, "1")
    case = build_case(read_case_file(CASE1))
    with CaseBook(tmp_path / "t.db") as book:
        row = book.decision_record(1)
        assert row is not None and row.adviser == "A1" and row.nino == case.nino
        assert json.loads(row.decision) == default_engine().decide(case).to_data()


@pytest.mark.parametrize("text", ["bad\x9bcsi", "rtl\u202eoverride", "zero\u200bwidth", "line\u2028sep"])
def test_referral_text_refuses_invisible_and_bidi_characters(training_book: CaseBook, text: str) -> None:
    with pytest.raises(BookError, match="control, format or bidi"):
        training_book.add_referral(1, "REFER_HOUSING_ADVICE", text, "T1")


def test_claimant_numbers_cannot_be_changed_in_place(training_book: CaseBook) -> None:
    conn = sqlite3.connect(training_book.path)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("UPDATE claimants SET nino = NULL")
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("DELETE FROM claimants")
    conn.close()


def test_a_live_book_refuses_a_decision_under_the_announced_2008_policy(tmp_path: Path, capsys) -> None:
    """The 2008 compulsion was announced and never commenced: training books only."""
    live = tmp_path / "live.db"
    real = tmp_path / "real.yaml"
    real.write_text(CASE1.read_text().replace("QQ", "AB").replace("as_of: 2008-06-02", "as_of: 2010-06-02"))
    assert run_main(capsys, "record", "--reasonable", str(real), "--db", str(live)).code == 0
    before = live.read_bytes()
    announced = tmp_path / "announced.yaml"
    announced.write_text(CASE1.read_text().replace("QQ", "AB"))
    result = run_main(capsys, "record", "--reasonable", str(announced), "--db", str(live))
    assert result.code == 2 and "announced and never in force" in result.err
    assert live.read_bytes() == before
    fresh = tmp_path / "fresh.db"
    assert run_main(capsys, "record", "--reasonable", str(announced), "--db", str(fresh)).code == 2
    with CaseBook(fresh) as book:
        assert book.kind is None and book.decision_ids() == []
    training = tmp_path / "training.db"
    assert run_main(capsys, "record", "--reasonable", str(CASE1), "--db", str(training), "--training").code == 0
    shown = run_main(capsys, "evaluate", str(CASE1))
    assert "ANNOUNCED POLICY, NEVER IN FORCE" in shown.out
    assert '"edition_status":"announced"' in run_main(capsys, "evaluate", str(CASE1), "--json").out

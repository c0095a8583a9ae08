"""Erasure and retention: personal data leaves the file, the audit chain still verifies."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import click
import pytest

from engine.casebook.book import CaseBook
from engine.cli.book import parse_duration
from tests.helpers import CASES, run_main
from tests.live_books import file_bytes

SCENARIO_COUNT = len(list(CASES.glob("*.yaml")))

CANARY = "QQ987654D"


def canary_case(tmp_path: Path) -> Path:
    text = (CASES / "001-jsa-heroin-toddlers-nfa.yaml").read_text()
    text = text.replace("case: TRN-0001", "case: CANARY-1")
    import re
    text = re.sub(r"nino: QQ[0-9]{6}[A-D]", f"nino: {CANARY}", text)
    path = tmp_path / "canary.yaml"
    path.write_text(text)
    return path


def test_erase_removes_the_claimant_from_the_file(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    canary = canary_case(tmp_path)
    assert run_main(capsys, "record", "--reasonable", str(canary), "--db", str(db), "--training").code == 0
    assert run_main(capsys, "batch", str(CASES), "--db", str(db), "--quiet").code == 0
    assert run_main(capsys, "referral", "add", "1", "REFER_HOUSING_ADVICE", "--provider", "Shelter",
                    "--db", str(db)).code == 0
    assert CANARY.encode() in file_bytes(db)
    result = run_main(capsys, "erase", "CANARY-1", "--db", str(db), "--yes")
    assert result.code == 0 and "1 decision(s)" in result.out
    assert CANARY.encode() not in file_bytes(db)
    assert b"CANARY-1" not in file_bytes(db)
    verify = run_main(capsys, "audit", "verify", "--db", str(db))
    assert verify.code == 0, verify.err
    replay = run_main(capsys, "replay", "--db", str(db), "--all", "--json")
    assert replay.code == 0 and len(replay.out.splitlines()) == SCENARIO_COUNT
    assert run_main(capsys, "erase", "CANARY-1", "--db", str(db), "--yes").code == 2


def test_erasure_gate_is_closed_outside_erasure(tmp_path: Path) -> None:
    with CaseBook(tmp_path / "b.db", training=True) as book:
        from tests.conftest import record_scenarios
        record_scenarios(book, 3)
    conn = sqlite3.connect(tmp_path / "b.db")
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("DELETE FROM decisions")
    conn.close()


def test_retention_erases_old_cases_only(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    assert run_main(capsys, "batch", str(CASES), "--db", str(db), "--quiet").code == 0
    assert run_main(capsys, "retain", "--db", str(db), "--older-than", "1d", "--yes").out.startswith(
        "retention applied: 0")
    with CaseBook(db) as book:
        cutoff = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)).isoformat()
        assert book.retain(cutoff, "T1").decisions == SCENARIO_COUNT
        assert book.decision_ids() == []
        assert book.verify()[1] == []
        last = json.loads(book.conn.execute("SELECT body FROM audit ORDER BY seq DESC LIMIT 1").fetchone()[0])
        assert len(last["rows"]["decisions"]) == SCENARIO_COUNT
        events = [r[0] for r in book.conn.execute("SELECT event FROM audit")]
        assert events[-1] == "retention.applied"


def test_durations() -> None:
    now = dt.datetime(2024, 3, 31, 12, 0)
    assert parse_duration("1m", now) == dt.datetime(2024, 2, 29, 12, 0)
    assert parse_duration("6y", now) == dt.datetime(2018, 3, 31, 12, 0)
    assert parse_duration("2w", now) == dt.datetime(2024, 3, 17, 12, 0)
    with pytest.raises(click.BadParameter):
        parse_duration("six years", now)


def test_canary_never_leaks_through_commands_or_a_crash(tmp_path: Path, capsys, monkeypatch) -> None:
    db = tmp_path / "book.db"
    canary = canary_case(tmp_path)
    outputs = []
    for args in (["evaluate", str(canary)], ["evaluate", str(canary), "--json", "--trace"],
                 ["record", "--reasonable", str(canary), "--db", str(db)], ["replay", "--db", str(db), "--all", "--json"],
                 ["audit", "verify", "--db", str(db)], ["audit", "anchor", "--db", str(db)],
                 ["export", "--db", str(db), "--format", "json"], ["export", "--db", str(db), "--what", "referrals"],
                 ["referral", "list", "--db", str(db)], ["cases", "test", str(canary)]):
        result = run_main(capsys, *args)
        outputs.append(result.out + result.err)
    import engine.policy.driver

    def explode(*_args, **_kwargs):
        raise RuntimeError(f"boom with {CANARY} inside")

    monkeypatch.setattr(engine.policy.driver.Engine, "decide", explode)
    crash = run_main(capsys, "evaluate", str(canary))
    assert crash.code == 3 and "internal error (RuntimeError)" in crash.err
    outputs.append(crash.out + crash.err)
    for text in outputs:
        assert CANARY not in text

"""Exports as their readers expect them (#16): a JSON array, JSON Lines, real lists, dates a spreadsheet reads."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import CASES, run_main

DIRECTION = CASES / "001-jsa-heroin-toddlers-nfa.yaml"  # 2008: five outcomes, two referrals
IN_FORCE = next(CASES.glob("039-*.yaml"))               # 2010: two referrals


@pytest.fixture
def book(tmp_path: Path, capsys) -> str:
    """A training book: one decision with a declined outcome, one accepted whole, one referral."""
    db = str(tmp_path / "book.db")
    assert run_main(capsys, "record", str(DIRECTION), "--db", db, "--training", "--reasonable",
                    "--decline", "REFER_HOUSING_ADVICE=claimant_declined").code == 0
    assert run_main(capsys, "record", str(IN_FORCE), "--db", db).code == 0
    assert run_main(capsys, "referral", "add", "2", "REFER_TREATMENT_PROVIDER", "--provider", "Leeds DIP",
                    "--db", db).code == 0
    return db


def test_json_is_one_array_that_pandas_reads_with_lists_as_lists(book: str, tmp_path: Path, capsys) -> None:
    target = tmp_path / "decisions.json"
    assert run_main(capsys, "export", "--db", book, "--format", "json", "-o", str(target)).code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    rows = json.loads(target.read_text(encoding="utf-8"))
    assert isinstance(rows, list) and [r["decision"] for r in rows] == [1, 2]
    first = rows[0]
    assert first["outcomes"] == ["JSD_TREATMENT_DISCUSSION", "PARENT_PRIORITY", "REFER_HOUSING_ADVICE",
                                 "REFER_TREATMENT_PROVIDER", "SAFEGUARDING_CONSIDERATION"]
    assert first["declined"] == [{"code": "REFER_HOUSING_ADVICE", "reason": "claimant_declined"}]
    assert "REFER_HOUSING_ADVICE" not in first["accepted"] and "PARENT_PRIORITY" in first["accepted"]
    frame = pd.read_json(target, orient="records")
    assert len(frame) == 2 and list(frame["outcomes"][0]) == first["outcomes"]
    assert str(frame["recorded_at"].dtype).startswith("datetime64")


def test_jsonl_is_one_object_a_line(book: str, capsys) -> None:
    out = run_main(capsys, "export", "--db", book, "--format", "jsonl").out
    lines = out.splitlines()
    assert len(lines) == 2 and all(isinstance(json.loads(line)["outcomes"], list) for line in lines)
    assert len(pd.read_json(io.StringIO(out), lines=True)) == 2


def test_csv_times_parse_as_dates_and_lists_are_space_joined(book: str, tmp_path: Path, capsys) -> None:
    target = tmp_path / "decisions.csv"
    assert run_main(capsys, "export", "--db", book, "-o", str(target)).code == 0
    frame = pd.read_csv(target, parse_dates=["recorded_at"])
    assert str(frame["recorded_at"].dtype).startswith("datetime64")
    (row, _) = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert len(row["recorded_at"]) == 19 and row["recorded_at"][10] == " "  # YYYY-MM-DD HH:MM:SS, UTC
    assert row["outcomes"].split() == json.loads(run_main(capsys, "export", "--db", book, "--format", "json")
                                                  .out)[0]["outcomes"]
    assert row["declined"] == "REFER_HOUSING_ADVICE:claimant_declined"
    referrals = pd.read_csv(io.StringIO(run_main(capsys, "export", "--db", book, "--what", "referrals").out),
                            parse_dates=["created_at"])
    assert str(referrals["created_at"].dtype).startswith("datetime64")


def test_referrals_identified_name_the_nino_and_pseudonymised_never(book: str, capsys) -> None:
    (identified,) = json.loads(run_main(capsys, "export", "--db", book, "--what", "referrals", "--format", "json",
                                        "--identified").out)
    assert identified["nino"].startswith("QQ") and identified["case"].startswith("TRN-")
    assert identified["status"] == "proposed" and identified["provider"] == "Leeds DIP"
    (plain,) = json.loads(run_main(capsys, "export", "--db", book, "--what", "referrals", "--format", "json").out)
    assert "nino" not in plain and not plain["case"].startswith("TRN-")
    header = run_main(capsys, "export", "--db", book, "--what", "referrals", "--identified").out.splitlines()[0]
    assert header.endswith(",nino")


def test_dash_writes_to_standard_output_and_no_file_named_dash(book: str, tmp_path: Path, capsys,
                                                               monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_main(capsys, "export", "--db", book, "--format", "jsonl", "-o", "-")
    assert result.code == 0 and len(result.out.splitlines()) == 2 and not (tmp_path / "-").exists()


def test_an_empty_export_is_still_well_formed(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "empty.db")
    assert run_main(capsys, "record", str(IN_FORCE), "--db", db).code == 0
    assert json.loads(run_main(capsys, "export", "--db", db, "--what", "referrals", "--format", "json").out) == []

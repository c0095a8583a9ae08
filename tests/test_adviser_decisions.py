"""The adviser decides (#11): per-outcome decisions recorded with the recommendation, shown, audited, replayed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.helpers import CASES, run_main

DIRECTION = CASES / "001-jsa-heroin-toddlers-nfa.yaml"  # 2008: JSD, referrals, priorities (training only)
IN_FORCE = next(CASES.glob("039-*.yaml"))               # 2010: no requirement; two referrals


def record(capsys, db: Path, case: Path, *extra: str):
    return run_main(capsys, "record", str(case), "--db", str(db), "--training", "--adviser", "A1", *extra)


def test_a_declined_outcome_is_stored_with_its_reason_and_shown(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    result = record(capsys, db, DIRECTION, "--reasonable", "--decline", "REFER_HOUSING_ADVICE=other:no local service",
                    "--decline", "PARENT_PRIORITY=facts_disputed")
    assert (result.code, result.out.strip()) == (0, "1"), result.err
    shown = json.loads(run_main(capsys, "show", "1", "--db", str(db), "--json").out)
    assert shown["decision"] == 1 and shown["case"] == "TRN-0001" and shown["adviser"] == "A1"
    assert shown["recommendation"]["edition_status"] == "announced"
    choices = {c["code"]: c for c in shown["adviser_decisions"]}
    assert set(choices) == {o["code"] for o in shown["recommendation"]["outcomes"]}
    assert choices["REFER_HOUSING_ADVICE"] == {"code": "REFER_HOUSING_ADVICE", "accepted": False, "reason": "other",
                                               "note": "no local service"}
    assert choices["PARENT_PRIORITY"]["reason"] == "facts_disputed"
    assert choices["JSD_TREATMENT_DISCUSSION"]["accepted"] and choices["JSD_TREATMENT_DISCUSSION"]["reasonable"]
    assert shown["audit_event"]["seq"] >= 1
    listed = [json.loads(line) for line in run_main(capsys, "decisions", "list", "--db", str(db), "--json").out.splitlines()]
    assert listed[0]["declined"] == ["PARENT_PRIORITY", "REFER_HOUSING_ADVICE"] and listed[0]["reviewed"]


def test_refusals_write_nothing(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    assert record(capsys, db, IN_FORCE).code == 0
    before = db.read_bytes()
    cases = [
        (DIRECTION, (), "--reasonable"),  # an accepted requirement without confirming it is reasonable
        (IN_FORCE, ("--decline", "JSD_TREATMENT_DISCUSSION=not_reasonable"), "not recommended"),
        (IN_FORCE, ("--decline", "REFER_HOUSING_ADVICE=because"), "not a reason"),
        (IN_FORCE, ("--decline", "REFER_HOUSING_ADVICE=other"), "needs a note"),
        (IN_FORCE, ("--decline", "REFER_HOUSING_ADVICE"), "CODE=REASON"),
    ]
    for case, extra, words in cases:
        result = record(capsys, db, case, *extra)
        assert result.code == 2 and words in result.err, (extra, result.err)
    (opened,) = CASES.glob("086-*.yaml")  # housing consent unknown: the housing outcomes are open
    result = record(capsys, db, opened, "--decline", "REFER_HOUSING_ADVICE=claimant_declined")
    assert result.code == 2 and "is open" in result.err
    assert db.read_bytes() == before


def test_changing_a_stored_adviser_decision_is_caught_and_replay_reports_them(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    assert record(capsys, db, IN_FORCE, "--decline", "REFER_HOUSING_ADVICE=claimant_declined").code == 0
    assert record(capsys, db, IN_FORCE).code == 0
    replay = [json.loads(line) for line in run_main(capsys, "replay", "--db", str(db), "--all", "--json").out.splitlines()]
    assert [r["status"] for r in replay] == ["MATCH", "MATCH"]
    first = next(r for r in replay if r["decision"] == 1)
    assert {c["code"]: c["accepted"] for c in first["adviser_decisions"]}["REFER_HOUSING_ADVICE"] is False
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0
    for sql in ("UPDATE adviser_decisions SET choices = replace(choices, '\"accepted\":false', '\"accepted\":true') WHERE decision_id = 1",
                "UPDATE adviser_decisions SET choices = replace(choices, 'claimant_declined', 'not_reasonable') WHERE decision_id = 1",
                "DELETE FROM adviser_decisions WHERE decision_id = 1"):
        copy = tmp_path / "copy.db"
        copy.write_bytes(db.read_bytes())
        conn = sqlite3.connect(copy)
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        changed = conn.execute(sql).rowcount
        conn.commit()
        conn.close()
        assert changed == 1, sql
        verify = run_main(capsys, "audit", "verify", "--db", str(copy))
        assert verify.code == 1 and "the adviser's decisions on decision 1" in verify.out + verify.err, sql
        copy.unlink()


def test_referrals_only_for_accepted_referral_outcomes(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    assert record(capsys, db, IN_FORCE, "--decline", "REFER_HOUSING_ADVICE=not_available_locally").code == 0
    refused = run_main(capsys, "referral", "add", "1", "REFER_HOUSING_ADVICE", "--provider", "Shelter", "--db", str(db))
    assert refused.code == 2 and "declined" in refused.err
    assert run_main(capsys, "referral", "add", "1", "REFER_TREATMENT_PROVIDER", "--provider", "CGL",
                    "--db", str(db)).code == 0


def test_the_letter_holds_accepted_texts_only(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    assert record(capsys, db, DIRECTION, "--reasonable", "--decline", "REFER_HOUSING_ADVICE=claimant_declined").code == 0
    shown = json.loads(run_main(capsys, "show", "1", "--db", str(db), "--json").out)
    texts = {o["code"]: o["text"] for o in shown["recommendation"]["outcomes"]}
    text = run_main(capsys, "letter", "1", "--db", str(db), "--format", "text").out
    flat = " ".join(text.split())
    assert "ANNOUNCED POLICY, NEVER IN FORCE: TRAINING COPY" in flat
    assert "Jobseeker's Direction" in flat and "Going to the meeting is required" in flat
    assert "A Decision Maker, not your adviser, decides" in flat
    for code, words in texts.items():
        if words and code != "REFER_HOUSING_ADVICE":
            assert " ".join(words.split()) in flat, code
    assert " ".join(texts["REFER_HOUSING_ADVICE"].split()) not in flat
    assert "QQ" not in text and "National Insurance" not in text
    identified = run_main(capsys, "letter", "1", "--db", str(db), "--format", "text", "--identified").out
    assert "National Insurance number: QQ" in identified
    html_file = tmp_path / "letter.html"
    assert run_main(capsys, "letter", "1", "--db", str(db), "-o", str(html_file)).code == 0
    page = html_file.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "@media print" in page and "http" not in page.split("<body>")[0]
    assert (html_file.stat().st_mode & 0o777) == 0o600

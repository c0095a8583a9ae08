"""Datasette-ready books (#16): auditors' views with one name for when and who, metadata, canned queries."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from datasette.app import Datasette

from engine.casebook.book import CaseBook
from engine.casebook.datasette import VIEW_DOCS, metadata
from engine.casebook.db import VIEWS
from tests.helpers import CASES, run_main

DIRECTION = CASES / "001-jsa-heroin-toddlers-nfa.yaml"
IN_FORCE = next(CASES.glob("039-*.yaml"))


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """A book: decision 1 with a declined outcome, decision 2 accepted whole; one open and one closed referral."""
    from engine.cli import main

    path = tmp_path_factory.mktemp("ds") / "district.db"

    def run(*args: str) -> None:
        try:
            main(list(args))
        except SystemExit as exc:
            assert exc.code in (0, None), args

    run("record", str(DIRECTION), "--db", str(path), "--training", "--reasonable", "--adviser", "A1",
        "--decline", "REFER_HOUSING_ADVICE=other:no service nearby")
    run("record", str(IN_FORCE), "--db", str(path), "--adviser", "A2")
    run("referral", "add", "2", "REFER_TREATMENT_PROVIDER", "--provider", "Leeds DIP", "--db", str(path),
        "--adviser", "A2")
    run("referral", "add", "2", "REFER_HOUSING_ADVICE", "--provider", "Shelter", "--db", str(path), "--adviser", "A2",
        "--appointment", "2010-01-20")
    run("referral", "update", "2", "attended", "--db", str(path), "--adviser", "A3")
    return path


async def fetch(ds: Datasette, path: str) -> list[dict]:
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:300])
    return response.json()


async def test_datasette_serves_every_view_and_canned_query(book: Path) -> None:
    ds = Datasette([str(book)], metadata=metadata(book.stem))
    await ds.invoke_startup()
    decisions = await fetch(ds, "/district/decisions_readable.json?_shape=array&_sort=decision")
    assert [(d["decision"], d["case"], d["edition_status"], d["recorded_by"]) for d in decisions] == [
        (1, "TRN-0001", "announced", "A1"), (2, "TRN-0039", "in_force", "A2")]
    assert json.loads(decisions[0]["declined"]) == ["REFER_HOUSING_ADVICE"] and decisions[1]["declined"] == "[]"
    assert decisions[0]["outcome_count"] == 5 and decisions[0]["reviewed"] == 1

    referrals = await fetch(ds, "/district/referrals_current.json?_shape=array&_sort=referral")
    assert [(r["referral"], r["status"], r["open"], r["appointment"]) for r in referrals] == [
        (1, "proposed", 1, None), (2, "attended", 0, "2010-01-20")]
    assert (referrals[1]["recorded_by"], referrals[1]["status_recorded_by"]) == ("A2", "A3")

    events = await fetch(ds, "/district/audit_events_readable.json?_shape=array&decision=2&_sort=seq")
    assert [e["event"] for e in events] == ["decision.recorded", "referral.added", "referral.added"]
    history = await fetch(ds, "/district/case_history.json?_shape=array&case=TRN-0039&_sort=recorded_at")
    assert [h["what"] for h in history] == ["decision recorded", "adviser decided", "referral proposed",
                                            "referral booked", "referral attended"]
    assert history[-1]["detail"] == "REFER_HOUSING_ADVICE to Shelter" and history[-1]["recorded_by"] == "A3"

    open_referrals = await fetch(ds, "/district/open_referrals_by_age.json?_shape=array")
    assert [(r["referral"], r["age_days"]) for r in open_referrals] == [(1, 0)]
    counts = await fetch(ds, "/district/decisions_by_edition_and_outcome.json?_shape=array")
    assert {"edition": "2009-voluntary", "outcome": "VOLUNTARY_TREATMENT_REFERRAL", "decisions": 1} in counts
    assert sum(c["decisions"] for c in counts if c["edition"] == "2008-announced") == 5
    declined = await fetch(ds, "/district/declined_outcomes.json?_shape=array")
    assert declined == [{"decision": 1, "case": "TRN-0001", "edition": "2008-announced",
                         "code": "REFER_HOUSING_ADVICE", "reason": "other", "note": "no service nearby",
                         "recorded_by": "A1", "recorded_at": decisions[0]["recorded_at"]}]

    tables = {t["name"]: t for t in (await ds.client.get("/district.json")).json()["tables"]}
    assert tables["meta"]["hidden"] and not tables["decisions"]["hidden"]
    with CaseBook(book, create=False) as opened:  # Datasette only read the book
        assert opened.verify()[1] == []


def test_every_view_column_is_described_and_uses_one_name_for_when_and_who(book: Path) -> None:
    conn = sqlite3.connect(book)
    for name in VIEWS:
        columns = [d[0] for d in conn.execute(f"SELECT * FROM {name} LIMIT 0").description]
        assert columns == list(VIEW_DOCS[name][1]), name
        assert "recorded_at" in columns and "recorded_by" in columns
        assert not {"ts", "actor", "at", "created_at", "created_by", "decided_at", "decided_by", "adviser"} & set(columns)
    recorded = conn.execute("SELECT recorded_at FROM decisions_readable").fetchall()
    assert all(dt.datetime.fromisoformat(r[0]).tzinfo is not None for r in recorded)
    conn.close()


def test_the_open_referral_view_agrees_with_the_lifecycle(book: Path) -> None:
    from engine.casebook.referrals import CLOSED_STATUSES

    assert "NOT IN ('closed', 'declined', 'attended')" in VIEWS["referrals_current"]
    assert set(CLOSED_STATUSES) == {"closed", "declined", "attended"}


def test_metadata_command_names_the_database_after_the_file(book: Path, capsys) -> None:
    result = run_main(capsys, "datasette-metadata", "--db", str(book))
    data = json.loads(result.out)
    assert result.code == 0 and set(data["databases"]) == {"district"}
    assert set(data["databases"]["district"]["queries"]) == {"open_referrals_by_age", "decisions_by_edition_and_outcome",
                                                             "declined_outcomes"}


def test_an_altered_or_dropped_view_is_flagged_and_old_books_gain_the_views(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    assert run_main(capsys, "record", str(IN_FORCE), "--db", str(db), "--training").code == 0
    conn = sqlite3.connect(db)
    conn.execute("DROP VIEW referrals_current")
    conn.execute("CREATE VIEW referrals_current AS SELECT * FROM referrals WHERE 0")  # hides every referral
    conn.commit()
    result = run_main(capsys, "audit", "verify", "--db", str(db))
    assert result.code == 1 and "auditors' views are missing or altered: referrals_current" in result.err
    for name in VIEWS:  # a book made before the views: none, and no record of the migration
        conn.execute(f"DROP VIEW IF EXISTS {name}")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm004_auditor_views'")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0  # an old book is not at fault
    assert db.read_bytes() == before, "verify opens the book read-only: it never migrates it"
    assert run_main(capsys, "record", str(IN_FORCE), "--db", str(db)).code == 0  # a writing open migrates it
    conn = sqlite3.connect(db)
    assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")} == set(VIEWS)
    conn.close()

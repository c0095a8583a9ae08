"""Keyed hashes (#15 item 3): nothing in a book lets its holder confirm a guessed NINO or guessed case facts."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.casebook import audit, compact
from engine.casebook.book import CaseBook
from engine.casebook.db import connect, write
from engine.policy.rulebook import canonical_json
from tests.conftest import record_scenarios
from tests.helpers import CASES, run_main
from tests.live_books import file_bytes, record_live

NINOS = ("AB123456C", "CE654321A")


def unkeyed_hashes(db: Path, ninos: tuple[str, ...], case_ids: range) -> dict[str, str]:
    """Every unkeyed sha256 an attacker holding only the book would compute to confirm a guess, by what it covers:
    a claimant row (as the audit log used to vouch for it), a NINO on its own, and each case's stored inputs."""
    out = {}
    for nino in ninos:
        out[audit.sha256_text(nino)] = f"NINO {nino}"
        for case_id in case_ids:
            row = {"case_id": case_id, "nino": nino}
            out[audit.row_hash(row)[len(audit.ROW_HASH_PREFIX):]] = f"claimant row {case_id}"
            out[audit.sha256_text(canonical_json(row))] = f"claimant row {case_id}"
    conn = sqlite3.connect(db)
    for (inputs,) in conn.execute("SELECT inputs FROM cases"):
        out[audit.sha256_text(compact.expand(conn, inputs))] = "case inputs"  # the JSON, however it is stored
    conn.close()
    return out


def found_in(db: Path, hashes: dict[str, str]) -> set[str]:
    """Which of `hashes` appear anywhere in the book's files."""
    data = file_bytes(db)
    return {what for digest, what in hashes.items() if digest.encode() in data}


def test_no_unkeyed_hash_of_a_nino_or_case_inputs_is_anywhere_in_the_book(tmp_path: Path, capsys) -> None:
    db = tmp_path / "live.db"
    with CaseBook(db, training=False) as book:
        for n, nino in enumerate(NINOS * 2, start=1):
            record_live(book, tmp_path, f"LIVE-{n}", nino)
        book.add_referral(1, "REFER_HOUSING_ADVICE", "Shelter", "A1")
    hashes = unkeyed_hashes(db, NINOS, range(1, 5))
    assert found_in(db, hashes) == set()
    conn = sqlite3.connect(db)
    bodies = [json.loads(b) for (b,) in conn.execute("SELECT body FROM audit WHERE event = 'decision.recorded'")]
    conn.close()
    assert all(b["inputs_hash"].startswith("k1:") for b in bodies)
    assert all(h.startswith("k1:") for b in bodies for t in b["rows"].values() for h in t.values())
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0
    assert run_main(capsys, "replay", "--all", "--db", str(db)).code == 0


def test_the_old_unkeyed_form_was_brute_forceable(tmp_path: Path) -> None:
    """The check above can fail: a book whose events use the pre-#15 form gives the NINO away."""
    db = tmp_path / "old.db"
    make_pre15_book(db)
    with unkeyed(), CaseBook(db) as book:
        record_scenarios(book, limit=2)
        ninos = tuple(r[0] for r in book.conn.execute("SELECT nino FROM claimants"))
    assert {"claimant row 1", "case inputs"} <= found_in(db, unkeyed_hashes(db, ninos, range(1, 3)))


def make_pre15_book(db: Path) -> None:
    """A training book as Pathways made them before #15: its genesis event does not promise keyed hashes."""
    secret, book_id = secrets.token_hex(32), secrets.token_hex(8)
    from engine.casebook import keys

    keys.write_key(book_id, secret)
    conn = connect(db)
    with write(conn) as raw:
        raw.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [("kind", "training"), ("book_id", book_id)])
        audit.append(raw, "system", "book.created", {"kind": "training", "book_id": book_id,
                                                    "secret_sha256": audit.sha256_text(secret), "key": "file"})
    conn.conn.close()


@contextlib.contextmanager
def unkeyed() -> Iterator[None]:
    """Record as Pathways did before #15 (unkeyed row and inputs hashes), inside a `with` block."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CaseBook, "keyed", property(lambda self: None))
        yield


def test_an_existing_book_still_verifies_and_new_events_are_keyed(tmp_path: Path, capsys) -> None:
    db = tmp_path / "old.db"
    make_pre15_book(db)
    with unkeyed(), CaseBook(db) as book:
        record_scenarios(book, limit=2)
        book.add_referral(1, "REFER_HOUSING_ADVICE", "Shelter", "T1")
    with CaseBook(db) as book:
        assert book.verify()[1] == []
        record_scenarios(book, limit=3)  # the same cases again: new events, keyed
        book.add_referral(3, "REFER_HOUSING_ADVICE", "Shelter", "T1")
        assert book.verify()[1] == []
        bodies = [json.loads(b) for (b,) in book.conn.execute("SELECT body FROM audit WHERE event LIKE '%.recorded'")]
    assert [b["inputs_hash"][:3] == "k1:" for b in bodies] == [False, False, True, True, True]
    assert re.fullmatch("[0-9a-f]{64}", bodies[0]["inputs_hash"])
    assert run_main(capsys, "replay", "--all", "--db", str(db)).code == 0
    # a re-run batch skips what is recorded, under either form of inputs hash
    assert run_main(capsys, "batch", str(CASES), "--db", str(db), "--quiet").code == 0
    with CaseBook(db) as book:
        assert len(book.decision_ids()) == 5 + len(list(CASES.glob("*.yaml"))) - 3
        assert book.verify()[1] == []


def test_an_unkeyed_hash_appended_after_keyed_ones_is_flagged(tmp_path: Path) -> None:
    """A forger without the key cannot make a keyed hash, so falls back to the old form: that shows."""
    db = tmp_path / "t.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=1)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DROP TRIGGER decisions_no_update")
    row = dict(zip(("id", "adviser"), conn.execute("SELECT id, adviser FROM decisions").fetchone(), strict=True))
    conn.execute("UPDATE decisions SET adviser = 'SOMEONE-ELSE' WHERE id = ?", (row["id"],))
    cur = conn.execute("SELECT * FROM decisions WHERE id = ?", (row["id"],))
    forged = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    audit.append(conn, "T1", "decision.recorded", {"decision": 1, "rows": {"decisions": {"1": audit.row_hash(forged)}}})
    conn.execute("COMMIT")
    conn.close()
    with CaseBook(db) as book:
        problems = [str(p) for p in book.verify()[1]]
    assert any("unkeyed row hash after keyed hashes began" in p for p in problems)


def test_a_live_book_records_the_operating_system_user_beside_the_adviser(tmp_path: Path, capsys,
                                                                          monkeypatch) -> None:
    monkeypatch.setenv("USER", "mallory")  # the environment says one thing; the account is another
    db = tmp_path / "live.db"
    from tests.live_books import live_case_file

    case = live_case_file(tmp_path, "LIVE-1", NINOS[0])
    result = run_main(capsys, "record", str(case), "--db", str(db), "--live", "--reasonable",
                      "--adviser", "SOMEONE-ELSE")
    assert result.code == 0, result.err
    me = pwd.getpwuid(os.geteuid()).pw_name
    conn = sqlite3.connect(db)
    events = conn.execute("SELECT actor, event, body FROM audit ORDER BY seq").fetchall()
    adviser = conn.execute("SELECT adviser FROM decisions").fetchone()[0]
    conn.close()
    assert {actor for actor, _e, _b in events} == {me}
    recorded = [json.loads(b) for _a, e, b in events if e == "decision.recorded"]
    assert recorded[0]["on_behalf_of"] == "SOMEONE-ELSE" and adviser == "SOMEONE-ELSE"
    shown = run_main(capsys, "show", "1", "--db", str(db), "--json")
    assert json.loads(shown.out)["adviser"] == "SOMEONE-ELSE" and json.loads(shown.out)["audit_event"]["actor"] == me
    readable = run_main(capsys, "show", "1", "--db", str(db)).out
    assert "by SOMEONE-ELSE" in readable and f"by account {me}" in readable

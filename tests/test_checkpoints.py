"""Signed checkpoints and signed erasures (#15 item 8): forgeries after a checkpoint are caught."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.casebook import audit, checkpoints
from engine.casebook.book import CaseBook
from engine.casebook.signing import fingerprint, load_private
from engine.errors import BookError
from tests.helpers import run_main
from tests.live_books import forge_erasure, record_live


@pytest.fixture
def live(tmp_path: Path, capsys) -> dict[str, Path]:
    """A live book with three decisions, a registered data-protection key and a checkpoint taken after it."""
    db = tmp_path / "live.db"
    with CaseBook(db, training=False) as book:
        for n, nino in enumerate(("AB123456C", "CE654321A", "AB123456C"), start=1):
            record_live(book, tmp_path, f"LIVE-{n}", nino)
    for name in ("cp.key", "dp.key"):
        assert run_main(capsys, "audit", "keygen", "-o", str(tmp_path / name)).code == 0
    assert run_main(capsys, "audit", "register-key", "--key", str(tmp_path / "dp.key"), "--db", str(db)).code == 0
    point = run_main(capsys, "audit", "checkpoint", "--key", str(tmp_path / "cp.key"), "--db", str(db),
                     "-o", str(tmp_path / "cp.json"))
    assert point.code == 0, point.err
    return {"db": db, "cp": tmp_path / "cp.json", "pub": tmp_path / "cp.key.pub", "dp": tmp_path / "dp.key",
            "folder": tmp_path}


def verify(capsys, live: dict[str, Path], *more: str):
    return run_main(capsys, "audit", "verify", "--db", str(live["db"]), "--pubkey", str(live["pub"]),
                    "--checkpoint", str(live["cp"]), *more)


def test_keygen_writes_a_private_key_0600_and_its_public_half(tmp_path: Path, capsys) -> None:
    key = tmp_path / "k.key"
    result = run_main(capsys, "audit", "keygen", "-o", str(key))
    assert result.code == 0 and "ed25519:" in result.out
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes() and b"PUBLIC KEY" in (tmp_path / "k.key.pub").read_bytes()
    assert run_main(capsys, "audit", "keygen", "-o", str(key)).code == 2  # never overwrites a key
    key.chmod(0o644)
    refused = run_main(capsys, "audit", "checkpoint", "--key", str(key), "--db", str(tmp_path / "x.db"))
    assert refused.code == 2 and "readable by other users" in refused.err


def test_a_checkpoint_verifies_and_later_events_are_named_unwitnessed(live, capsys) -> None:
    data = json.loads(live["cp"].read_text())["checkpoint"]
    assert set(data) >= {"book_id", "seq", "head", "count", "time"} and data["count"] == data["seq"]
    assert stat.S_IMODE(live["cp"].stat().st_mode) == 0o600
    ok = verify(capsys, live)
    assert ok.code == 0 and "checkpoint signature good" in ok.out and "unwitnessed" not in ok.out
    with CaseBook(live["db"]) as book:
        record_live(book, live["folder"], "LIVE-4", "CE654321A")
    later = verify(capsys, live)
    assert later.code == 0 and f"unwitnessed: events {data['seq'] + 1}-{data['seq'] + 1}" in later.out
    as_json = json.loads(verify(capsys, live, "--json").out)
    assert as_json["ok"] and as_json["unwitnessed"] == {"from": data["seq"] + 1, "to": data["seq"] + 1}


def test_an_altered_checkpoint_or_another_key_fails(live, capsys, tmp_path: Path) -> None:
    data = json.loads(live["cp"].read_text())
    data["checkpoint"]["seq"] -= 1
    live["cp"].write_text(json.dumps(data))
    altered = verify(capsys, live)
    assert altered.code == 1 and "bad signature" in altered.err
    assert run_main(capsys, "audit", "keygen", "-o", str(tmp_path / "other.key")).code == 0
    live["pub"] = tmp_path / "other.key.pub"
    assert verify(capsys, live).code == 1


def test_another_books_checkpoint_fails(live, capsys, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with CaseBook(other, training=False) as book:
        record_live(book, tmp_path, "OTHER-1", "AB123456C")
    result = run_main(capsys, "audit", "verify", "--db", str(other), "--pubkey", str(live["pub"]),
                      "--checkpoint", str(live["cp"]))
    assert result.code == 1 and "another book's checkpoint" in result.err


def test_a_rewritten_chain_loses_the_checkpointed_head(live, capsys) -> None:
    seq = json.loads(live["cp"].read_text())["checkpoint"]["seq"]
    conn = sqlite3.connect(live["db"])
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET hash = ? WHERE seq = ?", ("0" * 64, seq))
    conn.commit()
    conn.close()
    result = verify(capsys, live)
    assert result.code == 1 and f"its head, event {seq}, is missing from the chain" in result.err


def test_forged_erasure_of_a_checkpointed_decision_fails(live, capsys) -> None:
    seq = forge_erasure(live["db"], 1)
    plain = run_main(capsys, "audit", "verify", "--db", str(live["db"]))
    assert plain.code == 1 and "erasure is not signed" in plain.err
    result = verify(capsys, live)
    assert result.code == 1 and f"audit event {seq}: erases" in result.err and "witnessed" in result.err


def test_an_erasure_signed_by_an_unregistered_key_fails(live, capsys) -> None:
    """A forger cannot register a key of their own once the book has one (a registered key must sign it),
    so they sign with an unregistered key: caught with and without the checkpoint."""
    db = live["db"]
    assert run_main(capsys, "audit", "keygen", "-o", str(live["folder"] / "mine.key")).code == 0
    conn = sqlite3.connect(db)
    book_id = conn.execute("SELECT value FROM meta WHERE key = 'book_id'").fetchone()[0]
    conn.close()
    seq = _forge_signed(db, book_id, load_private(live["folder"] / "mine.key"))
    plain = run_main(capsys, "audit", "verify", "--db", str(db))
    assert plain.code == 1 and "not validly signed" in plain.err
    result = verify(capsys, live)
    assert result.code == 1 and f"audit event {seq}" in result.err


def _forge_signed(db: Path, book_id: str, key) -> int:
    """A raw-SQL erasure of case 1 whose event carries a signature by `key`."""
    conn = sqlite3.connect(db, isolation_level=None)
    head = audit.head(conn)
    conn.close()
    assert head is not None
    ts = audit.now()
    rows = {"cases": {"1": None}, "claimants": {"1": None}, "decisions": {"1": None},
            "adviser_decisions": {"1": None}}
    body = checkpoints.sign_next_event(sqlite3.connect(db), key, book_id, "root", ts, "case.erased",
                                       {"case_key": "forged", "reason": "erasure_request", "rows": rows})
    return forge_erasure(db, 1, extra={k: body[k] for k in ("signed_by", "signature")})


def test_unwitnessed_key_cannot_vouch_for_erasing_checkpointed_rows(tmp_path: Path, capsys) -> None:
    """A training book with no data-protection key at checkpoint time: a key registered later (as a forger
    would) and an erasure it signs pass plain verify, but not the checkpoint."""
    db = tmp_path / "t.db"
    with CaseBook(db, training=True) as book:
        from tests.conftest import record_scenarios
        record_scenarios(book, 3)
    for name in ("cp.key", "dp.key"):
        assert run_main(capsys, "audit", "keygen", "-o", str(tmp_path / name)).code == 0
    assert run_main(capsys, "audit", "checkpoint", "--key", str(tmp_path / "cp.key"), "--db", str(db),
                    "-o", str(tmp_path / "cp.json")).code == 0
    assert run_main(capsys, "audit", "register-key", "--key", str(tmp_path / "dp.key"), "--db", str(db)).code == 0
    with CaseBook(db) as book:
        ref = book.decisions(limit=-1)[-1].ref
    erased = run_main(capsys, "erase", ref, "--db", str(db), "--key", str(tmp_path / "dp.key"), "--yes")
    assert erased.code == 0, erased.err
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0
    result = run_main(capsys, "audit", "verify", "--db", str(db), "--pubkey", str(tmp_path / "cp.key.pub"),
                      "--checkpoint", str(tmp_path / "cp.json"))
    assert result.code == 1 and "registered before that checkpoint" in result.err


def test_a_signed_erasure_after_the_checkpoint_verifies(live, capsys) -> None:
    erased = run_main(capsys, "erase", "LIVE-2", "--db", str(live["db"]), "--key", str(live["dp"]), "--yes",
                      "--reference", "DSAR-2024-118")
    assert erased.code == 0, erased.err
    result = verify(capsys, live)
    assert result.code == 0, result.err
    assert "unwitnessed" in result.out


def test_a_tampered_signature_fails_plain_verify(live, capsys) -> None:
    assert run_main(capsys, "erase", "LIVE-2", "--db", str(live["db"]), "--key", str(live["dp"]), "--yes").code == 0
    conn = sqlite3.connect(live["db"])
    seq, body = conn.execute("SELECT seq, body FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    data = json.loads(body)
    data["reference"] = "OTHER-1"  # changes what was signed; the chain is re-hashed to match
    conn.execute("DROP TRIGGER audit_no_update")
    prev, ts, actor, event = conn.execute("SELECT prev_hash, ts, actor, event FROM audit WHERE seq = ?",
                                          (seq,)).fetchone()
    conn.execute("UPDATE audit SET body = ?, hash = ? WHERE seq = ?",
                 (audit.canonical_json(data), audit.event_hash(seq, prev, ts, actor, event, data), seq))
    conn.commit()
    conn.close()
    result = run_main(capsys, "audit", "verify", "--db", str(live["db"]))
    assert "not validly signed" in result.err


def test_live_erasure_needs_a_registered_key(live, capsys, tmp_path: Path) -> None:
    unsigned = run_main(capsys, "erase", "LIVE-1", "--db", str(live["db"]), "--yes")
    assert unsigned.code == 2 and "data-protection key" in unsigned.err
    assert run_main(capsys, "audit", "keygen", "-o", str(tmp_path / "stranger.key")).code == 0
    stranger = run_main(capsys, "erase", "LIVE-1", "--db", str(live["db"]), "--yes",
                        "--key", str(tmp_path / "stranger.key"))
    assert stranger.code == 2 and "not a data-protection key registered" in stranger.err
    with CaseBook(live["db"]) as book, pytest.raises(BookError):
        book.register_key(load_private(tmp_path / "stranger.key"), load_private(tmp_path / "stranger.key")
                          .public_key(), "A1")  # a second key needs a registered one to sign it
    rotated = run_main(capsys, "audit", "register-key", "--key", str(live["dp"]), "--pubkey",
                       str(tmp_path / "stranger.key.pub"), "--db", str(live["db"]))
    assert rotated.code == 0 and fingerprint(load_private(tmp_path / "stranger.key").public_key()) in rotated.out
    assert run_main(capsys, "audit", "verify", "--db", str(live["db"])).code == 0


@pytest.mark.parametrize("forgery", ["registered key, bad signature", "disguised as a referral update"])
def test_other_forged_erasures_fail_plain_verify_and_the_checkpoint(live, capsys, forgery: str) -> None:
    if forgery.startswith("registered"):
        key = load_private(live["dp"])
        seq = forge_erasure(live["db"], 2, extra={"signed_by": fingerprint(key.public_key()), "signature": "00" * 64})
        expected = "erasure is not validly signed"
    else:
        seq = forge_erasure(live["db"], 2, event="referral.updated")
        expected = "erases rows but is a referral.updated event"
    plain = run_main(capsys, "audit", "verify", "--db", str(live["db"]))
    assert plain.code == 1 and f"audit event {seq}: {expected}" in plain.err
    assert verify(capsys, live).code == 1


def test_a_book_that_does_not_verify_is_not_checkpointed(live, capsys, tmp_path: Path) -> None:
    conn = sqlite3.connect(live["db"])
    conn.execute("DROP TRIGGER decisions_no_update")
    conn.execute("UPDATE decisions SET adviser = 'SOMEONE-ELSE' WHERE id = 1")
    conn.commit()
    conn.close()
    result = run_main(capsys, "audit", "checkpoint", "--key", str(live["folder"] / "cp.key"), "--db", str(live["db"]),
                      "-o", str(tmp_path / "after.json"))
    assert result.code == 1 and "does not verify" in result.err and not (tmp_path / "after.json").exists()


@pytest.fixture(scope="module")
def signed_book(tmp_path_factory) -> tuple[bytes, Path]:
    """The bytes of a training book with a registered data-protection key and one signed erasure (last event)."""
    folder = tmp_path_factory.mktemp("signed")
    db = folder / "t.db"
    from engine.casebook.signing import keygen
    from tests.conftest import record_scenarios

    keygen(folder / "dp.key")
    key = load_private(folder / "dp.key")
    with CaseBook(db, training=True) as book:
        record_scenarios(book, 3)
        book.register_key(key, key.public_key(), "A1")
        ref = book.decisions(limit=-1)[-1].ref
        assert book.erase(ref, "A1", key=key).scrubbed
        book.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db.read_bytes(), folder


FIELDS = st.sampled_from(["ts", "actor", "reason", "reference", "case_key", "rows", "signed_by", "note"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=FIELDS, value=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12))
def test_any_change_to_a_signed_erasure_breaks_its_signature(signed_book, tmp_path: Path, field: str,
                                                             value: str) -> None:
    """Law: whatever is altered in a signed erasure event (then re-hashed so the chain itself still links),
    its signature no longer holds."""
    data, _folder = signed_book
    db = tmp_path / f"copy-{abs(hash((field, value)))}.db"
    db.write_bytes(data)
    conn = sqlite3.connect(db)
    seq, ts, actor, event, body, prev = conn.execute(
        "SELECT seq, ts, actor, event, body, prev_hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    body = json.loads(body)
    if field == "ts":
        ts = ts + value
    elif field == "actor":
        actor = actor + value
    elif field == "rows":
        body["rows"]["cases"][str(900 + len(value))] = None
    else:  # an existing body field changed, or a new one added
        body[field] = str(body.get(field, "")) + value
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET ts = ?, actor = ?, body = ?, hash = ? WHERE seq = ?",
                 (ts, actor, audit.canonical_json(body), audit.event_hash(seq, prev, ts, actor, event, body), seq))
    conn.commit()
    conn.close()
    problems = [str(p) for p in checkpoints.scan(sqlite3.connect(db)).problems]
    assert problems == [f"audit event {seq}: erasure is not validly signed by a data-protection key registered "
                        "in this book"]

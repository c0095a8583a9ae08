"""Tampering (issue #6): every random alteration is caught against an anchor; verify and replay never crash."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from engine.casebook import audit as A
from engine.casebook.book import CaseBook
from tests.soak import CI_SIZES, tampering
from tests.soak.tamper import _drop_triggers, _restore_triggers, build_book, detect


def test_every_alteration_is_caught_with_an_anchor() -> None:
    figures = tampering(**CI_SIZES["tampering"])
    assert figures["caught"] == figures["trials"], figures["missed_examples"]
    assert figures["detection_rate"] == 1.0
    assert figures["crashes"] == 0, figures["crash_examples"]
    kinds = figures["by_kind"]
    assert all(kinds[k]["trials"] > 0 for k in ("edit", "delete", "insert", "truncate", "rehash"))
    # without the anchor, truncations and re-hashed rewrites go unseen: that is what the anchor is for
    assert kinds["rehash"]["only_by_anchor"] > 0


@pytest.fixture(scope="module")
def clean_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, A.Anchor]:
    path = tmp_path_factory.mktemp("tamper") / "clean.db"
    anchor = build_book(path, generated=4)
    return path.read_bytes(), anchor


def altered(tmp_path: Path, base: bytes, *sql: tuple[str, tuple]) -> Path:
    path = tmp_path / "t.db"
    path.write_bytes(base)
    conn = sqlite3.connect(path, isolation_level=None)
    _drop_triggers(conn)
    for statement, args in sql:
        conn.execute(statement, args)
    _restore_triggers(conn)
    conn.close()
    return path


@pytest.mark.parametrize("sql", [
    ("UPDATE rulesets SET edition = 'x' WHERE rowid = 1", ()),
    ("INSERT INTO meta (key, value) VALUES ('note', 'x')", ()),
    ("INSERT INTO rulesets (digest, edition, content) VALUES (?, '2008-announced', '{}')",
     ("sha256:" + A.sha256_text("{}"),)),
    ("UPDATE decisions SET decision = X'00' WHERE id = 1", ()),
    ("UPDATE rulesets SET content = X'7b7d' WHERE rowid = 1", ()),
    ("UPDATE audit SET body = replace(body, ',', ', ') WHERE seq = 2", ()),
    ("INSERT INTO erasure_gate (open) VALUES (1)", ()),
], ids=["ruleset-edition", "meta-key", "ruleset-inserted", "blob-decision", "blob-ruleset", "body-spaces", "gate"])
def test_alterations_found_by_this_issue_are_caught(tmp_path: Path, clean_book: tuple[bytes, A.Anchor],
                                                    sql: tuple[str, tuple]) -> None:
    base, anchor = clean_book
    seen = detect(altered(tmp_path, base, sql), anchor)
    assert seen["crash"] == ""
    assert seen["plain"] or seen["replay"], seen


def test_a_long_text_replaced_by_its_hash_is_caught(tmp_path: Path, clean_book: tuple[bytes, A.Anchor]) -> None:
    base, anchor = clean_book
    path = tmp_path / "find.db"
    path.write_bytes(base)
    with CaseBook(path, create=False) as book:
        ident, notes = book.conn.execute(
            "SELECT id, notes FROM referral_events WHERE length(notes) > 256 LIMIT 1").fetchone()
    seen = detect(altered(tmp_path, base, ("UPDATE referral_events SET notes = ? WHERE id = ?",
                                           ("sha256:" + A.sha256_text(notes), ident))), anchor)
    assert seen["plain"], "v1 row hashes could not tell a long text from the text of its hash"


def test_a_long_text_cannot_be_swapped_for_the_text_of_its_hash() -> None:
    row = {"id": 1, "notes": "x" * 300}
    swapped = dict(row, notes="sha256:" + A.sha256_text(row["notes"]))
    assert A.row_matches(row, A.row_hash(row)) and not A.row_matches(swapped, A.row_hash(row))
    assert not A.row_matches(dict(row, notes=b"\x00"), A.row_hash(row))


def test_verify_never_raises_on_malformed_bodies(tmp_path: Path, clean_book: tuple[bytes, A.Anchor]) -> None:
    base, _ = clean_book
    rng = random.Random(1)
    for body in ("[]", "3", '"x"', '{"rows": []}', '{"rows": {"cases": []}}', '{"rows": {"cases": {"x": 1}}}',
                 '{"rows": {"cases": {"1": 5}}}', "not json"):
        path = altered(tmp_path, base)
        conn = sqlite3.connect(path, isolation_level=None)
        _drop_triggers(conn)
        events = [list(r) for r in conn.execute("SELECT seq, ts, actor, event, body, prev_hash, hash FROM audit")]
        start = rng.randrange(1, len(events))
        prev = events[start - 1][6]
        for event in events[start:]:  # a forger re-hashes the chain around the malformed body
            if event is events[start]:
                event[4] = body
            try:
                event[6] = A.event_hash(event[0], prev, event[1], event[2], event[3], json.loads(event[4]))
            except ValueError:
                event[6] = "x"
            event[5] = prev
            conn.execute("UPDATE audit SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                         (event[4], event[5], event[6], event[0]))
            prev = event[6]
        _restore_triggers(conn)
        conn.close()
        with CaseBook(path, create=False) as book:
            assert book.verify()[1], body
        path.unlink()

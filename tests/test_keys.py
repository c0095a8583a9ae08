"""The pseudonym key lives outside the book (#16): a 0600 key file per book; older books move theirs out."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import stat
from pathlib import Path

from engine.casebook import audit
from engine.casebook.book import CaseBook
from engine.casebook.db import connect, write
from engine.casebook.keys import key_path
from tests.conftest import record_scenarios
from tests.helpers import run_main

KEYS = Path(os.environ["PATHWAYS_KEY_DIR"])


def meta(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())
    finally:
        conn.close()


def book_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name))


def test_a_new_book_holds_no_key_and_its_key_file_is_private(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=2)
        exported = run_main(capsys, "export", "--db", str(db), "--format", "json").out
        path = book.key_file()
    assert set(meta(db)) == {"kind", "book_id"}
    assert path == KEYS / f"{meta(db)['book_id']}.key" and stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_text().strip()
    assert len(key) == 64 and key.encode() not in book_bytes(db)
    assert json.loads(exported)[0]["case"] == audit.keyed_ref(key, "TRN-0001")
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0


def make_old_book(db: Path) -> str:
    """A book as Pathways made them before #16: the key in meta.secret, the genesis event without `key`."""
    secret, book_id = secrets.token_hex(32), secrets.token_hex(8)
    conn = connect(db)
    with write(conn) as raw:
        raw.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                        [("kind", "training"), ("book_id", book_id), ("secret", secret)])
        audit.append(raw, "system", "book.created",
                     {"kind": "training", "book_id": book_id, "secret_sha256": audit.sha256_text(secret)})
    conn.conn.close()
    return secret


def test_an_older_book_moves_its_key_out_when_opened(tmp_path: Path, capsys, monkeypatch) -> None:
    db = tmp_path / "old.db"
    secret = make_old_book(db)
    with monkeypatch.context() as patched:  # record as the old version did, key still inside
        patched.setattr(CaseBook, "_move_key_out", lambda self: None)
        with CaseBook(db) as book:
            record_scenarios(book, limit=3)
            before = run_main(capsys, "export", "--db", str(db), "--format", "json").out
        assert "secret" in meta(db) and secret.encode() in book_bytes(db)
    with CaseBook(db, create=False) as book:  # any open moves it out
        assert book.verify()[1] == []
    assert "secret" not in meta(db) and secret.encode() not in book_bytes(db)
    assert key_path(meta(db)["book_id"]).read_text().strip() == secret
    assert run_main(capsys, "export", "--db", str(db), "--format", "json").out == before  # same pseudonyms
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0
    assert run_main(capsys, "replay", "--all", "--db", str(db)).code == 0
    conn = sqlite3.connect(db)
    events = [r[0] for r in conn.execute("SELECT event FROM audit ORDER BY seq")]
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    conn.close()
    assert events.count(audit.KEY_MOVED) == 1 and "meta_no_delete" in triggers


def test_a_key_back_in_the_book_or_a_wrong_key_file_is_caught(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=1)
        path = book.key_file()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO meta (key, value) VALUES ('secret', ?)", (path.read_text().strip(),))
    conn.commit()
    verify = run_main(capsys, "audit", "verify", "--db", str(db))
    assert verify.code == 1 and "meta: holds keys written outside Pathways: secret" in verify.err
    conn.execute("DROP TRIGGER meta_no_delete")
    conn.execute("DELETE FROM meta WHERE key = 'secret'")
    conn.execute("CREATE TRIGGER meta_no_delete BEFORE DELETE ON meta BEGIN SELECT RAISE(ABORT, 'meta is append-only'); END")
    conn.commit()
    conn.close()
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0
    path.chmod(0o600)
    path.write_text(secrets.token_hex(32) + "\n")
    verify = run_main(capsys, "audit", "verify", "--db", str(db))
    assert verify.code == 1 and "key file: does not hold this book's pseudonym key" in verify.err


def test_without_its_key_file_a_book_is_read_but_not_pseudonymised(tmp_path: Path, capsys, monkeypatch) -> None:
    db = tmp_path / "book.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=1)
    monkeypatch.setenv("PATHWAYS_KEY_DIR", str(tmp_path / "elsewhere"))  # the book on another machine
    result = run_main(capsys, "export", "--db", str(db))
    assert result.code == 2 and "the book's pseudonym key is missing (expected " in result.err
    assert len(result.err.splitlines()) == 1
    assert run_main(capsys, "replay", "--all", "--db", str(db)).code == 0
    verify = run_main(capsys, "audit", "verify", "--db", str(db))  # keyed row hashes need the key (#15)
    assert verify.code == 1 and "cannot be checked without the book's key file" in verify.err
    assert run_main(capsys, "export", "--db", str(db), "--identified").code == 0


def test_a_new_book_is_not_made_without_a_place_for_its_key(tmp_path: Path, capsys, monkeypatch) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    monkeypatch.setenv("PATHWAYS_KEY_DIR", str(blocked / "keys"))
    db = tmp_path / "book.db"
    result = run_main(capsys, "record", str(Path(__file__).parent.parent / "cases" / "001-jsa-heroin-toddlers-nfa.yaml"),
                      "--db", str(db), "--training", "--reasonable")
    assert result.code == 2 and "cannot write the book's pseudonym key" in result.err
    assert meta(db) == {}

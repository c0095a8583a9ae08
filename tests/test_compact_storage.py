"""Decisions stored compactly (#14): every reader gets the same bytes back, tampering is still caught, old
rows still read and verify, and a book stays small."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import packing
from engine.casebook import compact, records
from engine.casebook.batch import run_batch
from engine.casebook.book import CaseBook
from engine.casebook.db import write
from engine.casebook.records import Prepared
from engine.intake.generate import generate_cases
from engine.intake.loader import RawCase
from engine.intake.validate import build_case
from engine.model.case import Case
from engine.policy.driver import default_engine
from tests.conftest import record_scenarios
from tests.helpers import run_main
from tests.strategies import cases
from tests.test_tamper import drop_triggers

BYTES_PER_CASE = 1560
"""What a case may take in a 2,000-case book: every row and index entry it adds (its 4.1 KB decision JSON is ~110 B;
1,540 measured, 1,453 in a 10,000-case book, where the last, partly filled page of each table and index counts less)."""


@pytest.fixture(scope="module")
def packers(tmp_path_factory: pytest.TempPathFactory):
    """One book holding every edition's dictionary, and a packer for each rule set."""
    book = CaseBook(tmp_path_factory.mktemp("packers") / "book.db", training=True)
    with write(book.db) as conn:
        out = {rs.digest: records.store_ruleset(conn, rs, "T1") for rs in default_engine().book.all_rulesets()}
    yield book, out
    book.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(cases(unknowns=True))
def test_the_compact_form_expands_to_the_decision_byte_for_byte(packers, case: Case) -> None:
    """Under every edition's rule set, a decision packed with its dictionary expands to its exact JSON and hash."""
    book, by_digest = packers
    for ruleset in default_engine().book.all_rulesets():
        text = default_engine().decide(case, ruleset).to_json()
        stored = by_digest[ruleset.digest].pack(text)
        assert compact.is_compact(stored) and len(stored) < len(text)
        back = compact.expand(book.conn, stored)
        assert back == text
        assert hashlib.sha256(back.encode()).hexdigest() == hashlib.sha256(text.encode()).hexdigest()


def test_packing_many_at_once_gives_what_packing_each_gives(packers) -> None:
    """A batch worker packs a chunk's decisions and inputs in one call into zstd (#14): the same stored text as
    packing each on its own, text in the compact form's look staying as it is, and an empty text as packing gives it."""
    book, by_digest = packers
    caseload = [build_case(RawCase(d, "generated", None, lambda _p: None)) for d in generate_cases(120, 5)]
    for ruleset in default_engine().book.all_rulesets():
        packer = by_digest[ruleset.digest]
        texts = [default_engine().decide(case, ruleset).to_json() for case in caseload]
        texts += [Prepared.of(case, default_engine().decide(case, ruleset)).inputs for case in caseload]
        packed = packer.pack_all(texts)
        assert packed == [packer.pack(text) for text in texts]
        assert all(compact.is_compact(p) for p in packed) and [compact.expand(book.conn, p) for p in packed] == texts
        odd = [texts[0], "~not packed", texts[1]]
        assert packer.pack_all(odd) == [packer.pack(t) for t in odd] and packer.pack_all(odd)[1] == "~not packed"
        assert packer.pack_all([texts[0], ""]) == [packer.pack(texts[0]), packer.pack("")]
        assert packer.pack_all([]) == []


@given(st.binary(max_size=40), st.text(max_size=16),
       st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", max_size=16))
def test_the_armour_reads_as_strict_base64_does(data: bytes, anything: str, nearly: str) -> None:
    """A compact form's armour (#14: binascii called directly) is the standard library's unpadded base64 both ways:
    what it writes reads back, and any text reads as strict base64 reads it, or is refused as not base64."""
    written = packing.armour(data)
    assert written == base64.b64encode(data).decode("ascii").rstrip("=")
    assert packing.unarmour(written) == data
    for text in (anything, nearly, written + anything, written[:-1] if written else "="):
        try:
            expected: bytes | None = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except ValueError:
            expected = None
        try:
            got: bytes | None = packing.unarmour(text)
        except ValueError:
            got = None
        assert got == expected


@given(st.integers(0, 2**56 - 1), st.binary(max_size=12), st.integers(0, 3))
def test_the_dictionary_id_is_read_from_any_compact_form(ident: int, tail: bytes, cut: int) -> None:
    """The recording writer reads which dictionary a worker packed with from the compact form's first characters
    (#14: one byte read at once below 128): any id reads back, and a form of another format or cut too short
    to hold its id reads as none."""
    whole = b"\x01" + packing._leb128(ident) + tail
    assert packing.ident_of(packing.MARK + packing.armour(whole)) == ident
    assert packing.ident_of(packing.MARK + packing.armour(b"\x02" + whole[1:])) is None
    assert packing.ident_of(packing.armour(whole)) is None  # not marked: whole text, not a compact form
    short = packing.MARK + packing.armour(whole)[:cut]
    assert packing.ident_of(short) is None or (len(packing._leb128(ident)) == 1 and cut >= 3)


def test_every_reader_gets_the_recorded_json_back(training_book: CaseBook, capsys) -> None:
    """show, export and replay read the full decision; the column holds the compact form; hashes are of the JSON."""
    engine = default_engine()
    for ident in training_book.decision_ids():
        stored, digest = training_book.conn.execute(
            "SELECT decision, decision_hash FROM decisions WHERE id = ?", (ident,)).fetchone()
        assert compact.is_compact(stored)
        inputs = training_book.conn.execute("SELECT inputs FROM cases WHERE id = ?", (ident,)).fetchone()[0]
        assert compact.is_compact(inputs)
        record = training_book.decision_record(ident)
        assert record is not None
        assert hashlib.sha256(record.decision.encode()).hexdigest() == digest
        case = _case(json.loads(record.inputs))
        assert record.decision == engine.decide(case, engine.ruleset_for(case)).to_json()
    shown = run_main(capsys, "show", "1", "--db", str(training_book.path), "--json")
    assert shown.code == 0
    record = training_book.decision_record(1)
    assert record is not None and json.loads(shown.out)["recommendation"] == json.loads(record.decision)
    replay = run_main(capsys, "replay", "--db", str(training_book.path), "--all", "--json")
    assert replay.code == 0 and {json.loads(line)["status"] for line in replay.out.splitlines()} == {"MATCH"}


def _case(data: dict) -> Case:
    """A case from case-file data (as replay builds it from the stored inputs)."""
    return build_case(RawCase(data, "test", None, lambda _path: None))


def _copy(book: CaseBook, tmp_path: Path) -> sqlite3.Connection:
    """The book's file opened plainly, its protective triggers dropped (someone with the file)."""
    book.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn = sqlite3.connect(book.path)
    drop_triggers(conn)
    return conn


def test_a_changed_compact_form_is_caught_by_verify_and_replay(training_book: CaseBook, capsys, tmp_path) -> None:
    conn = _copy(training_book, tmp_path)
    stored = conn.execute("SELECT decision FROM decisions WHERE id = 2").fetchone()[0]
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    conn.execute("UPDATE decisions SET decision = ? WHERE id = 2", (flipped,))
    conn.commit()
    conn.close()
    verify = run_main(capsys, "audit", "verify", "--db", str(training_book.path))
    assert verify.code == 1 and "decision 2 was changed after it was recorded" in verify.out + verify.err
    replay = run_main(capsys, "replay", "--db", str(training_book.path), "--decision", "2", "--json")
    assert replay.code == 1 and json.loads(replay.out)["status"] == "MISMATCH"


def test_a_compact_form_put_back_whole_is_named(training_book: CaseBook, capsys, tmp_path) -> None:
    """Replacing the compact form by the very JSON it stands for still changes the row as stored: verify says
    which field changed (the recommendation, not shown)."""
    text = training_book.decision_record(3).decision  # type: ignore[union-attr]
    conn = _copy(training_book, tmp_path)
    conn.execute("UPDATE decisions SET decision = ? WHERE id = 3", (text,))
    conn.commit()
    conn.close()
    verify = run_main(capsys, "audit", "verify", "--db", str(training_book.path))
    said = verify.out + verify.err
    assert verify.code == 1 and "decision 3 was changed after it was recorded: its recorded recommendation" in said


def test_a_changed_dictionary_is_caught(training_book: CaseBook, capsys, tmp_path) -> None:
    conn = _copy(training_book, tmp_path)
    conn.execute("UPDATE decision_dictionaries SET content = 'KLUv' WHERE id = 1")
    conn.commit()
    conn.close()
    verify = run_main(capsys, "audit", "verify", "--db", str(training_book.path))
    assert verify.code == 1 and "decision_dictionaries 1 was changed after it was recorded" in verify.out + verify.err
    assert "Traceback" not in verify.err
    replay = run_main(capsys, "replay", "--db", str(training_book.path), "--all", "--json")
    assert replay.code == 1 and "MISMATCH" in replay.out


def test_decisions_stored_whole_still_read_and_verify(tmp_path: Path, capsys) -> None:
    """Rows written before #14 hold the whole JSON as text: a book mixing both forms reads and verifies."""
    engine = default_engine()
    book = CaseBook(tmp_path / "old.db", training=True)
    record_scenarios(book, limit=2)
    decided = []
    for data in generate_cases(3, seed=5):
        case = _case(data)
        ruleset = engine.ruleset_for(case)
        decided.append((case, ruleset, engine.decide(case, ruleset)))
    with write(book.db) as conn:  # as a book before #14 wrote them: no packer, the JSON as text
        for _c, ruleset, _d in decided:
            records.store_ruleset(conn, ruleset, "T1", keyed=book.keyed)
        keyed = book.keyed
        assert keyed is not None
        items = [attrs.evolve(p, inputs_hash=keyed.text_hash(p.inputs)) for p in (Prepared.of(c, d) for c, _r, d in decided)]
        records._insert(conn, items, "T1", book.pseudonym, keyed)
    kinds = [r[0] for r in book.conn.execute("SELECT typeof(decision) FROM decisions ORDER BY id")]
    assert kinds == ["text"] * 5
    whole = [compact.is_compact(r[0]) for r in book.conn.execute("SELECT decision FROM decisions ORDER BY id")]
    assert whole == [True, True, False, False, False]
    for ident, (_c, _r, decision) in zip((3, 4, 5), decided, strict=True):
        assert book.decision_record(ident).decision == decision.to_json()  # type: ignore[union-attr]
    _count, problems = book.verify()
    assert problems == []
    book.close()
    replay = run_main(capsys, "replay", "--db", str(tmp_path / "old.db"), "--all", "--json")
    assert replay.code == 0


PER_CASE_TABLES = ("audit", "cases", "claimants", "decisions", "decision_events")
"""The tables that grow by a row a case (the rule set snapshots and dictionaries are once a book)."""


def test_a_2000_case_book_stays_small(tmp_path: Path) -> None:
    """The size law of #14: the pages of every table and index that grows with the cases, divided by the cases;
    and the whole file, snapshots and dictionaries included."""
    source = tmp_path / "caseload.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in generate_cases(2000, 3)), encoding="utf-8")
    book = CaseBook(tmp_path / "size.db", training=True)
    summary = run_batch(source, book, "T1", workers=1)
    assert summary.recorded == 2000
    book.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn = book.conn
    whole = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
    owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
    try:
        pages = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:
        pytest.skip("this SQLite has no dbstat table")
    growing = sum(size for name, size in pages if owner.get(name, name).split("_autoindex_")[0] in PER_CASE_TABLES
                  or name in PER_CASE_TABLES)
    stored = [compact.is_compact(r[0]) for r in conn.execute(
        "SELECT d.decision FROM decisions AS d UNION ALL SELECT c.inputs FROM cases AS c")]
    book.close()
    assert all(stored) and len(stored) == 4000
    assert growing / 2000 <= BYTES_PER_CASE
    assert whole / 2000 <= BYTES_PER_CASE + 300, whole / 2000  # three rule sets' snapshots and dictionaries, empty tables' pages


def test_a_compact_form_packed_at_an_earlier_level_put_back_whole_is_named(tmp_path: Path, capsys,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A book recorded at zstd level 6 (before #14 chose 5): a compact form put back whole is still named."""
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in generate_cases(5, 2)), encoding="utf-8")
    monkeypatch.setattr(compact, "LEVEL", 6)
    with CaseBook(tmp_path / "old.db", training=True) as book:
        run_batch(source, book, "T1", 1)
        record = book.decision_record(3)
        assert record is not None
        conn = _copy(book, tmp_path)
    monkeypatch.setattr(compact, "LEVEL", 5)
    stored = conn.execute("SELECT decision FROM decisions WHERE id = 3").fetchone()[0]
    assert compact.repack(conn, record.ruleset, record.decision, 6) == stored
    assert compact.repack(conn, record.ruleset, record.decision) != stored  # this level packs it otherwise
    conn.execute("UPDATE decisions SET decision = ? WHERE id = 3", (record.decision,))
    conn.commit()
    conn.close()
    verify = run_main(capsys, "audit", "verify", "--db", str(tmp_path / "old.db"))
    said = verify.out + verify.err
    assert verify.code == 1 and "decision 3 was changed after it was recorded: its recorded recommendation" in said

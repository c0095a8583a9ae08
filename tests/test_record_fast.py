"""Recording's fast roads write exactly the bytes the general ones do: every stored hash depends on them (#14)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import attrs
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import packing
from engine.casebook import audit, compact
from engine.casebook.book import CaseBook
from engine.casebook.db import protected_triggers
from engine.errors import BookError
from engine.policy.rulebook import canonical_json
from tests.conftest import record_scenarios

_ODD_TEXT = st.sampled_from(["\ud800", "\udfff", "\x00", "\x1f", "\x7f", "\u2028", "é😀", '"\\', "null", "1e-05",
                             "x" * 256, "y" * 257, "é" * 200])
_TEXT = st.text() | st.text(min_size=250, max_size=300) | _ODD_TEXT
_VALUES = (st.none() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70) | _TEXT
           | st.binary(max_size=8) | st.floats() | st.booleans())
_ROWS = st.dictionaries(_TEXT, _VALUES, max_size=14)


def _general(row: dict[str, Any]) -> bytes:
    return canonical_json(audit.compact_row(row)).encode("utf-8")


def _outcome(make: Any, row: dict[str, Any]) -> tuple[str, Any]:
    try:
        return ("ok", make(row))
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        return ("refused", type(exc).__name__)


@settings(max_examples=500)
@given(_ROWS)
def test_a_row_hash_covers_the_bytes_of_its_canonical_json(row: dict[str, Any]) -> None:
    assert _outcome(audit.row_json, row) == _outcome(_general, row)


_PLAIN = st.recursive(st.none() | st.booleans() | st.integers() | st.integers(min_value=2**63, max_value=2**70) | _TEXT,
                      lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
                      max_leaves=20)


@settings(max_examples=300)
@given(_PLAIN)
def test_data_without_floats_encodes_as_canonical_json(data: Any) -> None:
    assert audit.plain_json(data) == canonical_json(data)


@settings(max_examples=200)
@given(seq=st.integers(min_value=0, max_value=2**40), prev=st.sampled_from(["", "0" * 64]) | _TEXT, actor=_TEXT,
       stamp=_TEXT, items=st.lists(st.tuples(st.sampled_from(["decision.recorded", "ruleset.stored"]) | _TEXT,
                                             _PLAIN.map(canonical_json)), max_size=5))
def test_a_chain_of_events_is_hashed_as_each_event_alone(seq: int, prev: str, actor: str, stamp: str,
                                                         items: list[tuple[str, str]]) -> None:
    def alone(seq: int, prev: str) -> list[tuple[Any, ...]]:
        rows = []
        for event, body in items:
            seq += 1
            digest = audit._event_hash_text(seq, prev, stamp, actor, event, body)
            rows.append((seq, stamp, actor, event, body, prev, digest))
            prev = digest
        return rows

    assert _outcome(lambda _: audit.chain(seq, prev, stamp, actor, items), {}) == _outcome(lambda _: alone(seq, prev), {})


def test_a_trigger_altered_after_a_write_still_stops_the_next_write(tmp_path: Path) -> None:
    """Writes re-check the protective triggers only when the schema changed: a change made between two
    writes by another program is still caught."""
    book = CaseBook(tmp_path / "b.db", training=True)
    record_scenarios(book, limit=1)
    other = sqlite3.connect(book.path)
    other.execute("DROP TRIGGER cases_no_update")
    other.execute("CREATE TRIGGER cases_no_update BEFORE UPDATE ON cases BEGIN SELECT 1; END")
    other.commit()
    with pytest.raises(BookError, match="protective triggers were altered"):
        record_scenarios(book, limit=1)
    other.execute("DROP TRIGGER cases_no_update")
    other.commit()
    with pytest.raises(BookError, match="protective triggers are missing"):
        record_scenarios(book, limit=1)
    other.execute(protected_triggers()["cases_no_update"])
    other.commit()
    other.close()
    record_scenarios(book, limit=1)
    assert book.verify()[1] == []
    book.close()


@pytest.fixture(scope="module")
def stored_dictionary() -> str:
    from engine.casebook.records import replay_inputs
    from engine.policy.driver import default_engine

    ruleset = next(iter(default_engine().book.all_rulesets()))
    return compact.stored_dictionary(ruleset.canonical,
                                     compact.sample_text(ruleset, lambda case: canonical_json(replay_inputs(case))))


@settings(max_examples=100, deadline=None)
@given(text=st.text() | st.text(alphabet='{}[]":,abcdeé 0123456789', min_size=100, max_size=20000),
       repeat=st.integers(min_value=1, max_value=100))
def test_a_dictionary_made_once_packs_exactly_as_one_loaded_for_each_value(stored_dictionary: str, text: str,
                                                                        repeat: int) -> None:
    """The packer's compressor keeps its dictionary's tables: the frames are those of loading it afresh."""
    loaded = zstandard.ZstdCompressor(level=compact.LEVEL, dict_data=packing.zstd_dictionary(stored_dictionary),
                                      **packing.frame_options())
    made_once = packing._compressor(stored_dictionary, compact.LEVEL)
    data = (text * repeat).encode("utf-8", "surrogatepass")
    assert made_once.compress(data) == loaded.compress(data)


@settings(max_examples=200)
@given(secret=st.text(st.characters(blacklist_categories=("Cs",))), values=st.lists(_TEXT, max_size=5))
def test_keyed_references_made_from_one_key_state_are_each_values_own(secret: str, values: list[str]) -> None:
    def each(_: Any) -> list[str]:
        refs = audit.keyed_refs(secret)
        return [refs(value) for value in values]

    assert _outcome(each, {}) == _outcome(lambda _: [audit.keyed_ref(secret, value) for value in values], {})


def _generated_items(n: int) -> list[tuple[Any, Any, Any]]:
    from engine.intake.generate import generate_cases
    from engine.intake.loader import RawCase
    from engine.intake.validate import build_case
    from engine.policy.driver import default_engine

    engine = default_engine()
    items = []
    for i, data in enumerate(generate_cases(n, 11)):
        case = build_case(RawCase(data, f"<gen {i}>", None, lambda _path: None))
        ruleset = engine.ruleset_for(case)
        items.append((case, engine.decide(case, ruleset), ruleset))
    return items


def test_a_write_longer_than_one_statement_keeps_its_order_and_is_whole_or_nothing(tmp_path: Path) -> None:
    """Recording inserts a few hundred rows a statement (#14, engine.casebook.bulk): a write of more cases
    than one statement holds keeps input order and each decision's event, and a row refused by the last
    statement takes the whole write with it."""
    from engine.casebook.bulk import ROWS_PER_STATEMENT

    items = _generated_items(2 * ROWS_PER_STATEMENT + 3)
    book = CaseBook(tmp_path / "b.db", training=True)
    ids = book.record_many(items, "T1")
    conn = book.conn
    assert ids == list(range(1, len(items) + 1))
    assert [r[0] for r in conn.execute("SELECT ref FROM decisions ORDER BY id")] == [c.case for c, _, _ in items]
    events = conn.execute("SELECT d.decision, a.body FROM decision_events AS d JOIN audit AS a ON a.seq = d.seq "
                          "ORDER BY d.decision").fetchall()
    assert [(decision, json.loads(body)["decision"]) for decision, body in events] == [(i, i) for i in ids]
    assert book.verify()[1] == []

    other = sqlite3.connect(book.path)  # a row the last statement of the next write would need is taken
    other.execute("INSERT INTO decision_events (decision, seq) VALUES (?, 0)", (2 * len(items),))
    other.commit()
    other.close()
    def counts() -> list[int]:
        return [conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in ("cases", "decisions", "audit")]

    before = counts()
    with pytest.raises(sqlite3.IntegrityError, match="decision_events rows cannot be replaced"):
        book.record_many(items, "T1")
    assert counts() == before
    book.close()


def _decided_lines(count: int, seed: int) -> list[tuple[str, int, str]]:
    from engine.intake.generate import generate_cases

    return [("in.jsonl", n, json.dumps(data)) for n, data in enumerate(generate_cases(count, seed), start=1)]


def test_a_decision_a_batch_worker_packs_is_stored_as_the_book_would_pack_it(tmp_path: Path) -> None:
    """Workers pack decisions and their cases' inputs with the book's dictionaries (#14): the same stored bytes as
    packing while recording, and a worker's form under another dictionary of the book is packed again with the
    right one."""
    from engine.casebook.batch import run_batch
    from engine.casebook.records import Prepared, _stored_decision, _stored_inputs
    from engine.intake.bulk import decide_chunk

    lines = _decided_lines(300, 8)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(text + "\n" for _s, _n, text in lines), encoding="utf-8")
    with CaseBook(tmp_path / "b.db", training=True) as book:
        run_batch(source, book, "T", workers=1)
        dictionaries = compact.dictionaries(book.conn)
        stored = {ref: decision for ref, decision in book.conn.execute("SELECT ref, decision FROM decisions")}
        stored_inputs = {ref: inputs for ref, inputs in book.conn.execute("SELECT ref, inputs FROM cases")}
        assert len(dictionaries) >= 2 and all(compact.is_compact(d) for d in stored.values())
        packed = [Prepared(*fields) for _line, fields in decide_chunk(lines, True, dictionaries)]
        unpacked = {p.ref: p for _line, fields in decide_chunk(lines, True) for p in [Prepared(*fields)]}
        for item in packed:
            assert compact.is_compact(item.decision) and item.decision == stored[item.ref]
            assert compact.expand(book.conn, item.decision) == unpacked[item.ref].decision
            assert item.decision_hash == unpacked[item.ref].decision_hash
            assert item.packed_inputs == stored_inputs[item.ref] and compact.is_compact(item.packed_inputs)
            assert item.inputs == unpacked[item.ref].inputs and unpacked[item.ref].packed_inputs is None
        item = packed[0]
        other = next(digest for digest in dictionaries if digest != item.ruleset)
        foreign = compact.Packer(dictionaries[other][0], other, dictionaries[other][1]).pack(unpacked[item.ref].decision)
        assert compact.ident_of(foreign) == dictionaries[other][0] != dictionaries[item.ruleset][0]
        right = compact.Packer(dictionaries[item.ruleset][0], item.ruleset, dictionaries[item.ruleset][1])
        assert _stored_decision(book.conn, foreign, right) == stored[item.ref]
        assert _stored_decision(book.conn, foreign, None) == unpacked[item.ref].decision
        foreign_inputs = compact.Packer(dictionaries[other][0], other, dictionaries[other][1]).pack(item.inputs)
        assert compact.is_compact(foreign_inputs) and foreign_inputs != stored_inputs[item.ref]
        assert _stored_inputs(attrs.evolve(item, packed_inputs=foreign_inputs), right) == stored_inputs[item.ref]
        assert _stored_inputs(attrs.evolve(item, packed_inputs=None), right) == stored_inputs[item.ref]

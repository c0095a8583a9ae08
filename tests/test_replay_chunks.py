"""Replay of many decisions reads their rows a chunk at a time (#14) and says exactly what one-by-one replay says."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from engine.casebook.book import CaseBook
from engine.casebook.replay import INPUTS_ALTERED, MATCH, MISMATCH, Replayer, ReplayResult, replay_many
from engine.collect import BULK_THRESHOLD
from engine.errors import InputError
from tests.helpers import drop_decision_events_index, edit_decision, edit_inputs
from tests.test_tamper import drop_triggers


def _seen(result: ReplayResult) -> tuple[object, ...]:
    """Everything a user is shown of one replay (the JSON line and the plain line's parts)."""
    return result.status, result.differences, result.to_data()


def _tamper(path: Path) -> dict[str, int]:
    """Change a book's rows the ways replay must catch, one decision each; returns which decision got what."""
    with sqlite3.connect(path) as conn:
        drop_triggers(conn)
        conn.execute("PRAGMA foreign_keys=OFF")
        ids = [row[0] for row in conn.execute("SELECT id FROM decisions ORDER BY id")]
        several = [i for i in ids if conn.execute("SELECT outcomes FROM decisions WHERE id = ?",
                                                  (i,)).fetchone()[0].count(",") >= 1]
        done = {"inputs": ids[0], "decision": ids[1], "priority": ids[2], "spacing": several[-1],
                "pointer": ids[4], "unindexed": ids[5], "erased": ids[6], "event": ids[7], "twice": ids[9]}
        case_of = dict(conn.execute("SELECT id, case_id FROM decisions"))
        assert edit_inputs(conn, case_of[done["inputs"]], '"benefit"', '"benefit" ')
        assert edit_decision(conn, done["decision"], '"priority":"', '"priority":"X')
        conn.execute("UPDATE decisions SET priority = 'nonsense' WHERE id = ?", (done["priority"],))
        conn.execute("UPDATE decisions SET outcomes = replace(outcomes, ', ', ',') WHERE id = ?", (done["spacing"],))
        conn.execute("UPDATE decision_events SET seq = (SELECT seq FROM decision_events WHERE decision = ?) "
                     "WHERE decision = ?", (ids[8], done["pointer"]))
        conn.execute("DELETE FROM decision_events WHERE decision = ?", (done["unindexed"],))
        conn.execute("DELETE FROM decisions WHERE id = ?", (done["erased"],))
        seq = conn.execute("SELECT seq FROM decision_events WHERE decision = ?", (done["event"],)).fetchone()[0]
        conn.execute("ALTER TABLE claimants RENAME TO claimants_kept")  # a table without its key: a row twice
        conn.execute("CREATE TABLE claimants (case_id INTEGER, nino TEXT)")
        conn.execute("INSERT INTO claimants SELECT case_id, nino FROM claimants_kept")
        conn.execute("INSERT INTO claimants VALUES (?, 'AB123456C')", (case_of[done["twice"]],))
        conn.execute("UPDATE audit SET body = replace(body, '\"inputs_hash\"', '\"inputs_hush\"') WHERE seq = ?",
                     (seq,))
    return done


def test_chunked_replay_says_what_one_by_one_replay_says_on_a_tampered_book(training_book: CaseBook) -> None:
    path, ids = training_book.path, training_book.decision_ids()
    training_book.close()
    done = _tamper(path)
    with CaseBook(path, readonly=True) as book:
        replayer = Replayer(book)
        for under_current in (False, True):
            alone = [_seen(replayer.replay(i, under_current)) for i in ids if i != done["erased"]]
            chunked = [_seen(r) for r in replay_many(book, ids, under_current, workers=1, chunk=3)]
            assert chunked == alone
        statuses = {name: replayer.replay(ident).status for name, ident in done.items() if name != "erased"}
        assert statuses == {"inputs": INPUTS_ALTERED, "decision": MISMATCH, "priority": MISMATCH,
                            "spacing": MISMATCH, "pointer": MATCH, "unindexed": MATCH, "event": INPUTS_ALTERED,
                            "twice": MATCH}
        with pytest.raises(InputError, match=f"no decision {done['erased']}"):
            list(replay_many(book, [done["erased"]], workers=1, skip_erased=False))


def test_worker_processes_say_what_one_process_says_under_either_rule_set(training_book: CaseBook) -> None:
    path, ids = training_book.path, training_book.decision_ids()
    training_book.close()
    done = _tamper(path)
    with CaseBook(path, readonly=True) as book:
        for under_current in (False, True):
            one = [r.to_data() for r in replay_many(book, ids, under_current, workers=1)]
            pooled = [r.to_data() for r in replay_many(book, ids, under_current, workers=2, chunk=4)]
            assert pooled == one and len(one) == len(ids) - 1
            assert all("current_outcomes" in line for line in pooled if line["status"] != INPUTS_ALTERED) \
                == under_current
        assert done["erased"] not in {line["decision"] for line in pooled}


def test_a_read_only_book_made_before_the_index_replays_in_chunks(training_book: CaseBook) -> None:
    path, ids = training_book.path, training_book.decision_ids()
    training_book.close()
    drop_decision_events_index(path)  # as a book from before the index was, which read-only opening keeps
    with CaseBook(path, readonly=True) as book:
        assert [r.status for r in replay_many(book, ids, workers=1, chunk=5)] == [MATCH] * len(ids)


def test_a_worker_process_replays_without_importing_what_it_never_uses(training_book: CaseBook) -> None:
    """A replay worker leaves pandas and numpy unloaded and collects garbage with the bulk thresholds (#14)."""
    ids = training_book.decision_ids()
    code = ("import gc, sys; from engine.casebook import replay_worker as w; w.start(sys.argv[1], None); "
            "from engine.casebook.replay import ReplayResult; "
            "results = [ReplayResult(*f) for f in w.replay_chunk(([int(i) for i in sys.argv[2].split(',')], False))]; "
            "print(len(results), *sorted({r.status for r in results}), "
            "*[m for m in ('pandas', 'numpy') if m in sys.modules], gc.get_threshold()[0])")
    done = subprocess.run([sys.executable, "-c", code, str(training_book.path), ",".join(map(str, ids))],
                          capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
    assert done.stdout.split() == [str(len(ids)), MATCH, str(BULK_THRESHOLD)]


def test_a_chunk_of_several_rule_sets_is_replayed_in_decision_order(tmp_path: Path) -> None:
    """A chunk is re-decided one recorded rule set at a time (#14); its results still come in the order asked."""
    import json

    from engine.casebook.batch import run_batch
    from engine.intake.generate import generate_cases

    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in generate_cases(90, 8)), encoding="utf-8")
    with CaseBook(tmp_path / "r.db", training=True) as book:
        run_batch(source, book, "T", 1)
        ids = book.decision_ids()
        assert len({book.decision_record(i).ruleset for i in ids}) == 3  # type: ignore[union-attr]
        asked = ids[::-1]
        chunked = [r.to_data() for r in replay_many(book, asked, workers=1, chunk=30)]
        replayer = Replayer(book)
        assert chunked == [replayer.replay(i).to_data() for i in asked]
        assert [line["decision"] for line in chunked] == asked

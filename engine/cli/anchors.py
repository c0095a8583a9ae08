"""Each Pathways figure beside its anchor, measured in the same run: the floor a plain tool reaches.

Anchors: plain SQLite (three plain rows a case, the same texts, the same pragmas, no triggers, no
audit chain) for recording, reading and book size; the three-valued evaluator (plain Python over
the same condition trees, no durable_rules) for deciding and replaying. Throughput figures are CPU
time per case (`time.process_time`, one process), so they hold on a machine other work is sharing;
one replay on the book and interactive re-decisions are wall-clock latencies, as a user sees them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.casebook.batch import CHUNK, run_batch
from engine.casebook.book import CaseBook
from engine.casebook.db import PRAGMAS
from engine.casebook.replay import MATCH, Replayer, replay_many
from engine.intake.generate import generate_cases
from engine.intake.loader import RawCase
from engine.intake.validate import build_case
from engine.model.case import input_values
from engine.policy.conditions import UNANSWERED
from engine.policy.driver import Engine
from engine.policy.explain import evaluate, relevant_questions


def _cpu(func: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds of one call of `func` (this process), and what it returned."""
    start = time.process_time()
    result = func()
    return time.process_time() - start, result


def _file_bytes(conn: sqlite3.Connection, path: Path) -> int:
    """The size of a database file once its write-ahead log is checkpointed into it."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def _plain_book(path: Path, rows: list[tuple[str, str | None, str]]) -> sqlite3.Connection:
    """The SQLite floor: the same texts as three plain rows a case, in chunks of the batch's size."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE cases (id INTEGER PRIMARY KEY, inputs TEXT NOT NULL)")
    conn.execute("CREATE TABLE claimants (case_id INTEGER PRIMARY KEY, nino TEXT)")
    conn.execute("CREATE TABLE decisions (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL, decision TEXT NOT NULL)")
    for start in range(0, len(rows), CHUNK):
        chunk = list(enumerate(rows[start:start + CHUNK], start=start + 1))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO cases VALUES (?, ?)", [(i, r[0]) for i, r in chunk])
        conn.executemany("INSERT INTO claimants VALUES (?, ?)", [(i, r[1]) for i, r in chunk])
        conn.executemany("INSERT INTO decisions VALUES (?, ?, ?)", [(i, i, r[2]) for i, r in chunk])
        conn.execute("COMMIT")
    return conn


def _read_plain(conn: sqlite3.Connection, count: int) -> int:
    """Read every plain row back, one decision at a time by id (the floor of replay's reads)."""
    for ident in range(1, count + 1):
        conn.execute("SELECT c.inputs, n.nino, d.decision FROM decisions AS d JOIN cases AS c ON c.id = d.case_id "
                     "LEFT JOIN claimants AS n ON n.case_id = d.case_id WHERE d.id = ?", (ident,)).fetchone()
    return count


def run_anchored(cases: int = 5000, progress: Callable[[str], None] = lambda _s: None) -> dict[str, Any]:
    """Measure batch, decide, replay, verify, one replay, book size and interactive latency beside their anchors."""
    out: dict[str, Any] = {"cases": cases, "clock": "CPU time per case (time.process_time), one process"}
    engine = Engine()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "caseload.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for data in generate_cases(cases, 11):
                handle.write(json.dumps(data) + "\n")

        progress("anchored: batch into a fresh book")
        book = CaseBook(folder / "bench.db", training=True, key_dir=folder / "keys")
        seconds, summary = _cpu(lambda: run_batch(source, book, "bench", workers=1))
        out["batch_us"] = seconds / max(1, summary.recorded) * 1e6
        rows = book.conn.execute("SELECT c.inputs, n.nino, d.decision FROM decisions AS d JOIN cases AS c "
                                 "ON c.id = d.case_id LEFT JOIN claimants AS n ON n.case_id = d.case_id "
                                 "ORDER BY d.id").fetchall()
        out["book_bytes_per_case"] = _file_bytes(book.conn, book.path) / max(1, len(rows))

        progress("anchored: plain SQLite floor")
        plain_path = folder / "plain.db"
        seconds, plain = _cpu(lambda: _plain_book(plain_path, rows))
        out["sqlite_write_us"] = seconds / max(1, len(rows)) * 1e6
        out["plain_bytes_per_case"] = _file_bytes(plain, plain_path) / max(1, len(rows))
        seconds, _ = _cpu(lambda: _read_plain(plain, len(rows)))
        out["sqlite_read_us"] = seconds / max(1, len(rows)) * 1e6

        progress("anchored: decide beside the three-valued evaluator")
        generated = [build_case(RawCase(json.loads(line), "generated", None, lambda _p: None))
                     for line in source.read_text(encoding="utf-8").splitlines()]
        seconds, _ = _cpu(lambda: [engine.decide(case) for case in generated])
        out["decide_us"] = seconds / len(generated) * 1e6
        values = [(engine.ruleset_for(case), input_values(case)) for case in generated]
        seconds, _ = _cpu(lambda: [evaluate(ruleset, vals) for ruleset, vals in values])
        out["evaluator_us"] = seconds / len(values) * 1e6

        progress("anchored: replay and verify")
        ids = book.decision_ids()
        seconds, statuses = _cpu(lambda: [r.status for r in replay_many(book, ids, workers=1)])
        out["replay_us"] = seconds / max(1, len(ids)) * 1e6
        out["replay_all_match"] = set(statuses) == {MATCH}
        out["replay_floor_us"] = out["sqlite_read_us"] + out["evaluator_us"]
        seconds, (events, problems) = _cpu(book.verify)
        out["verify_us"] = seconds / max(1, len(ids)) * 1e6
        out["verify_events"] = events
        out["verify_ok"] = not problems
        seconds, _ = _cpu(lambda: [plain.execute(f"SELECT * FROM {t}").fetchall()  # noqa: S608 - constant names
                                   for t in ("cases", "claimants", "decisions")])
        out["verify_floor_us"] = seconds / max(1, len(ids)) * 1e6
        book.close()

        progress("anchored: one replay, cold, on the book")
        middle = ids[len(ids) // 2]
        start = time.perf_counter()
        with CaseBook(folder / "bench.db", create=False, key_dir=folder / "keys") as again:
            one = Replayer(again).replay(middle)
        out["one_replay_ms"] = (time.perf_counter() - start) * 1e3
        out["one_replay_match"] = one.status == MATCH
        plain.close()
        start = time.perf_counter()
        cold = sqlite3.connect(plain_path)
        _read_plain_one(cold, middle)
        cold.close()
        out["one_read_ms"] = (time.perf_counter() - start) * 1e3

    progress("anchored: interactive re-decision")
    out.update(_interactive(engine, generated[0]))
    engine.close()
    out["book_bytes_ratio"] = out["book_bytes_per_case"] / out["plain_bytes_per_case"]
    return out


def _read_plain_one(conn: sqlite3.Connection, ident: int) -> None:
    """One decision's plain rows by id."""
    conn.execute("SELECT c.inputs, d.decision FROM decisions AS d JOIN cases AS c ON c.id = d.case_id "
                 "WHERE d.id = ?", (ident,)).fetchone()


def _interactive(engine: Engine, case: Any) -> dict[str, float]:
    """Median and p99 of an interactive re-decision (evaluate, next questions, decide), beside the evaluator alone."""
    ruleset = engine.ruleset_for(case)
    partial = {k: v for k, v in input_values(case).items() if not k.startswith(("consent", "missed"))}
    full, alone = [], []
    for flip in range(400):
        answers = dict(partial, **{"mental_health": bool(flip % 2)})
        start = time.perf_counter()
        evaluate(ruleset, answers)
        middle = time.perf_counter()
        relevant_questions(ruleset, {**answers, "consent.housing_advice": UNANSWERED})
        engine.decide(case)
        full.append(time.perf_counter() - start)
        alone.append(middle - start)
    full.sort()
    return {"interactive_p50_ms": statistics.median(full) * 1e3,
            "interactive_p99_ms": full[min(len(full) - 1, int(0.99 * len(full)))] * 1e3,
            "interactive_floor_ms": statistics.median(alone) * 1e3}


ANCHOR_ROWS = (
    ("batch: decide, record, audit chain", "batch_us", "sqlite_write_us", "µs CPU/case", "plain SQLite, 3 rows a case"),
    ("decide only", "decide_us", "evaluator_us", "µs CPU/case", "three-valued evaluator"),
    ("replay (every decision)", "replay_us", "replay_floor_us", "µs CPU/case", "plain read + evaluator"),
    ("audit verify", "verify_us", "verify_floor_us", "µs CPU/case", "plain SQLite, read every row"),
    ("one replay, cold, on the book", "one_replay_ms", "one_read_ms", "ms wall", "plain SQLite, open + one read"),
    ("book size", "book_bytes_per_case", "plain_bytes_per_case", "bytes/case", "plain SQLite, same texts"),
    ("interactive re-decision, median", "interactive_p50_ms", "interactive_floor_ms", "ms wall", "evaluator alone"),
    ("interactive re-decision, p99", "interactive_p99_ms", "interactive_floor_ms", "ms wall", "evaluator, median"),
)
"""The anchored table: label, Pathways figure, anchor figure, unit, what the anchor is."""


def anchored_lines(figures: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows of the anchored table: what, Pathways, anchor (what it is), ratio."""
    out = []
    for label, key, anchor, unit, what in ANCHOR_ROWS:
        mine, floor = float(figures[key]), float(figures[anchor])
        ratio = f"{mine / floor:,.1f}x" if floor > 0 else "-"
        out.append((label, f"{mine:,.1f} {unit}", f"{floor:,.1f} {unit} ({what})", ratio))
    return out


def env_note() -> str:
    """How busy the machine was (load average over a minute), to print beside CPU-time figures."""
    try:
        return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    except OSError:
        return f"{os.cpu_count()} cores"

"""Measure Pathways on this machine: latency, throughput with and without recording, replay, verify."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from cases import CASES_DIR
from engine.casebook.book import CaseBook
from engine.casebook.queries import EVERY_CASE, CaseQuery, PageKey
from engine.intake.generate import generate_cases
from engine.intake.loader import RawCase
from engine.intake.scenarios import iter_cases
from engine.intake.validate import build_case
from engine.model.case import input_values
from engine.policy.conditions import UNANSWERED
from engine.policy.driver import Engine
from engine.policy.explain import evaluate, relevant_questions


def _percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..1) of the values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed(func: Callable[[], Any], repeat: int) -> list[float]:
    """Wall-clock seconds of each of `repeat` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        out.append(time.perf_counter() - start)
    return out


def machine() -> str:
    """A one-line description of this machine."""
    return f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}, {platform.system()}"


def run_bench(cases: int = 5000, workers: int = 0, progress: Callable[[str], None] = lambda _s: None,
              ) -> dict[str, Any]:
    """Run every measurement and return the figures."""
    engine = Engine()
    scenarios = [c for c in iter_cases(CASES_DIR) if not isinstance(c, Exception)]
    for case in scenarios:
        engine.decide(case)
    figures: dict[str, Any] = {"machine": machine(), "cases": cases}

    progress("single-case latency")
    samples = []
    for _ in range(max(1, 4000 // len(scenarios))):
        for case in scenarios:
            samples.extend(_timed(functools.partial(engine.decide, case), 1))
    figures["latency_median_us"] = statistics.median(samples) * 1e6
    figures["latency_p95_us"] = _percentile(samples, 0.95) * 1e6

    progress("decisions per second (one process, no recording)")
    generated = [build_case(RawCase(d, "generated", None, lambda _p: None)) for d in generate_cases(cases, 7)]
    start = time.perf_counter()
    for case in generated:
        engine.decide(case)
    figures["decide_per_s"] = len(generated) / (time.perf_counter() - start)

    progress("plain-Python reference evaluator")
    values = [(engine.ruleset_for(c), input_values(c)) for c in generated]
    start = time.perf_counter()
    for ruleset, vals in values:
        evaluate(ruleset, vals)
    figures["python_eval_per_s"] = len(values) / (time.perf_counter() - start)
    figures["durable_to_python_ratio"] = figures["python_eval_per_s"] / figures["decide_per_s"]

    progress("interactive re-decision (one answer changed)")
    base = scenarios[0]
    ruleset = engine.ruleset_for(base)
    partial = {k: v for k, v in input_values(base).items() if not k.startswith(("consent", "missed"))}
    interactive = []
    for flip in range(200):
        answers = dict(partial, **{"mental_health": bool(flip % 2)})
        start = time.perf_counter()
        evaluate(ruleset, answers)
        relevant_questions(ruleset, {**answers, "consent.housing_advice": UNANSWERED})
        engine.decide(base)
        interactive.append(time.perf_counter() - start)
    figures["interactive_median_ms"] = statistics.median(interactive) * 1e3

    with tempfile.TemporaryDirectory() as tmp:
        from engine.casebook.batch import run_batch
        from engine.casebook.replay import MATCH, replay_many

        source = Path(tmp) / "caseload.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for data in generate_cases(cases, 11):
                handle.write(json.dumps(data) + "\n")
        progress("batch: decide and record")
        with CaseBook(Path(tmp) / "bench.db", training=True, key_dir=Path(tmp) / "keys") as book:
            summary = run_batch(source, book, "bench", workers)
            figures["batch_recorded_per_s"] = summary.recorded / summary.seconds
            progress("replay")
            ids = book.decision_ids()
            start = time.perf_counter()
            matched = sum(r.status == MATCH for r in replay_many(book, ids, workers=workers))
            figures["replay_per_s"] = len(ids) / (time.perf_counter() - start)
            figures["replay_all_match"] = matched == len(ids)
            progress("audit verify")
            start = time.perf_counter()
            events, problems = book.verify()
            figures["verify_events_per_s"] = events / (time.perf_counter() - start)
            figures["verify_ok"] = not problems
        figures["end_to_end_per_s"] = cases / (summary.seconds + len(ids) / figures["replay_per_s"])
    engine.close()
    figures["date"] = dt.date.today().isoformat()
    return figures


ROWS = (
    ("Single-case decision, median", "latency_median_us", "{:,.0f} µs"),
    ("Single-case decision, p95", "latency_p95_us", "{:,.0f} µs"),
    ("Decisions per second (1 process, no recording)", "decide_per_s", "{:,.0f}"),
    ("Batch: decided and recorded per second", "batch_recorded_per_s", "{:,.0f}"),
    ("Replay per second", "replay_per_s", "{:,.0f}"),
    ("Batch then replay, end to end, per second", "end_to_end_per_s", "{:,.0f}"),
    ("Audit verify, events per second", "verify_events_per_s", "{:,.0f}"),
    ("Plain-Python evaluator per second (reference floor)", "python_eval_per_s", "{:,.0f}"),
    ("Python evaluator / durable_rules speed ratio", "durable_to_python_ratio", "{:,.1f}x"),
    ("Interactive re-decision, median", "interactive_median_ms", "{:,.2f} ms"),
)
"""The bench table: label, figure key, format."""


# -- the case list on the big book (#12) ------------------------------------------------------------

BENCH_PLUGINS = "pathways.bench"
"""Entry point group: callables `(book path, {label: search text}) -> [(key, label, wall ms, CPU ms), ...]` that
measure more on the big book (the UI package times its case list there, so the engine never imports it)."""

CASELIST_REPEAT = 7
"""Runs of each case list measurement (the median is reported)."""


def caselist_queries(book_path: Path) -> dict[str, str]:
    """The searches measured on the big book: label -> search text, chosen from the book itself."""
    with CaseBook(book_path, create=False) as book:
        middle = book.conn.execute("SELECT MAX(id) / 2 FROM decisions").fetchone()[0] or 1
        ref, nino = book.conn.execute(
            "SELECT d.ref, n.nino FROM decisions AS d JOIN claimants AS n ON n.case_id = d.case_id "
            "WHERE d.id >= ? AND n.nino IS NOT NULL ORDER BY d.id LIMIT 1", (middle,)).fetchone()
    spaced = f"{nino[:2]} {nino[2:4]} {nino[4:6]} {nino[6:8]} {nino[8:]}"
    return {
        "a whole case reference": ref,
        "part of a reference, few matches": ref[-5:],
        "part of a reference, many matches": ref[:6],
        "a NINO typed as printed (with spaces)": spaced,
        "a NINO typed without spaces": nino,
        "nothing matches": "ZZZZZZ",
    }


def _median_ms(func: Callable[[], Any], repeat: int = CASELIST_REPEAT) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `repeat` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        func()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def _open_at_page(book_path: Path, query: CaseQuery, after: PageKey | None = None) -> int:
    """What the UI does for each page: open the book, read one page of the list, close it."""
    with CaseBook(book_path, create=False) as book:
        return len(book.case_page(query, after).rows)


def run_caselist_bench(book_path: Path, progress: Callable[[str], None] = lambda _s: None,
                       plugins: bool = True) -> dict[str, Any]:
    """Time the case list on a book: opening it at its first page, a page deep in it, and each search,
    through the engine's query functions (wall and CPU, median of CASELIST_REPEAT runs), then through
    each `pathways.bench` plug-in (the UI's widget, driven by Textual's Pilot)."""
    with CaseBook(book_path, create=False) as book:
        start = time.perf_counter()
        total = book.case_count()
        count_ms = (time.perf_counter() - start) * 1e3
        ref, ident = book.conn.execute("SELECT ref, id FROM decisions ORDER BY id LIMIT 1 OFFSET 1000").fetchone()
    queries = caselist_queries(book_path)
    progress("case list: open at the first page, and a page near its end")
    rows = [("open", "open the book at the first page of the list",
             *_median_ms(functools.partial(_open_at_page, book_path, EVERY_CASE))),
            ("deep_page", "a page near the end of the list (keyset)",
             *_median_ms(functools.partial(_open_at_page, book_path, EVERY_CASE, PageKey(str(ref), int(ident)))))]
    for n, (label, text) in enumerate(queries.items(), start=1):
        progress(f"case list: search for {label}")
        rows.append((f"search_{n}", f"search for {label}",
                     *_median_ms(functools.partial(_open_at_page, book_path, CaseQuery(text)))))
    plugin_rows: list[tuple[str, str, float, float]] = []
    for entry in entry_points(group=BENCH_PLUGINS) if plugins else ():
        progress(f"case list through {entry.name}")
        plugin_rows += entry.load()(book_path, queries)
    return {"caselist_cases": total, "caselist_count_ms": count_ms, "caselist_engine": rows,
            "caselist_plugins": plugin_rows}

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
from pathlib import Path
from typing import Any

from cases import CASES_DIR
from engine.casebook.book import CaseBook
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

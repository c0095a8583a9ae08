"""Load: many processes updating referrals in one case book at once; nothing lost, no lock errors."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.casebook.book import CaseBook
from tests.soak.common import referral_decision


def _worker(path: str, referral_id: int, number: int, updates: int, barrier: Any, results: Any) -> None:
    """One writer process: `updates` re-bookings of the shared referral, each counted and timed."""
    counts = {"ok": 0, "lock_errors": 0, "other_errors": 0, "first_error": ""}
    latencies: list[float] = []
    book = CaseBook(path, create=False)
    try:
        barrier.wait(timeout=120)
        started = time.perf_counter()
        for i in range(updates):
            day = dt.date(2010, 1, 1) + dt.timedelta(days=i % 365)
            begin = time.perf_counter()
            try:
                book.update_referral(referral_id, "booked", f"P{number}", appointment=day, notes=f"p{number}-{i}")
                counts["ok"] += 1
            except sqlite3.OperationalError as exc:
                kind = "lock_errors" if "locked" in str(exc) or "busy" in str(exc) else "other_errors"
                counts[kind] += 1
                counts["first_error"] = counts["first_error"] or f"{type(exc).__name__}: {exc}"
            except Exception as exc:
                counts["other_errors"] += 1
                counts["first_error"] = counts["first_error"] or f"{type(exc).__name__}: {exc}"
            latencies.append(time.perf_counter() - begin)
        counts["seconds"] = time.perf_counter() - started
    finally:
        book.close()
    results.put((number, counts, latencies))


def load(processes: int = 8, updates_each: int = 1000, workdir: Path | None = None) -> dict[str, Any]:
    """`processes` processes x `updates_each` updates of one referral in one book: lost, errors, chain, speed."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        path = Path(tmp) / "load.db"
        with CaseBook(path, training=True) as book:
            decision_id, code = referral_decision(book)
            referral_id = book.add_referral(decision_id, code, "Load Test Provider", "SOAK",
                                            appointment=dt.date(2010, 1, 1))
            anchor = book.head()
            events_before = anchor.seq if anchor else 0
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(processes + 1)
        results = ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(str(path), referral_id, n, updates_each, barrier, results))
                 for n in range(processes)]
        for proc in procs:
            proc.start()
        barrier.wait(timeout=120)
        started = time.perf_counter()
        gathered = [results.get(timeout=1800) for _ in procs]
        wall = time.perf_counter() - started
        for proc in procs:
            proc.join(timeout=60)
        with CaseBook(path, create=False) as book:
            rows = book.conn.execute(
                "SELECT notes FROM referral_events WHERE referral_id = ? AND notes LIKE 'p%-%'", (referral_id,)
            ).fetchall()
            count, problems = book.verify(anchor)
            integrity = book.conn.execute("PRAGMA integrity_check").fetchone()[0]
            lifecycle = book.referrals(decision_id)[0]
    expected = processes * updates_each
    notes = [r[0] for r in rows]
    ok = sum(c["ok"] for _, c, _ in gathered)
    latencies = sorted(x for _, _, lat in gathered for x in lat)
    return {
        "processes": processes,
        "updates_each": updates_each,
        "expected": expected,
        "acknowledged": ok,
        "recorded": len(notes),
        "lost": ok - len(set(notes)),
        "duplicates": len(notes) - len(set(notes)),
        "lock_errors": sum(c["lock_errors"] for _, c, _ in gathered),
        "other_errors": sum(c["other_errors"] for _, c, _ in gathered),
        "first_error": next((c["first_error"] for _, c, _ in gathered if c["first_error"]), ""),
        "audit_events_added": count - events_before,
        "chain_ok": not problems,
        "problems": [str(p) for p in problems[:5]],
        "integrity": integrity,
        "history_length": len(lifecycle.history),
        "seconds": wall,
        "updates_per_s": expected / wall if wall else 0.0,
        "latency_median_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "latency_p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000 if latencies else 0.0,
        "latency_max_ms": latencies[-1] * 1000 if latencies else 0.0,
    }

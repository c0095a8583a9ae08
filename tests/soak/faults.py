"""Faults: SIGKILL batch runs at random moments; the book stays whole and a re-run records the rest."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.casebook.audit import Anchor
from engine.casebook.book import CaseBook
from engine.casebook.replay import MATCH, Replayer
from engine.intake.generate import generate_cases
from tests.soak.common import ROOT, child_env, file_modes, pathways_argv

MODES = ("cli1", "cli2", "small_chunks", "one_transaction")
"""`pathways batch --workers 1` and `--workers 2`; run_batch with 5-120 cases a commit, or all in one."""

_SUMMARY = re.compile(r"recorded (\d+), already recorded (\d+), refused (\d+)")


def _wal_checksum(data: bytes, order: str, s0: int, s1: int) -> tuple[int, int]:
    """SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from (s0, s1)."""
    words = struct.unpack(f"{order}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def wal_uncommitted_frames(path: Path) -> int:
    """Valid WAL frames after the last commit frame: a kill caught a transaction half-written to the WAL."""
    wal = path.with_name(path.name + "-wal")
    try:
        data = wal.read_bytes()
    except FileNotFoundError:
        return 0
    if len(data) < 32:
        return 0
    magic = int.from_bytes(data[0:4], "big")
    order = ">" if magic & 1 else "<"
    page_size = int.from_bytes(data[8:12], "big")
    s0, s1 = _wal_checksum(data[0:24], order, 0, 0)
    if (s0, s1) != (int.from_bytes(data[24:28], "big"), int.from_bytes(data[28:32], "big")):
        return 0
    salts = data[16:24]
    frame = 24 + page_size
    seen = last_commit = 0
    for offset in range(32, len(data) - frame + 1, frame):
        header = data[offset:offset + 24]
        if header[8:16] != salts:
            break
        s0, s1 = _wal_checksum(header[0:8] + data[offset + 24:offset + frame], order, s0, s1)
        if (s0, s1) != (int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")):
            break
        seen += 1
        if int.from_bytes(header[4:8], "big"):
            last_commit = seen
    return seen - last_commit


def check_book(path: Path, anchor: Anchor | None) -> dict[str, Any]:
    """Integrity, partial decisions, duplicates, the chain (against an anchor) and file modes of a book."""
    with CaseBook(path, create=False) as book:
        conn = book.conn
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        decision_ids = set(book.decision_ids())
        audited = set(book.audited_inputs())
        partial = {
            "cases_without_decision": one("SELECT COUNT(*) FROM cases c WHERE NOT EXISTS "
                                          "(SELECT 1 FROM decisions d WHERE d.case_id = c.id)"),
            "decisions_without_case": one("SELECT COUNT(*) FROM decisions d WHERE NOT EXISTS "
                                          "(SELECT 1 FROM cases c WHERE c.id = d.case_id)"),
            "cases_without_claimant": one("SELECT COUNT(*) FROM cases c WHERE NOT EXISTS "
                                          "(SELECT 1 FROM claimants k WHERE k.case_id = c.id)"),
            "decisions_without_event": len(decision_ids - audited),
            "events_without_decision": len(audited - decision_ids),
        }
        decisions = one("SELECT COUNT(*) FROM decisions")
        duplicates = decisions - one("SELECT COUNT(DISTINCT ref) FROM decisions")
        _, problems = book.verify(anchor)
        head = book.head()
    modes = file_modes(path)
    return {
        "integrity_ok": integrity == "ok",
        "partial": sum(partial.values()),
        "partial_detail": {k: v for k, v in partial.items() if v},
        "decisions": decisions,
        "duplicates": duplicates,
        "chain_ok": not problems,
        "problems": [str(p) for p in problems[:3]],
        "head": head,
        "modes_ok": all(mode == 0o600 for mode in modes.values()),
    }


def _argv(mode: str, source: Path, db: Path, rng: random.Random) -> list[str]:
    """The command for one batch run: `pathways batch` itself, or run_batch with chosen chunks."""
    if mode.startswith("cli"):
        return pathways_argv("batch", str(source), "--db", str(db), "--training", "--quiet", "--workers", mode[-1])
    chunk = rng.randint(5, 120) if mode == "small_chunks" else 1_000_000  # one transaction spills to the WAL
    return [sys.executable, "-m", "tests.soak.batch_child", str(source), str(db), str(chunk), "1"]


def _decisions(db: Path) -> int:
    """How many decisions a book holds now, read without disturbing its writer (0 if not there yet)."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _wal_size(db: Path) -> int:
    """The size of a book's write-ahead log (0 if none)."""
    try:
        return db.with_name(db.name + "-wal").stat().st_size
    except FileNotFoundError:
        return 0


def _run_and_kill(argv: list[str], db: Path, delay: float, target: int | None, rng: random.Random) -> bool:
    """Start a batch run in its own process group and SIGKILL the whole group.

    With `target` None, after `delay` seconds; with -1, a moment after the WAL starts to grow (a
    transaction is being written); else a moment after the book first holds `target` decisions
    (so the kill lands while it is recording). Returns False if the run finished first.
    """
    proc = subprocess.Popen(argv, cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        if target is None:
            proc.wait(timeout=delay)
            return False
        give_up = time.perf_counter() + 120
        wal = _wal_size(db)
        while proc.poll() is None and time.perf_counter() < give_up:
            if (target < 0 and _wal_size(db) > wal + 65536) or (target >= 0 and _decisions(db) >= target):
                time.sleep(rng.uniform(0, 0.05))
                break
            time.sleep(0.005)
        if proc.poll() is not None:
            return False
        raise subprocess.TimeoutExpired(argv, delay)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        return True


def sigkill_faults(kills: int = 100, cases: int = 2000, kills_per_round: int = 10, seed: int = 0,
                   time_limit: float = 900.0, workdir: Path | None = None) -> dict[str, Any]:
    """SIGKILL `kills` batch runs at random moments, checking the book after each; re-run each round to finish."""
    rng = random.Random(seed)
    figures: dict[str, Any] = {
        "kills": 0, "rounds": 0, "runs_finished_before_kill": 0, "kills_after_progress": 0,
        "kills_mid_commit": 0,
        **{f"kills_{mode}": 0 for mode in MODES}, "kills_by_time": 0, "kills_by_progress": 0, "checks": 0,
        "integrity_failures": 0, "partial_decisions": 0, "duplicates": 0, "chain_failures": 0,
        "lost_committed": 0, "mode_failures": 0,
        "final_runs": 0, "final_remainder_wrong": 0, "final_total_wrong": 0, "replay_sampled": 0,
        "replay_non_match": 0, "examples": [],
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        durations = _calibrate(Path(tmp), cases, rng)
        figures["run_seconds"] = {mode: round(d, 2) for mode, d in durations.items()}
        while figures["kills"] < kills and time.perf_counter() - started < time_limit:
            figures["rounds"] += 1
            source = _caseload(Path(tmp) / f"round{figures['rounds']}.jsonl", cases, rng)
            db = Path(tmp) / f"round{figures['rounds']}.db"
            recorded, anchor, in_round = 0, None, 0
            while (in_round < kills_per_round and figures["kills"] < kills and recorded < cases
                   and time.perf_counter() - started < time_limit):
                mode = rng.choice(MODES)
                target = None
                if rng.random() < 0.6:  # by progress: while recording; the one transaction while it spills
                    target = -1 if mode == "one_transaction" else recorded + rng.randint(1, max(1, (cases - recorded) // 2))
                # by time: any moment of a whole run (start-up, deciding, recording, skipping what is recorded)
                delay = rng.uniform(0.1, durations[mode] * 1.05)
                killed = _run_and_kill(_argv(mode, source, db, rng), db, delay, target, rng)
                figures["kills_mid_commit"] += killed and wal_uncommitted_frames(db) > 0
                if not killed:
                    figures["runs_finished_before_kill"] += 1
                else:
                    figures["kills"] += 1
                    figures[f"kills_{mode}"] += 1
                    figures["kills_by_time" if target is None else "kills_by_progress"] += 1
                    in_round += 1
                if not db.exists():
                    continue
                check = check_book(db, anchor)
                figures["checks"] += 1
                _tally(figures, check, recorded)
                figures["kills_after_progress"] += killed and check["decisions"] > recorded
                recorded, anchor = check["decisions"], check["head"]
            _final_run(figures, source, db, cases, recorded, anchor, rng)
    figures["seconds"] = time.perf_counter() - started
    figures["cases_per_round"] = cases
    return figures


def _caseload(path: Path, cases: int, rng: random.Random) -> Path:
    """Write `cases` generated cases as JSON Lines."""
    with path.open("w", encoding="utf-8") as handle:
        for data in generate_cases(cases, rng.randint(0, 10**6)):
            handle.write(json.dumps(data) + "\n")
    return path


def _calibrate(folder: Path, cases: int, rng: random.Random) -> dict[str, float]:
    """How long a whole uninterrupted run of each kind takes here, so kills spread over a whole run."""
    source = _caseload(folder / "calibrate.jsonl", cases, rng)
    out = {}
    for mode in MODES:
        db = folder / f"calibrate-{mode}.db"
        begin = time.perf_counter()
        subprocess.run(_argv(mode, source, db, rng), cwd=ROOT, env=child_env(), capture_output=True, timeout=600,
                       check=True)
        out[mode] = time.perf_counter() - begin
    return out


def _tally(figures: dict[str, Any], check: dict[str, Any], recorded_before: int) -> None:
    """Add one check's failures to the figures (keeping a few examples)."""
    failures = {
        "integrity_failures": not check["integrity_ok"],
        "partial_decisions": check["partial"],
        "duplicates": check["duplicates"],
        "chain_failures": not check["chain_ok"],
        "lost_committed": max(0, recorded_before - check["decisions"]),
        "mode_failures": not check["modes_ok"],
    }
    for key, value in failures.items():
        figures[key] += int(value)
    if any(failures.values()) and len(figures["examples"]) < 5:
        figures["examples"].append({k: v for k, v in check.items() if k != "head"})


def _final_run(figures: dict[str, Any], source: Path, db: Path, cases: int, recorded: int,
               anchor: Anchor | None, rng: random.Random) -> None:
    """Re-run `pathways batch` to the end: it must record exactly the remainder, and the book must check out."""
    proc = subprocess.run(pathways_argv("batch", str(source), "--db", str(db), "--training", "--quiet"),
                          cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=600)
    figures["final_runs"] += 1
    found = _SUMMARY.search(proc.stdout)
    if proc.returncode != 0 or not found or (int(found[1]), int(found[2])) != (cases - recorded, recorded):
        figures["final_remainder_wrong"] += 1
        if len(figures["examples"]) < 5:
            figures["examples"].append({"final": proc.stdout.strip()[-200:], "err": proc.stderr.strip()[-200:],
                                        "expected_recorded": cases - recorded, "expected_already": recorded})
    check = check_book(db, anchor)
    figures["checks"] += 1
    _tally(figures, check, recorded)
    figures["final_total_wrong"] += check["decisions"] != cases
    with CaseBook(db, create=False) as book:
        ids = book.decision_ids()
        replayer = Replayer(book)
        for ident in rng.sample(ids, min(25, len(ids))):
            figures["replay_sampled"] += 1
            figures["replay_non_match"] += replayer.replay(ident).status != MATCH

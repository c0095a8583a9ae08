"""Batch triage: streams a caseload, records it whole-chunk-or-nothing, re-runs without duplicates."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.casebook.batch import run_batch
from engine.casebook.book import CaseBook
from engine.intake.generate import generate_cases
from tests.helpers import CASES, ROOT, run_main


def write_caseload(path: Path, n: int, bad_lines: dict[int, str] | None = None) -> Path:
    lines = [json.dumps(d) for d in generate_cases(n, 3)]
    for number, text in (bad_lines or {}).items():
        lines.insert(number - 1, text)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_batch_records_everything_and_reports_bad_lines(tmp_path: Path, capsys) -> None:
    source = write_caseload(tmp_path / "in.jsonl", 900, {5: "{broken", 300: json.dumps({"schema": 1})})
    db = tmp_path / "b.db"
    result = run_main(capsys, "batch", str(source), "--db", str(db), "--workers", "2", "--quiet")
    assert result.code == 2
    assert f"{source}:5: invalid JSON" in result.err
    assert f"{source}:300: missing required key" in result.err
    assert "decided 900, recorded 900, already recorded 0, refused 2" in result.out
    replay = run_main(capsys, "replay", "--db", str(db), "--all", "--json")
    assert replay.code == 0 and len(replay.out.splitlines()) == 900
    assert run_main(capsys, "audit", "verify", "--db", str(db)).code == 0
    again = run_main(capsys, "batch", str(source), "--db", str(db), "--workers", "1", "--quiet")
    assert "recorded 0, already recorded 900" in again.out
    with CaseBook(db) as book:
        assert len(book.decision_ids()) == 900


def test_workers_do_not_change_what_is_recorded(tmp_path: Path) -> None:
    source = write_caseload(tmp_path / "in.jsonl", 1000)
    stored = []
    for workers in (1, 2):
        with CaseBook(tmp_path / f"w{workers}.db", training=True) as book:
            run_batch(source, book, "T", workers, chunk=150)
            stored.append([r[0] for r in book.conn.execute("SELECT decision FROM decisions ORDER BY id")])
    assert stored[0] == stored[1] and len(stored[0]) == 1000


def test_a_folder_of_case_files(tmp_path: Path, capsys) -> None:
    result = run_main(capsys, "batch", str(CASES), "--db", str(tmp_path / "s.db"), "--quiet")
    assert result.code == 0 and "refused 0" in result.out
    assert run_main(capsys, "replay", "--db", str(tmp_path / "s.db"), "--all").code == 0


def test_interrupted_batch_is_consistent_and_resumable(tmp_path: Path) -> None:
    source = write_caseload(tmp_path / "in.jsonl", 1000)
    chunks = []

    def stop_after_two(n: int) -> None:
        chunks.append(n)
        if len(chunks) == 2:
            raise KeyboardInterrupt

    with CaseBook(tmp_path / "i.db", training=True) as book:
        summary = run_batch(source, book, "T", 1, on_progress=stop_after_two, chunk=200)
        assert summary.interrupted and summary.recorded == 400
        assert book.verify()[1] == []
        rest = run_batch(source, book, "T", 1, chunk=200)
        assert (rest.recorded, rest.already) == (600, 400)
        assert len(book.decision_ids()) == 1000


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary"])
def test_unusable_input(tmp_path: Path, capsys, content: bytes) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(content)
    result = run_main(capsys, "batch", str(source), "--db", str(tmp_path / "x.db"), "--quiet")
    assert "Traceback" not in result.err
    assert result.code in (0, 2)


def test_wrong_kind_of_nino_is_refused_per_case(tmp_path: Path, capsys) -> None:
    lines = [json.loads(line) for line in [json.dumps(d) for d in generate_cases(50, 5)]]
    lines[10]["claimant"]["nino"] = "AB123456C"
    source = tmp_path / "mixed.jsonl"
    source.write_text("\n".join(json.dumps(d) for d in lines) + "\n")
    result = run_main(capsys, "batch", str(source), "--db", str(tmp_path / "t.db"), "--training", "--quiet")
    assert result.code == 2 and f"{source}:11: a training case book accepts only synthetic QQ numbers" in result.err
    assert "recorded 49" in result.out


def test_a_batch_leaves_the_callers_garbage_collection_as_it_found_it(tmp_path: Path) -> None:
    """Bulk runs collect less often while they run (#14), and only while they run, even when they fail."""
    import gc

    from engine import collect

    source = write_caseload(tmp_path / "in.jsonl", 50)
    before = gc.get_threshold()
    seen: list[int] = []
    with CaseBook(tmp_path / "b.db", training=True) as book:
        run_batch(source, book, "T", 1, on_progress=lambda _n: seen.append(gc.get_threshold()[0]))
        with pytest.raises(ZeroDivisionError):
            run_batch(source, book, "T", 1, on_progress=lambda _n: 1 / 0)
    assert seen and all(threshold == collect.BULK_THRESHOLD for threshold in seen)
    assert gc.get_threshold() == before


def test_a_chunk_bigger_than_a_worker_task_is_still_recorded_whole(tmp_path: Path) -> None:
    """Workers decide TASK cases at a time; a recording chunk spans several tasks, and ends where it should."""
    from engine.casebook.batch import TASK

    source = write_caseload(tmp_path / "in.jsonl", 1000, bad_lines={700: "{not json"})
    progress: list[int] = []

    def stop_after_one(n: int) -> None:
        progress.append(n)
        raise KeyboardInterrupt

    chunk = TASK + TASK // 2  # not a whole number of tasks
    with CaseBook(tmp_path / "g.db", training=True) as book:
        summary = run_batch(source, book, "T", 1, on_progress=stop_after_one, chunk=chunk)
        assert summary.interrupted and progress == [chunk]
        assert (summary.recorded, summary.last_line) == (chunk, chunk)
        assert len(book.decision_ids()) == chunk and book.verify()[1] == []
        rest = run_batch(source, book, "T", 2, chunk=chunk)
        assert (rest.recorded, rest.already, rest.refused) == (1000 - chunk, chunk, 1)
        assert len(book.decision_ids()) == 1000 and book.verify()[1] == []


def test_cases_are_recorded_in_input_order_across_editions_and_refusals(tmp_path: Path) -> None:
    """Workers decide a chunk one rule set at a time (#14); the book and the refusals still follow the input."""
    source = write_caseload(tmp_path / "in.jsonl", 600, {7: "{broken", 200: json.dumps({"schema": 1})})
    refused: list[str] = []
    with CaseBook(tmp_path / "o.db", training=True) as book:
        run_batch(source, book, "T", 1, on_refused=refused.append, chunk=150)
        rows = book.conn.execute("SELECT ref, edition FROM decisions ORDER BY id").fetchall()
    assert [ref for ref, _edition in rows] == [d["case"] for d in generate_cases(600, 3)]
    assert len({edition for _ref, edition in rows}) == 3
    assert [message.startswith(f"{source}:{line}:") for message, line in zip(refused, (7, 200), strict=True)] == \
        [True, True]


def test_ctrl_c_stops_a_batch_on_workers_cleanly(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole foreground process group: the batch stops at its last whole chunk, its workers
    stop with it, no worker prints a traceback, and the book verifies (#14: workers ignore Ctrl-C and leave
    it to the parent)."""
    source = write_caseload(tmp_path / "in.jsonl", 30000)
    db = tmp_path / "b.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from engine.cli import main; main()", "batch", str(source), "--db", str(db),
         "--workers", "2"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal, not a background job
    deadline = time.monotonic() + 120
    while _recorded(db) < 2000:  # a chunk is in: the workers are busy with the next ones
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    workers = [int(pid) for pid in subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True,
                                                  text=True).stdout.split()]
    assert len(workers) >= 2
    os.killpg(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "interrupted:" in err and "the book is consistent" in err
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived its batch"
        time.sleep(0.05)
    assert _verifies(db)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _recorded(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
    except sqlite3.Error:
        return 0


def _verifies(db: Path) -> bool:
    with CaseBook(db) as book:
        return book.verify()[1] == []

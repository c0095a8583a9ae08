"""A full, read-only or size-limited disk is named as such, with the true count written (issue #15, finding 10).

Where this runs as root with tmpfs available (CI does), a real small file system is mounted and
filled; a file size limit (RLIMIT_FSIZE, as `ulimit -f` sets) needs no privilege and always runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import CASES, ROOT, run_main

IN_FORCE = next(CASES.glob("039-*.yaml"))


@contextlib.contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where` (skips the test where mounting is not allowed)."""
    where.mkdir(mode=0o700)
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _pathways(*args: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run `pathways ARGS`, with a file size limit if given (SIGXFSZ ignored, so writes fail with EFBIG)."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, preexec_fn=limit)


def _fill(folder: Path) -> None:
    """Fill the file system holding `folder` to the last byte."""
    with contextlib.suppress(OSError), (folder / "filler").open("wb") as handle:
        while True:
            handle.write(b"\0" * 65536)
    with contextlib.suppress(OSError), (folder / "filler2").open("wb") as handle:
        while True:
            handle.write(b"\0")


def _decisions(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]


def test_a_full_disk_during_batch_says_so_with_the_true_count(tmp_path: Path, capsys) -> None:
    cases = tmp_path / "cases.jsonl"
    assert run_main(capsys, "cases", "generate", "12000", "-o", str(cases)).code == 0  # ~1.5 KB a case (#14)
    with small_disk(tmp_path / "disk", "10m") as disk:
        done = _pathways("batch", str(cases), "--db", str(disk / "book.db"), "--training", "--workers", "1", "--quiet")
        assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
        assert done.stderr.startswith("pathways: the disk is full: ") and "internal error" not in done.stderr
        written = int(done.stderr.split("the disk is full: ")[1].split()[0])
        assert done.stderr.endswith(f"{written} decisions were written, the rest were not; "
                                    "make room and run the same command again to record the rest\n")
        assert 0 < written < 12000 and written % 400 == 0  # whole chunks only
        assert _decisions(disk / "book.db") == written  # the count told is the truth
        assert run_main(capsys, "audit", "verify", "--db", str(disk / "book.db")).code == 0
        # a single record on the full disk: named, one line, nothing half-written; or, since a compact decision
        # (#14) is small enough to fit in the room the write-ahead log already holds, recorded whole
        _fill(disk)
        again = _pathways("record", str(IN_FORCE), "--db", str(disk / "book.db"), "--training")
        if again.returncode == 0:
            assert _decisions(disk / "book.db") == written + 1
            assert run_main(capsys, "audit", "verify", "--db", str(disk / "book.db")).code == 0
        else:
            assert again.returncode == 2 and "the disk is full" in again.stderr
            assert len(again.stderr.splitlines()) == 1 and _decisions(disk / "book.db") == written


def test_exports_and_anchors_on_a_full_disk_leave_no_file(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    assert run_main(capsys, "record", str(IN_FORCE), "--db", str(db), "--training").code == 0
    with small_disk(tmp_path / "disk", "1m") as disk:
        _fill(disk)
        for args in (("audit", "anchor", "-o", str(disk / "anchor.json")),
                     ("export", "--format", "json", "-o", str(disk / "export.json")),
                     ("letter", "1", "-o", str(disk / "letter.html"))):
            result = run_main(capsys, *args, "--db", str(db))
            assert result.code == 2, (args, result.err)
            assert result.err.strip().endswith("the disk is full: nothing was written to it"), result.err
            assert sorted(p.name for p in disk.iterdir()) == ["filler", "filler2"]  # no empty or partial file


def test_a_read_only_file_system_is_named(tmp_path: Path, capsys) -> None:
    with small_disk(tmp_path / "disk", "4m") as disk:
        assert run_main(capsys, "record", str(IN_FORCE), "--db", str(disk / "book.db"), "--training").code == 0
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        result = run_main(capsys, "record", str(IN_FORCE), "--db", str(disk / "book.db"), "--training")
        assert result.code == 2 and len(result.err.splitlines()) == 1
        assert "the file system is read-only" in result.err
        result = run_main(capsys, "export", "-o", str(disk / "x.csv"), "--db", str(tmp_path / "none.db"))
        assert result.code == 2


def test_a_file_size_limit_stops_an_export_whole(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    cases = tmp_path / "cases.jsonl"
    assert run_main(capsys, "cases", "generate", "300", "-o", str(cases)).code == 0
    assert run_main(capsys, "batch", str(cases), "--db", str(db), "--training", "--workers", "1", "--quiet").code == 0
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    done = _pathways("export", "--format", "jsonl", "-o", str(out / "decisions.jsonl"), "--db", str(db),
                     fsize=48 * 1024)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().endswith("the file is larger than this system allows (a file size limit): "
                                        "nothing was written to it")
    assert list(out.iterdir()) == []
    done = _pathways("export", "--format", "jsonl", "-o", str(out / "decisions.jsonl"), "--db", str(db))
    assert done.returncode == 0 and len((out / "decisions.jsonl").read_text().splitlines()) == 300


@pytest.mark.parametrize("workers", [1, 2])
def test_replay_all_skips_a_decision_erased_meanwhile(tmp_path: Path, capsys, workers: int) -> None:
    from engine.casebook.book import CaseBook
    from engine.casebook.replay import MATCH, replay_many

    db = tmp_path / "book.db"
    cases = tmp_path / "cases.jsonl"
    assert run_main(capsys, "cases", "generate", "8", "-o", str(cases)).code == 0
    assert run_main(capsys, "batch", str(cases), "--db", str(db), "--training", "--workers", "1", "--quiet").code == 0
    with CaseBook(db, create=False) as book:
        ids = book.decision_ids()          # the list `replay --all` works through ...
        book.erase("SYN-00000003", "A1")   # ... and an erasure that lands meanwhile
        results = list(replay_many(book, ids, workers=workers, chunk=2))
    assert len(ids) == 8 and len(results) == 7
    assert {r.status for r in results} == {MATCH} and "SYN-00000003" not in {r.case for r in results}
    shown = run_main(capsys, "replay", "--all", "--db", str(db), "--json")
    assert shown.code == 0 and len(shown.out.splitlines()) == 7
    assert all(json.loads(line)["status"] == MATCH for line in shown.out.splitlines())

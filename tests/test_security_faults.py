"""Faults (issue #6): SIGKILLed batch runs leave no partial decision, and a re-run records exactly the rest."""

from __future__ import annotations

from pathlib import Path

from tests.soak import CI_SIZES, sigkill_faults
from tests.soak.faults import wal_uncommitted_frames


def test_sigkilled_batches_leave_the_book_whole_and_resumable() -> None:
    figures = sigkill_faults(**CI_SIZES["faults"])
    assert figures["kills"] == CI_SIZES["faults"]["kills"], figures
    for law in ("integrity_failures", "partial_decisions", "duplicates", "chain_failures", "lost_committed",
                "mode_failures", "final_remainder_wrong", "final_total_wrong", "replay_non_match"):
        assert figures[law] == 0, (law, figures["examples"])
    assert figures["final_runs"] == figures["rounds"] >= 1
    assert figures["replay_sampled"] > 0


def test_the_wal_reader_sees_an_unfinished_transaction(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "w.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA cache_size=5")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t VALUES (randomblob(500))", [()] * 500)
    assert wal_uncommitted_frames(db) > 0
    conn.execute("COMMIT")
    assert wal_uncommitted_frames(db) == 0
    conn.close()

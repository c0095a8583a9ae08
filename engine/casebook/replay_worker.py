"""Replay's worker processes: each opens the book and builds its `Replayer` once, when it starts (#14).

Kept apart from replay.py, with nothing imported at the top, so that a spawned worker imports only what
`start` needs (engine.casebook itself keeps pandas and numpy out of every process: 0.3 of each worker's
0.55 s CPU start-up). Workers collect garbage with the bulk thresholds (engine.collect).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.casebook.replay import Replayer, ReplayResult

_REPLAYER: list[Replayer] = []


def start(path: str, key_dir: str | None) -> None:
    """Pool initializer: in this worker process only, open the book read-only and build its replayer."""
    from pathlib import Path

    from engine import collect
    from engine.casebook.book import CaseBook
    from engine.casebook.replay import Replayer

    collect.for_bulk_worker()
    book = CaseBook(path, readonly=True, key_dir=Path(key_dir) if key_dir else None)
    _REPLAYER[:] = [Replayer(book)]


def replay_chunk(task: tuple[list[int], bool]) -> list[ReplayResult]:
    """Replay a chunk of decisions in this worker (those erased meanwhile are left out); results hold no decisions."""
    ids, under_current = task
    return [r for r in _REPLAYER[0].replay_chunk(ids, under_current, keep=False) if r is not None]

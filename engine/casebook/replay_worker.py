"""Replay's worker processes: each opens the book and builds its `Replayer` once, when it starts (#14).

Kept apart from replay.py, with nothing imported at the top, so that a spawned worker imports only what
`start` needs (engine.casebook itself keeps pandas and numpy out of every process: 0.3 of each worker's
0.55 s CPU start-up). Workers collect garbage with the bulk thresholds (engine.collect).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.casebook.replay import Replayer

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


def replay_chunk(task: tuple[list[int], bool]) -> list[tuple[Any, ...]]:
    """Replay a chunk of decisions in this worker (those erased meanwhile are left out); results hold no decisions.

    Each result goes back as the tuple of its fields (`ReplayResult(*fields)` again in the parent): a plain
    tuple passes between processes at a fraction of an attrs object's cost (#14).
    """
    import attrs

    ids, under_current = task
    return [attrs.astuple(r, recurse=False) for r in _REPLAYER[0].replay_chunk(ids, under_current, keep=False)
            if r is not None]

"""Replay's worker processes: each opens the book and builds its `Replayer` once, when it starts (#14).

Kept apart from replay.py, with nothing imported at the top, so that a spawned worker starts by running
`start` before anything else of Pathways is imported: it then stops sqlite_utils from importing pandas
and numpy, which sqlite_utils imports whenever they are installed (they are, with the test extra) only to
convert their own types, which a worker never meets. That was 0.3 of each worker's 0.55 s CPU start-up.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.casebook.replay import Replayer, ReplayResult

NOT_NEEDED = ("pandas", "numpy")
"""Modules sqlite_utils imports when installed, which a replay worker never uses."""

_REPLAYER: list[Replayer] = []


def start(path: str, key_dir: str | None) -> None:
    """Pool initializer: in this worker process only, open the book read-only and build its replayer."""
    from pathlib import Path

    for name in NOT_NEEDED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # `import pandas` then raises ImportError
    from engine.casebook.book import CaseBook
    from engine.casebook.replay import Replayer

    book = CaseBook(path, readonly=True, key_dir=Path(key_dir) if key_dir else None)
    _REPLAYER[:] = [Replayer(book)]


def replay_chunk(task: tuple[list[int], bool]) -> list[ReplayResult]:
    """Replay a chunk of decisions in this worker (those erased meanwhile are left out); results hold no decisions."""
    ids, under_current = task
    return [r for r in _REPLAYER[0].replay_chunk(ids, under_current, keep=False) if r is not None]

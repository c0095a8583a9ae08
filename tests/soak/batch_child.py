"""A batch run with a chosen chunk size, for the SIGKILL measurement (more commits, more kill points).

Usage: python -m tests.soak.batch_child INPUT DB CHUNK WORKERS
"""

from __future__ import annotations

import sys
from pathlib import Path

from engine.casebook.batch import run_batch
from engine.casebook.book import CaseBook


def main(argv: list[str]) -> int:
    """Record INPUT into the training book DB in chunks of CHUNK cases; print the summary."""
    source, db, chunk, workers = Path(argv[0]), Path(argv[1]), int(argv[2]), int(argv[3])
    with CaseBook(db, training=True) as book:
        summary = run_batch(source, book, "SOAK", workers, chunk=chunk)
    print(f"recorded {summary.recorded}, already recorded {summary.already}, refused {summary.refused}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

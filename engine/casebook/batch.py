"""Batch triage: decide and record a whole caseload, streamed, on every core, resumable.

Worker processes parse, validate, decide and hash each case (the CPU work, engine.intake.bulk); the main
process records chunks of decided cases, each chunk in one transaction with its audit events. At most a
few chunks are in flight, so memory stays flat however long the input. A chunk is recorded whole
or not at all, and cases already in the book are skipped, so an interrupted run can be re-run.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import IO

import attrs

from engine import collect
from engine.casebook import compact
from engine.casebook.book import CaseBook
from engine.casebook.records import Prepared
from engine.errors import InputError, StorageError, storage_problem
from engine.intake.bulk import Decided, Dictionaries, Item, decide_chunk, decide_task
from engine.intake.loader import CASE_SUFFIXES, STDIN_SOURCE, is_stdin
from engine.policy.rulebook import RuleSet
from engine.workers import in_order

CHUNK = 2000
"""Cases per recording transaction (#14: a commit writes every index page it touched, and the random keys of the
inputs and NINO indexes touch most of them, so fewer, bigger writes cost less a case: 400 -> 2,000 saves about
8 us a case on a 100,000-case book, more on bigger ones)."""

TASK = 400
"""Cases per worker task (at most; a smaller `chunk` is the task too)."""


@attrs.define
class BatchSummary:
    """What a batch run did."""

    decided: int = 0
    recorded: int = 0
    already: int = 0
    refused: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    last_line: int | None = None

    def rate(self) -> float:
        """Cases handled per second."""
        return (self.decided + self.refused) / self.seconds if self.seconds else 0.0


def iter_items(path: Path) -> Iterator[Item]:
    """Stream the input: every non-blank line of a .jsonl file (`-`: standard input), or every case file in a folder."""
    if is_stdin(path):
        yield from _lines(sys.stdin.buffer, STDIN_SOURCE)
        return
    if path.is_dir():
        for file in sorted(p for p in path.iterdir() if p.suffix.lower() in CASE_SUFFIXES and p.is_file()):
            if file.suffix.lower() == ".jsonl":
                yield from iter_items(file)
            else:
                yield (str(file), None, "")
        return
    if path.suffix.lower() != ".jsonl":
        yield (str(path), None, "")
        return
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", str(path)) from None
    with handle:
        yield from _lines(handle, str(path))


def _lines(handle: IO[bytes], source: str) -> Iterator[Item]:
    """Every non-blank line of JSON Lines, numbered."""
    for number, raw in enumerate(handle, start=1):
        if raw.strip():
            # `0 in raw`: bytes' own search for a NUL byte (`b"\x00" in raw` first tries its argument as a number
            # and raises inside, 7 times slower, #14)
            yield (source, number, raw.decode("utf-8", errors="replace") if 0 not in raw else "\x00")


def count_items(path: Path) -> int | None:
    """How many cases the input holds (for the progress bar), counted cheaply; None for standard input."""
    if is_stdin(path):
        return None
    if path.is_dir():
        return sum(1 for _ in iter_items(path))
    if path.suffix.lower() != ".jsonl":
        return 1
    count = 0
    with path.open("rb") as handle:
        for raw in handle:
            count += bool(raw.strip())
    return count


def _chunks(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    """Group items into lists of `size`."""
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@collect.bulk()
def run_batch(
    path: Path,
    book: CaseBook,
    adviser: str,
    workers: int = 0,
    on_refused: Callable[[str], None] = lambda _msg: None,
    on_progress: Callable[[int], None] = lambda _n: None,
    chunk: int = CHUNK,
    cache: bool = True,
) -> BatchSummary:
    """Decide and record every case under `path` into `book`; refusals are reported, not fatal.

    Workers decide TASK cases at a time; each `chunk` of cases is recorded in one transaction, whole or not at
    all, and `on_progress` is told how many cases each chunk held once it is recorded.

    With `cache` (the default), durable_rules decides the first case of each class and the rest of
    the class are rendered from its decision, byte for byte the same (engine.policy.rendered).
    """
    from engine.policy.driver import default_engine

    summary = BatchSummary()
    started = time.perf_counter()
    rulesets = {rs.digest: rs for rs in default_engine().book.all_rulesets()}
    workers = workers or (os.cpu_count() or 1)
    results: Generator[Decided, None, None]
    task = min(chunk, TASK)
    known = _Dictionaries(book)
    if workers <= 1:
        results = (decide_chunk(c, cache) for c in _chunks(iter_items(path), task))
    else:  # workers pack each decision with the book's dictionary for its rule set, once the book has one
        results = in_order(decide_task, ((c, cache, known.current) for c in _chunks(iter_items(path), task)),
                           workers, ahead=2 * workers + chunk // task, initializer=collect.for_bulk_worker)
    try:
        prepared: list[Prepared] = []
        handled = 0
        last_line = summary.last_line
        for decided in results:
            for line, fields in decided:
                if isinstance(fields, str):
                    summary.refused += 1
                    on_refused(fields)
                else:
                    result = Prepared(*fields)
                    summary.decided += 1
                    try:
                        book.check_kind_of(result)
                    except InputError as exc:
                        summary.refused += 1
                        on_refused(f"{path}:{line}: {exc.problem}" if line else f"{result.ref}: {exc.problem}")
                    else:
                        prepared.append(result)
                handled += 1
                last_line = line
                if handled >= chunk:
                    _record(book, prepared, rulesets, adviser, summary)
                    known.update(prepared)
                    summary.last_line = last_line
                    on_progress(handled)
                    prepared, handled = [], 0
        if handled:
            _record(book, prepared, rulesets, adviser, summary)
            summary.last_line = last_line
            on_progress(handled)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        results.close()  # stops the workers, if any
        summary.seconds = time.perf_counter() - started
    return summary


class _Dictionaries:
    """The book's decision dictionaries as batch's workers are given them: read again once a chunk has recorded a
    decision under a rule set the book had none for (the chunk's write stored it)."""

    def __init__(self, book: CaseBook) -> None:
        self.book = book
        self.current: Dictionaries = compact.dictionaries(book.conn)
        """What the tasks handed out from now on carry: never changed once handed out (it is read in another thread)."""

    def update(self, recorded: list[Prepared]) -> None:
        """Read the dictionaries again if a recorded decision's rule set had none before."""
        if any(item.ruleset not in self.current for item in recorded):
            self.current = compact.dictionaries(self.book.conn)


def _record(book: CaseBook, prepared: list[Prepared], rulesets: dict[str, RuleSet], adviser: str,
            summary: BatchSummary) -> None:
    """Record one chunk of prepared cases in one transaction, skipping those already in the book, and count them."""
    try:
        ids = book.record_prepared(prepared, rulesets, adviser, skip_recorded=True)
    except Exception as exc:  # the chunk's transaction was rolled back: say what is in the book
        problem = storage_problem(exc)
        if problem is None:
            raise
        raise StorageError(f"{problem}: {summary.recorded} decisions were written, the rest were not; "
                           "make room and run the same command again to record the rest") from None
    summary.recorded += len(ids)
    summary.already += len(prepared) - len(ids)

"""The big bench book: a training case book of a million generated cases, built once and kept in the cache.

`pathways bench --big` measures on it. Building it takes many minutes, so it is made once in the
user's cache folder (platformdirs; `--cache-dir` names another) and reused. Every row is a real
Pathways row recorded by the real code in bulk transactions: generated cases (QQ numbers) decided by
durable_rules and recorded with their audit events (`CaseBook.record_prepared`), some cases recorded
a second time with changed answers (so a case reference has more than one decision), and referrals
logged through the referral lifecycle code. The book is built under a temporary name and renamed when
whole, so an interrupted build is never reused.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import platformdirs

from engine.casebook import referrals
from engine.casebook.book import CaseBook
from engine.casebook.compact import expand
from engine.casebook.db import write
from engine.casebook.records import Prepared
from engine.intake.generate import synthetic_case
from engine.policy.driver import Engine

BIG_CASES = 1_000_000
"""Cases in the big bench book (distinct case references)."""
BIG_SEED = 20261126
"""The generator's seed: the same book every time it is built."""
CHUNK = 5000
"""Decisions recorded per write transaction while building."""
RERECORD_EVERY = 100
"""Every this-many-th case is recorded a second time with changed answers (1%)."""
REFER_EVERY = 50
"""A referral is logged for every this-many-th decision that calls for one."""
PROVIDERS = ("Leeds Drug Service", "Housing Options", "Work Programme provider")
"""Providers the bench book's referrals go to."""


def default_cache_dir() -> Path:
    """Where the big bench book is kept: `bench` in the user's Pathways cache folder."""
    return Path(platformdirs.user_cache_dir("pathways", appauthor=False)) / "bench"


@attrs.frozen
class BigBook:
    """The big bench book's file, its key folder, its size in cases, and whether this run built it."""

    path: Path
    key_dir: Path
    cases: int
    built_seconds: float | None


def big_book(cases: int = BIG_CASES, cache_dir: Path | None = None,
             progress: Callable[[str], None] = lambda _s: None) -> BigBook:
    """The big bench book of `cases` cases: reused from the cache folder, or built there first."""
    folder = cache_dir or default_cache_dir()
    path = folder / f"big-{cases}.db"
    key_dir = folder / "keys"
    if path.exists():
        return BigBook(path, key_dir, cases, None)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    start = time.perf_counter()
    build(path, key_dir, cases, progress)
    return BigBook(path, key_dir, cases, time.perf_counter() - start)


def build(path: Path, key_dir: Path, cases: int, progress: Callable[[str], None] = lambda _s: None) -> None:
    """Build the bench book at `path` (under a temporary name first, renamed when whole)."""
    partial = path.with_name(path.name + ".building")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    engine = Engine()
    rulesets = {rs.digest: rs for rs in engine.book.all_rulesets()}
    rng = random.Random(BIG_SEED)  # noqa: S311 - synthetic data, not security
    started = time.perf_counter()
    with CaseBook(partial, training=True, key_dir=key_dir, actor="bench") as book:
        done = 0
        for chunk in _chunks(_numbers(cases), CHUNK):
            prepared = []
            for number in chunk:
                case = synthetic_case(rng, number)
                prepared.append(Prepared.of(case, engine.decide(case)))
            book.record_prepared(prepared, rulesets, "bench")
            done += len(chunk)
            rate = done / (time.perf_counter() - started)
            progress(f"building the big bench book: {done:,} decisions recorded ({rate:,.0f}/s)")
        _refer(book)
        book.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.close()
    partial.rename(path)


def _numbers(cases: int) -> Iterator[int]:
    """Case numbers in recording order: every case once, then every RERECORD_EVERY-th again."""
    yield from range(1, cases + 1)
    yield from range(RERECORD_EVERY, cases + 1, RERECORD_EVERY)


def _chunks(numbers: Iterator[int], size: int) -> Iterator[list[int]]:
    """Group numbers into lists of `size`."""
    chunk: list[int] = []
    for number in numbers:
        chunk.append(number)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _refer(book: CaseBook) -> None:
    """Log a referral (proposed, some then booked or closed) for every REFER_EVERY-th decision that calls for one."""
    wanted = []
    rows = book.conn.execute("SELECT id, decision FROM decisions WHERE id % ? = 0 ORDER BY id", (REFER_EVERY,))
    for ident, text in rows:
        codes = [o["code"] for o in json.loads(expand(book.conn, text))["outcomes"] if o["kind"] == "referral"]
        if codes:
            wanted.append((int(ident), codes[0]))
    for start in range(0, len(wanted), CHUNK):
        with write(book.db) as conn:
            for n, (ident, code) in enumerate(wanted[start:start + CHUNK], start=start):
                referral = referrals.add(conn, ident, code, PROVIDERS[n % len(PROVIDERS)], "bench", None, "",
                                         keyed=book.keyed)
                if n % 3 == 1:
                    referrals.update(conn, referral, "closed", "bench", None, "", keyed=book.keyed)

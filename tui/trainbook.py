"""What train mode reads from and writes to the training book: plain functions, no Textual.

Each opens its own CaseBook (so it can run in a worker thread) and only ever a training book:
a live book is refused with one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import attrs

from engine.casebook.book import CaseBook
from engine.casebook.training import Tally, tally
from engine.model.case import Case
from engine.model.training import Score
from engine.policy.driver import default_engine


@attrs.define
class Session:
    """One sitting of train mode: who is training, and their marks so far (kept while the app runs)."""

    trainee: str
    tally: Tally = attrs.field(factory=Tally)
    book: Tally = attrs.field(factory=Tally)

    def words(self) -> str:
        """The session score in a line, with the trainee's total in the training book."""
        now = self.tally
        line = f"trainee {self.trainee} · session: {now.attempts} done, {now.marks}/{now.out_of} marks ({now.percent}%)"
        if self.book.attempts > now.attempts:
            line += f" · in all: {self.book.attempts} done, {self.book.marks}/{self.book.out_of} ({self.book.percent}%)"
        return line


@attrs.frozen
class Recorded:
    """An attempt written to the training book: its id, its score and the trainee's total there."""

    attempt_id: int
    score: Score
    book: Tally


def trainee_tally(path: Path, trainee: str) -> Tally:
    """The trainee's attempts in the training book, added up (read-only; nothing when there is no book)."""
    if not path.exists():
        return Tally()
    with CaseBook(path, training=True, create=False) as book:
        return tally(book.attempts(trainee))


def record_attempt(path: Path, trainee: str, case: Case, predicted: Iterable[str],
                   predicted_priority: str | None) -> Recorded:
    """Decide the scenario, score the trainee's prediction and record it in the training book at `path`."""
    engine = default_engine()
    decision = engine.decide(case, engine.ruleset_for(case))
    with CaseBook(path, training=True) as book:
        attempt_id, result = book.record_attempt(trainee, decision, predicted, predicted_priority)
        return Recorded(attempt_id, result, tally(book.attempts(trainee)))

"""Replay recorded decisions: the same inputs under the recorded rule set (or today's), compared."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterator
from typing import Any

import attrs

from engine.casebook import audit as A
from engine.casebook.book import CaseBook
from engine.casebook.queries import DecisionRecord
from engine.errors import InputError, RuleFileError
from engine.intake.loader import RawCase
from engine.intake.validate import build_case
from engine.model.adviser import AdviserDecision
from engine.model.decision import Decision
from engine.policy.driver import Engine
from engine.policy.rulebook import RuleSet

MATCH = "MATCH"
MISMATCH = "MISMATCH"
INPUTS_ALTERED = "INPUTS_ALTERED"
UNKNOWN_RULESET = "UNKNOWN_RULESET"


@attrs.frozen
class ReplayResult:
    """The outcome of replaying one decision."""

    decision: int
    case: str
    status: str
    edition: str = ""
    ruleset: str = ""
    under: str = "recorded"
    differences: tuple[str, ...] = ()
    replayed: Decision | None = None
    recorded: Decision | None = None
    adviser_decisions: tuple[AdviserDecision, ...] | None = None

    def to_data(self) -> dict[str, Any]:
        """One JSON line: decision, case, status, then details (the adviser's decisions as recorded)."""
        data: dict[str, Any] = {"decision": self.decision, "case": self.case, "status": self.status,
                                "under": self.under, "edition": self.edition, "ruleset": self.ruleset,
                                "differences": list(self.differences)}
        if self.adviser_decisions is not None:
            data["adviser_decisions"] = [c.to_data() for c in self.adviser_decisions]
        if self.replayed is not None and self.under == "current":
            data["current_ruleset"] = self.replayed.ruleset
            data["current_outcomes"] = list(self.replayed.codes)
            data["current_priority"] = self.replayed.priority
        return data


class Replayer:
    """Replays decisions from one case book, caching rule sets by hash."""

    def __init__(self, book: CaseBook, engine: Engine | None = None) -> None:
        self.book = book
        self.engine = engine or Engine()
        self._rulesets: dict[str, RuleSet | None] = {}

    def _snapshot(self, digest: str) -> RuleSet | None:
        """The recorded rule set, rebuilt from its snapshot; None if missing or altered."""
        if digest not in self._rulesets:
            content = self.book.ruleset_content(digest)
            ruleset = None
            if isinstance(content, str) and "sha256:" + A.sha256_text(content) == digest:
                try:
                    rebuilt = RuleSet.from_snapshot(json.loads(content))
                    ruleset = rebuilt if rebuilt.digest == digest else None
                except (RuleFileError, ValueError, KeyError, TypeError):
                    ruleset = None
            self._rulesets[digest] = ruleset
        return self._rulesets[digest]

    def replay(self, decision_id: int, under_current: bool = False) -> ReplayResult:
        """Re-decide one recorded decision and compare it with what was recorded."""
        row = self.book.decision_record(decision_id)
        if row is None:
            raise InputError(f"no decision {decision_id} in this case book", key="--decision")
        base = ReplayResult(decision_id, row.ref, MATCH, row.edition, row.ruleset,
                            "current" if under_current else "recorded", adviser_decisions=row.adviser_decisions())
        recorded_text = row.decision
        problems: list[str] = []
        if A.sha256_text(recorded_text) != row.decision_hash:
            problems.append("the recorded decision does not match its hash")
        recorded: Decision | None = None
        if problems or under_current:
            try:
                recorded = Decision.from_data(json.loads(recorded_text))
            except (ValueError, KeyError, TypeError):
                return attrs.evolve(base, status=MISMATCH, differences=("the recorded decision is unreadable",))
            problems += _column_drift(row, recorded)
        elif _summary(row) != _summary_of_text(recorded_text):
            problems.append("the summary columns differ from the recorded decision")
        inputs_text = row.inputs or ""
        inputs_hash = A.sha256_text(inputs_text)
        if inputs_hash != row.inputs_hash or inputs_hash != self.book.audited_input(decision_id):
            return attrs.evolve(base, status=INPUTS_ALTERED, differences=("the case inputs differ from their hash",),
                                recorded=recorded)
        try:
            case = build_case(RawCase(json.loads(inputs_text), f"case book decision {decision_id}", None,
                                      lambda _path: None))
        except (InputError, ValueError):
            return attrs.evolve(base, status=INPUTS_ALTERED, differences=("the case inputs no longer validate",),
                                recorded=recorded)
        if under_current:
            ruleset = self.engine.ruleset_for(case)
        else:
            snapshot = self._snapshot(row.ruleset)
            if snapshot is None:
                return attrs.evolve(base, status=UNKNOWN_RULESET, recorded=recorded,
                                    differences=("the recorded rule set is missing or altered",))
            ruleset = snapshot
        replayed = self.engine.decide(case, ruleset)
        if recorded is not None and under_current:  # under current rules, `recorded` was read above
            problems += _outcome_differences(recorded, replayed)
        elif replayed.to_json() != recorded_text:
            try:
                recorded = recorded or Decision.from_data(json.loads(recorded_text))
                problems += _outcome_differences(recorded, replayed) or ["the trace or texts differ"]
            except (ValueError, KeyError, TypeError):
                problems.append("the recorded decision is unreadable")
        status = MISMATCH if problems else MATCH
        return attrs.evolve(base, status=status, differences=tuple(problems), replayed=replayed, recorded=recorded)


def _summary(row: DecisionRecord) -> tuple[Any, ...]:
    """The summary columns of a decision row."""
    return (row.as_of, row.edition, row.ruleset, row.priority, row.ref, row.outcomes)


def _summary_of_text(text: str) -> tuple[Any, ...]:
    """The same summary, taken from the recorded decision JSON."""
    try:
        data = json.loads(text)
        codes = json.dumps([o["code"] for o in data["outcomes"]])
        return (data["as_of"], data["edition"], data["ruleset"], data["priority"], data["case"], codes)
    except (ValueError, KeyError, TypeError):
        return ()


def _column_drift(row: DecisionRecord, recorded: Decision) -> list[str]:
    """Summary columns that disagree with the recorded decision they summarise."""
    out = []
    for column, stored, value in (("as_of", row.as_of, recorded.as_of), ("edition", row.edition, recorded.edition),
                                  ("ruleset", row.ruleset, recorded.ruleset),
                                  ("priority", row.priority, recorded.priority), ("ref", row.ref, recorded.case)):
        if stored != value:
            out.append(f"column {column} differs from the recorded decision")
    try:
        if json.loads(row.outcomes) != list(recorded.codes):
            out.append("column outcomes differs from the recorded decision")
    except (ValueError, TypeError):
        out.append("column outcomes is unreadable")
    return out


def _outcome_differences(recorded: Decision, replayed: Decision) -> list[str]:
    """Outcome codes and priority that differ, in words."""
    out = []
    added = sorted(set(replayed.codes) - set(recorded.codes))
    removed = sorted(set(recorded.codes) - set(replayed.codes))
    if added:
        out.append("now also: " + ", ".join(added))
    if removed:
        out.append("no longer: " + ", ".join(removed))
    if recorded.priority != replayed.priority:
        out.append(f"priority {recorded.priority} -> {replayed.priority}")
    return out


_WORKER: dict[str, Replayer] = {}


def _replay_chunk(args: tuple[str, list[int], bool]) -> list[ReplayResult]:
    """Worker: replay a chunk of decisions from its own read connection to the book."""
    path, ids, under_current = args
    replayer = _WORKER.get(path)
    if replayer is None:
        replayer = _WORKER[path] = Replayer(CaseBook(path, create=False))
    return [attrs.evolve(r, replayed=None, recorded=None) for r in
            (replayer.replay(i, under_current) for i in ids)]


def replay_many(book: CaseBook, ids: list[int], under_current: bool = False, workers: int = 0,
                chunk: int = 500) -> Iterator[ReplayResult]:
    """Replay many decisions in order; large runs use one process per core, each with its own connection."""
    workers = workers or (os.cpu_count() or 1)
    if workers <= 1 or len(ids) < 2 * chunk:
        replayer = Replayer(book)
        for ident in ids:
            yield replayer.replay(ident, under_current)
        return
    tasks = [(str(book.path), ids[i:i + chunk], under_current) for i in range(0, len(ids), chunk)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for results in pool.imap(_replay_chunk, tasks):
            yield from results

"""Replay recorded decisions: the same inputs under the recorded rule set (or today's), compared."""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Iterator
from typing import Any

import attrs
import orjson

from engine.casebook import audit as A
from engine.casebook.book import CaseBook
from engine.casebook.queries import DecisionRecord
from engine.errors import BookError, InputError, RuleFileError
from engine.intake.loader import RawCase
from engine.intake.validate import build_case
from engine.model.adviser import AdviserDecision
from engine.model.decision import Decision
from engine.policy.driver import Engine
from engine.policy.rulebook import RuleSet
from engine.policy.written import Written
from engine.workers import in_order

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

    def _inputs_hash(self, text: str, stored: str | None) -> str:
        """The inputs hash in the form stored: keyed (`k1:`, needs the book's key) or, in older rows, sha256."""
        if stored is not None and stored.startswith(A.KEYED_PREFIX):
            try:
                return self.book.keyed.text_hash(text)
            except BookError:
                # no key file (the book on another machine): the column is only compared with the audit
                # event; `audit verify` says the rows cannot be checked without the key
                return stored
        return A.sha256_text(text)

    def replay(self, decision_id: int, under_current: bool = False) -> ReplayResult:
        """Re-decide one recorded decision and compare it with what was recorded."""
        row = self.book.decision_record(decision_id)
        if row is None:
            raise InputError(f"no decision {decision_id} in this case book", key="--decision")
        return self.check(row, self.book.audited_input(decision_id), under_current)

    def replay_chunk(self, ids: list[int], under_current: bool = False,
                     keep: bool = True) -> list[ReplayResult | None]:
        """`replay` of each of `ids`, in order, from one read of their rows (#14); None for a decision not in the
        book (erased after the ids were listed). Without `keep`, results hold no decisions (workers send less).

        The decisions are re-decided one recorded rule set at a time: one decided after another rule set's
        found durable_rules' tables out of the processor's caches (#14: 147-161 -> 133-151 us a decision).
        """
        records = self.book.replay_records(ids)
        results: dict[int, ReplayResult] = {}
        for ident, found in sorted(records.items(), key=lambda item: item[1][0].ruleset):
            results[ident] = self.check(found[0], found[1], under_current, keep)
        return [results.get(ident) for ident in ids]

    def check(self, row: DecisionRecord, audited: str | None, under_current: bool = False,
              keep: bool = True) -> ReplayResult:
        """Re-decide one decision read from the book and compare it with what was recorded.

        `audited` is the inputs hash its audit event recorded (None without one). Without `keep`, the result
        holds no recorded decision, and the replayed one only under current rules (`to_data` reads it then).
        """
        decision_id = row.id
        under = "current" if under_current else "recorded"

        def result(status: str, differences: tuple[str, ...], replayed: Decision | None = None,
                   recorded: Decision | None = None) -> ReplayResult:
            if not keep:
                replayed, recorded = (replayed if under_current else None), None
            return ReplayResult(decision_id, row.ref, status, row.edition, row.ruleset, under, differences,
                                replayed, recorded, row.adviser_decisions())

        recorded_text = row.decision
        problems: list[str] = []
        if A.sha256_text(recorded_text) != row.decision_hash:
            problems.append("the recommendation recorded with this decision was changed after it was recorded "
                            "(it no longer matches its hash)")
        recorded: Decision | None = None
        if problems or under_current:
            try:
                recorded = Decision.from_data(json.loads(recorded_text))
            except (ValueError, KeyError, TypeError):
                return result(MISMATCH, ("the recorded decision is unreadable",))
            problems += _column_drift(row, recorded, hash_ok=not problems)
        inputs_text = row.inputs or ""
        inputs_hash = self._inputs_hash(inputs_text, row.inputs_hash)
        if inputs_hash != row.inputs_hash or inputs_hash != audited:
            why = ("the case inputs differ from their hash" if inputs_hash != row.inputs_hash or audited is not None
                   else "no audit event vouches for the case inputs (the decision's event is missing): "
                   "run `pathways audit verify`")
            return result(INPUTS_ALTERED, (why,), recorded=recorded)
        try:
            case = build_case(RawCase(_loads(inputs_text), f"case book decision {decision_id}", None,
                                      lambda _path: None))
        except (InputError, ValueError):
            return result(INPUTS_ALTERED, ("the case inputs no longer validate",), recorded=recorded)
        if under_current:
            ruleset = self.engine.ruleset_for(case)
        else:
            snapshot = self._snapshot(row.ruleset)
            if snapshot is None:
                return result(UNKNOWN_RULESET, ("the recorded rule set is missing or altered",), recorded=recorded)
            ruleset = snapshot
        if under_current:  # under current rules, `recorded` was read above
            current = self.engine.decide(case, ruleset)
            if recorded is not None:
                problems += _outcome_differences(recorded, current)
            return result(MISMATCH if problems else MATCH, tuple(problems), current, recorded)
        # a result that holds no decision needs only the replayed text and summary: written without the objects
        written: Written | Decision = self.engine.decide_text(case, ruleset) if not keep else \
            self.engine.decide(case, ruleset)
        replayed = written if isinstance(written, Decision) else None
        text = written.to_json() if isinstance(written, Decision) else written.text
        if text != recorded_text:
            replayed = replayed or self.engine.decide(case, ruleset)  # the differences are told from the decision
            if not problems and _summary(row) != _summary_of_text(recorded_text):
                problems += _summary_words(row, recorded_text)
            try:
                recorded = recorded or Decision.from_data(json.loads(recorded_text))
                found = _outcome_differences(recorded, replayed)
                problems += ([RULES_DIFFER + "; ".join(found)] if found else
                             ["re-deciding under the recorded rules gives the same outcomes, but the trace or "
                              "texts differ from the recorded recommendation"])
            except (ValueError, KeyError, TypeError):
                problems.append("the recorded decision is unreadable")
        elif not problems and _summary(row) != _summary_of_decision(written):
            # the recorded text is the replayed decision's, so its summary is the replayed decision's: the
            # recorded text is parsed only when a column disagrees, for the wording
            problems += _summary_words(row, recorded_text)
        return result(MISMATCH if problems else MATCH, tuple(problems), replayed, recorded)


def _loads(text: str) -> Any:
    """JSON text read by orjson (several times faster on the stored decisions and inputs, #14); what it
    refuses (NaN, integers beyond 64 bits, which the standard library reads) is read by the standard library."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _summary(row: DecisionRecord) -> tuple[Any, ...]:
    """The summary columns of a decision row."""
    return (row.as_of, row.edition, row.ruleset, row.priority, row.ref, row.outcomes)


def _summary_of_decision(decision: Decision | Written) -> tuple[Any, ...]:
    """The same summary, taken from a decision or its written text (equal to `_summary_of_text` of its JSON
    when its fields are text)."""
    return (decision.as_of, decision.edition, decision.ruleset, decision.priority, decision.case,
            _codes_json(decision.codes))


@functools.lru_cache(maxsize=1024)
def _codes_json(codes: tuple[str, ...]) -> str:
    """The outcomes column's text for these codes, as recorded (few distinct lists: kept, not re-encoded)."""
    return json.dumps(list(codes))


def _summary_of_text(text: str) -> tuple[Any, ...]:
    """The same summary, taken from the recorded decision JSON."""
    try:
        data = _loads(text)
        codes = json.dumps([o["code"] for o in data["outcomes"]])
        return (data["as_of"], data["edition"], data["ruleset"], data["priority"], data["case"], codes)
    except (ValueError, KeyError, TypeError):
        return ()


RULES_DIFFER = "re-deciding under the recorded rules gives a different answer from the recorded recommendation: "
"""Says that the rules, not a changed row, disagree with what was recorded (under the recorded rule set)."""

SUMMARY_COLUMNS = ("as_of", "edition", "ruleset", "priority", "ref", "outcomes")
"""The decision row's columns that copy the recorded recommendation."""


def _drift_words(column: str, stored: Any, value: Any, hash_ok: bool = True) -> str:
    """One summary column that disagrees with the recommendation recorded with it, in plain words.

    When the recommendation still matches its hash, the row is what changed; when it does not, the
    recommendation is.
    """
    if not hash_ok:
        return f"the decision row says {column} {stored}, where the changed recommendation now says {value}"
    return (f"the decision row says {column} {stored}, but the recommendation recorded with it says {value}: "
            "the row was changed after it was recorded (not the rules)")


def _summary_words(row: DecisionRecord, text: str) -> list[str]:
    """Which summary columns of the row differ from the recommendation recorded with it (the rules are not involved)."""
    recorded = _summary_of_text(text)
    if not recorded:
        return ["the recommendation recorded with this decision is unreadable"]
    return [_drift_words(column, stored, value) for column, stored, value
            in zip(SUMMARY_COLUMNS, _summary(row), recorded, strict=True) if stored != value]


def _column_drift(row: DecisionRecord, recorded: Decision, hash_ok: bool = True) -> list[str]:
    """Summary columns that disagree with the recorded decision they summarise."""
    out = []
    for column, stored, value in (("as_of", row.as_of, recorded.as_of), ("edition", row.edition, recorded.edition),
                                  ("ruleset", row.ruleset, recorded.ruleset),
                                  ("priority", row.priority, recorded.priority), ("ref", row.ref, recorded.case)):
        if stored != value:
            out.append(_drift_words(column, stored, value, hash_ok))
    try:
        if json.loads(row.outcomes) != list(recorded.codes):
            out.append(_drift_words("outcomes", " ".join(_codes_of(row.outcomes)), " ".join(recorded.codes), hash_ok))
    except (ValueError, TypeError):
        out.append("the decision row's outcomes column is unreadable")
    return out


def _codes_of(text: str) -> list[str]:
    """The outcomes column's codes (as text)."""
    codes = json.loads(text)
    return [str(c) for c in codes] if isinstance(codes, list) else [str(codes)]


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


def replay_many(book: CaseBook, ids: list[int], under_current: bool = False, workers: int = 0,
                chunk: int = 500, skip_erased: bool = True) -> Iterator[ReplayResult]:
    """Replay many decisions in order; large runs use one process per core, each with its own connection.

    Rows are read a chunk at a time (one query a chunk, #14), so memory stays flat on any size of book.
    A decision erased after `ids` was listed (an erasure or retention running meanwhile) is skipped,
    unless `skip_erased` is False (one decision asked for by id: its absence is an error). Results hold no
    decisions (the replayed one only under current rules), in one process as from the workers.
    """
    workers = workers or (os.cpu_count() or 1)
    if workers <= 1 or len(ids) < 2 * chunk:
        replayer = Replayer(book)
        for start in range(0, len(ids), chunk):
            part = ids[start:start + chunk]
            for ident, result in zip(part, replayer.replay_chunk(part, under_current, keep=False), strict=True):
                if result is not None:
                    yield result
                elif not skip_erased:
                    raise InputError(f"no decision {ident} in this case book", key="--decision")
        return
    from engine.casebook import replay_worker

    key_dir = str(book.key_dir) if book.key_dir else None
    tasks = ((ids[i:i + chunk], under_current) for i in range(0, len(ids), chunk))
    with contextlib.closing(in_order(replay_worker.replay_chunk, tasks, workers, ahead=4 * workers,
                                     initializer=replay_worker.start, initargs=(str(book.path), key_dir))) as answers:
        for results in answers:
            for fields in results:
                yield ReplayResult(*fields)

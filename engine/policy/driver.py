"""Decide a case with durable_rules: a lean, isolated driver over the engine's C core.

durable_rules' own `Host` starts two timer threads per host that can run actions in the middle of
an evaluation (notes/durable_rules.md, trap 8) and spends most of its time in JSON glue. This
driver uses the same C core (`durable_rules_engine`) directly: no threads, facts with explicit ids,
conclusions de-duplicated, and any error raised to the caller instead of being swallowed.

Each rule set's session is kept from case to case and emptied after each: every fact the case put in
is retracted, and the session is then checked to hold no fact and no pending action, else it is
deleted and the next case gets a new one (as after any error). Creating a session clears about 8 KB
of durable_rules' indexes for each join node (0.8 MB for the shipped rules) and pushes its tables out
of the processor's caches: a kept session decides a case in about two thirds of the time, more in a
batch (#14). `Engine(keep_sessions=False)` makes and deletes one session per case, as before.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import threading
from collections.abc import Sequence
from typing import Any

import durable_rules_engine as dre
import orjson

from engine.errors import EngineError
from engine.model.case import Case, input_values
from engine.model.decision import Decision, Firing, OpenOutcome, Outcome
from engine.model.facts import Unknown
from engine.policy import conditions as C
from engine.policy.compiler import SESSION_END, Compiled, Conclusion, compile_ruleset
from engine.policy.rendered import ClassCache, First, Rendered
from engine.policy.rulebook import Book, RuleSet, load_book
from engine.policy.written import Written, open_of, shown_outcomes, template_of, written, written_data

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def json_value(value: Any) -> Any:
    """A fact value as it appears in decisions (tuples as lists, dates as ISO text)."""
    kind = type(value)
    if kind is bool or kind is str or kind is int or value is None:  # most values: as they are
        return value
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Unknown):
        return str(value)
    return value


class _Step:
    """One durable rule's conclusion, with what its action needs worked out once per compiled rule set."""

    __slots__ = ("assert_head", "assert_tail", "concluded", "conclusion", "derived", "fact_id", "key", "reads",
                 "rule_id", "value")

    def __init__(self, conc: Conclusion, compiled: Compiled) -> None:
        self.conclusion = conc
        self.rule_id = conc.rule.id
        self.derived = conc.derived
        self.value = conc.value
        self.key = conc.derived if conc.derived is not None else str(conc.outcome)
        """The derived fact's name, or the outcome code: what is concluded once per session."""
        self.concluded = (conc.label(),)
        reads: list[tuple[str, int, Any]] = [
            (test.value, _READ_OUTCOME, True) if test.fact == C.OUTCOME_KEY else (test.fact, _READ_TESTED, test.value)
            for test in conc.term]
        reads += [(name, _READ_SHOWN, None) for name in conc.rule.shows]
        self.reads = tuple(reads)
        """What `because` shows, in order: an outcome tested, a fact tested (input or derived), a fact shown."""
        head = tail = None
        if conc.derived is not None and (conc.derived, conc.value) in compiled.consumed_derived:
            head = f'{{"id":"d:{conc.derived}","sid":"'
            tail = f'","{conc.derived}":{"true" if conc.value else "false"}}}'
        elif conc.derived is None and self.key in compiled.consumed_outcomes:
            head = f'{{"id":"o:{self.key}","sid":"'
            tail = f'","outcome":"{self.key}"}}'
        self.assert_head = head
        self.fact_id = f"d:{conc.derived}" if conc.derived is not None else f"o:{self.key}"
        """The id of the fact asserted for this conclusion (when `assert_head` is set)."""
        self.assert_tail = tail
        """The fact asserted for the rules that read this conclusion, around the session id (None: none reads it)."""


_READ_OUTCOME, _READ_TESTED, _READ_SHOWN = 0, 1, 2
"""How `because` reads an entry of a step's `reads`."""


class _Session:
    """What one case's evaluation has concluded so far."""

    __slots__ = ("asserted", "derived", "outcomes", "sid", "trace", "values")

    def __init__(self, values: dict[str, Any], sid: str) -> None:
        self.values = values
        self.derived: dict[str, bool] = {}
        self.outcomes: dict[str, tuple[Conclusion, dict[str, Any]]] = {}
        self.trace: list[tuple[str, dict[str, Any], tuple[str, ...]]] = []
        """Each firing as (rule id, the facts it saw, what it concluded): made a `Firing` only for a built decision."""
        self.sid = sid
        self.asserted: list[str] = []
        """The ids of the facts this case's conclusions put in (retracted with the case fact when it ends)."""

    def because(self, step: _Step) -> dict[str, Any]:
        """The facts the firing rule tested, with the values it saw."""
        values = self.values
        facts: dict[str, Any] = {}
        for name, how, default in step.reads:
            if how == _READ_TESTED:
                facts[name] = json_value(values[name]) if name in values else self.derived.get(name, default)
            elif how == _READ_OUTCOME:
                facts[name] = True
            else:
                facts[name] = json_value(values.get(name))
        return facts


class Engine:
    """Compiles rule sets once (by content hash) and decides cases on them; thread-safe."""

    def __init__(self, book: Book | None = None, keep_sessions: bool = True) -> None:
        self._book = book
        self._lock = threading.Lock()
        self._compiled: dict[str, tuple[Compiled, int]] = {}
        self._sids = itertools.count(1)
        self._keep = keep_sessions
        self._kept: dict[int, str] = {}
        """Each durable_rules handle's kept session id (emptied after every case)."""
        self._classes: ClassCache | None = None
        self._steps: dict[str, dict[str, _Step]] = {}

    @property
    def book(self) -> Book:
        """The rule book, loaded on first use (replaying under recorded rule sets never needs it)."""
        if self._book is None:
            self._book = load_book()
        return self._book

    def ruleset_for(self, case: Case) -> RuleSet:
        """The current rule set of the edition in force on the case's date."""
        return self.book.ruleset(self.book.calendar.edition_for(case.as_of).id)

    def _handle(self, ruleset: RuleSet) -> tuple[Compiled, int]:
        """The compiled rule set and its durable_rules handle (created once per content hash)."""
        found = self._compiled.get(ruleset.digest)
        if found is None:
            compiled = compile_ruleset(ruleset)
            name = "pathways-" + ruleset.digest[7:23]
            handle = dre.create_ruleset(name, _dumps(compiled.definition))
            found = (compiled, handle)
            self._compiled[ruleset.digest] = found
        return found

    def close(self) -> None:
        """Free every durable_rules ruleset this engine created."""
        with self._lock:
            for handle, sid in self._kept.items():
                dre.delete_state(handle, sid)
            self._kept.clear()
            for _compiled, handle in self._compiled.values():
                dre.delete_ruleset(handle)
            self._compiled.clear()
            self._steps.clear()

    def decide(self, case: Case, ruleset: RuleSet | None = None) -> Decision:
        """Decide a case under `ruleset` (default: the edition in force on its `as_of`)."""
        rs = ruleset or self.ruleset_for(case)
        return _decision(case, rs, self._session(case, rs))

    def decide_text(self, case: Case, ruleset: RuleSet | None = None) -> Written:
        """Decide a case as `decide` does, giving only its JSON and summary: what replay compares (#14).

        The JSON is written straight from what durable_rules concluded, byte for byte `decide(...).to_json()`,
        without building the decision's objects first (about a fifth of a replay's time).
        """
        rs = ruleset or self.ruleset_for(case)
        session = self._session(case, rs)
        return written(case, rs, session) or Written.of(_decision(case, rs, session))

    def _session(self, case: Case, rs: RuleSet) -> _Session:
        """durable_rules' evaluation of the case under the rule set."""
        values = input_values(case)
        with self._lock:
            compiled, handle = self._handle(rs)
            return self._run(compiled, handle, values)

    def render(self, case: Case, cache: bool = True) -> Rendered:
        """The case's decision JSON under the edition in force on its date, for recording in bulk.

        With `cache`, a case of a class already decided is rendered from that class's decision
        (engine.policy.rendered), byte for byte what durable_rules gives; without, durable_rules
        decides it. Replay never calls this: it re-decides with `decide`.
        """
        rs = self.ruleset_for(case)
        if not cache:
            return Rendered.of(self.decide(case, rs))
        return self.render_all([case], rs)[0]

    def render_all(self, cases: Sequence[Case], rs: RuleSet) -> list[Rendered]:
        """`render` (with the class cache) of each case, all decided under the rule set `rs`: in passes over the
        cases (engine.policy.rendered, `ClassCache.render_all`)."""
        if self._classes is None:
            self._classes = ClassCache()
        with self._lock:
            compiled, _handle = self._handle(rs)
        jobs = []
        for case in cases:
            values = input_values(case)
            jobs.append((case.case, values, functools.partial(self._first, case, rs, values)))
        return self._classes.render_all(compiled, jobs)

    def _first(self, case: Case, rs: RuleSet, values: dict[str, Any],
               opened: tuple[OpenOutcome, ...] | None) -> Decision | First:
        """The first case of a class decided by durable_rules: its decision's JSON cut into the class's template,
        written straight from the session (#14), or the built decision when anything shown is not plain.
        `opened`: the case's open outcomes, when the class key has already worked them out."""
        with self._lock:
            compiled, handle = self._handle(rs)
            session = self._run(compiled, handle, values)
        template = template_of(case, rs, session, opened)
        if template is None:
            return _decision(case, rs, session)
        return First(template, lambda: _whole(case, rs, session, opened))

    @property
    def classes(self) -> ClassCache | None:
        """The class cache `render` uses (None until first used): its size and hit counts."""
        return self._classes

    def _run(self, compiled: Compiled, handle: int, values: dict[str, Any]) -> _Session:
        """Assert the case fact, run every action to quiescence, then empty the session for the next case (or
        delete it)."""
        steps = self._steps.get(compiled.ruleset.digest)
        if steps is None:
            steps = self._steps[compiled.ruleset.digest] = {
                name: _Step(conc, compiled) for name, conc in compiled.conclusions.items()}
        sid = self._kept.pop(handle, None) or str(next(self._sids))
        session = _Session(values, sid)
        fact = compiled.encode_case(values) + ',"id":"case","sid":"' + sid + '"}'
        errors: list[BaseException] = []
        emptied = False
        try:
            code, state = dre.assert_fact(handle, fact)
            if code not in (0, 1):  # 1: no rule matched the case at all
                raise EngineError(f"durable_rules refused the case fact (code {code})")
            session.asserted.append("case")
            result = dre.start_action_for_state(handle, state) if code == 0 else None
            if code == 0 and not result:  # partly matched, nothing fired: close the session by one action
                _code, state = dre.assert_fact(handle, f'{{"id":"end","sid":"{sid}","kind":"{SESSION_END}"}}')
                session.asserted.append("end")
                result = dre.start_action_for_state(handle, state)
            message = result[1] if result else None
            while message:
                name = _rule_name(message)
                try:
                    if name != SESSION_END:
                        self._act(handle, session, steps[name])
                except Exception as exc:  # collected, the session is abandoned, re-raised below
                    errors.append(exc)
                    dre.abandon_action(handle, state)
                    break
                message = dre.complete_and_start_action(handle, state)
            emptied = not errors and self._keep and _emptied(handle, sid, session.asserted)
        except dre.error as exc:
            errors.append(exc)
        finally:
            if emptied:
                self._kept[handle] = sid
            else:
                dre.delete_state(handle, sid)
        if errors:
            raise EngineError(f"rules engine failed: {errors[0]}") from errors[0]
        return session

    def _act(self, handle: int, session: _Session, step: _Step) -> None:
        """One rule's action: record its conclusion once and assert it for rules that read it."""
        key = step.key
        if step.derived is not None:
            if key in session.derived:
                if session.derived[key] != step.value:
                    raise EngineError(f"{key} derived both true and false")
                return
            session.derived[key] = step.value
            session.trace.append((step.rule_id, session.because(step), step.concluded))
        else:
            if key in session.outcomes:
                return
            because = session.because(step)
            session.outcomes[key] = (step.conclusion, because)
            session.trace.append((step.rule_id, because, step.concluded))
        if step.assert_head is not None:
            self._assert(handle, f"{step.assert_head}{session.sid}{step.assert_tail}")
            session.asserted.append(step.fact_id)

    @staticmethod
    def _assert(handle: int, fact_json: str) -> None:
        """Assert a derived fact (JSON built from compiler-made names) into the running session."""
        code, _state = dre.assert_fact(handle, fact_json)
        if code not in (0, 1, 2):
            raise EngineError(f"durable_rules refused a derived fact (code {code})")


def _emptied(handle: int, sid: str, asserted: list[str]) -> bool:
    """Retract every fact the case put in the session; True when it then holds no fact and no pending action
    (fit for the next case), False when it must be deleted."""
    state = None
    for fact_id in asserted:
        code, state = dre.retract_fact(handle, f'{{"id":"{fact_id}","sid":"{sid}"}}')
        if code not in (0, 1, 2):
            return False
    if state is not None and dre.start_action_for_state(handle, state):
        dre.abandon_action(handle, state)
        return False
    return dre.get_facts(handle, sid) == "[]"


def _rule_name(message: str) -> str:
    """The durable rule name of an action message `{"name": {...}}`, without parsing the rest.

    Rule names are made by the compiler from rule ids (letters, digits, '-', '#', '!'): never quoted.
    """
    return message[2:message.index('"', 2)]


def _decision(case: Case, rs: RuleSet, session: _Session) -> Decision:
    """Assemble the contract's decision from a finished session."""
    return Decision(
        case=case.case,
        as_of=case.as_of.isoformat(),
        edition=rs.edition.id,
        ruleset=rs.digest,
        priority=rs.priority_for(set(session.outcomes)),
        outcomes=tuple(Outcome(code=code, kind=kind, rule=rule.id, citation=rule.citation, text=text, because=because,
                               adviser_note=note, sources=sources)
                       for code, rule, kind, sources, text, note, because in shown_outcomes(rs, session)),
        trace=tuple(Firing(rule, facts, concluded) for rule, facts, concluded in session.trace),
        derived=dict(session.derived),
        edition_status=rs.edition.status,
        open=open_of(rs, session),
        format=rs.format,
    )


def _whole(case: Case, rs: RuleSet, session: _Session, opened: tuple[OpenOutcome, ...] | None) -> str:
    """The decision's JSON written whole from the session (what a template is checked against), or built."""
    data = written_data(case, rs, session, opened)
    if data is not None:
        try:
            return orjson.dumps(data).decode("utf-8")
        except orjson.JSONEncodeError:
            pass
    return _decision(case, rs, session).to_json()


_default: Engine | None = None
_default_lock = threading.Lock()


def default_engine() -> Engine:
    """The process-wide engine over the bundled rules."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Engine()
        return _default


def decide(case: Case, ruleset: RuleSet | None = None) -> Decision:
    """Decide one case with the process-wide engine."""
    return default_engine().decide(case, ruleset)

"""Decide a case with durable_rules: a lean, isolated driver over the engine's C core.

durable_rules' own `Host` starts two timer threads per host that can run actions in the middle of
an evaluation (notes/durable_rules.md, trap 8) and spends most of its time in JSON glue. This
driver uses the same C core (`durable_rules_engine`) directly: no threads, a fresh session id per
case, facts with explicit ids, conclusions de-duplicated, the session always deleted, and any error
raised to the caller instead of being swallowed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from typing import Any

import durable_rules_engine as dre

from engine.errors import EngineError
from engine.model.case import Case, input_values
from engine.model.decision import Decision, Firing, Outcome
from engine.model.facts import INPUT_FACTS, Unknown, is_unknown
from engine.policy import conditions as C
from engine.policy.compiler import SESSION_END, Compiled, Conclusion, compile_ruleset
from engine.policy.explain import open_outcomes
from engine.policy.rendered import ClassCache, Rendered
from engine.policy.rulebook import Book, RuleSet, choose, load_book

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def json_value(value: Any) -> Any:
    """A fact value as it appears in decisions (tuples as lists, dates as ISO text)."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Unknown):
        return str(value)
    return value


class _Session:
    """What one case's evaluation has concluded so far."""

    __slots__ = ("derived", "outcomes", "sid", "trace", "values")

    def __init__(self, values: dict[str, Any], sid: str) -> None:
        self.values = values
        self.derived: dict[str, bool] = {}
        self.outcomes: dict[str, tuple[Conclusion, dict[str, Any]]] = {}
        self.trace: list[Firing] = []
        self.sid = sid

    def because(self, conclusion: Conclusion) -> dict[str, Any]:
        """The facts the firing rule tested, with the values it saw."""
        facts: dict[str, Any] = {}
        for test in conclusion.term:
            if test.fact == C.OUTCOME_KEY:
                facts[test.value] = True
            elif test.fact in self.values:
                facts[test.fact] = json_value(self.values[test.fact])
            else:
                facts[test.fact] = self.derived.get(test.fact, test.value)
        for name in conclusion.rule.shows:
            facts[name] = json_value(self.values.get(name))
        return facts


class Engine:
    """Compiles rule sets once (by content hash) and decides cases on them; thread-safe."""

    def __init__(self, book: Book | None = None) -> None:
        self._book = book
        self._lock = threading.Lock()
        self._compiled: dict[str, tuple[Compiled, int]] = {}
        self._sids = itertools.count(1)
        self._classes: ClassCache | None = None

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
            for _compiled, handle in self._compiled.values():
                dre.delete_ruleset(handle)
            self._compiled.clear()

    def decide(self, case: Case, ruleset: RuleSet | None = None) -> Decision:
        """Decide a case under `ruleset` (default: the edition in force on its `as_of`)."""
        rs = ruleset or self.ruleset_for(case)
        values = input_values(case)
        with self._lock:
            compiled, handle = self._handle(rs)
            session = self._run(compiled, handle, values)
        return _decision(case, rs, session)

    def render(self, case: Case, cache: bool = True) -> Rendered:
        """The case's decision JSON under the edition in force on its date, for recording in bulk.

        With `cache`, a case of a class already decided is rendered from that class's decision
        (engine.policy.rendered), byte for byte what durable_rules gives; without, durable_rules
        decides it. Replay never calls this: it re-decides with `decide`.
        """
        rs = self.ruleset_for(case)
        if not cache:
            return Rendered.of(self.decide(case, rs))
        if self._classes is None:
            self._classes = ClassCache()
        with self._lock:
            compiled, _handle = self._handle(rs)
        return self._classes.render(compiled, case.case, input_values(case), lambda: self.decide(case, rs))

    @property
    def classes(self) -> ClassCache | None:
        """The class cache `render` uses (None until first used): its size and hit counts."""
        return self._classes

    def _run(self, compiled: Compiled, handle: int, values: dict[str, Any]) -> _Session:
        """Assert the case fact, run every action to quiescence, always delete the session."""
        sid = str(next(self._sids))
        session = _Session(values, sid)
        fact = compiled.encode_case(values) + ',"id":"case","sid":"' + sid + '"}'
        errors: list[BaseException] = []
        try:
            code, state = dre.assert_fact(handle, fact)
            if code not in (0, 1):  # 1: no rule matched the case at all
                raise EngineError(f"durable_rules refused the case fact (code {code})")
            result = dre.start_action_for_state(handle, state) if code == 0 else None
            if code == 0 and not result:  # partly matched, nothing fired: close the session by one action
                _code, state = dre.assert_fact(handle, f'{{"id":"end","sid":"{sid}","kind":"{SESSION_END}"}}')
                result = dre.start_action_for_state(handle, state)
            while result:
                name = _rule_name(result[1])
                try:
                    if name != SESSION_END:
                        self._act(compiled, handle, session, compiled.conclusions[name])
                except Exception as exc:  # collected, the session is abandoned, re-raised below
                    errors.append(exc)
                    dre.abandon_action(handle, state)
                    break
                nxt = dre.complete_and_start_action(handle, state)
                result = (None, nxt) if nxt else None
        except dre.error as exc:
            errors.append(exc)
        finally:
            dre.delete_state(handle, sid)
        if errors:
            raise EngineError(f"rules engine failed: {errors[0]}") from errors[0]
        return session

    def _act(self, compiled: Compiled, handle: int, session: _Session, conc: Conclusion) -> None:
        """One rule's action: record its conclusion once and assert it for rules that read it."""
        if conc.derived is not None:
            if conc.derived in session.derived:
                if session.derived[conc.derived] != conc.value:
                    raise EngineError(f"{conc.derived} derived both true and false")
                return
            session.derived[conc.derived] = conc.value
            session.trace.append(Firing(conc.rule.id, session.because(conc), (conc.label(),)))
            if (conc.derived, conc.value) in compiled.consumed_derived:
                value = "true" if conc.value else "false"
                self._assert(handle, f'{{"id":"d:{conc.derived}","sid":"{session.sid}","{conc.derived}":{value}}}')
            return
        code = str(conc.outcome)
        if code in session.outcomes:
            return
        because = session.because(conc)
        session.outcomes[code] = (conc, because)
        session.trace.append(Firing(conc.rule.id, because, (code,)))
        if code in compiled.consumed_outcomes:
            self._assert(handle, f'{{"id":"o:{code}","sid":"{session.sid}","outcome":"{code}"}}')

    @staticmethod
    def _assert(handle: int, fact_json: str) -> None:
        """Assert a derived fact (JSON built from compiler-made names) into the running session."""
        code, _state = dre.assert_fact(handle, fact_json)
        if code not in (0, 1, 2):
            raise EngineError(f"durable_rules refused a derived fact (code {code})")


def _rule_name(message: str) -> str:
    """The durable rule name of an action message `{"name": {...}}`, without parsing the rest.

    Rule names are made by the compiler from rule ids (letters, digits, '-', '#', '!'): never quoted.
    """
    return message[2:message.index('"', 2)]


def _decision(case: Case, rs: RuleSet, session: _Session) -> Decision:
    """Assemble the contract's decision from a finished session.

    Texts are chosen from their variants on what is certain (answers and the derived facts
    durable_rules concluded); open outcomes come from the three-valued evaluator, and only when
    some answer is unknown (otherwise nothing can be open).
    """
    look: dict[str, Any] | None = None
    outcomes = []
    for code in sorted(session.outcomes):
        conc, because = session.outcomes[code]
        rule = conc.rule
        if look is None and (len(rule.text) > 1 or len(rule.adviser_note) > 1):
            look = {**{name: session.values.get(name, C.UNANSWERED) for name in INPUT_FACTS},
                    **{name: C.UNANSWERED for name in rs.derived_names}, **session.derived}
        outcomes.append(
            Outcome(
                code=code,
                kind=rs.outcomes[code].kind,
                rule=rule.id,
                citation=rule.citation,
                text=choose(rule.text, look) if look is not None else rule.default_text,
                because=because,
                adviser_note=choose(rule.adviser_note, look) if look is not None else rule.adviser_note[-1].text,
                sources=tuple(c.public() for c in rule.sources),
            )
        )
    has_unknown = any(is_unknown(v) for v in session.values.values())
    return Decision(
        case=case.case,
        as_of=case.as_of.isoformat(),
        edition=rs.edition.id,
        ruleset=rs.digest,
        priority=rs.priority_for(set(session.outcomes)),
        outcomes=tuple(outcomes),
        trace=tuple(session.trace),
        derived=dict(session.derived),
        edition_status=rs.edition.status,
        open=open_outcomes(rs, session.values) if has_unknown else (),
        format=rs.format,
    )


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

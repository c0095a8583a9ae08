"""An adviser's interview: one question at a time, only those that can still change the outcome.

Pure Python (no Textual): the terminal UI drives it, and the tests drive it directly. Answers are
held by input-fact name (rules/questions.yaml); the engine's three-valued evaluator says which
unanswered questions still matter, and the finished interview becomes a Case through the same
validation as a case file (`engine.intake.validate.build_case`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from engine.errors import InputError
from engine.intake.loader import RawCase
from engine.intake.validate import build_case
from engine.model.case import SUBSTANCES, Case, input_values
from engine.model.decision import Decision
from engine.model.facts import INPUT_FACTS, FactSpec
from engine.policy import conditions as C
from engine.policy.conditions import UNKNOWN, Truth
from engine.policy.driver import Engine, default_engine
from engine.policy.explain import Evaluation, WhyNot, evaluate, relevant_questions, why_not
from engine.policy.rulebook import RuleSet

KIND_ORDER = ("requirement", "offer", "referral", "priority", "signpost", "note")
"""How outcome kinds are grouped in a decision panel, most binding first."""

ASKED_NOT_NULL = ("drugs.known_by", "children.youngest_age")
"""Nullable facts that are only asked when they must have a value."""

APPLIES, UNDECIDED, DOES_NOT_APPLY = "applies", "undecided", "does not apply"


@attrs.frozen
class Question:
    """One question as the adviser sees it: text, help, and the answers allowed."""

    fact: str
    text: str
    help: str
    kind: str
    choices: tuple[tuple[Any, str], ...] = ()
    low: int = 0
    high: int = 0
    nullable: bool = False

    def parse_text(self, text: str) -> Any:
        """A typed answer from text (numbers; empty means none where allowed)."""
        text = text.strip()
        if self.kind != "int":
            raise InputError("this question is answered by choosing, not typing", key=self.fact)
        if not text:
            if self.nullable:
                return None
            raise InputError("an answer is needed", key=self.fact, allowed=f"{self.low}..{self.high}")
        if not (text.isascii() and text.isdigit()):
            raise InputError("must be a whole number", key=self.fact, allowed=f"{self.low}..{self.high}")
        return int(text)


@attrs.frozen
class OutcomeRow:
    """One outcome code's line in the decision panel."""

    code: str
    kind: str
    title: str
    state: str
    citation: str


@attrs.frozen
class Explanation:
    """Why an outcome applies (the facts its rule saw), or why not, or what it still waits on."""

    code: str
    kind: str
    title: str
    state: str
    rule: str = ""
    citation: str = ""
    text: str = ""
    because: dict[str, Any] = attrs.field(factory=dict)
    why_not: tuple[WhyNot, ...] = ()
    waiting_on: tuple[str, ...] = ()


class Interview:
    """Answers for one case ref and date, the questions still to ask, and the live evaluation."""

    def __init__(self, ref: str, as_of: dt.date, *, nino: str | None = None, engine: Engine | None = None) -> None:
        self.ref = ref
        self.as_of = as_of
        self.nino = nino
        self.engine = engine or default_engine()
        self.ruleset: RuleSet = self.engine.book.ruleset(self.engine.book.calendar.edition_for(as_of).id)
        self.answers: dict[str, Any] = {}
        self.history: list[str] = []
        self._reopened: str | None = None
        self.questions: tuple[Question, ...] = tuple(
            self._question(q) for q in self.engine.book.questions if q.get("fact") in INPUT_FACTS
        )
        self._by_fact = {q.fact: q for q in self.questions}

    @classmethod
    def from_case(cls, case: Case, engine: Engine | None = None) -> Interview:
        """An interview with every question answered as in `case` (to review or change it)."""
        interview = cls(case.case, case.as_of, nino=case.claimant.nino, engine=engine)
        values = input_values(case)
        for q in interview.questions:
            interview.answers[q.fact] = values[q.fact]
            interview.history.append(q.fact)
        return interview

    # -- questions -----------------------------------------------------------------------------

    def _question(self, raw: Mapping[str, Any]) -> Question:
        """A Question from a questions.yaml entry and the fact's type."""
        fact = str(raw["fact"])
        spec: FactSpec = INPUT_FACTS[fact]
        labels = raw.get("labels") or {}
        nullable = spec.nullable and fact not in ASKED_NOT_NULL
        choices: tuple[tuple[Any, str], ...] = ()
        if spec.kind == "bool":
            choices = ((True, "Yes"), (False, "No"))
        elif spec.kind in ("enum", "list"):
            allowed = spec.choices
            if fact == "benefit":
                cal = self.engine.book.calendar
                allowed = tuple(b for b in allowed if (cal.benefit_from(b) or self.as_of) <= self.as_of)
            choices = tuple((c, str(labels.get(c, c))) for c in allowed)
            if nullable:
                choices += ((None, "No reason given" if fact.endswith("good_cause") else "None"),)
        return Question(fact, str(raw.get("question", fact)), " ".join(str(raw.get("help", "")).split()),
                        spec.kind, choices, spec.low, spec.high, nullable)

    def question(self, fact: str) -> Question:
        """The question for an input fact."""
        return self._by_fact[fact]

    def values(self) -> dict[str, Any]:
        """Answers, the date, and the answers implied by others (no drugs: no 'known by'...)."""
        values = dict(self.answers)
        values["as_of"] = self.as_of
        if values.get("drugs.substances") == ():
            values["drugs.known_by"] = None
        if values.get("children.dependants") == 0:
            values["children.youngest_age"] = None
        if values.get("missed_discussion") is False:
            values["missed_discussion.good_cause"] = None
        return values

    def _required(self, values: Mapping[str, Any]) -> set[str]:
        """Facts a valid case must have whatever the rules say (schema-required)."""
        need = {"benefit", "claimant.age"}
        if values.get("drugs.substances"):
            need.add("drugs.known_by")
        if isinstance(values.get("children.dependants"), int) and values["children.dependants"] > 0:
            need.add("children.youngest_age")
        return need

    def pending(self) -> list[str]:
        """Unanswered facts still worth asking, in question order."""
        values = self.values()
        relevant = set(relevant_questions(self.ruleset, values)) | self._required(values)
        open_ = [q.fact for q in self.questions if q.fact not in values]
        asked = [f for f in open_ if f in relevant]
        if asked:
            return asked
        ev = evaluate(self.ruleset, values)
        if ev.undecided() or ev.priority is None:
            return open_  # only a combination of answers matters: ask the rest in order
        return []

    def next_question(self) -> Question | None:
        """The question to ask now (a reopened one first), or None when nothing can change."""
        if self._reopened is not None:
            return self._by_fact[self._reopened]
        pending = self.pending()
        return self._by_fact[pending[0]] if pending else None

    def is_complete(self) -> bool:
        """True when no unanswered question can change the outcome or priority."""
        return self.next_question() is None

    def skipped(self) -> list[str]:
        """Facts not asked because no answer could change anything (schema defaults apply)."""
        values = self.values()
        return [q.fact for q in self.questions if q.fact not in values] if self.is_complete() else []

    # -- answering -----------------------------------------------------------------------------

    def answer(self, fact: str, value: Any) -> None:
        """Record an answer (checked against the question's allowed values)."""
        q = self._by_fact.get(fact)
        if q is None:
            raise InputError("not a question in this interview", key=fact)
        self.answers[fact] = self._check(q, value)
        if fact in self.history:
            self.history.remove(fact)
        self.history.append(fact)
        if self._reopened == fact:
            self._reopened = None

    def _check(self, q: Question, value: Any) -> Any:
        """The answer in canonical form, or InputError."""
        if value is None and q.nullable:
            return None
        if q.kind == "bool":
            if not isinstance(value, bool):
                raise InputError("must be yes or no", key=q.fact, allowed="yes, no")
            return value
        if q.kind == "enum":
            allowed = [c for c, _label in q.choices]
            if value not in allowed:
                raise InputError("is not one of the answers", key=q.fact, allowed=", ".join(map(str, allowed)))
            return value
        if q.kind == "list":
            items = list(value) if isinstance(value, Iterable) and not isinstance(value, str) else None
            if items is None or any(i not in SUBSTANCES for i in items) or len(set(items)) != len(items):
                raise InputError("must be a list of different substances", key=q.fact, allowed=", ".join(SUBSTANCES))
            return tuple(sorted(items, key=SUBSTANCES.index))
        if q.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) or not q.low <= value <= q.high:
                raise InputError("is out of range", key=q.fact, allowed=f"{q.low}..{q.high}")
            return value
        raise InputError("cannot be answered here", key=q.fact)  # pragma: no cover - dates are not asked

    def back(self) -> str | None:
        """Undo the last answer; its question is asked again. Returns that fact (None at the start)."""
        self._reopened = None
        if not self.history:
            return None
        fact = self.history.pop()
        self.answers.pop(fact, None)
        return fact

    def reopen(self, fact: str) -> Question:
        """Ask an answered question again (its answer is kept until a new one is given)."""
        if fact not in self._by_fact:
            raise InputError("not a question in this interview", key=fact)
        self._reopened = fact
        return self._by_fact[fact]

    def answered(self) -> list[tuple[Question, Any]]:
        """Questions answered so far with their answers, in question order."""
        return [(q, self.answers[q.fact]) for q in self.questions if q.fact in self.answers]

    def label(self, fact: str, value: Any) -> str:
        """An answer as plain words (choice labels, yes/no, 'none')."""
        q = self._by_fact.get(fact)
        if q is not None and q.kind == "list":
            names = dict(q.choices)
            return ", ".join(names.get(v, str(v)) for v in value) or "None"
        if q is not None and q.choices:
            for choice, text in q.choices:
                if choice == value:
                    return text
        if value is None:
            return "None"
        if isinstance(value, bool):
            return "Yes" if value else "No"
        return str(value)

    # -- the live decision -----------------------------------------------------------------------

    def evaluation(self) -> Evaluation:
        """The three-valued evaluation of the answers so far."""
        return evaluate(self.ruleset, self.values())

    def why_not(self, code: str) -> list[WhyNot]:
        """For an outcome that does not apply, each of its rules' first failing condition."""
        return why_not(self.ruleset, self.values(), code)

    def outcome_rows(self, ev: Evaluation | None = None) -> list[OutcomeRow]:
        """Every outcome code with its state, grouped: applies, undecided, then does not apply."""
        ev = ev or self.evaluation()
        rank = {APPLIES: 0, UNDECIDED: 1, DOES_NOT_APPLY: 2}
        rows = []
        for code, truth in ev.outcomes.items():
            info = self.ruleset.outcomes[code]
            rule = self._deciding_rule(code, ev)
            rows.append(OutcomeRow(code, info.kind, info.title, _state(truth), rule.citation if rule else ""))
        kinds = {k: i for i, k in enumerate(KIND_ORDER)}
        return sorted(rows, key=lambda r: (rank[r.state], kinds.get(r.kind, 99), r.code))

    def _deciding_rule(self, code: str, ev: Evaluation) -> Any:
        """The rule that makes `code` apply, else its first rule (None when no rule concludes it)."""
        rules = [r for r in self.ruleset.rules if r.concludes == code]
        for rule in rules:
            if ev.rules.get(rule.id) is True:
                return rule
        return rules[0] if rules else None

    def explain(self, code: str) -> Explanation:
        """Why `code` applies (facts seen), why it does not, or which questions it still waits on."""
        values = self.values()
        ev = evaluate(self.ruleset, values)
        info = self.ruleset.outcomes[code]
        state = _state(ev.outcomes.get(code, False))
        rule = self._deciding_rule(code, ev)
        base = {"code": code, "kind": info.kind, "title": info.title, "state": state,
                "rule": rule.id if rule else "", "citation": rule.citation if rule else "",
                "text": rule.text if rule else ""}
        if state == APPLIES and rule is not None:
            look = _look(values, ev)
            return Explanation(**base, because=_because(rule.when, look))
        if state == DOES_NOT_APPLY:
            return Explanation(**base, why_not=tuple(self.why_not(code)))
        facts = _inputs_behind(self.ruleset, code)
        waiting = [q.fact for q in self.questions if q.fact in facts and q.fact not in values]
        return Explanation(**base, waiting_on=tuple(waiting))

    # -- the finished case ---------------------------------------------------------------------

    def to_case(self) -> Case:
        """A validated Case from the answers (unasked facts take their schema defaults)."""
        values = self.values()
        data: dict[str, Any] = {"schema": 1, "case": self.ref, "as_of": self.as_of.isoformat(), "claimant": {}}
        if self.nino:
            data["claimant"]["nino"] = self.nino
        for fact, value in values.items():
            if fact in ("as_of", "missed_discussion", "missed_discussion.good_cause"):
                continue
            if fact == "drugs.substances":
                value = list(value)
            if value is None and fact in ASKED_NOT_NULL:
                continue
            head, _, tail = fact.partition(".")
            if tail:
                data.setdefault(head, {})[tail] = value
            else:
                data[head] = value
        if values.get("missed_discussion") is True:
            data["missed_discussion"] = {"good_cause": values.get("missed_discussion.good_cause")}
        raw = RawCase(data, f"interview {self.ref}", None, lambda _path: None)
        return build_case(raw, self.engine.book.calendar)

    def decision(self) -> Decision:
        """The engine's decision on the finished case (durable_rules, with trace)."""
        case = self.to_case()
        return self.engine.decide(case, self.ruleset)


def _state(truth: Truth) -> str:
    """A truth value as an outcome state."""
    if truth is True:
        return APPLIES
    if truth is UNKNOWN:
        return UNDECIDED
    return DOES_NOT_APPLY


def _inputs_behind(ruleset: RuleSet, code: str) -> set[str]:
    """Every input fact an outcome's rules read, through derived facts and other outcomes."""
    found: set[str] = set()
    seen: set[str] = set()
    todo = [r for r in ruleset.rules if r.concludes == code]
    while todo:
        rule = todo.pop()
        if rule.id in seen:
            continue
        seen.add(rule.id)
        for test in C.tests(rule.when):
            if test.fact in INPUT_FACTS:
                found.add(test.fact)
            elif test.fact == C.OUTCOME_KEY:
                todo += [r for r in ruleset.rules if r.concludes == test.value]
            else:
                todo += [r for r in ruleset.rules if r.derives == test.fact]
    return found


def _look(values: Mapping[str, Any], ev: Evaluation) -> dict[str, Any]:
    """Answers, derived facts and outcomes in one lookup (the shape conditions are evaluated on)."""
    look: dict[str, Any] = {name: values.get(name, C.UNANSWERED) for name in INPUT_FACTS}
    for name, truth in ev.derived.items():
        look[name] = C.UNANSWERED if truth is UNKNOWN else truth
    for code, truth in ev.outcomes.items():
        look[f"{C.OUTCOME_KEY}:{code}"] = C.UNANSWERED if truth is UNKNOWN else truth
    return look


def _because(cond: C.Cond, look: Mapping[str, Any]) -> dict[str, Any]:
    """The facts a true condition rests on (for `any`, the first part that holds)."""
    if isinstance(cond, C.Test):
        if cond.fact == C.OUTCOME_KEY:
            return {str(cond.value): True}
        value = look.get(cond.fact)
        return {cond.fact: list(value) if isinstance(value, tuple) else value}
    if isinstance(cond, C.Any_):
        for part in cond.parts:
            if C.evaluate(part, look) is True:
                return _because(part, look)
        return {}
    out: dict[str, Any] = {}
    for part in cond.parts:
        out.update(_because(part, look))
    return out

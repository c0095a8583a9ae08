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
from engine.model.case import Case, input_values
from engine.model.decision import Decision, reading_order
from engine.model.facts import DECLINED, INPUT_FACTS, NOT_KNOWN, UNKNOWN_ANSWERS, FactSpec, Unknown
from engine.policy.conditions import UNKNOWN, Truth
from engine.policy.driver import Engine, default_engine
from engine.policy.explain import Evaluation, WhyNot, evaluate, inputs_behind, relevant_questions, why_not
from engine.policy.rulebook import RuleSet

UNKNOWN_CHOICES: tuple[tuple[Unknown, str], ...] = ((NOT_KNOWN, "Don't know"), (DECLINED, "Declined to say"))
"""The two answers every optional question offers besides a real one."""

NOT_ASKED = ("as_of",)
"""Input facts an interview never asks (the date is set when the case is opened)."""

COMPANIONS = {"children.youngest_age": "children.dependants", "drugs.known_by": "drugs.substances"}
"""Questions that only make sense once another is answered (the youngest's age after how many children)."""

CASE_KEYS = ("case", "as_of", "claimant.nino")
"""Keys set when a case is opened, not by answers."""

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
    unknowable: bool = False
    label: str = ""

    @property
    def short(self) -> str:
        """The question's short label for lists (its `label`, else its text)."""
        return self.label or self.text

    def parse_text(self, text: str) -> Any:
        """A typed answer from text (numbers; empty means none where allowed)."""
        text = text.strip()
        if self.unknowable and text.lower() in ("?", "unknown", "don't know", "dont know"):
            return NOT_KNOWN
        if self.unknowable and text.lower() in ("declined", "declined to say"):
            return DECLINED
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
    adviser_note: str = ""
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
        self.undone: dict[str, Any] = {}
        self._decided: tuple[frozenset[tuple[str, Any]], Decision] | None = None
        texts = {str(q["fact"]): q for q in self.engine.book.questions if q.get("fact") in INPUT_FACTS}
        order = [*texts, *(name for name in INPUT_FACTS if name not in texts)]  # questions.yaml order first
        self.questions: tuple[Question, ...] = tuple(
            self._question(INPUT_FACTS[name], texts.get(name, {})) for name in order if name not in NOT_ASKED
        )
        self._by_fact = {q.fact: q for q in self.questions}

    @classmethod
    def from_case(cls, case: Case, engine: Engine | None = None) -> Interview:
        """An interview with every question answered as in `case` (to review or change it)."""
        interview = cls(case.case, case.as_of, nino=case.nino, engine=engine)
        values = input_values(case)
        for q in interview.questions:
            if values[q.fact] is NOT_KNOWN:
                continue  # never answered: shown unanswered, and asked again if it matters
            interview.answers[q.fact] = values[q.fact]
            interview.history.append(q.fact)
        return interview

    def to_draft(self) -> dict[str, Any]:
        """The answers as JSON-ready data, in the order given (for a draft kept in the case book, #12)."""
        return {"answers": [[fact, _draft_value(self.answers[fact])] for fact in self.history if fact in self.answers]}

    @classmethod
    def from_draft(cls, ref: str, as_of: dt.date, nino: str | None, data: Mapping[str, Any],
                   engine: Engine | None = None) -> Interview:
        """An interview resumed from a draft: each saved answer given again, in order; an answer this
        interview no longer accepts is left unanswered (it is asked again)."""
        interview = cls(ref, as_of, nino=nino, engine=engine)
        pairs = data.get("answers", [])
        interview.give((p[0], _from_draft_value(p[1])) for p in pairs if isinstance(p, list) and len(p) == 2
                        and isinstance(p[0], str))
        return interview

    def give(self, answers: Iterable[tuple[str, Any]]) -> list[str]:
        """Give answers in order, skipping those refused; returns the facts refused (asked again)."""
        refused = []
        for fact, value in answers:
            try:
                self.answer(fact, value)
            except InputError:
                refused.append(fact)
        return refused

    def corrected(self, as_of: dt.date, nino: str | None) -> tuple[Interview, list[str]]:
        """This interview with its date or NINO corrected: the answers carried over (the edition follows
        the date); returns it and the facts whose answers the new date refuses (asked again)."""
        fresh = Interview(self.ref, as_of, nino=nino, engine=self.engine)
        refused = fresh.give((fact, self.answers[fact]) for fact in self.history if fact in self.answers)
        return fresh, refused

    # -- questions -----------------------------------------------------------------------------

    def _question(self, spec: FactSpec, raw: Mapping[str, Any]) -> Question:
        """A Question from the fact's registry entry and its rules/questions.yaml texts (if any)."""
        fact = spec.name
        labels = raw.get("labels") or {}
        nullable = spec.optional and fact not in ASKED_NOT_NULL
        choices: tuple[tuple[Any, str], ...] = ()
        if spec.kind in ("bool", "flag"):
            choices = ((True, "Yes"), (False, "No"))
        elif spec.kind in ("enum", "list"):
            allowed = spec.choices
            if fact == "benefit":
                cal = self.engine.book.calendar
                allowed = tuple(b for b in allowed if (cal.benefit_from(b) or self.as_of) <= self.as_of)
            choices = tuple((c, str(labels.get(c, c))) for c in allowed)
            if nullable:
                choices += ((None, "No reason given" if fact.endswith("good_cause") else "None"),)
        if spec.unknowable:
            choices += UNKNOWN_CHOICES
        text = str(raw.get("question") or fact.replace(".", ": ").replace("_", " ").capitalize() + "?")
        return Question(fact, text, " ".join(str(raw.get("help", "")).split()),
                        spec.kind, choices, spec.low, spec.high, nullable, spec.unknowable,
                        str(raw.get("label") or ""))

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
        for companion, first in COMPANIONS.items():
            if companion in relevant and first not in values:
                relevant.discard(companion)  # ask how many children before the youngest's age
                relevant.add(first)
        open_ = [q.fact for q in self.questions if q.fact not in values and not self._waits(q.fact, values)]
        asked = [f for f in open_ if f in relevant]
        if asked:
            return asked
        ev = evaluate(self.ruleset, values)
        if ev.undecided() or ev.priority is None:
            return open_  # only a combination of answers matters: ask the rest in order
        return []

    @staticmethod
    def _waits(fact: str, values: Mapping[str, Any]) -> bool:
        """True for a companion question whose first question is not answered yet."""
        first = COMPANIONS.get(fact)
        return first is not None and first not in values

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
        had, before = fact in self.answers, self.answers.get(fact)
        self.answers[fact] = self._check(q, value)
        try:
            if self.can_decide():
                self.to_case()  # refuses an answer that contradicts another (POLICY.md "Consistency")
        except InputError as exc:
            if exc.key not in CASE_KEYS:  # the case's own reference or date is not this answer's fault
                if had:
                    self.answers[fact] = before
                else:
                    del self.answers[fact]
                raise
        if fact in self.history:
            self.history.remove(fact)
        self.history.append(fact)
        if self._reopened == fact:
            self._reopened = None

    def _check(self, q: Question, value: Any) -> Any:
        """The answer in canonical form, or InputError."""
        if value is None and q.nullable:
            return None
        if isinstance(value, Unknown):
            if not q.unknowable:
                raise InputError("needs an answer here: it cannot be left unknown", key=q.fact)
            return value
        if q.kind in ("bool", "flag"):
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
            options = INPUT_FACTS[q.fact].choices
            if items is None or any(i not in options for i in items) or len(set(items)) != len(items):
                raise InputError("must be a list of different choices", key=q.fact, allowed=", ".join(options))
            return tuple(sorted(items, key=options.index))
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
        if fact in self.answers:
            self.undone[fact] = self.answers.pop(fact)
        return fact

    def current(self, fact: str) -> Any:
        """What to preselect for a question: its answer, or the one just undone by `back` (so going
        back and pressing Enter keeps it: a "No" never silently becomes the first choice)."""
        if fact in self.answers:
            return self.answers[fact]
        return self.undone.get(fact)

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
        if isinstance(value, Unknown):
            return dict(UNKNOWN_CHOICES)[value]
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

    def can_decide(self) -> bool:
        """True once the answers a case cannot do without (benefit, age) are given."""
        return all(fact in self.answers and not isinstance(self.answers[fact], Unknown)
                   for fact in ("benefit", "claimant.age"))

    def live_decision(self) -> Decision | None:
        """The engine's recommendation on the answers so far (unasked questions unknown), or None
        before the benefit and age are known. The same decision `record` and `evaluate` make."""
        if not self.can_decide():
            return None
        key = frozenset(self.answers.items())
        if self._decided is None or self._decided[0] != key:
            self._decided = (key, self.engine.decide(self.to_case(), self.ruleset))
        return self._decided[1]

    def outcome_rows(self, ev: Evaluation | None = None, decision: Decision | None = None) -> list[OutcomeRow]:
        """Every outcome code with its state: applies, undecided (open), then does not apply; each in reading order."""
        ev = ev or self.evaluation()
        decision = decision if decision is not None else self.live_decision()
        rank = {APPLIES: 0, UNDECIDED: 1, DOES_NOT_APPLY: 2}
        rows = []
        for code, truth in ev.outcomes.items():
            info = self.ruleset.outcomes[code]
            state = _state(truth) if decision is None else _decided_state(decision, code)
            rule = self._deciding_rule(code, ev)
            rows.append(OutcomeRow(code, info.kind, info.title, state, rule.citation if rule else ""))
        return sorted(rows, key=lambda r: (rank[r.state], *reading_order(r.kind, r.code)))

    def _deciding_rule(self, code: str, ev: Evaluation) -> Any:
        """The rule that makes `code` apply, else its first rule (None when no rule concludes it)."""
        rules = [r for r in self.ruleset.rules if r.concludes == code]
        for rule in rules:
            if ev.rules.get(rule.id) is True:
                return rule
        return rules[0] if rules else None

    def explain(self, code: str) -> Explanation:
        """Why `code` applies, why it does not, or which questions it still waits on.

        "Because" and "waits on" come from the live decision itself (durable_rules and the
        evaluator, through `engine.policy.driver`), so the panel shows exactly what is recorded.
        """
        values = self.values()
        ev = evaluate(self.ruleset, values)
        decision = self.live_decision()
        info = self.ruleset.outcomes[code]
        state = _state(ev.outcomes.get(code, False)) if decision is None else _decided_state(decision, code)
        rule = self._deciding_rule(code, ev)
        base: dict[str, Any] = {"code": code, "kind": info.kind, "title": info.title, "state": state,
                "rule": rule.id if rule else "", "citation": rule.citation if rule else "",
                "text": rule.default_text if rule else ""}
        if decision is not None:
            applying = {o.code: o for o in decision.outcomes}
            if code in applying:
                o = applying[code]
                base.update(rule=o.rule, citation=o.citation, text=o.text)
                return Explanation(**base, adviser_note=o.adviser_note, because=dict(o.because))
            opened = {o.code: o for o in decision.open}
            if code in opened:
                waits = opened[code]
                if waits.rule:
                    base.update(rule=waits.rule, citation=self.ruleset.rule(waits.rule).citation)
                return Explanation(**base, waiting_on=waits.needs)
        if state == DOES_NOT_APPLY:
            return Explanation(**base, why_not=tuple(self.why_not(code)))
        facts = inputs_behind(self.ruleset, code)
        waiting = [q.fact for q in self.questions if q.fact in facts and q.fact not in values]
        return Explanation(**base, waiting_on=tuple(waiting))

    # -- the finished case ---------------------------------------------------------------------

    def to_case(self) -> Case:
        """A validated Case from the answers; every question not asked is recorded as `unknown`.

        (Answers implied by others are not unknown: no drugs means no 'known by'.)
        """
        values = self.values()
        data: dict[str, Any] = {"schema": 1, "case": self.ref, "as_of": self.as_of.isoformat(), "claimant": {}}
        if self.nino:
            data["claimant"]["nino"] = self.nino
        missed = values.get("missed_discussion") is True
        for spec in INPUT_FACTS.values():
            if spec.name in NOT_ASKED or spec.kind == "flag":
                continue
            if spec.block == "missed_discussion" and not missed:
                continue
            if spec.name == "uc_group" and values.get("benefit") != "uc":
                continue  # only Universal Credit has conditionality groups
            if spec.name in values:
                value = values[spec.name]
            elif spec.unknowable:
                value = NOT_KNOWN
            else:
                continue  # not asked and never unknown: the schema default
            if isinstance(value, Unknown):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif value is None:
                continue
            target = data
            for part in spec.path[:-1]:
                target = target.setdefault(part, {})
            target[spec.path[-1]] = value
        if missed:
            data.setdefault("missed_discussion", {})
        raw = RawCase(data, f"interview {self.ref}", None, lambda _path: None)
        return build_case(raw, self.engine.book.calendar)

    def decision(self) -> Decision:
        """The engine's recommendation on the finished case (durable_rules, with trace)."""
        return self.engine.decide(self.to_case(), self.ruleset)


def _draft_value(value: Any) -> Any:
    """An answer as JSON: lists for tuples, {"unknown": reason} for an unknown answer."""
    if isinstance(value, Unknown):
        return {"unknown": str(value)}
    if isinstance(value, tuple):
        return list(value)
    return value


def _from_draft_value(value: Any) -> Any:
    """An answer back from JSON (the reverse of `_draft_value`)."""
    if isinstance(value, dict):
        return UNKNOWN_ANSWERS.get(str(value.get("unknown")), NOT_KNOWN)
    if isinstance(value, list):
        return tuple(value)
    return value


def _decided_state(decision: Decision, code: str) -> str:
    """An outcome's state in a decision: applies, open (undecided) or does not apply."""
    if code in decision.codes:
        return APPLIES
    if any(o.code == code for o in decision.open):
        return UNDECIDED
    return DOES_NOT_APPLY


def _state(truth: Truth) -> str:
    """A truth value as an outcome state."""
    if truth is True:
        return APPLIES
    if truth is UNKNOWN:
        return UNDECIDED
    return DOES_NOT_APPLY

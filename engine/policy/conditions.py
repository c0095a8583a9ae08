"""Rule conditions as a small tree: parsed from YAML, negated, expanded, and evaluated in Python."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Union

import attrs

from engine.model.facts import Unknown
from engine.policy.operators import OPERATORS, Operator, truth

UNKNOWN = None
"""The third truth value: not yet answered, so not yet known."""

Truth = Union[bool, None]

OPS = tuple(OPERATORS)
"""Operators a test may use (engine.policy.operators); a bare value means `eq`."""

OUTCOME_KEY = "outcome"
"""The key naming an outcome code in a condition (`- outcome: CODE`)."""


@attrs.frozen
class Test:
    """One atomic test: `fact op value`, or its negation (`negated`)."""

    fact: str
    op: str
    value: Any
    negated: bool = False

    @property
    def operator(self) -> Operator:
        """The operator's entry in the one operator table."""
        return OPERATORS[self.op]

    def negate(self) -> Test:
        """The opposite test: the operand flipped where the operator allows, else the `negated` flag."""
        if self.operator.flips and isinstance(self.value, bool) and not self.negated:
            return Test(self.fact, self.op, not self.value)
        if self.op == "eq" and isinstance(self.value, bool) and not self.negated:
            return Test(self.fact, "eq", not self.value)
        return attrs.evolve(self, negated=not self.negated)

    def describe(self) -> str:
        """Plain text for explanations, e.g. `benefit is one of jsa, uc`."""
        if self.fact == OUTCOME_KEY:
            return f"{self.value} {'does not apply' if self.negated else 'applies'}"
        if self.op in ("empty", "given"):
            words = self.operator.words if self.value else self.operator.words.replace("is ", "is not ", 1)
            text = f"{self.fact} {words}"
        else:
            text = f"{self.fact} {self.operator.words} {_show(self.value)}"
        return f"not ({text})" if self.negated else text


@attrs.frozen
class All:
    """Every part must hold."""

    parts: tuple[Cond, ...]


@attrs.frozen
class Any_:
    """At least one part must hold."""

    parts: tuple[Cond, ...]


Cond = Union[Test, All, Any_]


def _show(value: Any) -> str:
    """A test value as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class ConditionError(ValueError):
    """A condition in a rule file that does not parse."""


def parse(raw: Any) -> Cond:
    """Parse a `when:` value: a list (all of), or a mapping with one test, `any:` or `all:`."""
    if isinstance(raw, list):
        if not raw:
            raise ConditionError("an empty condition list")
        return All(tuple(parse(item) for item in raw))
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise ConditionError(f"a condition must be a single-key mapping, got {raw!r}")
    ((key, value),) = raw.items()
    if key in ("any", "all"):
        if not isinstance(value, list) or not value:
            raise ConditionError(f"'{key}' needs a non-empty list")
        parts = tuple(parse(item) for item in value)
        return Any_(parts) if key == "any" else All(parts)
    if key == OUTCOME_KEY:
        if not isinstance(value, str):
            raise ConditionError("'outcome' needs an outcome code")
        return Test(OUTCOME_KEY, "eq", value)
    if isinstance(value, Mapping):
        if len(value) != 1:
            raise ConditionError(f"test on {key} must have one operator")
        ((op, operand),) = value.items()
        if op not in OPERATORS or op == "eq":
            allowed = ", ".join(o for o in OPS if o != "eq")
            raise ConditionError(f"unknown operator {op!r} on {key} (allowed: {allowed})")
        problem = OPERATORS[op].check_operand(operand)
        if problem:
            raise ConditionError(f"'{op}' on {key} {problem}")
        if isinstance(operand, list):
            operand = tuple(operand)
        return Test(str(key), op, operand)
    if isinstance(value, (list, dict)) or value is None:
        raise ConditionError(f"test on {key} needs a value or an operator")
    return Test(str(key), "eq", value)


def to_data(cond: Cond) -> Any:
    """The condition back as canonical data (for the rule set snapshot and its hash)."""
    if isinstance(cond, All):
        return {"all": [to_data(p) for p in cond.parts]}
    if isinstance(cond, Any_):
        return {"any": [to_data(p) for p in cond.parts]}
    value = cond.value
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, dt.date):
        value = value.isoformat()
    test: Any = value if cond.op == "eq" else {cond.op: value}
    out = {cond.fact: test}
    return {"not": out} if cond.negated else out


def from_data(data: Any) -> Cond:
    """Rebuild a condition from `to_data` output (a snapshot)."""
    if "all" in data:
        return All(tuple(from_data(p) for p in data["all"]))
    if "any" in data:
        return Any_(tuple(from_data(p) for p in data["any"]))
    negated = "not" in data
    inner = data["not"] if negated else data
    ((fact, test),) = inner.items()
    if isinstance(test, dict):
        ((op, value),) = test.items()
        if OPERATORS[op].operand == "date":
            value = dt.date.fromisoformat(value)
        if isinstance(value, list):
            value = tuple(value)
    else:
        op, value = "eq", test
    return Test(fact, op, value, negated)


def negate(cond: Cond) -> Cond:
    """The negation in negation normal form (De Morgan down to explicit tests)."""
    if isinstance(cond, All):
        return Any_(tuple(negate(p) for p in cond.parts))
    if isinstance(cond, Any_):
        return All(tuple(negate(p) for p in cond.parts))
    return cond.negate()


def dnf(cond: Cond) -> list[tuple[Test, ...]]:
    """Disjunctive normal form: a list of conjunctions of tests."""
    if isinstance(cond, Test):
        return [(cond,)]
    if isinstance(cond, Any_):
        out: list[tuple[Test, ...]] = []
        for part in cond.parts:
            out.extend(dnf(part))
        return out
    terms: list[tuple[Test, ...]] = [()]
    for part in cond.parts:
        terms = [a + b for a in terms for b in dnf(part)]
    return terms


def tests(cond: Cond) -> Iterable[Test]:
    """Every test in the condition, in reading order."""
    if isinstance(cond, Test):
        yield cond
    else:
        for part in cond.parts:
            yield from tests(part)


def eval_test(test: Test, value: Any) -> Truth:
    """Three-valued truth of one test against a value (unanswered, unknown or declined: UNKNOWN)."""
    if value is _UNANSWERED or isinstance(value, Unknown):
        return UNKNOWN
    return truth(test.operator, value, test.value, test.negated)


class _Unanswered:
    """Marker for a fact whose value is not yet known."""

    def __repr__(self) -> str:
        return "UNANSWERED"


_UNANSWERED = _Unanswered()
UNANSWERED = _UNANSWERED
"""Put this in a values mapping for a question not yet answered."""


def evaluate(cond: Cond, lookup: Mapping[str, Any]) -> Truth:
    """Kleene three-valued evaluation: True, False or UNKNOWN."""
    if isinstance(cond, Test):
        if cond.fact == OUTCOME_KEY:
            applies = lookup[f"{OUTCOME_KEY}:{cond.value}"]
            if applies is _UNANSWERED:
                return UNKNOWN
            return (not applies) if cond.negated else bool(applies)
        return eval_test(cond, lookup[cond.fact])
    if isinstance(cond, All):
        seen_unknown = False
        for part in cond.parts:
            value = evaluate(part, lookup)
            if value is False:
                return False
            if value is UNKNOWN:
                seen_unknown = True
        return UNKNOWN if seen_unknown else True
    seen_unknown = False
    for part in cond.parts:
        value = evaluate(part, lookup)
        if value is True:
            return True
        if value is UNKNOWN:
            seen_unknown = True
    return UNKNOWN if seen_unknown else False


def first_failure(cond: Cond, lookup: Mapping[str, Any]) -> Test | None:
    """The first test (in reading order) that makes a false condition false."""
    if isinstance(cond, Test):
        return cond if evaluate(cond, lookup) is False else None
    if isinstance(cond, All):
        for part in cond.parts:
            if evaluate(part, lookup) is False:
                return first_failure(part, lookup)
        return None
    if evaluate(cond, lookup) is False:
        return first_failure(cond.parts[0], lookup)
    return None

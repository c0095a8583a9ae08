"""The one table of condition operators: how each is parsed, negated, evaluated and compiled.

A test is `fact op operand`. Each operator says what operand it takes, which fact kinds it may
test, its truth for a present value and for an absent optional value, how it reads in words,
and its durable_rules encoding for a present value (`durable`) and for its negation (`durable_not`).
Operators whose operand is true/false negate by flipping the operand; the others carry a
`negated` flag. Absent and unknown values are handled once, in `encode`:
an unknown fact is missing from the durable_rules fact, so no test on it can ever match.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs

from engine.model.facts import SET_SUFFIX, FactSpec

Durable = Callable[[str, Any], dict[str, Any]]


def _one(parts: list[dict[str, Any]], op: str) -> dict[str, Any]:
    """A single condition, or parts joined with `$and` / `$or`."""
    return parts[0] if len(parts) == 1 else {op: parts}


def _ordinal(value: Any) -> Any:
    """A test operand as the case fact encodes it (dates as ordinals)."""
    return value.toordinal() if isinstance(value, dt.date) else value


@attrs.frozen
class Operator:
    """One condition operator (see the module docstring)."""

    name: str
    operand: str
    kinds: tuple[str, ...]
    words: str
    truth: Callable[[Any, Any], bool]
    absent: Callable[[Any], bool]
    durable: Durable
    durable_not: Durable
    flips: bool = False
    handles_absent: bool = False

    def check_operand(self, operand: Any) -> str | None:
        """Why an operand does not suit this operator (None when it does)."""
        if self.operand == "list":
            return None if isinstance(operand, list) and operand else "needs a non-empty list"
        if self.operand == "bool":
            return None if isinstance(operand, bool) else "needs true or false"
        if self.operand == "number":
            ok = isinstance(operand, int) and not isinstance(operand, bool)
            return None if ok else "needs a whole number"
        if self.operand == "date":
            ok = isinstance(operand, dt.date) and not isinstance(operand, dt.datetime)
            return None if ok else "needs a date"
        return None if not isinstance(operand, (list, dict)) and operand is not None else "needs a value"


def _cmp(name: str, words: str, durable_op: str, opposite: str, fn: Callable[[Any, Any], bool],
         operand: str, kinds: tuple[str, ...]) -> Operator:
    """A comparison operator (numbers or dates)."""
    return Operator(
        name, operand, kinds, words, truth=fn, absent=lambda _x: False,
        durable=lambda attr, x: {durable_op: {attr: _ordinal(x)}},
        durable_not=lambda attr, x: {opposite: {attr: _ordinal(x)}},
    )


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("eq", "value", ("bool", "enum", "int", "flag"), "is",
                 truth=lambda v, x: v == x, absent=lambda _x: False,
                 durable=lambda attr, x: {attr: x},
                 durable_not=lambda attr, x: {"$neq": {attr: x}}),
        Operator("in", "list", ("enum", "int"), "is one of",
                 truth=lambda v, x: v in x, absent=lambda _x: False,
                 durable=lambda attr, x: _one([{attr: v} for v in x], "$or"),
                 durable_not=lambda attr, x: _one([{"$neq": {attr: v}} for v in x], "$and")),
        Operator("not_in", "list", ("enum", "int"), "is none of",
                 truth=lambda v, x: v not in x, absent=lambda _x: True,
                 durable=lambda attr, x: _one([{"$neq": {attr: v}} for v in x], "$and"),
                 durable_not=lambda attr, x: _one([{attr: v} for v in x], "$or")),
        Operator("contains_any", "list", ("list",), "includes one of",
                 truth=lambda v, x: any(item in v for item in x), absent=lambda _x: False,
                 durable=lambda attr, x: _one([{f"{attr}__{v}": True} for v in x], "$or"),
                 durable_not=lambda attr, x: _one([{f"{attr}__{v}": False} for v in x], "$and")),
        Operator("empty", "bool", ("list",), "is empty",
                 truth=lambda v, x: (len(v) == 0) == x, absent=lambda _x: False,
                 durable=lambda attr, x: {f"{attr}__count": 0} if x else {"$gt": {f"{attr}__count": 0}},
                 durable_not=lambda attr, x: {"$gt": {f"{attr}__count": 0}} if x else {f"{attr}__count": 0},
                 flips=True),
        Operator("given", "bool", ("enum", "int"), "is given",
                 truth=lambda _v, x: bool(x), absent=lambda x: not x,
                 durable=lambda attr, x: {attr + SET_SUFFIX: bool(x)},
                 durable_not=lambda attr, x: {attr + SET_SUFFIX: not x},
                 flips=True, handles_absent=True),
        _cmp("gte", "is at least", "$gte", "$lt", lambda v, x: v >= x, "number", ("int",)),
        _cmp("gt", "is more than", "$gt", "$lte", lambda v, x: v > x, "number", ("int",)),
        _cmp("lte", "is at most", "$lte", "$gt", lambda v, x: v <= x, "number", ("int",)),
        _cmp("lt", "is under", "$lt", "$gte", lambda v, x: v < x, "number", ("int",)),
        _cmp("before", "is before", "$lt", "$gte", lambda v, x: v < x, "date", ("date",)),
        _cmp("on_or_after", "is on or after", "$gte", "$lt", lambda v, x: v >= x, "date", ("date",)),
    )
}
"""Every operator a rule condition may use, by name; a bare value in a rule file means `eq`."""


def truth(op: Operator, value: Any, operand: Any, negated: bool) -> bool:
    """Two-valued truth of `value op operand` for a known value (None: an absent optional fact)."""
    result = op.absent(operand) if value is None else op.truth(value, operand)
    return not result if negated else result


def encode(op: Operator, spec: FactSpec, operand: Any, negated: bool) -> dict[str, Any]:
    """The durable_rules condition on the case fact with the same truth as `truth` for known values.

    For an optional fact, the `__set` flag decides the absent case; an unknown fact has neither
    the value nor the flag, so no encoding ever matches it.
    """
    attr = spec.attr
    if isinstance(operand, tuple):
        operand = list(operand)
    base = (op.durable_not if negated else op.durable)(attr, operand)
    if op.handles_absent or not spec.optional:
        return base
    if op.absent(operand) != negated:  # the test holds for an absent value
        return {"$or": [{attr + SET_SUFFIX: False}, base]}
    return base

"""The one operator table (#9): parsing, negation, three-valued evaluation and compiling agree, table-driven."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.model.facts import DECLINED, INPUT_FACTS, NOT_KNOWN, encode_case_fact
from engine.policy import conditions as C
from engine.policy.operators import OPERATORS, encode

D = dt.date
# (fact, yaml test, [(value, expected truth)]) — None is an absent optional fact
TABLE = [
    ("benefit", "jsa", [("jsa", True), ("uc", False)]),
    ("benefit", {"in": ["ib", "esa_wrag"]}, [("ib", True), ("jsa", False)]),
    ("drugs.known_by", {"not_in": ["adviser_suspicion"]}, [("dip", True), ("adviser_suspicion", False), (None, True)]),
    ("drugs.substances", {"contains_any": ["heroin", "crack"]}, [(("crack",), True), (("cannabis",), False), ((), False)]),
    ("drugs.substances", {"empty": True}, [((), True), (("heroin",), False)]),
    ("drugs.substances", {"empty": False}, [((), False), (("heroin",), True)]),
    ("prison_release_weeks", {"lte": 13}, [(13, True), (14, False), (None, False)]),
    ("prison_release_weeks", {"gte": 4}, [(4, True), (3, False), (None, False)]),
    ("children.youngest_age", {"lt": 5}, [(4, True), (5, False), (None, False)]),
    ("children.dependants", {"gt": 0}, [(1, True), (0, False)]),
    ("as_of", {"before": D(2011, 7, 1)}, [(D(2011, 6, 30), True), (D(2011, 7, 1), False)]),
    ("as_of", {"on_or_after": D(2011, 7, 1)}, [(D(2011, 7, 1), True), (D(2011, 6, 30), False)]),
    ("missed_discussion.kind", {"given": True}, [("required", True), (None, False)]),
    ("missed_discussion.kind", {"given": False}, [("voluntary", False), (None, True)]),
    ("drugs.in_treatment", True, [(True, True), (False, False)]),
]


def _durable_matches(cond: dict, fact: dict) -> bool:
    """A small reading of the durable_rules condition forms the compiler emits, to check encodings."""
    if "$and" in cond:
        return all(_durable_matches(c, fact) for c in cond["$and"])
    if "$or" in cond:
        return any(_durable_matches(c, fact) for c in cond["$or"])
    ((key, value),) = cond.items()
    if key.startswith("$"):
        ((attr, operand),) = value.items()
        if attr not in fact:  # a missing attribute never matches, even under $neq
            return False
        have = fact[attr]
        return {"$neq": have != operand, "$lt": have < operand, "$lte": have <= operand,
                "$gt": have > operand, "$gte": have >= operand}[key]
    return key in fact and fact[key] == value


@pytest.mark.parametrize(("fact", "raw", "rows"), TABLE, ids=[f"{f}-{r}" for f, r, _ in TABLE])
def test_each_operator_parses_negates_evaluates_and_compiles_alike(fact, raw, rows) -> None:
    test = C.parse({fact: raw})
    assert isinstance(test, C.Test) and test.op in OPERATORS
    assert C.from_data(C.to_data(test)) == test
    negated = C.negate(test)
    spec = INPUT_FACTS[fact]
    for value, expected in rows:
        assert C.eval_test(test, value) is expected, (value, "python")
        assert C.eval_test(negated, value) is (not expected), (value, "negated")
        values = {name: s.default for name, s in INPUT_FACTS.items()} | {"as_of": D(2010, 1, 1), fact: value}
        case_fact = encode_case_fact(values, (fact,))
        for t, want in ((test, expected), (negated, not expected)):
            assert _durable_matches(encode(t.operator, spec, t.value, t.negated), case_fact) is want, (value, t)


@pytest.mark.parametrize(("fact", "raw", "rows"), TABLE, ids=[f"{f}-{r}" for f, r, _ in TABLE])
def test_an_unknown_answer_leaves_every_test_unknown_and_matches_nothing(fact, raw, rows) -> None:
    spec = INPUT_FACTS[fact]
    if not spec.unknowable:
        pytest.skip(f"{fact} is never unknown")
    test = C.parse({fact: raw})
    for marker in (NOT_KNOWN, DECLINED):
        assert C.eval_test(test, marker) is C.UNKNOWN and C.eval_test(C.negate(test), marker) is C.UNKNOWN
        values = {name: s.default for name, s in INPUT_FACTS.items()} | {"as_of": D(2010, 1, 1), fact: marker}
        case_fact = encode_case_fact(values, (fact,))
        for t in (test, C.negate(test)):
            assert not _durable_matches(encode(t.operator, spec, t.value, t.negated), case_fact)


@pytest.mark.parametrize(("raw", "problem"), [
    ({"benefit": {"between": [1, 2]}}, "unknown operator"),
    ({"benefit": {"in": []}}, "non-empty list"),
    ({"drugs.substances": {"empty": "yes"}}, "true or false"),
    ({"as_of": {"before": "2011"}}, "needs a date"),
    ({"prison_release_weeks": {"lte": "13"}}, "whole number"),
    ({"benefit": None}, "needs a value"),
])
def test_bad_conditions_are_refused_in_words(raw, problem) -> None:
    with pytest.raises(C.ConditionError, match=problem):
        C.parse(raw)

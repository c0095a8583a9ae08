"""The fast JSON encoder writes exactly the standard library's bytes: stored texts and hashes depend on them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import jsonfast

_NUMBERISH = st.from_regex(r"[:,\[ ]?-?[0-9]{1,3}[.eE][-+]?[0-9]", fullmatch=True)
"""Text that looks like a number with a fraction or exponent, to exercise the check inside strings."""

_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | st.text() | _NUMBERISH
            | st.sampled_from(["\ud800", "\x1f", "\u2028", "é😀", "null", "1e-05"]))
_DATA = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text() | st.integers(), inner, max_size=4), max_leaves=20)


def _std(data: Any, sort_keys: bool) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)


@settings(max_examples=1000)
@given(_DATA)
def test_compact_and_canonical_are_the_standard_librarys_bytes(data: Any) -> None:
    try:
        compact = _std(data, False)
    except TypeError:  # mixed key types the standard library cannot sort
        return
    assert jsonfast.compact(data) == compact
    try:
        canonical = _std(data, True)
    except TypeError:
        return
    assert jsonfast.canonical(data) == canonical


_FINITE = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
           | _NUMBERISH | st.sampled_from(["\ud800", "\x1f", "\u2028", "é😀", "null", "NaN", "1e-05"]))
_NAN_FREE = st.recursive(_FINITE, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text() | st.integers(), inner, max_size=4), max_leaves=20)


@settings(max_examples=1000)
@given(_NAN_FREE)
def test_data_vouched_nan_free_still_gets_the_standard_librarys_bytes(data: Any) -> None:
    """Nulls take the fast road once the caller vouches for no NaN; every other float still comes out right."""
    try:
        compact = _std(data, False)
    except TypeError:
        return
    assert jsonfast.compact(data, nan_free=True) == compact
    try:
        canonical = _std(data, True)
    except TypeError:
        return
    assert jsonfast.canonical(data, nan_free=True) == canonical


def test_floats_orjson_writes_differently_still_come_out_as_the_standard_library_writes_them() -> None:
    for value in (1e-05, 1e-07, float("nan"), float("inf"), 2**70, {"a": [0.00001]}):
        assert jsonfast.compact(value) == _std(value, False)
        assert jsonfast.canonical(value) == _std(value, True)


def test_decisions_of_every_scenario_keep_their_bytes() -> None:
    from cases import CASES_DIR
    from engine.intake.scenarios import iter_cases
    from engine.policy.driver import decide

    for case in iter_cases(CASES_DIR):
        assert not isinstance(case, Exception)
        decision = decide(case)
        assert decision.to_json() == _std(decision.to_data(), False)

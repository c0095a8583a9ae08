"""JSON text as the standard library writes it, made by orjson: the same bytes, several times faster.

Stored texts (decisions, inputs, audit bodies) and every hash over them depend on the exact bytes
`json.dumps(..., ensure_ascii=False, separators=(",", ":"))` gives, so the fast encoder is used
only where its output is the same: orjson writes small and large floats (1e-05) and NaN or infinity
differently, refuses integers beyond 64 bits, non-text keys and lone surrogates. Any output holding a
number with a fraction or exponent, or `null` (NaN becomes null in orjson), and anything orjson
refuses, is made by the standard library instead. Validated cases and rule files hold no floats, so
in practice only `null` (an absent optional answer) takes the slow road.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_NUMBER_START = frozenset(b":,[")
"""The bytes that can come just before a JSON number inside an object or array."""

_MARKS = bytes.maketrans(b"123456789+", b"000000000-")
"""Every digit written as 0 and `+` as `-`, so searches for `0.` and `0e-` find every float orjson writes."""

_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_canonical = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


def _differs(out: bytes, nan_free: bool = False) -> bool:
    """True when orjson's output may differ from the standard library's: it holds null (orjson's NaN,
    unless the caller vouches that `nan_free` data holds no NaN or infinity) or a number with a fraction
    or an exponent (orjson writes every float with `.`, `e+` or `e-`).

    Each digit before a point or an exponent is walked back over its digits: inside text it is skipped;
    after `:`, `,`, `[` or at the start it is a number.
    """
    if not nan_free and b"null" in out:
        return True
    marked = out.translate(_MARKS)
    for mark in (b"0.", b"0e-"):
        at = marked.find(mark)
        while at >= 0:
            start = at
            while start > 0 and marked[start - 1] in b"0-":
                start -= 1
            if start == 0 or marked[start - 1] in _NUMBER_START:
                return True
            at = marked.find(mark, at + 1)
    return False


def compact(data: Any, nan_free: bool = False) -> str:
    """`json.dumps(data, ensure_ascii=False, separators=(",", ":"))`, byte for byte.

    With `nan_free` the caller vouches that no float in `data` is NaN or infinite (validated cases, rule
    files, decisions and book rows hold none: the JSON reader refuses those constants, the validators
    refuse floats and SQLite stores NaN as NULL), so `null` in the output is None and keeps the fast road.
    """
    try:
        out = orjson.dumps(data)
    except (TypeError, orjson.JSONEncodeError):
        return _compact(data)
    if _differs(out, nan_free):
        return _compact(data)
    return out.decode("utf-8")


def canonical(data: Any, nan_free: bool = False) -> str:
    """`json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))`, byte for byte.

    `nan_free` as for `compact`: the caller vouches that no float in `data` is NaN or infinite.
    """
    try:
        out = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return _canonical(data)
    if _differs(out, nan_free):
        return _canonical(data)
    return out.decode("utf-8")

"""National Insurance number checks (HMRC NIM39110), with QQ marking synthetic data."""

from __future__ import annotations

import re

_SHAPE = re.compile(r"[A-Z]{2}[0-9]{6}[A-D]", re.ASCII)
_BAD_LETTERS = set("DFIQUV")
_UNUSED_PREFIXES = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
SYNTHETIC_PREFIX = "QQ"
"""The prefix HMRC never issues: it marks training and test data."""


def nino_problem(value: str) -> str | None:
    """Why `value` is not a NINO (real or QQ synthetic), or None when it is one."""
    if not _SHAPE.fullmatch(value):
        return "must be two letters, six digits and a suffix A-D, e.g. QQ123456C"
    prefix = value[:2]
    if prefix == SYNTHETIC_PREFIX:
        return None
    if prefix[0] in _BAD_LETTERS or prefix[1] in _BAD_LETTERS:
        return "prefix letters cannot be D, F, I, Q, U or V"
    if prefix[1] == "O":
        return "the second prefix letter cannot be O"
    if prefix in _UNUSED_PREFIXES:
        return f"prefix {prefix} is not used"
    return None


def is_synthetic(value: str) -> bool:
    """True for a QQ number, which marks training data."""
    return value.startswith(SYNTHETIC_PREFIX)

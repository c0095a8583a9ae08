"""Make text safe to show in a terminal: no control characters, escapes or bidi overrides."""

from __future__ import annotations

import json
import unicodedata

_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}
_UNSAFE_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def is_unsafe(ch: str) -> bool:
    """True for a character that must not reach a terminal as is: control, format, bidi, separator."""
    return ch in _BIDI or unicodedata.category(ch) in _UNSAFE_CATEGORIES


def clean(text: object, keep_newlines: bool = False) -> str:
    """`text` as a string with control, format and bidi-override characters replaced by '?'."""
    out = []
    for ch in str(text):
        if keep_newlines and ch == "\n":
            out.append(ch)
        elif ch == "\t":
            out.append(" ")
        elif is_unsafe(ch):
            out.append("?")
        else:
            out.append(ch)
    return "".join(out)


def escape_json(text: str) -> str:
    r"""JSON text with every unsafe character inside its strings written as a \u escape (lossless)."""
    return "".join(json.dumps(ch)[1:-1] if ch != "\n" and is_unsafe(ch) else ch for ch in text)

"""Make text safe to show in a terminal: no control characters, escapes or bidi overrides."""

from __future__ import annotations

import unicodedata

_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


def clean(text: object, keep_newlines: bool = False) -> str:
    """`text` as a string with control, format and bidi-override characters replaced by '?'."""
    out = []
    for ch in str(text):
        if keep_newlines and ch == "\n":
            out.append(ch)
        elif ch == "\t":
            out.append(" ")
        elif ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            out.append("?")
        else:
            out.append(ch)
    return "".join(out)

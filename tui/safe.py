"""Show data safely: control characters stripped, and never parsed as markup (rich Text only)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from engine.model.report import fact_words
from engine.textsafe import clean


def safe(value: Any, style: str = "", *, keep_newlines: bool = False) -> Text:
    """Data as a rich Text: cleaned of control characters, markup left as literal text."""
    return Text(clean(value, keep_newlines=keep_newlines), style=style)


def words(value: Any) -> str:
    """A fact value as short plain words, as the command line shows it (one formatter for both)."""
    return fact_words(value)


def clip(value: Any, width: int) -> str:
    """Cleaned text cut to `width` characters (an ellipsis marks the cut): list rows stay one line."""
    text = " ".join(clean(value).split())
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def add_line(out: Text, value: Any, style: str = "") -> Text:
    """Append one cleaned line (and a newline) to `out`; returns `out`."""
    out.append(safe(value, style))
    out.append("\n")
    return out


def lines(*parts: Text | str) -> Text:
    """Join Text lines (plain str parts are cleaned first) with newlines."""
    out = Text()
    for i, part in enumerate(parts):
        if i:
            out.append("\n")
        out.append(part if isinstance(part, Text) else safe(part))
    return out

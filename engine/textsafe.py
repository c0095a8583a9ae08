"""Make text safe to show in a terminal: no control characters, escapes or bidi overrides."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from typing import TextIO

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


_SUSPECT = re.compile(r"[^\x20-\x7e\n]+")
"""Runs of characters that may be unsafe: everything but printable ASCII and newlines."""


def _clean_run(match: re.Match[str]) -> str:
    """One suspect run with its unsafe characters replaced; tabs and CRLF line ends kept."""
    run = match.group(0)
    text = match.string
    end = match.end()
    out = []
    for i, ch in enumerate(run):
        follows_newline = (run[i + 1:i + 2] or text[end:end + 1]) == "\n"
        if ch == "\t" or (ch == "\r" and follows_newline) or not is_unsafe(ch):
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


def clean_output(text: str) -> str:
    """Text bound for standard output with lines and tabs kept but every other unsafe character '?'.

    The last line of defence of the command line (`CleanStream`): ASCII text passes at C speed.
    """
    return _SUSPECT.sub(_clean_run, text)


class CleanStream(io.TextIOBase):
    """A text stream that passes everything written through `clean_output` to the real one.

    The command line writes through it, so no path that forgets to clean data (a scenario's
    expectations, a value in a message) can put an escape sequence, C1 control or bidi override on
    the user's terminal.
    """

    def __init__(self, stream: TextIO) -> None:
        """Wrap `stream` (usually `sys.stdout`)."""
        super().__init__()
        self._stream = stream

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The wrapped stream's encoding."""
        return getattr(self._stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        """The wrapped stream's error handler."""
        return getattr(self._stream, "errors", None)

    def write(self, text: str) -> int:
        """Write `text` cleaned; return the length given, as text streams do."""
        self._stream.write(clean_output(text))
        return len(text)

    def writable(self) -> bool:
        """Always writable."""
        return True

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self._stream.flush()

    def isatty(self) -> bool:
        """Whether the wrapped stream is a terminal."""
        return self._stream.isatty()

    def fileno(self) -> int:
        """The wrapped stream's descriptor."""
        return self._stream.fileno()


_ECHOABLE = re.compile(r"[a-z0-9_.:+-]{1,24}", re.ASCII)
_LONG_NUMBER = re.compile(r"[0-9]{5}")


def shown_value(value: object) -> str:
    """A refused value as an error message may quote it, or "this value" when it could be personal.

    Only short lower-case words and numbers are quoted (a typo of `jsa`, a date like 2010-13-45):
    anything with capitals, spaces or five digits in a row could be a NINO, a name or a phone
    number, and error messages end up in logs, tickets and screenshots.
    """
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if len(text) <= 24 and _ECHOABLE.fullmatch(text) and not _LONG_NUMBER.search(text):
        return text if isinstance(value, int) else repr(text)
    return "this value"


_CODE_SHAPE = re.compile(r"[A-Z][A-Z0-9_]{0,63}", re.ASCII)


def shown_code(value: str) -> str:
    """An outcome code as an error message may show it, or "this value" when it is not code-shaped.

    A NINO is capitals and digits too: five digits in a row are never shown.
    """
    if _CODE_SHAPE.fullmatch(value) and not _LONG_NUMBER.search(value):
        return value
    return "this value"

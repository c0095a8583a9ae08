"""Read case files (YAML, JSON, JSON Lines) into raw mappings that remember line numbers."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import attrs
import yaml

from engine.errors import InputError
from engine.textsafe import shown_value

MAX_FILE_BYTES = 8 * 1024 * 1024
"""Refuse case files larger than this (8 MiB): a case is a few hundred bytes."""

CASE_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")
"""File endings read as case files."""

Locate = Callable[[tuple[str, ...]], "int | None"]


@attrs.frozen
class RawCase:
    """One parsed case object, where it came from, and how to find a key's line."""

    data: Any
    source: str
    line: int | None
    locate: Locate


def _read_text(path: Path) -> str:
    """Read a file as UTF-8 text, refusing missing, huge, binary or undecodable files."""
    source = str(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device named .yaml would block or never end
            raise InputError("is not a regular file", source)
        size = info.st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB", source)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", source) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a case file", source) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source) from None
    return _decode(raw, source)


def _decode(raw: bytes, source: str) -> str:
    """A case file's bytes as text, refusing binary, undecodable or empty content."""
    if b"\x00" in raw:
        raise InputError("is a binary file, not a case file", source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"is not UTF-8 text (byte {exc.start})", source) from None
    if not text.strip():
        raise InputError("is empty", source)
    return text


class _SafeLineLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with impossible dates reported at their line."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> dt.date:
        """A date or timestamp; an impossible one (2008-02-30) is an error with a position, and so is text tagged
        `!!timestamp` that is not one (PyYAML would fail on it with an AttributeError)."""
        value = self.construct_scalar(node)
        if not isinstance(value, str) or self.timestamp_regexp.match(value) is None:
            raise yaml.constructor.ConstructorError(
                None, None, f"{shown_value(str(value))} is not a date (write YYYY-MM-DD)", node.start_mark)
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a real date ({exc})", node.start_mark
            ) from None


    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        """A decimal number (the validators then say where one is not allowed); text tagged `!!float` that is no
        number is an error with a position, not a bare ValueError."""
        try:
            return float(super().construct_yaml_float(node))
        except (ValueError, OverflowError):
            raise yaml.constructor.ConstructorError(
                None, None, f"{shown_value(str(node.value))} is not a number", node.start_mark) from None

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> bool:
        """true or false only: YAML 1.1's yes, no, on, off, y and n are refused, not read as booleans."""
        value = self.construct_scalar(node)
        if not isinstance(value, str) or value.lower() not in ("true", "false"):
            raise yaml.constructor.ConstructorError(
                None, None, f"{str(value)[:10]!r} is not true or false (write true or false)", node.start_mark)
        return value.lower() == "true"

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        """A whole number written in plain decimal; YAML 1.1's other forms are refused, not misread.

        PyYAML reads `042` as 34 (octal), `1:20` as 80 (base 60) and `4_2` as 42: an age or a
        number of weeks typed that way would silently become another number.
        """
        value = self.construct_scalar(node)
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            shown = f"{shown_value(value)} is not a whole number in plain decimal (at most 100 digits)"
            raise yaml.constructor.ConstructorError(None, None, shown, node.start_mark)
        return int(value)


_DECIMAL = re.compile(r"[-+]?(0|[1-9][0-9]{0,99})", re.ASCII)
_SafeLineLoader.add_constructor("tag:yaml.org,2002:timestamp", _SafeLineLoader.construct_yaml_timestamp)
_SafeLineLoader.add_constructor("tag:yaml.org,2002:int", _SafeLineLoader.construct_yaml_int)
_SafeLineLoader.add_constructor("tag:yaml.org,2002:bool", _SafeLineLoader.construct_yaml_bool)
_SafeLineLoader.add_constructor("tag:yaml.org,2002:float", _SafeLineLoader.construct_yaml_float)


def _yaml_lines(node: yaml.Node, path: tuple[str, ...], out: dict[tuple[str, ...], int],
                seen: set[int] | None = None) -> None:
    """Record the line of every mapping key, refusing duplicate keys (each node walked once).

    `seen` is shared by the whole walk: a node reached again through an alias is never walked
    again, so a few lines of anchors and aliases cannot make the walk exponential.
    """
    seen = set() if seen is None else seen
    if id(node) in seen or len(path) > 16:
        return  # an alias to a node already walked (or absurd depth): never expand it again
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in keys:
                raise InputError(
                    "duplicate key", line=key_node.start_mark.line + 1, key=".".join(path + (key,))
                )
            keys.add(key)
            out[path + (key,)] = key_node.start_mark.line + 1
            _yaml_lines(value_node, path + (key,), out, seen)


def _parse_yaml(text: str, source: str) -> RawCase:
    """Parse one YAML document with safe_load semantics, keeping key lines."""
    try:
        loader = _SafeLineLoader(text)  # the reader refuses control characters here, before any parsing
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        raise InputError(f"invalid YAML: character U+{char:04X} is not allowed", source, line) from None
    lines: dict[tuple[str, ...], int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError("is empty", source)
        try:
            _yaml_lines(node, (), lines)
        except InputError as exc:
            raise InputError(exc.problem, source, exc.line, exc.key) from None
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        at_line: list[tuple[str, ...]] = [p for p, n in lines.items() if n == line]
        key = ".".join(sorted(at_line, key=len)[-1]) if at_line else ""
        raise InputError(f"invalid YAML: {problem}", source, line, key) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {type(exc).__name__}", source) from None
    except RecursionError:
        raise InputError("invalid YAML: nested too deeply", source) from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"invalid YAML value: {type(exc).__name__}", source) from None
    finally:
        loader.dispose()
    return RawCase(data, source, None, lines.get)


def _json_locator(text: str, first_line: int) -> Locate:
    """Find the line of a key path in JSON text by scanning for the quoted keys in order."""

    def locate(path: tuple[str, ...]) -> int | None:
        pos = 0
        for key in path:
            found = text.find(json.dumps(key), pos)
            if found < 0:
                return None
            pos = found + 1
        return first_line + text.count("\n", 0, pos)

    return locate


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON object hook that refuses duplicate keys (the first one repeated is named).

    The object is made in one call and its keys counted (#14: about a third of a batch line's parse went
    on checking each key in Python); only an object with a repeat is walked to name it.
    """
    out = dict(pairs)
    if len(out) < len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return out


def _reject_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which are not JSON."""
    raise ValueError(f"{name} is not allowed")


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
"""The JSON reader of case text, made once (`json.loads` with these options makes one for every call: #14)."""


def _parse_json(text: str, source: str, first_line: int = 1) -> RawCase:
    """Parse one JSON value, reporting the line of a syntax error."""
    try:
        if text.startswith("\ufeff"):  # as `json.loads` refuses it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        data = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", source, first_line + exc.lineno - 1) from None
    except ValueError as exc:
        raise InputError(f"invalid JSON: {exc}", source, first_line) from None
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply", source, first_line) from None
    return RawCase(data, source, first_line, _json_locator(text, first_line))


def read_case_file(path: str | os.PathLike[str]) -> RawCase:
    """Read a single-case YAML or JSON file."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise InputError(
            "unknown file type", str(p), allowed="a .yaml, .yml or .json case file, or .jsonl for many"
        )
    text = _read_text(p)
    if suffix == ".json":
        return _parse_json(text, str(p))
    return _parse_yaml(text, str(p))


MAX_LINE_BYTES = 1024 * 1024
"""Longest JSON Lines line accepted (1 MiB): a case is a few hundred bytes; longer lines are refused unread."""


def _bounded_lines(handle: IO[bytes]) -> Iterator[bytes | None]:
    """Lines of a binary file, each at most MAX_LINE_BYTES; a longer one is skipped in chunks and yields None."""
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
            yield line
            continue
        while line and not line.endswith(b"\n"):  # drain the rest of the long line without keeping it
            line = handle.readline(MAX_LINE_BYTES)
        yield None


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[RawCase | InputError]:
    """Yield each line of a JSON Lines file as a RawCase, or the InputError that refused it."""
    p = Path(path)
    source = str(p)
    if p.exists() and not p.is_dir() and not stat.S_ISREG(p.stat().st_mode):
        raise InputError("is not a regular file", source)
    try:
        handle = p.open("rb")
    except FileNotFoundError:
        raise InputError("no such file", source) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a case file", source) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source) from None
    with handle:
        yield from _jsonl_items(enumerate(_bounded_lines(handle), start=1), source)


def _jsonl_items(lines: Iterable[tuple[int, bytes | None]], source: str) -> Iterator[RawCase | InputError]:
    """Each numbered line of JSON Lines as a RawCase or its InputError; blank lines skipped, overlong refused."""
    any_line = False
    for number, raw in lines:
        if raw is None:
            any_line = True
            yield InputError(f"line is longer than {MAX_LINE_BYTES // 1024} KiB", source, number)
            continue
        if not raw.strip():
            continue
        any_line = True
        if b"\x00" in raw:
            yield InputError("binary data, not JSON", source, number)
            continue
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            yield InputError("is not UTF-8 text", source, number)
            continue
        try:
            yield _parse_json(text, source, number)
        except InputError as exc:
            yield exc
    if not any_line:
        yield InputError("is empty", source)


STDIN = "-"
"""The file name that means standard input (or output)."""
STDIN_SOURCE = "<stdin>"
"""How messages name standard input."""


def is_stdin(path: str | os.PathLike[str] | None) -> bool:
    """True when a path argument is `-`: standard input."""
    return path is not None and str(path) == STDIN


def _one_json_object(line: bytes) -> bool:
    """True when a line holds a whole JSON object on its own (the first line of JSON Lines)."""
    stripped = line.strip()
    if not stripped.startswith(b"{"):
        return False
    try:
        return isinstance(json.loads(stripped), dict)
    except (ValueError, RecursionError):
        return False


def read_stdin(stream: IO[bytes] | None = None) -> tuple[bool, Iterator[RawCase | InputError]]:
    """Cases from standard input: (True, each line) for JSON Lines, else (False, the one YAML or JSON case).

    When the first non-blank line is a whole JSON object the input is JSON Lines, read a line at a
    time; otherwise it is one case file's text (at most MAX_FILE_BYTES), JSON if it starts with
    `{`, else YAML. Messages name the source `<stdin>` with the line, as for a file.
    """
    stream = stream if stream is not None else sys.stdin.buffer
    lines = _bounded_lines(stream)
    head: list[bytes | None] = []
    for raw in lines:
        head.append(raw)
        if raw is None or raw.strip():
            break
    if head and (head[-1] is None or _one_json_object(head[-1])):  # an overlong first line: refused as JSON Lines
        return True, _jsonl_items(enumerate(itertools.chain(head, lines), start=1), STDIN_SOURCE)
    return False, _one_document(b"".join(line for line in head if line is not None), stream)


def _one_document(start: bytes, stream: IO[bytes]) -> Iterator[RawCase | InputError]:
    """The single case on standard input (its first bytes already read), or the InputError refusing it."""
    try:
        body = start + (stream.read(MAX_FILE_BYTES + 1 - len(start)) if start else b"")
        if len(body) > MAX_FILE_BYTES:
            raise InputError(f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB", STDIN_SOURCE)
        text = _decode(body, STDIN_SOURCE)
        yield _parse_json(text, STDIN_SOURCE) if text.lstrip().startswith("{") else _parse_yaml(text, STDIN_SOURCE)
    except InputError as exc:
        yield exc


def iter_stdin(stream: IO[bytes] | None = None) -> Iterator[RawCase | InputError]:
    """Every case on standard input, JSON Lines or one YAML or JSON case (see `read_stdin`)."""
    return read_stdin(stream)[1]

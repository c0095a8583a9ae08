"""Free text from a file or standard input, so it never sits in the process list.

Every local user can read every process's command line (`ps`, `/proc/PID/cmdline`), so notes,
provider names and the adviser's reasons typed as options are visible to them while the command
runs. Each free-text option `--X` has a twin `--X-file PATH` (`-` for standard input) that reads
the same text from a file instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from engine.errors import InputError

MAX_TEXT_BYTES = 64 * 1024
"""Longest free text read from a file: far more than any note (the case book refuses longer ones)."""


def text_file_option(name: str, what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The `--NAME-file PATH|-` twin of the free-text option `--NAME`."""
    return click.option(f"--{name}-file", f"{name.replace('-', '_')}_file", metavar="PATH|-",
                        type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default=None,
                        help=f"Read {what} from this file ('-': standard input), so it is not on the "
                             "command line where other users can see it in `ps`.")


def read_text_file(path: Path, option: str) -> str:
    """The text of `path` (`-`: standard input), UTF-8, without its final line end; InputError if unreadable."""
    source = "<stdin>" if str(path) == "-" else str(path)
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(MAX_TEXT_BYTES + 1)
        else:
            if not path.is_file():
                raise InputError("is not a readable file", source, key=option)
            with path.open("rb") as handle:
                data = handle.read(MAX_TEXT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source, key=option) from None
    if len(data) > MAX_TEXT_BYTES:
        raise InputError(f"longer than {MAX_TEXT_BYTES // 1024} KiB", source, key=option)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start + 1})", source, key=option) from None
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def text_or_file(value: str | None, path: Path | None, name: str) -> str | None:
    """The free text given by `--NAME` or read through `--NAME-file`; both at once is a usage error."""
    if path is None:
        return value
    if value is not None and value != "":
        raise click.UsageError(f"give --{name} or --{name}-file, not both")
    return read_text_file(path, f"--{name}-file")

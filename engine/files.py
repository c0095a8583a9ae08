"""Private files: everything Pathways creates holds personal data, so it is 0600 in a 0700 folder."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO

from engine.errors import InputError

PRIVATE_FILE = 0o600
"""Mode of every file Pathways creates: owner read and write only."""
PRIVATE_DIR = 0o700
"""Mode of every folder Pathways creates."""


def ensure_private_dir(path: Path) -> None:
    """Create a folder (and its parents) 0700 when missing."""
    if not path.exists():
        path.mkdir(mode=PRIVATE_DIR, parents=True)


def create_private(path: Path, *, newline: str = "\n") -> IO[str]:
    """Open a new text file 0600 for writing; refuse one that exists (InputError naming it)."""
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, PRIVATE_FILE)
    except FileExistsError:
        raise InputError("already exists; refusing to overwrite it", str(path), allowed="a new file name") from None
    except IsADirectoryError:
        raise InputError("is a folder", str(path), allowed="a new file name") from None
    except OSError as exc:
        raise InputError(f"cannot create file ({exc.strerror})", str(path)) from None
    return io.open(fd, "w", encoding="utf-8", newline=newline)  # noqa: UP020 - a descriptor, not a path


def touch_private(path: Path) -> bool:
    """Create an empty file 0600 (its folder 0700) if none exists; True when this call created it."""
    ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(fd)
    return True

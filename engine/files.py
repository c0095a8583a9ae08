"""Private files: everything Pathways creates holds personal data, so it is 0600 in a 0700 folder."""

from __future__ import annotations

import io
import os
import stat
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


SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
"""Files SQLite keeps beside a database; a planted one is read as part of the book."""


def check_own_file(path: Path, what: str = "case book") -> None:
    """Refuse a private file another user could have planted, read or swapped (BookError, exit 2).

    Refused: the file (or its `-wal`, `-shm` or `-journal`) a symbolic link or owned by another
    user, and a folder that is another user's or that others can write to without the sticky bit
    (where they could replace the file between two opens).
    """
    from engine.errors import BookError

    uid = os.geteuid()
    folder = path.parent if str(path.parent) else Path(".")
    try:
        place = folder.stat()
    except OSError:
        return  # no folder yet: it will be created 0700
    if place.st_uid not in (uid, 0):
        raise BookError(f"is in a folder owned by another user (uid {place.st_uid}); keep the {what} in "
                        "a folder of your own", str(path))
    if place.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not place.st_mode & stat.S_ISVTX:
        raise BookError(f"is in a folder other users can write to (mode {stat.S_IMODE(place.st_mode):04o}); "
                        f"keep the {what} in a folder of your own (0700)", str(path))
    for name in (path.name, *(path.name + suffix for suffix in SQLITE_SIDE_FILES)):
        try:
            info = (folder / name).lstat()
        except FileNotFoundError:
            continue
        label = "it" if name == path.name else name
        if stat.S_ISLNK(info.st_mode):
            raise BookError(f"{label} is a symbolic link; give the real file's path", str(path))
        if info.st_uid != uid:
            raise BookError(f"{label} belongs to another user (uid {info.st_uid}), who may have planted it or "
                            "can read it; refusing to use it", str(path))

"""Private files: everything Pathways creates holds personal data, so it is 0600 in a 0700 folder."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import stat
from pathlib import Path
from typing import IO

from engine.errors import InputError, PathwaysError, StorageError, storage_problem

PRIVATE_FILE = 0o600
"""Mode of every file Pathways creates: owner read and write only."""
PRIVATE_DIR = 0o700
"""Mode of every folder Pathways creates."""


def ensure_private_dir(path: Path) -> None:
    """Create a folder (and its parents) 0700 when missing."""
    if not path.exists():
        path.mkdir(mode=PRIVATE_DIR, parents=True)


def create_private(path: Path, *, newline: str = "\n") -> PrivateFile:
    """A new text file 0600, written whole or not at all; refuse one that exists (InputError naming it).

    The text goes to a hidden temporary file in the same folder, which becomes `path` only when
    closed without an error: a full disk or an interruption never leaves an empty or truncated file
    that passes for a complete export or anchor.
    """
    if path.exists() or path.is_symlink():
        if path.is_dir():
            raise InputError("is a folder", str(path), allowed="a new file name")
        raise InputError("already exists; refusing to overwrite it", str(path), allowed="a new file name")
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    folder = path.parent if str(path.parent) else Path(".")
    for _ in range(100):
        temp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(temp, flags, PRIVATE_FILE)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise _write_error(exc, path) from None
    else:
        raise InputError("cannot create a temporary file beside it", str(path))
    handle = io.open(fd, "w", encoding="utf-8", newline=newline)  # noqa: UP020, SIM115 - a descriptor; PrivateFile closes it
    return PrivateFile(path, temp, handle)


def _write_error(exc: OSError, path: Path) -> PathwaysError:
    """The error to show when writing `path` failed: the disk's condition named, or the system's words."""
    problem = storage_problem(exc)
    if problem is not None:
        return StorageError(f"{path}: {problem}: nothing was written to it")
    return InputError(f"cannot write file ({exc.strerror}); nothing was written to it", str(path))


class PrivateFile:
    """A file being written through a temporary twin; it appears under its name only when closed cleanly."""

    def __init__(self, path: Path, temp: Path, handle: IO[str]) -> None:
        """Wrap an open temporary file `temp` that becomes `path`."""
        self.path = path
        self._temp = temp
        self._handle = handle
        self._done = False

    def write(self, text: str) -> int:
        """Write text (a full disk discards the file and raises StorageError)."""
        try:
            return self._handle.write(text)
        except OSError as exc:
            self.discard()
            raise _write_error(exc, self.path) from None

    def flush(self) -> None:
        """Flush buffered text to the temporary file."""
        self._handle.flush()

    def close(self) -> None:
        """Finish: sync the text to disk and give the file its name (never over an existing file)."""
        if self._done:
            return
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            try:
                os.link(self._temp, self.path)
            except FileExistsError:
                self.discard()
                raise InputError("already exists; refusing to overwrite it", str(self.path),
                                 allowed="a new file name") from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                os.rename(self._temp, self.path)  # a file system without hard links
            self._temp.unlink(missing_ok=True)
            self._done = True
        except OSError as exc:
            self.discard()
            raise _write_error(exc, self.path) from None

    def discard(self) -> None:
        """Drop what was written: nothing appears under the file's name."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            self._handle.close()
        with contextlib.suppress(OSError):
            self._temp.unlink()

    def __enter__(self) -> PrivateFile:
        """Use in a `with` block: kept if the block ends normally, discarded if it raises."""
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        """Keep or discard the file."""
        if exc_type is None:
            self.close()
        else:
            self.discard()


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


def on_read_only_disk(path: Path) -> bool:
    """True when `path` (or its folder, if it does not exist) is on a file system mounted read-only."""
    for place in (path, path.parent):
        try:
            return bool(os.statvfs(place).f_flag & os.ST_RDONLY)
        except OSError:
            continue
    return False

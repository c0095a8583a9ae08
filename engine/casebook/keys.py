"""The pseudonym key of each case book, kept outside it: one 0600 file per book beside the user's config.

Pseudonymised exports and the audit log's case keys are HMACs of case references under a key the
book does not hold, so whoever reads a copy of the book (a backup, Datasette, a lost laptop)
cannot link an export back to case references. The key file is named after the book's id and lives
in `$PATHWAYS_KEY_DIR`, else the `keys` folder of the user's Pathways config folder (platformdirs:
on Linux `~/.config/pathways/keys/`). Books made before #16 kept the key in `meta.secret`; opening
one moves it out (see `CaseBook`).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import platformdirs

from engine.errors import BookError
from engine.files import PRIVATE_FILE, ensure_private_dir

KEY_DIR_ENV = "PATHWAYS_KEY_DIR"
"""Environment variable naming the folder of key files (default: beside the user's config)."""

_BOOK_ID = re.compile(r"[0-9a-f]{16}", re.ASCII)
_SECRET = re.compile(r"[0-9a-f]{64}", re.ASCII)


def key_dir() -> Path:
    """`$PATHWAYS_KEY_DIR`, else `keys` in the user's Pathways config folder."""
    env = os.environ.get(KEY_DIR_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir("pathways", appauthor=False)) / "keys"


def key_path(book_id: str, folder: Path | None = None) -> Path:
    """The key file of the book with this id."""
    if not _BOOK_ID.fullmatch(book_id):
        raise BookError("the book's id is malformed: run `pathways audit verify`", key="meta.book_id")
    return (folder or key_dir()) / f"{book_id}.key"


def read_key(book_id: str, folder: Path | None = None) -> str | None:
    """The book's key from its key file, or None when there is no key file."""
    path = key_path(book_id, folder)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BookError(f"cannot read the book's pseudonym key ({type(exc).__name__})", str(path)) from None
    if not _SECRET.fullmatch(text):
        raise BookError("is not a Pathways key file", str(path), allowed="64 hex digits")
    return text


def write_key(book_id: str, secret: str, folder: Path | None = None) -> Path:
    """Write the book's key file (0600, its folder 0700); an existing file must already hold this key."""
    path = key_path(book_id, folder)
    try:
        ensure_private_dir(path.parent)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
    except FileExistsError:
        if read_key(book_id, folder) != secret:
            raise BookError("already holds a different key for this book", str(path)) from None
        return path
    except OSError as exc:
        raise BookError(f"cannot write the book's pseudonym key ({exc.strerror})", str(path),
                        allowed=f"a folder you can write, named by ${KEY_DIR_ENV}") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path


def remove_key(book_id: str, folder: Path | None = None) -> None:
    """Remove a key file this process wrote for a book that was never made (another process made it first)."""
    with contextlib.suppress(FileNotFoundError):
        key_path(book_id, folder).unlink()

"""Free text that staff type into a case book (adviser ids, providers, notes): checked before it is stored."""

from __future__ import annotations

import os

from engine.errors import BookError
from engine.textsafe import is_unsafe

MAX_ADVISER = 64
"""Longest adviser id accepted, in characters."""

MAX_PROVIDER = 200
"""Longest referral provider name accepted, in characters."""

MAX_NOTE = 2000
"""Longest referral note accepted, in characters."""


def clean_field(value: str, key: str, limit: int, allow_empty: bool = False) -> str:
    """A short free-text field, stripped: refused (BookError) if empty, too long, or holding control characters."""
    if not isinstance(value, str):
        raise BookError("must be text", key=key)
    value = value.strip()
    if not value and not allow_empty:
        raise BookError("must not be empty", key=key)
    if len(value) > limit:
        raise BookError(f"is longer than {limit} characters", key=key)
    if any(ch != "\n" and is_unsafe(ch) for ch in value):
        raise BookError("must not contain control, format or bidi characters", key=key)
    return value


def clean_adviser(value: str) -> str:
    """An adviser id as recorded with a write (see `clean_field`)."""
    return clean_field(value, "adviser", MAX_ADVISER)


def os_user() -> str:
    """The operating-system account running Pathways (from the password database, not the environment).

    A live book records it as the actor of every write, beside the adviser id given (#15): the
    environment's USER, or --adviser, is whatever the caller says; the account is what ran it.
    """
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        import getpass

        try:
            return getpass.getuser()
        except (OSError, KeyError):
            return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def default_adviser() -> str:
    """The adviser id when none is given: the login name (staff id, not claimant data)."""
    return os.environ.get("USER") or os.environ.get("USERNAME") or "adviser"

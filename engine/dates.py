"""Dates typed by people: strictly `YYYY-MM-DD`, nothing looser."""

from __future__ import annotations

import datetime as dt
import re

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def parse_iso_date(text: str) -> dt.date | None:
    """A real calendar date written `YYYY-MM-DD` (surrounding spaces ignored), else None."""
    text = text.strip()
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None

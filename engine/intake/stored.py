"""What a case book keeps of a case to decide it again: its inputs without the NINO, and hashes of text.

Kept below the case book so that a batch worker, which prepares both, starts without loading the case
book's code and SQLite's tools (engine.intake.bulk, #14).
"""

from __future__ import annotations

import hashlib
from typing import Any

from engine.model.case import Case


def replay_inputs(case: Case) -> dict[str, Any]:
    """What is stored to re-decide a case: its inputs without the NINO (kept apart for erasure)."""
    data = case.to_file_data()
    for key in ("title", "narrative", "expect"):
        data.pop(key, None)
    data["claimant"].pop("nino", None)
    return data


def sha256_text(text: str) -> str:
    """Hex sha256 of UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

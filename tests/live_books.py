"""Live case books for the security tests: real-looking (non-QQ) NINOs under an edition in force."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from engine.casebook import audit
from engine.casebook.book import CaseBook
from engine.intake.scenarios import iter_cases
from engine.policy.driver import default_engine
from tests.helpers import CASES

SOURCE = CASES / "001-jsa-heroin-toddlers-nfa.yaml"
"""The scenario the live cases are made from (an edition in force from 2014)."""


def live_case_file(folder: Path, ref: str, nino: str) -> Path:
    """A case file under `ref` for `nino`, decided under an edition in force (a live book refuses others)."""
    text = SOURCE.read_text(encoding="utf-8").replace("case: TRN-0001", f"case: {ref}")
    text = re.sub(r"nino: QQ[0-9]{6}[A-D]", f"nino: {nino}", text)
    text = re.sub(r"as_of: [0-9-]+", "as_of: 2014-06-02", text)
    path = folder / f"{ref}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def record_live(book: CaseBook, folder: Path, ref: str, nino: str, adviser: str = "A1") -> int:
    """Record one live case in `book`; returns the decision id."""
    engine = default_engine()
    case = next(iter(iter_cases(live_case_file(folder, ref, nino))))
    ruleset = engine.ruleset_for(case)
    return book.record(case, engine.decide(case, ruleset), ruleset, adviser)


def file_bytes(db: Path) -> bytes:
    """Every byte of a book: the file, its WAL and shared-memory file."""
    data = b""
    for suffix in ("", "-wal", "-shm"):
        part = db.parent / (db.name + suffix)
        if part.exists():
            data += part.read_bytes()
    return data


def forge_erasure(db: Path, case_id: int, event: str = "case.erased", extra: dict | None = None) -> int:
    """Erase a case the way an attacker with write access would: raw SQL through the erasure gate, then a fake
    event extending the chain (a valid hash link, no data-protection signature unless `extra` brings one).
    Returns the fake event's seq."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO erasure_gate (open) VALUES (1)")
    decisions = [r[0] for r in conn.execute("SELECT id FROM decisions WHERE case_id = ?", (case_id,))]
    rows: dict[str, dict[str, None]] = {"cases": {str(case_id): None}, "claimants": {str(case_id): None},
                                        "decisions": {str(d): None for d in decisions},
                                        "adviser_decisions": {}}
    for d in decisions:
        if conn.execute("DELETE FROM adviser_decisions WHERE decision_id = ?", (d,)).rowcount:
            rows["adviser_decisions"][str(d)] = None
        conn.execute("DELETE FROM decisions WHERE id = ?", (d,))
    conn.execute("DELETE FROM claimants WHERE case_id = ?", (case_id,))
    conn.execute("DELETE FROM cases WHERE id = ?", (case_id,))
    conn.execute("DELETE FROM erasure_gate")
    body = {"case_key": "forged", "reason": "erasure_request", "rows": rows, **(extra or {})}
    seq = audit.append(conn, "root", event, body)
    conn.execute("COMMIT")
    conn.close()
    return seq

"""Forged erasures of checkpointed decisions (#15): how many plain `audit verify` and a signed checkpoint catch.

Each trial makes a book with four decisions and a signed checkpoint, then erases one checkpointed
decision the way someone with write access to the file would: raw SQL through the erasure gate and a
fake event extending the chain. Kinds: `unsigned`; signed with the forger's own, unregistered key
(`own_key`); naming the registered key with a made-up signature (`bad_signature`); disguised as another
event (`disguised`); and, in a book with no data-protection key at checkpoint time (a training book), a
key the forger registers after the checkpoint, which then signs the erasure (`self_registered`).

Run: `python -m tests.soak.erasure_forgeries [TRIALS]` (default 20 of each kind).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from engine.casebook import audit, checkpoints
from engine.casebook.book import CaseBook
from engine.casebook.signing import fingerprint, keygen, load_private, load_public

KINDS = ("unsigned", "own_key", "bad_signature", "disguised", "self_registered")
"""The forgeries tried."""


def trial(folder: Path, n: int, kind: str) -> tuple[bool, bool]:
    """One forgery; returns (caught by plain verify, caught with the checkpoint)."""
    from tests.conftest import record_scenarios
    from tests.live_books import forge_erasure, record_live

    rng = random.Random(f"{kind}-{n}")
    db = folder / f"{kind}-{n}.db"
    keys = {}
    for name in ("cp", "dp", "mine"):
        keygen(folder / f"{kind}-{n}-{name}.key")
        keys[name] = load_private(folder / f"{kind}-{n}-{name}.key")
    with CaseBook(db, training=kind == "self_registered") as book:
        if kind == "self_registered":
            record_scenarios(book, 4)
            point = book.checkpoint(keys["cp"])
            book.register_key(keys["mine"], keys["mine"].public_key(), "A1")  # after the checkpoint
        else:
            for i in range(4):
                record_live(book, folder, f"F{n}-{i}", rng.choice(["AB123456C", "CE654321A"]))
            book.register_key(keys["dp"], keys["dp"].public_key(), "A1")
            point = book.checkpoint(keys["cp"])
            record_live(book, folder, f"F{n}-X", "AB123456C")  # an honest write after the checkpoint
    checkpoint_file = folder / f"{kind}-{n}.json"
    checkpoint_file.write_text(json.dumps(point))
    victim = rng.randint(1, 4)
    extra: dict[str, Any] = {}
    if kind in ("own_key", "self_registered"):
        extra = _signed_by(db, point["checkpoint"]["book_id"], keys["mine"], victim)
    elif kind == "bad_signature":
        extra = {"signed_by": fingerprint(keys["dp"].public_key()), "signature": "00" * 64}
    if "signature" not in extra or kind == "bad_signature":
        forge_erasure(db, victim, event="referral.updated" if kind == "disguised" else "case.erased", extra=extra)
    with CaseBook(db) as book:
        plain = bool(book.verify()[1])
        report = book.verify_checkpoints([checkpoints.read_checkpoint(checkpoint_file)],
                                         load_public(folder / f"{kind}-{n}-cp.key.pub"))
    return plain, bool(report.problems)


def _signed_by(db: Path, book_id: str, key: Any, victim: int) -> dict[str, Any]:
    """Forge the erasure of `victim` with an event validly signed by `key` (registered or not)."""
    from tests.live_books import forge_erasure

    conn = sqlite3.connect(db)
    decisions = {str(r[0]): None for r in conn.execute("SELECT id FROM decisions WHERE case_id = ?", (victim,))}
    chosen = {str(r[0]): None for r in conn.execute(
        "SELECT decision_id FROM adviser_decisions WHERE decision_id IN (SELECT id FROM decisions WHERE case_id = ?)",
        (victim,))}
    rows = {"cases": {str(victim): None}, "claimants": {str(victim): None}, "decisions": decisions,
            "adviser_decisions": chosen}
    stamp = audit.now()
    body = checkpoints.sign_next_event(conn, key, book_id, "root", stamp, "case.erased",
                                       {"case_key": "forged", "reason": "erasure_request", "rows": rows})
    conn.close()
    real_now = audit.now
    audit.now = lambda: stamp  # the forged event must carry the time it was signed for
    try:
        forge_erasure(db, victim, extra={"signed_by": body["signed_by"], "signature": body["signature"]})
    finally:
        audit.now = real_now
    return body


def forgeries(trials: int = 20) -> dict[str, dict[str, int]]:
    """`trials` of each kind: how many plain verify and the checkpoint caught."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="pathways-forgeries-") as tmp:
        os.environ.setdefault("PATHWAYS_KEY_DIR", str(Path(tmp) / "keys"))
        for kind in KINDS:
            results = [trial(Path(tmp), n, kind) for n in range(trials)]
            out[kind] = {"trials": trials, "plain": sum(p for p, _ in results),
                         "checkpoint": sum(c for _, c in results)}
    return out


if __name__ == "__main__":
    figures = forgeries(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
    for name, row in figures.items():
        print(f"{name}: plain verify caught {row['plain']}/{row['trials']}, "
              f"with the checkpoint {row['checkpoint']}/{row['trials']}")

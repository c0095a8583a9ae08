"""The one connection factory for case books: private files, every pragma, migrations, triggers.

Every part of Pathways opens a case book through `open_book`. The file is created 0600 in a 0700
folder before SQLite touches it (SQLite gives the -wal and -shm files the same mode). Writes run
under `BEGIN IMMEDIATE` (`write`), so concurrent writers wait on the busy timeout instead of failing.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from engine.errors import BookError
from engine.files import touch_private

BUSY_TIMEOUT_MS = 10_000
"""How long a writer waits for another writer's lock."""

PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA synchronous=FULL",
    "PRAGMA trusted_schema=OFF",
    "PRAGMA secure_delete=ON",
    "PRAGMA recursive_triggers=ON",
)
"""Set on every connection (journal_mode=WAL is set once, outside any transaction)."""

APPEND_ONLY = ("audit", "rulesets", "cases", "claimants", "decisions", "adviser_decisions", "referrals",
               "referral_events", "meta")
"""Tables whose rows can never be updated, nor deleted except by erasure."""

ERASABLE = ("cases", "claimants", "decisions", "adviser_decisions", "referrals", "referral_events")
"""Tables whose rows erasure may delete, only while it holds the erasure gate open."""


PRIMARY_KEYS = {
    "meta": "key",
    "rulesets": "digest",
    "cases": "id",
    "claimants": "case_id",
    "decisions": "id",
    "adviser_decisions": "decision_id",
    "referrals": "id",
    "referral_events": "id",
    "audit": "seq",
}
"""Each table's key: an INSERT reusing one is refused, so REPLACE cannot delete a row unseen."""


def protected_triggers(tables: set[str] | None = None) -> dict[str, str]:
    """Trigger name -> SQL for every trigger that guards the case book (only on `tables`, if given)."""
    out = {}
    for table in APPEND_ONLY:
        if tables is not None and table not in tables:
            continue
        for action in ("UPDATE", "DELETE"):
            name = f"{table}_no_{action.lower()}"
            gate = " WHEN NOT EXISTS (SELECT 1 FROM erasure_gate)" if action == "DELETE" and table in ERASABLE else ""
            out[name] = (
                f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {action} ON {table}{gate} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    for table, key in PRIMARY_KEYS.items():
        if table == "audit" or (tables is not None and table not in tables):
            continue
        name = f"{table}_no_replace"
        out[name] = (
            f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE INSERT ON {table} "  # noqa: S608 - constant names
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {key} = NEW.{key}) "
            f"BEGIN SELECT RAISE(ABORT, '{table} rows cannot be replaced'); END"
        )
    out["audit_chain_append"] = (
        "CREATE TRIGGER IF NOT EXISTS audit_chain_append BEFORE INSERT ON audit "
        "BEGIN SELECT RAISE(ABORT, 'audit events must extend the chain') "
        "WHERE NEW.seq != (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit) "
        "OR NEW.prev_hash IS NOT (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1) "
        "AND NOT (NEW.seq = 1 AND NEW.prev_hash = ''); END"
    )
    return out


MIGRATIONS = sqlite_utils.Migrations("pathways")


@MIGRATIONS()
def m001_initial(db: sqlite_utils.Database) -> None:
    """Create the tables: meta, rule set snapshots, cases, decisions, referrals, audit log."""
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE TABLE erasure_gate (open INTEGER NOT NULL)")
    db.execute(
        "CREATE TABLE rulesets (digest TEXT PRIMARY KEY, edition TEXT NOT NULL, content TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE cases (id INTEGER PRIMARY KEY, ref TEXT NOT NULL, inputs TEXT NOT NULL, "
        "inputs_hash TEXT NOT NULL, recorded_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX cases_ref ON cases(ref)")
    db.execute(
        "CREATE TABLE claimants (case_id INTEGER PRIMARY KEY REFERENCES cases(id), nino TEXT)"
    )
    db.execute(
        "CREATE TABLE decisions (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id), "
        "ref TEXT NOT NULL, as_of TEXT NOT NULL, edition TEXT NOT NULL, "
        "ruleset TEXT NOT NULL REFERENCES rulesets(digest), engine_version TEXT NOT NULL, "
        "priority TEXT NOT NULL, outcomes TEXT NOT NULL, decision TEXT NOT NULL, "
        "decision_hash TEXT NOT NULL, adviser TEXT NOT NULL, recorded_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX decisions_case ON decisions(case_id)")
    db.execute("CREATE INDEX decisions_recorded ON decisions(recorded_at)")
    db.execute(
        "CREATE TABLE referrals (id INTEGER PRIMARY KEY, decision_id INTEGER NOT NULL REFERENCES decisions(id), "
        "code TEXT NOT NULL, provider TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX referrals_decision ON referrals(decision_id)")
    db.execute(
        "CREATE TABLE referral_events (id INTEGER PRIMARY KEY, "
        "referral_id INTEGER NOT NULL REFERENCES referrals(id), status TEXT NOT NULL, "
        "appointment TEXT, notes TEXT NOT NULL DEFAULT '', actor TEXT NOT NULL, at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX referral_events_referral ON referral_events(referral_id)")
    db.execute(
        "CREATE TABLE audit (seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, actor TEXT NOT NULL, "
        "event TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)"
    )
    _create_triggers(db)


def _create_triggers(db: sqlite_utils.Database) -> None:
    """Create the protective triggers of every table that exists (idempotent)."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for sql in protected_triggers(tables).values():
        db.execute(sql)


@MIGRATIONS()
def m002_inputs_index(db: sqlite_utils.Database) -> None:
    """Index cases by inputs hash, so a re-run batch finds what it already recorded."""
    db.execute("CREATE INDEX cases_inputs_hash ON cases(inputs_hash)")


@MIGRATIONS()
def m003_adviser_decisions(db: sqlite_utils.Database) -> None:
    """The adviser's decision on each recommended outcome, stored with the recommendation (#11)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS adviser_decisions (decision_id INTEGER PRIMARY KEY REFERENCES decisions(id), "
        "choices TEXT NOT NULL, decided_by TEXT NOT NULL, decided_at TEXT NOT NULL)"
    )
    _create_triggers(db)


def _prepare_file(path: Path) -> bool:
    """Create the case book file 0600 (and its folder 0700) if missing; True when created."""
    if path.exists():
        if not path.is_file():
            raise BookError("is not a case book file", str(path))
        return False
    return touch_private(path)


def connect(path: Path, *, create: bool = True) -> sqlite_utils.Database:
    """Open (creating if allowed) a case book with every pragma set and migrations applied.

    Missing protective triggers do not stop a book opening (an auditor must be able to verify a
    damaged book); `CaseBook` refuses to write to it and `verify` reports it.
    """
    path = Path(path)
    if not path.exists() and not create:
        raise BookError("no such case book", str(path))
    try:
        _prepare_file(path)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=True)
    except OSError as exc:
        raise BookError(f"cannot open case book ({exc.strerror})", str(path)) from None
    except sqlite3.Error as exc:
        raise BookError(f"cannot open case book ({exc})", str(path)) from None
    try:
        for pragma in PRAGMAS:
            conn.execute(pragma)
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise BookError(f"cannot use write-ahead logging (journal mode {mode})", str(path))
        db = sqlite_utils.Database(conn)
        if MIGRATIONS.pending(db):
            with write(db):
                pass  # take the write lock so concurrent first opens migrate one at a time
            MIGRATIONS.apply(db)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise BookError(f"not a usable case book ({exc})", str(path)) from None
    except BaseException:
        conn.close()
        raise
    return db


def check_triggers(db: sqlite_utils.Database) -> list[str]:
    """Names of protective triggers that are missing (they must all be present)."""
    present = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    return sorted(set(protected_triggers()) - present)


@contextlib.contextmanager
def write(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """A write transaction begun IMMEDIATE: committed on success, rolled back on any error."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")

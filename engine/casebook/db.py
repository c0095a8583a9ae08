"""The one connection factory for case books: private files, every pragma, migrations, triggers.

Every part of Pathways opens a case book through `open_book`. The file is created 0600 in a 0700
folder before SQLite touches it (SQLite gives the -wal and -shm files the same mode). Writes run
under `BEGIN IMMEDIATE` (`write`), so concurrent writers wait on the busy timeout instead of failing.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from engine.errors import BookError, storage_problem
from engine.files import check_own_file, on_read_only_disk, touch_private

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

PAGE_SIZE = 16384
"""A new book's page size: rows of 200-700 bytes waste about half a row a page, 2% of 16 KB against 9% of
4 KB (#14); SQLite keeps a book's page size for its life, so older books keep theirs."""

APPEND_ONLY = ("audit", "rulesets", "cases", "claimants", "decisions", "adviser_decisions", "referrals",
               "referral_events", "meta", "training_attempts", "drafts", "case_status", "decision_events",
               "decision_dictionaries")
"""Tables whose rows can never be updated, nor deleted except by erasure."""

ERASABLE = ("cases", "claimants", "decisions", "adviser_decisions", "referrals", "referral_events", "drafts",
            "case_status")
"""Tables whose rows erasure may delete, only while it holds the erasure gate open."""

TRAINING_TABLES = ("training_attempts",)
"""Tables only a training book writes to (trainees' predictions and scores: no claimant data)."""

DICTIONARY_TABLES = ("decision_dictionaries",)
"""Tables of the dictionaries compact decisions are stored with (#14): no claimant data, never erased, every
row vouched for by its audit event, since every compact decision is read through one."""


PRIMARY_KEYS = {
    "meta": "key",
    "rulesets": "digest",
    "cases": "id",
    "claimants": "case_id",
    "decisions": "id",
    "adviser_decisions": "decision_id",
    "referrals": "id",
    "referral_events": "id",
    "training_attempts": "id",
    "audit": "seq",
    "drafts": "id",
    "case_status": "id",
    "decision_events": "decision",
    "decision_dictionaries": "id",
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


@MIGRATIONS()
def m004_auditor_views(db: sqlite_utils.Database) -> None:
    """Views for auditors with consistent names: decisions, current referrals, audit events, case history (#16)."""
    for sql in {**VIEWS, "decisions_readable": DECISIONS_READABLE_M004}.values():
        db.execute(sql)


@MIGRATIONS()
def m005_case_list_indexes(db: sqlite_utils.Database) -> None:
    """Indexes the case list pages through (#12): latest decision per case ref, newest first per priority, NINO."""
    for sql in CASE_LIST_INDEXES.values():
        db.execute(sql)


CASE_LIST_INDEXES = {
    "decisions_ref_id": "CREATE INDEX decisions_ref_id ON decisions(ref, id)",
    "decisions_priority_id": "CREATE INDEX decisions_priority_id ON decisions(priority, id)",
    "claimants_nino": "CREATE INDEX claimants_nino ON claimants(nino)",
}
"""The case list's indexes: a case's latest decision and a search by reference (`ref, id`), a priority
filter newest first (`priority, id`), an exact NINO (`nino`); a page never scans the whole book. Each
is kept in `sqlite_master` exactly as written here, which `audit verify` holds it to (engine.casebook.schema)."""


@MIGRATIONS()
def m006_training_attempts(db: sqlite_utils.Database) -> None:
    """A trainee's prediction on a training scenario and its score, kept in the training book (#12)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS training_attempts (id INTEGER PRIMARY KEY, trainee TEXT NOT NULL, "
        "scenario TEXT NOT NULL, as_of TEXT NOT NULL, edition TEXT NOT NULL, predicted TEXT NOT NULL, "
        "predicted_priority TEXT, outcomes TEXT NOT NULL, priority TEXT NOT NULL, marks INTEGER NOT NULL, "
        "out_of INTEGER NOT NULL, recorded_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS training_attempts_trainee ON training_attempts(trainee)")
    _create_triggers(db)


@MIGRATIONS()
def m007_drafts_and_case_status(db: sqlite_utils.Database) -> None:
    """Interviews saved as drafts, and each case's open/closed status as a history of changes (#12).

    Both hold personal data (a draft's answers and NINO; the case reference), so both are
    erasable, and every row is vouched for by its audit event like the other case rows. Draft ids
    are never reused (AUTOINCREMENT): a draft replaced or removed keeps its id in the audit log.
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS drafts (id INTEGER PRIMARY KEY AUTOINCREMENT, ref TEXT NOT NULL, "
        "as_of TEXT NOT NULL, nino TEXT, answers TEXT NOT NULL, saved_by TEXT NOT NULL, saved_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS drafts_ref ON drafts(ref)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS case_status (id INTEGER PRIMARY KEY, ref TEXT NOT NULL, status TEXT NOT NULL, "
        "notes TEXT NOT NULL DEFAULT '', actor TEXT NOT NULL, at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS case_status_ref ON case_status(ref)")
    _create_triggers(db)


@MIGRATIONS()
def m008_decision_events(db: sqlite_utils.Database) -> None:
    """Where each decision's `decision.recorded` audit event is, so one replay reads one event (#14).

    An index, not evidence: whoever reads it checks that the event it points at is that decision's,
    so a wrong entry can only send the reader to the slow search, never to another decision's event.
    """
    db.execute("CREATE TABLE IF NOT EXISTS decision_events (decision INTEGER PRIMARY KEY, seq INTEGER NOT NULL)")
    db.execute(
        "INSERT OR IGNORE INTO decision_events (decision, seq) "
        "SELECT CAST(json_extract(body, '$.decision') AS INTEGER), seq FROM audit "
        "WHERE event = 'decision.recorded' AND json_valid(body) "
        "AND json_type(body, '$.decision') = 'integer' ORDER BY seq"
    )
    _create_triggers(db)


@MIGRATIONS()
def m009_decision_dictionaries(db: sqlite_utils.Database) -> None:
    """One zstd dictionary per rule set, so a decision is stored in about 110 bytes instead of 4 KB (#14).

    Each row is the snapshot and its samples (inputs and decisions of synthetic cases, no claimant data),
    compressed; engine.casebook.compact says how a decision and its inputs are stored and read with it. The
    index that finds cases already recorded keeps the last 16 characters of each inputs hash instead of all
    67 (records.already_recorded then compares whole hashes). The auditors' view of
    decisions takes a compact decision's edition status from its rule set snapshot.
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS decision_dictionaries (id INTEGER PRIMARY KEY, "
        "ruleset TEXT NOT NULL UNIQUE REFERENCES rulesets(digest), content TEXT NOT NULL)"
    )
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = 'decisions_readable'").fetchone():
        db.execute("DROP VIEW decisions_readable")  # its edition_status read the JSON, which is now compact
        db.execute(VIEWS["decisions_readable"])
    db.execute("DROP INDEX IF EXISTS cases_inputs_hash")  # 64 hex a case where 16 find the few candidates
    db.execute(INPUTS_TAIL_INDEX)
    _create_triggers(db)


@MIGRATIONS()
def m010_other_events_index(db: sqlite_utils.Database) -> None:
    """Index the audit events that are not recorded decisions, so audit mode lists them without reading the whole
    log (#14: a million-decision book's events list read every event, 0.13-0.16 s of CPU with the file cached and
    its whole audit table, about 630 MB, from disk when not)."""
    db.execute(OTHER_EVENTS_INDEX)


_READABLE_HEAD = ("CREATE VIEW decisions_readable AS SELECT d.id AS decision, d.ref AS \"case\", d.as_of, d.edition, "
                  "CASE WHEN json_valid(d.decision) THEN json_extract(d.decision, '$.edition_status') ")
"""decisions_readable up to its edition_status: shared by m004's view and m009's (the SQL text is compared)."""

_READABLE_TAIL = (
    "END AS edition_status, d.priority, d.outcomes, "
    "CASE WHEN json_valid(d.outcomes) THEN json_array_length(d.outcomes) END AS outcome_count, "
    "CAST(a.decision_id IS NOT NULL AS INTEGER) AS reviewed, "
    "CASE WHEN json_valid(a.choices) THEN (SELECT json_group_array(json_extract(c.value, '$.code')) "
    "FROM json_each(a.choices) AS c WHERE json_extract(c.value, '$.accepted') = 0) END AS declined, "
    "d.ruleset, d.engine_version, d.adviser AS recorded_by, d.recorded_at "
    "FROM decisions AS d LEFT JOIN adviser_decisions AS a ON a.decision_id = d.id"
)
"""decisions_readable from edition_status on, the same in m004's view and m009's."""

DECISIONS_READABLE_M004 = _READABLE_HEAD + _READABLE_TAIL
"""decisions_readable as m004 made it (a book without m009 keeps it); m009 replaces it by VIEWS' one."""

INPUTS_TAIL_INDEX = "CREATE INDEX cases_inputs_tail ON cases(substr(inputs_hash, -16))"
"""The index a re-run batch finds the cases it already recorded by (m009; m002's on the whole hash before)."""

OTHER_EVENTS_INDEX = "CREATE INDEX audit_other_events ON audit(seq) WHERE event != 'decision.recorded'"
"""The audit events other than recorded decisions, newest first by `seq` (m010): a partial index, so a recorded
decision's event, one a case, adds nothing to it. A query takes it only with this very condition
(engine.casebook.queries.audit_lines)."""

VIEWS = {
    "decisions_readable": (  # a compact decision (#14) takes its edition's status from its rule set snapshot
        _READABLE_HEAD  # noqa: S608 - constant SQL pieces, no data
        + "WHEN substr(d.decision, 1, 1) = '~' THEN (SELECT CASE WHEN json_extract(r.content, '$.format') >= 2 "
        "THEN coalesce(json_extract(r.content, '$.edition.status'), 'in_force') END FROM rulesets AS r "
        "WHERE r.digest = d.ruleset AND json_valid(r.content)) "
        + _READABLE_TAIL
    ),
    "referrals_current": (
        "CREATE VIEW referrals_current AS SELECT r.id AS referral, r.decision_id AS decision, "
        "d.ref AS \"case\", r.code, r.provider, e.status, "
        "(SELECT x.appointment FROM referral_events AS x WHERE x.referral_id = r.id "
        "AND x.appointment IS NOT NULL ORDER BY x.id DESC LIMIT 1) AS appointment, "
        "CAST(e.status NOT IN ('closed', 'declined', 'attended') AS INTEGER) AS open, "  # CLOSED_STATUSES
        "e.at AS status_recorded_at, e.actor AS status_recorded_by, "
        "r.created_by AS recorded_by, r.created_at AS recorded_at "
        "FROM referrals AS r LEFT JOIN decisions AS d ON d.id = r.decision_id "
        "LEFT JOIN referral_events AS e ON e.id = "
        "(SELECT MAX(y.id) FROM referral_events AS y WHERE y.referral_id = r.id)"
    ),
    "audit_events_readable": (
        "CREATE VIEW audit_events_readable AS SELECT seq, event, ts AS recorded_at, actor AS recorded_by, "
        "CAST(CASE WHEN json_valid(body) THEN json_extract(body, '$.decision') END AS INTEGER) AS decision, "
        "CAST(CASE WHEN json_valid(body) THEN json_extract(body, '$.referral') END AS INTEGER) AS referral, "
        "CASE WHEN json_valid(body) THEN json_extract(body, '$.status') END AS status, "
        "CASE WHEN json_valid(body) THEN json_extract(body, '$.case_key') END AS case_key, "
        "CASE WHEN json_valid(body) THEN json_extract(body, '$.ruleset') END AS ruleset, "
        "hash, prev_hash, body FROM audit"
    ),
    "case_history": (
        "CREATE VIEW case_history AS "
        "SELECT d.ref AS \"case\", d.recorded_at, d.adviser AS recorded_by, 'decision recorded' AS what, "
        "CAST(d.id AS INTEGER) AS decision, CAST(NULL AS INTEGER) AS referral, d.priority || ': ' || "
        "CASE WHEN json_valid(d.outcomes) THEN (SELECT group_concat(o.value, ' ') FROM json_each(d.outcomes) AS o) "
        "ELSE '' END AS detail FROM decisions AS d "
        "UNION ALL SELECT d.ref, a.decided_at, a.decided_by, 'adviser decided', a.decision_id, NULL, "
        "CASE WHEN json_valid(a.choices) THEN coalesce((SELECT 'declined ' || group_concat("
        "json_extract(c.value, '$.code') || ' (' || json_extract(c.value, '$.reason') || ')', ', ') "
        "FROM json_each(a.choices) AS c WHERE json_extract(c.value, '$.accepted') = 0), 'accepted all') "
        "ELSE '' END FROM adviser_decisions AS a JOIN decisions AS d ON d.id = a.decision_id "
        "UNION ALL SELECT d.ref, e.at, e.actor, 'referral ' || e.status, r.decision_id, r.id, "
        "r.code || ' to ' || r.provider || coalesce(' on ' || e.appointment, '') "
        "FROM referral_events AS e JOIN referrals AS r ON r.id = e.referral_id "
        "JOIN decisions AS d ON d.id = r.decision_id"
    ),
}
"""Views for auditors (Datasette, sqlite3): readable names, and one name for "when" (`recorded_at`)
and one for "who" (`recorded_by`) throughout.

The tables keep their own names (`ts`/`actor`, `at`, `created_at`/`created_by`, `decided_at`/
`decided_by`): renaming a column or adding a CHECK constraint means rebuilding its table, and a
rebuild (sqlite-utils `transform`) drops every trigger that makes the table append-only, so it
would have to run with the book unprotected. Enumerations are checked where they are written instead
(`referrals.py`, the adviser's decisions, validation). The views call JSON functions, which SQLite
3.40 refuses inside a view under `trusted_schema=OFF`: Pathways' own connections (which set it)
never read them; Datasette, sqlite3 and sqlite-utils (trusted_schema on by default) do.
"""


def _prepare_file(path: Path) -> bool:
    """Create the case book file 0600 (and its folder 0700) if missing; True when created."""
    check_own_file(path)
    if path.exists():
        if not path.is_file():
            raise BookError("is not a case book file", str(path))
        return False
    return touch_private(path)


def _unusable(path: Path, exc: sqlite3.DatabaseError) -> BookError:
    """The error for a book SQLite could not use, naming a full or read-only disk as such."""
    problem = storage_problem(exc) or ("the file system is read-only" if on_read_only_disk(path) else None)
    if problem is not None:
        return BookError(f"cannot use the case book: {problem} (it needs to write its -wal and -shm files)",
                         str(path))
    return BookError(f"not a usable case book ({exc})", str(path))


SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""

NOT_A_BOOK = "is not a Pathways case book"
"""The start of the one line that refuses a file that is not a case book."""


def _check_header(path: Path) -> None:
    """Refuse, before SQLite opens it, a file that is empty or not an SQLite database (it is only read)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise BookError(f"cannot open case book ({exc.strerror})", str(path)) from None
    if not header:
        raise BookError(f"{NOT_A_BOOK} (the file is empty)", str(path))
    if header != SQLITE_HEADER:
        raise BookError(f"{NOT_A_BOOK} (not an SQLite database)", str(path))


def book_schema_state(conn: sqlite3.Connection) -> str:
    """'empty' (no schema yet), 'pathways' (a case book, however damaged) or 'foreign' (another app's database).

    A case book records its migrations under the set `pathways`; one whose record was removed
    still counts if it holds the tables every case book has (its audit log and meta).
    """
    names = {(str(kind), str(name)) for kind, name in conn.execute("SELECT type, name FROM sqlite_master")
             if not str(name).startswith("sqlite_")}
    if not names:
        return "empty"
    tables = {name for kind, name in names if kind == "table"}
    if "_sqlite_migrations" in tables:
        try:
            sets = {str(r[0]) for r in conn.execute("SELECT DISTINCT migration_set FROM _sqlite_migrations")}
        except sqlite3.Error:
            sets = set()
        if MIGRATIONS.name in sets:
            return "pathways"
        if not sets and tables == {"_sqlite_migrations"}:
            return "empty"  # a first open stopped after making the migrations table: still a new book
    if {"audit", "meta", "decisions", "cases"} <= tables:
        return "pathways"
    return "foreign"


def _refuse_foreign(conn: sqlite3.Connection, path: Path, *, allow_empty: bool) -> None:
    """Refuse a database that is not a case book (or, reading, one with no schema at all)."""
    state = book_schema_state(conn)
    if state == "foreign":
        raise BookError(f"{NOT_A_BOOK} (an SQLite database of another application); nothing was written",
                        str(path))
    if state == "empty" and not allow_empty:
        raise BookError(f"{NOT_A_BOOK} (an SQLite database with no tables)", str(path))


READ_PRAGMAS = (
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA trusted_schema=OFF",
    "PRAGMA foreign_keys=ON",
)
"""Set on a read-only connection (nothing that writes: no journal mode, no migrations)."""


def connect(path: Path, *, create: bool = True, readonly: bool = False) -> sqlite_utils.Database:
    """Open (creating if allowed) a case book with every pragma set and migrations applied.

    With `readonly`, the book is opened with SQLite's `mode=ro`: nothing is created, migrated or
    set (not even the journal mode), and a file that is not a case book (empty, not SQLite, another
    application's database) is refused with a BookError. A writing open refuses another
    application's database too, before it writes anything.

    Missing protective triggers do not stop a book opening (an auditor must be able to verify a
    damaged book); `CaseBook` refuses to write to it and `verify` reports it.
    """
    path = Path(path)
    if readonly:
        return connect_readonly(path)
    if not path.exists() and not create:
        raise BookError("no such case book", str(path))
    try:
        created = _prepare_file(path)
        if not created and path.stat().st_size:
            _check_header(path)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=True)
    except OSError as exc:
        raise BookError(f"cannot open case book ({exc.strerror})", str(path)) from None
    except sqlite3.Error as exc:
        raise BookError(f"cannot open case book ({exc})", str(path)) from None
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _refuse_foreign(conn, path, allow_empty=True)
        if not path.stat().st_size:  # a new book: set before its first page is written
            conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
        for pragma in PRAGMAS:
            conn.execute(pragma)
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise BookError(f"cannot use write-ahead logging (journal mode {mode})", str(path))
        db = sqlite_utils.Database(conn)
        if MIGRATIONS.pending(db):
            with write(db):
                _refuse_foreign(conn, path, allow_empty=True)  # another process may have written meanwhile
            MIGRATIONS.apply(db)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _unusable(path, exc) from None
    except BaseException:
        conn.close()
        raise
    return db


def connect_readonly(path: Path) -> sqlite_utils.Database:
    """Open an existing case book read-only (`mode=ro`): refuse anything else, change nothing in the file or WAL.

    The book's schema is probed first through an `immutable` connection, which opens no side file, so
    a file that is not a case book gets no -wal or -shm. A case book in WAL mode is then opened with
    `mode=ro`; when no -wal is there (no other connection open), SQLite makes an empty -wal and -shm
    beside it, as any reader of a WAL database does, and the book's bytes stay as they were. In a
    folder this user cannot write, it falls back to `immutable` (nobody can be writing there).
    """
    path = Path(path)
    check_own_file(path)  # a planted, symlinked or swappable book is not read either
    if not path.exists():
        raise BookError("no such case book", str(path))
    if not path.is_file():
        raise BookError("is not a case book file", str(path))
    _check_header(path)
    uri = path.resolve().as_uri()
    if not path.with_name(path.name + "-wal").exists():
        _probe(uri, path)  # no WAL: what the file holds is all there is, read without opening side files
    last: sqlite3.Error | None = None
    for query in ("?mode=ro", "?mode=ro&immutable=1"):
        if query.endswith("immutable=1") and os.access(path.parent, os.W_OK):
            break  # a writable folder: a writer may come, so never read it as immutable
        try:
            conn = sqlite3.connect(uri + query, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                                   check_same_thread=True)
        except sqlite3.Error as exc:
            last = exc
            continue
        try:
            for pragma in READ_PRAGMAS:
                conn.execute(pragma)
            _refuse_foreign(conn, path, allow_empty=False)
            return sqlite_utils.Database(conn)
        except sqlite3.Error as exc:
            conn.close()
            last = exc
        except BaseException:
            conn.close()
            raise
    raise BookError(f"cannot open case book read-only ({last})", str(path))


def _probe(uri: str, path: Path) -> None:
    """Refuse a file that is not a case book, read through an `immutable` connection (no -wal, no -shm made)."""
    probe: sqlite3.Connection | None = None
    try:
        probe = sqlite3.connect(uri + "?mode=ro&immutable=1", uri=True, isolation_level=None)
        _refuse_foreign(probe, path, allow_empty=False)
    except sqlite3.DatabaseError as exc:
        raise BookError(f"{NOT_A_BOOK} ({exc})", str(path)) from None
    finally:
        if probe is not None:
            probe.close()


@contextlib.contextmanager
def read_snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One read transaction: every read inside sees the same snapshot, whatever other processes write.

    Inside a transaction already (the caller's snapshot or write), it adds nothing.
    """
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


KNOWN_TABLES = (*PRIMARY_KEYS, "erasure_gate", "_sqlite_migrations")
"""Every table Pathways creates (sqlite-utils records migrations in `_sqlite_migrations`)."""

KNOWN_INDEXES = ("cases_ref", "cases_inputs_hash", "cases_inputs_tail", "decisions_case", "decisions_recorded",
                 "referrals_decision", "referral_events_referral", "training_attempts_trainee",
                 "idx__sqlite_migrations_migration_set_name", "drafts_ref", "case_status_ref", "audit_other_events",
                 *CASE_LIST_INDEXES)
"""Every index Pathways (and sqlite-utils' migrations) create; SQLite's own, `sqlite_autoindex_*`, are not listed."""


def foreign_objects(db: sqlite_utils.Database) -> list[str]:
    """Schema objects Pathways did not create ("table decisions_fts", "trigger decisions_ai", ...).

    Another tool changed the book: `sqlite-utils enable-fts --create-triggers`, say, adds triggers
    that write to a virtual table on every insert, which `trusted_schema=OFF` then refuses.
    SQLite's own objects (`sqlite_*`, such as `sqlite_stat1` from ANALYZE) are allowed.
    """
    known = {"table": set(KNOWN_TABLES), "index": set(KNOWN_INDEXES), "trigger": set(protected_triggers()),
             "view": set(VIEWS)}
    order = {"trigger": 0, "view": 1, "table": 2, "index": 3}  # what acts on writes first
    rows = db.execute("SELECT type, name FROM sqlite_master").fetchall()
    return [f"{kind} {name}" for kind, name in sorted(rows, key=lambda r: (order.get(r[0], 4), str(r[1])))
            if not str(name).startswith("sqlite_") and name not in known.get(kind, set())]


def describe_foreign(objects: list[str]) -> str:
    """The foreign objects in a short phrase (the first five, and how many more)."""
    shown = ", ".join(objects[:5])
    return shown + (f" and {len(objects) - 5} more" if len(objects) > 5 else "")


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

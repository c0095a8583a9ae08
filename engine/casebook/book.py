"""The case book: one open SQLite file, its kind (live or training), its key file, and every job done on it.

`CaseBook` opens the book, keeps its meta and refuses a NINO of the wrong kind, and hands each job
to the module that holds it: records.py (decisions and rule set snapshots), referrals.py (the
referral lifecycle), erasure.py (erase, retain, scrub), queries.py (typed rows) and audit.py (the
chain). Every write runs in one `BEGIN IMMEDIATE` transaction with its audit events, so it is
recorded whole or not at all. A live book refuses synthetic (QQ) NINOs; a training book accepts
only them, and says what it is inside the file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import platformdirs
import sqlite_utils

from engine.casebook import audit, erasure, keys, queries, records, referrals
from engine.casebook.db import (
    check_triggers,
    check_views,
    connect,
    describe_foreign,
    foreign_objects,
    protected_triggers,
    write,
)
from engine.casebook.fields import MAX_NOTE, MAX_PROVIDER, clean_adviser, clean_field
from engine.casebook.queries import DecisionRecord, DecisionRow, ReferralRow
from engine.casebook.records import Prepared
from engine.errors import BookError
from engine.model.adviser import AdviserDecision
from engine.model.case import Case
from engine.model.decision import Decision
from engine.model.nino import is_synthetic
from engine.policy.rulebook import RuleSet

LIVE = "live"
"""The kind of a book of real claimants (synthetic QQ numbers refused)."""
TRAINING = "training"
"""The kind of a book of synthetic cases only (QQ numbers)."""


def default_db_path() -> Path:
    """`$PATHWAYS_DB`, else `pathways.db` in the user's data folder."""
    env = os.environ.get("PATHWAYS_DB")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("pathways", appauthor=False)) / "pathways.db"


class CaseBook:
    """One open case book (use as a context manager, or call close())."""

    def __init__(self, path: Path | str, *, training: bool | None = None, create: bool = True,
                 actor: str = "system", key_dir: Path | None = None) -> None:
        self.path = Path(path)
        self.key_dir = key_dir
        self.db: sqlite_utils.Database = connect(self.path, create=create)
        self._meta_cache: dict[str, str] = {}
        self._key: str | None = None
        try:
            # schema objects another tool added, found at open: writes are refused while there are any
            self.foreign: list[str] = foreign_objects(self.db)
            self._move_key_out()
            if training is not None:
                self._init_meta(training, actor)
            if self.kind is not None and training is not None and (self.kind == TRAINING) != training:
                want = "a training" if training else "a live"
                raise BookError(f"is a {self.kind} case book, not {want} one", str(self.path))
        except BaseException:
            self.db.conn.close()
            raise

    @property
    def kind(self) -> str | None:
        """'live' or 'training'; None for a new book whose first case has not been written yet."""
        return self._fixed_meta().get("kind")

    @property
    def _secret(self) -> str:
        """The book's pseudonym key, from its key file (or, in a book it could not be moved out of, from meta)."""
        meta = self._fixed_meta()
        if "secret" in meta or "book_id" not in meta:
            return meta.get("secret", "")
        if self._key is None:
            key = keys.read_key(meta["book_id"], self.key_dir)
            if key is None:
                where = keys.key_path(meta["book_id"], self.key_dir)
                raise BookError(f"the book's pseudonym key is missing (expected {where}): copy its key file from "
                                f"the machine that made the book, or name its folder with ${keys.KEY_DIR_ENV}",
                                str(self.path))
            self._key = key
        return self._key

    def key_file(self) -> Path | None:
        """Where this book's pseudonym key file is (None for a new book with no id yet)."""
        book_id = self._fixed_meta().get("book_id")
        return keys.key_path(book_id, self.key_dir) if book_id else None

    def _move_key_out(self) -> None:
        """Move the pseudonym key of a book made before #16 out of `meta.secret` into its key file.

        Done at open, like the schema migrations, and only on a sound book (protective triggers in
        place, no foreign objects, the key the one recorded at creation) that this user can write:
        anything else is left for `audit verify` to report. The meta row is deleted under the
        protective trigger's brief removal, in one transaction with a `key.moved` audit event, and
        scrubbed from the file (secure_delete, WAL checkpoint).
        """
        meta = self._meta()
        secret, book_id = meta.get("secret"), meta.get("book_id")
        if secret is None or book_id is None or self.foreign or check_triggers(self.db):
            return
        if not os.access(self.path, os.W_OK):
            return
        genesis = self.conn.execute("SELECT body FROM audit WHERE seq = 1 AND event = 'book.created'").fetchone()
        try:
            body = json.loads(genesis[0]) if genesis else {}
            recorded = body.get("secret_sha256")
        except (ValueError, AttributeError):
            return
        if body.get("key") == audit.KEY_IN_FILE or recorded != audit.sha256_text(secret):
            return  # made with its key outside, or not the key it was made with: for verify to report
        if self.conn.execute("SELECT 1 FROM audit WHERE event = ?", (audit.KEY_MOVED,)).fetchone():
            return  # moved out once already: a key put back is for verify to report
        try:
            keys.write_key(book_id, secret, self.key_dir)
        except BookError:
            return  # no writable key folder here: the key stays in the book until one is
        guard = protected_triggers({"meta"})["meta_no_delete"]
        with write(self.db) as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'secret'").fetchone() is None:
                return  # another process moved it while we waited
            conn.execute("DROP TRIGGER meta_no_delete")
            conn.execute("DELETE FROM meta WHERE key = 'secret'")
            conn.execute(guard)
            audit.append(conn, "system", audit.KEY_MOVED, {"secret_sha256": recorded, "to": "key file"})
        with contextlib.suppress(sqlite3.OperationalError):
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._meta_cache = {}

    def _fixed_meta(self) -> dict[str, str]:
        """The book's meta, cached once written (it never changes after the genesis event)."""
        if not self._meta_cache:
            self._meta_cache = self._meta()
        return self._meta_cache

    def _writable(self) -> None:
        """Refuse to write to a book whose protective triggers were removed, or whose schema another tool changed."""
        missing = check_triggers(self.db)
        if missing:
            raise BookError("protective triggers are missing (" + ", ".join(missing) + "): "
                            "the book may have been tampered with; run `pathways audit verify`", str(self.path))
        if self.foreign:
            raise BookError(f"holds schema objects Pathways did not create ({describe_foreign(self.foreign)}): "
                            "another tool changed it (sqlite-utils enable-fts, say), so Pathways will not write "
                            "to it; remove them (e.g. `sqlite-utils disable-fts BOOK TABLE`) or restore a backup, "
                            "then run `pathways audit verify`", str(self.path))

    def __enter__(self) -> CaseBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.db.conn.close()

    @property
    def conn(self) -> sqlite3.Connection:
        """The underlying sqlite3 connection."""
        return self.db.conn

    def _meta(self) -> dict[str, str]:
        """The meta table as it is now."""
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def _init_meta(self, training: bool, actor: str) -> None:
        """Write the book's kind and id once, with the genesis audit event; its pseudonym key goes to its key file.

        A new book takes its kind from --training/--live when given, else from the first case
        written to it (a synthetic QQ number makes a training book); after that it never changes.
        """
        if self._meta():
            return
        with write(self.db) as conn:
            if conn.execute("SELECT COUNT(*) FROM meta").fetchone()[0]:
                return  # another process initialised it while we waited
            kind = TRAINING if training else LIVE
            secret = secrets.token_hex(32)
            book_id = secrets.token_hex(8)
            keys.write_key(book_id, secret, self.key_dir)  # the key never enters the book (#16)
            try:
                conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [("kind", kind), ("book_id", book_id)])
                audit.append(conn, actor, "book.created",
                             {"kind": kind, "book_id": book_id, "secret_sha256": audit.sha256_text(secret),
                              "key": audit.KEY_IN_FILE})
            except BaseException:
                keys.remove_key(book_id, self.key_dir)
                raise

    def pseudonym(self, value: str) -> str:
        """A keyed pseudonym for a case reference (stable within this book only)."""
        return audit.keyed_ref(self._secret, value)

    # -- recording (records.py) -----------------------------------------------------------------

    def check_nino(self, case: Case) -> None:
        """Refuse a NINO of the wrong kind for this book (QQ only in training, never in live)."""
        self._check_kind(case.nino)

    def check_kind_of(self, item: Prepared) -> None:
        """Refuse a prepared case whose NINO or edition does not suit this book (a new book's kind may be open)."""
        self._check_kind(item.nino)
        if self.kind is not None:
            self._check_edition(item)

    def _check_edition(self, item: Prepared, kind: str | None = None) -> None:
        """Refuse, in a live book, a decision under an edition that was announced and never in force."""
        if item.announced and (kind or self.kind) != TRAINING:
            raise BookError(f"the {item.edition} policy was announced and never in force: a live case book "
                            "refuses its decisions (record it in a training book)", key="as_of")

    def _check_kind(self, nino: str | None, kind: str | None = None) -> None:
        """Refuse a NINO of the wrong kind for this book (or for the kind it is about to take)."""
        kind = kind or self.kind
        if nino is None:
            return
        if kind == LIVE and is_synthetic(nino):
            raise BookError("a live case book refuses synthetic QQ numbers: use a training book",
                            key="claimant.nino")
        if kind == TRAINING and not is_synthetic(nino):
            raise BookError("a training case book accepts only synthetic QQ numbers", key="claimant.nino")

    def record(self, case: Case, decision: Decision, ruleset: RuleSet, adviser: str,
               choices: Sequence[AdviserDecision] | None = None) -> int:
        """Record one case with its recommendation, the adviser's decisions on it (if made) and the
        audit event vouching for all of them; returns the decision id."""
        if decision.ruleset != ruleset.digest:
            raise ValueError("decision and rule set differ")
        if choices is not None and {c.code for c in choices} != set(decision.codes):
            raise ValueError("the adviser's decisions must cover exactly the recommended outcomes")
        return self.record_prepared([Prepared.of(case, decision, choices)], {ruleset.digest: ruleset}, adviser)[0]

    def record_many(self, items: Iterable[tuple[Case, Decision, RuleSet]], adviser: str) -> list[int]:
        """Record many decisions in one transaction (all or none); returns their ids."""
        rulesets: dict[str, RuleSet] = {}
        prepared = []
        for case, decision, ruleset in items:
            if decision.ruleset != ruleset.digest:
                raise ValueError("decision and rule set differ")
            rulesets[ruleset.digest] = ruleset
            prepared.append(Prepared.of(case, decision))
        return self.record_prepared(prepared, rulesets, adviser)

    def record_prepared(self, prepared: list[Prepared], rulesets: dict[str, RuleSet], adviser: str,
                        skip_recorded: bool = False) -> list[int]:
        """Record prepared decisions in one transaction; with skip_recorded, inputs already here are skipped.

        Returns the new decision ids (skipped ones are left out).
        """
        self._writable()
        adviser = clean_adviser(adviser)
        if not prepared:
            return []
        kind = self.kind or (TRAINING if next((p.synthetic for p in prepared if p.nino), False) else LIVE)
        for item in prepared:
            self._check_kind(item.nino, kind)
            self._check_edition(item, kind)
        if self.kind is None:
            self._init_meta(kind == TRAINING, adviser)
        with write(self.db) as conn:
            return records.record(conn, prepared, rulesets, adviser, self.pseudonym, skip_recorded)

    # -- referrals (referrals.py) ----------------------------------------------------------------

    def add_referral(self, decision_id: int, code: str, provider: str, actor: str,
                     appointment: dt.date | None = None, notes: str = "") -> int:
        """Log a referral the decision calls for; starts 'proposed', or 'booked' with a date."""
        self._writable()
        provider = clean_field(provider, "provider", MAX_PROVIDER)
        notes = clean_field(notes, "notes", MAX_NOTE, allow_empty=True)
        actor = clean_adviser(actor)
        with write(self.db) as conn:
            return referrals.add(conn, decision_id, code, provider, actor, appointment, notes)

    def update_referral(self, referral_id: int, status: str, actor: str,
                        appointment: dt.date | None = None, notes: str = "") -> None:
        """Move a referral along its lifecycle (refusing transitions the lifecycle does not allow)."""
        self._writable()
        notes = clean_field(notes, "notes", MAX_NOTE, allow_empty=True)
        actor = clean_adviser(actor)
        with write(self.db) as conn:
            referrals.update(conn, referral_id, status, actor, appointment, notes)

    # -- erasure and retention (erasure.py) ------------------------------------------------------

    def erase(self, ref: str, actor: str, reason: str = "erasure request") -> int:
        """Erase every record of one case reference, scrubbed from the file; returns how many decisions went."""
        ids = erasure.case_ids_for_ref(self.conn, ref)
        self._writable()
        return erasure.erase_cases(self.db, ids, clean_adviser(actor), "case.erased",
                                   {"case_key": self.pseudonym(ref), "reason": reason})

    def retain(self, cutoff: str, actor: str) -> int:
        """Erase every case recorded before `cutoff` (ISO time); returns how many decisions went."""
        ids = erasure.case_ids_before(self.conn, cutoff)
        if not ids:
            return 0
        self._writable()
        return erasure.erase_cases(self.db, ids, clean_adviser(actor), "retention.applied", {"before": cutoff})

    # -- reading (queries.py) --------------------------------------------------------------------

    def decisions(self, *, ref: str | None = None, adviser: str | None = None, edition: str | None = None,
                  outcome: str | None = None, since: str | None = None, until: str | None = None,
                  priority: str | None = None, limit: int = 1000) -> list[DecisionRow]:
        """Recorded decisions matching every filter given, newest first (limit -1: all)."""
        return queries.decisions(self.conn, ref=ref, adviser=adviser, edition=edition, outcome=outcome,
                                 since=since, until=until, priority=priority, limit=limit)

    def decision_event(self, decision_id: int) -> queries.EventRow | None:
        """The audit event that recorded a decision."""
        return queries.decision_event(self.conn, decision_id)

    def decision_record(self, decision_id: int) -> DecisionRecord | None:
        """One decision with its case inputs and claimant NINO (for replay and for opening a case)."""
        return queries.decision_record(self.conn, decision_id)

    def decision_ids(self) -> list[int]:
        """Every decision id, oldest first."""
        return queries.decision_ids(self.conn)

    def referrals(self, decision_id: int | None = None, open_only: bool = False) -> list[ReferralRow]:
        """Referrals with their current status and history, newest first."""
        return queries.referrals(self.conn, decision_id, open_only)

    def ruleset_content(self, digest: str) -> str | None:
        """A stored rule set snapshot's canonical JSON."""
        return queries.ruleset_content(self.conn, digest)

    def audited_input(self, decision_id: int) -> str | None:
        """The inputs hash a decision's audit event recorded (one indexed read, whatever the book's size)."""
        return queries.audited_input(self.conn, decision_id)

    def audited_inputs(self) -> dict[int, str]:
        """decision id -> the inputs hash its audit event recorded."""
        return queries.audited_inputs(self.conn)

    # -- audit (audit.py) ------------------------------------------------------------------------

    def verify(self, anchor: audit.Anchor | None = None) -> tuple[int, list[audit.Problem]]:
        """Verify the audit chain, every row it vouches for, and the protective triggers."""
        count, problems = audit.verify(self.conn, anchor)
        missing = check_triggers(self.db)
        if missing:
            problems.append(audit.Problem("schema", "protective triggers are missing: " + ", ".join(missing)))
        altered = check_views(self.db)
        if altered:
            problems.append(audit.Problem("schema", "auditors' views are missing or altered: " + ", ".join(altered)))
        foreign = foreign_objects(self.db)
        if foreign:
            problems.append(audit.Problem("schema", "objects Pathways did not create: " + describe_foreign(foreign)))
        problems += self._check_key_file()
        return count, problems

    def _check_key_file(self) -> list[audit.Problem]:
        """A key file that is there must hold the key recorded when the book was made (a missing one is not a fault)."""
        meta = self._meta()
        if "secret" in meta or "book_id" not in meta:
            return []
        genesis = self.conn.execute("SELECT body FROM audit WHERE seq = 1 AND event = 'book.created'").fetchone()
        try:
            recorded = json.loads(genesis[0]).get("secret_sha256") if genesis else None
            key = keys.read_key(str(meta["book_id"]), self.key_dir)
        except (ValueError, AttributeError, BookError):
            return [audit.Problem("key file", "cannot be read, or the book's id is malformed")]
        if key is not None and audit.sha256_text(key) != recorded:
            return [audit.Problem("key file", "does not hold this book's pseudonym key")]
        return []

    def head(self) -> audit.Anchor | None:
        """The audit chain's head, to keep as an anchor elsewhere."""
        return audit.head(self.conn)

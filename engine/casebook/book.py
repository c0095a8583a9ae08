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
from typing import TYPE_CHECKING, Any

import platformdirs
import sqlite_utils

from engine.casebook import (
    audit,
    casework,
    checkpoints,
    erasure,
    keys,
    marks,
    queries,
    records,
    referrals,
    signing,
    training,
)
from engine.casebook.db import (
    check_triggers,
    connect,
    describe_foreign,
    foreign_objects,
    protected_triggers,
    read_snapshot,
    write,
)
from engine.casebook.erasure import Erased
from engine.casebook.fields import MAX_NOTE, MAX_PROVIDER, clean_adviser, clean_field, os_user
from engine.casebook.keyed import Keyed
from engine.casebook.queries import DecisionRecord, DecisionRow, ReferralRow
from engine.casebook.records import Prepared
from engine.casebook.schema import altered_triggers, schema_problems
from engine.errors import BookError, CheckError
from engine.model.adviser import AdviserDecision
from engine.model.case import Case
from engine.model.decision import Decision
from engine.model.nino import is_synthetic
from engine.model.training import Score
from engine.policy.rulebook import RuleSet

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_SCHEMA_SQL = "SELECT type, name, tbl_name, sql FROM sqlite_master"
"""Every schema object as SQLite keeps it: a write re-checks the protective triggers only when this changed."""

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


def check_nino_for_kind(kind: str | None, nino: str | None) -> None:
    """Refuse (BookError) a NINO a book of `kind` would refuse: QQ in a live book, anything else in training.

    The terminal UI asks this when a case is opened, so the refusal comes before the interview (#12).
    """
    if nino is None:
        return
    if kind == LIVE and is_synthetic(nino):
        raise BookError("a live case book refuses synthetic QQ numbers: use a training book",
                        key="claimant.nino")
    if kind == TRAINING and not is_synthetic(nino):
        raise BookError("a training case book accepts only synthetic QQ numbers", key="claimant.nino")


def check_edition_for_kind(kind: str | None, edition: str, announced: bool) -> None:
    """Refuse (BookError), unless in a training book, a decision under an edition announced and never in force."""
    if announced and kind != TRAINING:
        raise BookError(f"the {edition} policy was announced and never in force: a live case book "
                        "refuses its decisions (record it in a training book)", key="as_of")


class CaseBook:
    """One open case book (use as a context manager, or call close())."""

    def __init__(self, path: Path | str, *, training: bool | None = None, create: bool = True,
                 actor: str = "system", key_dir: Path | None = None, readonly: bool = False) -> None:
        """Open the book; `readonly` opens an existing case book with SQLite's `mode=ro` and writes nothing."""
        self.path = Path(path)
        self.key_dir = key_dir
        self.readonly = readonly
        if readonly and training is not None:
            raise ValueError("a book opened read-only cannot take a kind")
        self.db: sqlite_utils.Database = connect(self.path, create=create, readonly=readonly)
        self._meta_cache: dict[str, str] = {}
        self._key: str | None = None
        self._keyed: Keyed | None = None
        self._schema_checked: list[Any] | None = None  # sqlite_master as a write last found its triggers whole
        try:
            # schema objects another tool added, found at open: writes are refused while there are any
            self.foreign: list[str] = foreign_objects(self.db)
            if not readonly:
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
        if self.readonly:
            raise BookError("was opened read-only: nothing can be written to it here", str(self.path))
        schema = self.conn.execute(_SCHEMA_SQL).fetchall()
        if schema != self._schema_checked:  # checked again whenever the schema is not what was checked (#14)
            missing = check_triggers(self.db)
            if missing:
                raise BookError("protective triggers are missing (" + ", ".join(missing) + "): "
                                "the book may have been tampered with; run `pathways audit verify`", str(self.path))
            altered = altered_triggers(self.conn)
            if altered:
                raise BookError("protective triggers were altered (" + ", ".join(altered) + "): they no longer do "
                                "what Pathways made them do; run `pathways audit verify`", str(self.path))
            if self.conn.execute(_SCHEMA_SQL).fetchall() == schema:  # not changed while it was being checked
                self._schema_checked = schema
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
                genesis = {"kind": kind, "book_id": book_id, "secret_sha256": audit.sha256_text(secret),
                           "key": audit.KEY_IN_FILE, checkpoints.GENESIS_HASHES: "keyed"}
                if kind == LIVE:
                    genesis[checkpoints.GENESIS_ERASURE] = "signed"
                audit.append(conn, os_user() if kind == LIVE else actor, "book.created", genesis)
            except BaseException:
                keys.remove_key(book_id, self.key_dir)
                raise

    def pseudonym(self, value: str) -> str:
        """A keyed pseudonym for a case reference (stable within this book only)."""
        return audit.keyed_ref(self._secret, value)

    @property
    def keyed(self) -> Keyed:
        """The book's keyed hashes (row and inputs hashes under its key, which the book never holds)."""
        if self._keyed is None:
            self._keyed = Keyed(self._secret)
        return self._keyed

    def _keyed_or_none(self) -> Keyed | None:
        """The book's keyed hashes, or None when its key file is missing (verify then says what it cannot check)."""
        try:
            return self.keyed
        except BookError:
            return None

    def _os_user(self, kind: str | None = None) -> str | None:
        """In a live book, the operating-system user, recorded as each event's actor; None in a training book."""
        return os_user() if (kind or self.kind) == LIVE else None

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
        check_edition_for_kind(kind or self.kind, item.edition, item.announced)

    def _check_kind(self, nino: str | None, kind: str | None = None) -> None:
        """Refuse a NINO of the wrong kind for this book (or for the kind it is about to take)."""
        check_nino_for_kind(kind or self.kind, nino)

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
            return records.record(conn, prepared, rulesets, adviser, audit.keyed_refs(self._secret), skip_recorded,
                                  keyed=self.keyed, os_user=self._os_user(kind))

    # -- training attempts (training.py) ----------------------------------------------------------

    def record_attempt(self, trainee: str, decision: Decision, predicted: Iterable[str],
                       predicted_priority: str | None) -> tuple[int, Score]:
        """Score a trainee's prediction on a scenario and record it; only in a training book (never a live one)."""
        self._writable()
        if self.kind != TRAINING:
            raise BookError("is not a training case book: trainees' attempts are kept only in one", str(self.path))
        trainee = clean_adviser(trainee)
        with write(self.db) as conn:
            return training.add(conn, trainee, decision, predicted, predicted_priority, self.keyed)

    def attempts(self, trainee: str | None = None) -> list[training.Attempt]:
        """Trainees' recorded attempts, oldest first (only `trainee`'s, if given)."""
        return training.attempts(self.conn, trainee)

    # -- referrals (referrals.py) ----------------------------------------------------------------

    def add_referral(self, decision_id: int, code: str, provider: str, actor: str,
                     appointment: dt.date | None = None, notes: str = "") -> int:
        """Log a referral the decision calls for; starts 'proposed', or 'booked' with a date."""
        self._writable()
        provider = clean_field(provider, "provider", MAX_PROVIDER)
        notes = clean_field(notes, "notes", MAX_NOTE, allow_empty=True)
        actor = clean_adviser(actor)
        with write(self.db) as conn:
            return referrals.add(conn, decision_id, code, provider, actor, appointment, notes,
                                 keyed=self.keyed, os_user=self._os_user())

    def update_referral(self, referral_id: int, status: str, actor: str,
                        appointment: dt.date | None = None, notes: str = "") -> None:
        """Move a referral along its lifecycle (refusing transitions the lifecycle does not allow)."""
        self._writable()
        notes = clean_field(notes, "notes", MAX_NOTE, allow_empty=True)
        actor = clean_adviser(actor)
        with write(self.db) as conn:
            referrals.update(conn, referral_id, status, actor, appointment, notes,
                             keyed=self.keyed, os_user=self._os_user())

    # -- drafts and case status (casework.py) ----------------------------------------------------

    def _ready_for(self, nino: str | None, actor: str) -> None:
        """Writable, the NINO of the right kind, and a new book given its kind (from the NINO, as `record` does)."""
        self._writable()
        kind = self.kind or (TRAINING if nino is not None and is_synthetic(nino) else LIVE)
        self._check_kind(nino, kind)
        if self.kind is None:
            self._init_meta(kind == TRAINING, actor)

    def save_draft(self, ref: str, as_of: dt.date, nino: str | None, answers: dict[str, object], actor: str) -> int:
        """Save an unfinished interview as its case's draft (replacing an earlier one); returns the draft id."""
        actor = clean_adviser(actor)
        self._ready_for(nino, actor)
        with write(self.db) as conn:
            return casework.save_draft(conn, ref, as_of.isoformat(), nino, answers, actor, self.pseudonym,
                                       keyed=self.keyed, os_user=self._os_user())

    def remove_drafts(self, ref: str, actor: str, why: str = "discarded") -> int:
        """Remove a case's draft (discarded, or its case recorded); returns how many went."""
        if self.kind is None or not casework.draft_ids(self.conn, ref):
            return 0
        self._writable()
        with write(self.db) as conn:
            removed = casework.remove_drafts(conn, ref, clean_adviser(actor), self.pseudonym, why,
                                             os_user=self._os_user())
        with contextlib.suppress(sqlite3.OperationalError):
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the answers leave the WAL too
        return removed

    def drafts(self) -> list[casework.Draft]:
        """Every draft held, newest first."""
        return casework.drafts(self.conn)

    def draft(self, draft_id: int) -> casework.Draft | None:
        """One draft by id."""
        return casework.draft(self.conn, draft_id)

    def set_case_status(self, ref: str, status: str, actor: str, notes: str = "") -> int:
        """Open or close a case (a new status row with its audit event); returns the row id."""
        self._writable()
        notes = clean_field(notes, "notes", MAX_NOTE, allow_empty=True)
        actor = clean_adviser(actor)
        with write(self.db) as conn:
            return casework.set_status(conn, ref, status, actor, notes, self.pseudonym, keyed=self.keyed,
                                       os_user=self._os_user())

    def case_statuses(self, refs: list[str] | None = None) -> dict[str, str]:
        """ref -> current status for cases whose status was ever changed (the rest are open)."""
        return casework.statuses(self.conn, refs)

    # -- erasure and retention (erasure.py) ------------------------------------------------------

    def erase(self, ref: str, actor: str, reason: str = "erasure_request", reference: str | None = None,
              key: Ed25519PrivateKey | None = None) -> Erased:
        """Erase every record of one case reference, scrubbed from the file (signed with `key` in a live book)."""
        ids = erasure.case_ids_for_ref(self.conn, ref)
        return self._erase(ids, actor, "case.erased", {"case_key": self.pseudonym(ref)},
                           erasure.check_reason(reason, erasure.ERASURE_REASONS, reference), key, refs=[ref])

    def erase_nino(self, nino: str, actor: str, reason: str = "erasure_request", reference: str | None = None,
                   key: Ed25519PrivateKey | None = None) -> Erased:
        """Erase every record of one NINO, under every case reference it was recorded with."""
        ids = erasure.case_ids_for_nino(self.conn, nino)
        return self._erase(ids, actor, "case.erased", {"nino_key": self.pseudonym("nino:" + nino)},
                           erasure.check_reason(reason, erasure.ERASURE_REASONS, reference), key,
                           refs=erasure.refs_for_nino(self.conn, nino))

    def retain(self, cutoff: str, actor: str, reason: str = "retention_schedule", reference: str | None = None,
               key: Ed25519PrivateKey | None = None) -> Erased:
        """Erase every case recorded before `cutoff` (ISO time)."""
        why = erasure.check_reason(reason, erasure.RETENTION_REASONS, reference)
        ids, old_drafts = erasure.case_ids_or_drafts_before(self.conn, cutoff)
        if not ids and not old_drafts:
            return Erased(0, True)
        return self._erase(ids, actor, "retention.applied", {"before": cutoff}, why, key, drafts_before=cutoff)

    def _erase(self, ids: list[int], actor: str, event: str, body: dict[str, Any], why: dict[str, str],
               key: Ed25519PrivateKey | None, refs: list[str] | None = None,
               drafts_before: str | None = None) -> Erased:
        """Erase these cases with one event: by the OS user on behalf of the adviser, signed, in a live book.

        With `refs`, those case references' drafts and status history go too; with `drafts_before`,
        every draft saved before then (see `erasure.erase_cases`).
        """
        self._writable()
        actor = clean_adviser(actor)
        signer = self._dp_signer(key)
        by = self._os_user()
        full = {**body, **why, **({"on_behalf_of": actor} if by else {})}
        return erasure.erase_cases(self.db, ids, by or actor, event, full, signer, refs=refs,
                                   drafts_before=drafts_before)

    def _dp_signer(self, key: Ed25519PrivateKey | None) -> erasure.Signer | None:
        """What signs an erasure: `key`, which must be registered here; a live book refuses to erase without one."""
        book_id = self._fixed_meta().get("book_id", "")
        if key is None:
            if self.kind == LIVE:
                raise BookError("a live case book's erasures must be signed with its data-protection key: give "
                                "--key (register one first with `pathways audit register-key`)", key="--key")
            return None
        if signing.fingerprint(key.public_key()) not in checkpoints.registered_keys(self.conn, book_id):
            raise BookError("is not a data-protection key registered in this case book "
                            "(register it with `pathways audit register-key`)", key="--key")

        def signer(conn: sqlite3.Connection, actor: str, ts: str, event: str, body: dict[str, Any]) -> dict[str, Any]:
            return checkpoints.sign_next_event(conn, key, book_id, actor, ts, event, body)
        return signer

    def register_key(self, signer: Ed25519PrivateKey, public: Ed25519PublicKey, actor: str) -> int:
        """Register a data-protection key's public half in the book, as an audited, signed event; returns its seq."""
        self._writable()
        actor = clean_adviser(actor)
        book_id = self._fixed_meta().get("book_id")
        if not book_id:
            raise BookError("has no cases yet: record one before registering a data-protection key", str(self.path))
        by = self._os_user()
        with write(self.db) as conn:
            stamp = audit.now()
            body = checkpoints.registration_body(conn, book_id, signer, public, by or actor, stamp,
                                                 {"on_behalf_of": actor} if by else {})
            return audit.append(conn, by or actor, checkpoints.DPKEY_EVENT, body, ts=stamp)

    def scrub(self) -> bool:
        """Push erased data out of the file now (True when done; False while a reader still holds the book)."""
        return erasure.scrub(self.conn)

    def checkpoint(self, key: Ed25519PrivateKey) -> dict[str, Any]:
        """The chain's head signed with `key` (a checkpoint to keep away from the book).

        The chain is verified first and only what verified is signed (events appended meanwhile wait
        for the next checkpoint): a checkpoint never vouches for a book already tampered with.
        """
        book_id = self._fixed_meta().get("book_id")
        if not book_id:
            raise BookError("has no audit events yet: nothing to checkpoint", str(self.path))
        count, problems = self.verify()
        if problems:
            raise CheckError(f"{self.path}: the audit chain does not verify ({problems[0]}): nothing was "
                             "checkpointed; run `pathways audit verify`")
        return checkpoints.make_checkpoint(self.conn, book_id, key, count)

    def verify_checkpoints(self, points: list[checkpoints.Checkpoint],
                           public: Ed25519PublicKey) -> checkpoints.CheckpointReport:
        """Check the chain against signed checkpoints; names the events after the last one as unwitnessed."""
        return checkpoints.check(self.conn, self._meta().get("book_id"), points, public)

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

    def case_page(self, query: queries.CaseQuery = queries.EVERY_CASE, after: queries.PageKey | None = None,
                  limit: int = queries.CASE_PAGE) -> queries.CasePage:
        """One page of the case list (each reference's latest decision) matching `query`, after `after`."""
        return queries.case_page(self.conn, query, after, limit)

    def case_count(self) -> int:
        """How many cases (distinct case references) the book holds."""
        return queries.case_count(self.conn)

    def refs_recorded(self, refs: list[str]) -> set[str]:
        """Which of these case references have a recorded decision (one indexed look each)."""
        return {ref for ref in refs
                if self.conn.execute("SELECT 1 FROM decisions WHERE ref = ? LIMIT 1", (ref,)).fetchone()}

    def ruleset_content(self, digest: str) -> str | None:
        """A stored rule set snapshot's canonical JSON."""
        return queries.ruleset_content(self.conn, digest)

    def audited_input(self, decision_id: int) -> str | None:
        """The inputs hash a decision's audit event recorded (one indexed read, whatever the book's size)."""
        return queries.audited_input(self.conn, decision_id)

    def replay_records(self, ids: list[int]) -> dict[int, tuple[DecisionRecord, str | None]]:
        """Decisions of `ids` still in the book, each with the inputs hash its audit event recorded (one read, #14)."""
        return queries.replay_records(self.conn, ids)

    def audited_inputs(self) -> dict[int, str]:
        """decision id -> the inputs hash its audit event recorded."""
        return queries.audited_inputs(self.conn)

    # -- audit (audit.py) ------------------------------------------------------------------------

    def verify(self, anchor: audit.Anchor | None = None) -> tuple[int, list[audit.Problem]]:
        """Verify the audit chain, every row it vouches for, the signatures and the schema, in one read snapshot.

        One read transaction: rows another process writes meanwhile are not seen half-way, so a busy
        book raises no false alarm.
        """
        count, problems, _ = self.verify_marked(anchor)
        return count, problems

    def book_id(self) -> str | None:
        """The book's id (None before its first record): names its key file and its verification mark."""
        value = self._meta().get("book_id")
        return value if isinstance(value, str) else None

    def verify_marked(self, anchor: audit.Anchor | None = None, progress: audit.Progress | None = None
                      ) -> tuple[int, list[audit.Problem], marks.Mark | None]:
        """`verify`, also giving, when it is clean, the verification mark to keep outside the book (#14).

        `progress` is told how far it has gone, now and then (it may raise to stop the verify).
        """
        with read_snapshot(self.conn):
            count, problems, gathered = audit.verify_state(self.conn, anchor, self._keyed_or_none(),
                                                           progress=progress)
            chain = checkpoints.scan(self.conn, rows=False, progress=progress)
            problems += chain.problems
            problems += schema_problems(self.conn)
            problems += self._check_key_file()
            head, book_id = audit.head(self.conn), self._meta().get("book_id")
        if problems or head is None or not isinstance(book_id, str):
            return count, problems, None
        return count, problems, marks.Mark(book_id, head.seq, head.hash, audit.now(), count, gathered.rows,
                                           gathered.max_keys, gathered.rulesets, gathered.key_moved, chain.to_mark())

    def verify_since(self, mark: marks.Mark) -> marks.SinceResult:
        """Check what came after a verification mark: its event unchanged, the chain since, and the rows it vouches for.

        Rows the events up to the mark vouch for are not read again. When the mark's event is gone or
        changed, the chain was rewritten or cut: that is said as a problem, and the book is verified
        in full instead (a clean full verify then gives a new mark).
        """
        with read_snapshot(self.conn):
            row = self.conn.execute("SELECT hash FROM audit WHERE seq = ?", (mark.seq,)).fetchone()
            if row is None or row[0] != mark.hash:
                moved = "is missing: the chain was cut off or rewritten" if row is None else (
                    "differs from the verification mark: the chain was rewritten")
                problem = audit.Problem(f"audit event {mark.seq}", f"{moved} since it was verified in full on "
                                        f"{mark.day}", mark.seq)
                count, problems, _ = self.verify_marked()  # a new mark waits for a plain, clean full verify
                return marks.SinceResult(mark, count, count, [problem, *problems], full=True)
            count, problems, _ = audit.verify_state(self.conn, None, self._keyed_or_none(), since=mark.since())
            start = checkpoints.ChainSignatures.from_mark(mark.signatures)
            problems += checkpoints.scan(self.conn, rows=False, after=mark.seq, start=start).problems
            problems += schema_problems(self.conn)
            problems += self._check_key_file()
        return marks.SinceResult(mark, mark.events + count, count, problems)

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

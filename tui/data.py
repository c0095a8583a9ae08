"""What the screens read from and write to case books: plain functions, no Textual.

Every function opens its own CaseBook and closes it before returning, so it can run in a worker
thread (a SQLite connection belongs to the thread that opened it). Errors a user can act on are
raised as InputError (one clean line); screens show them and carry on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from engine.casebook import marks
from engine.casebook.audit import Problem, Progress, load_anchor
from engine.casebook.book import TRAINING, CaseBook, default_db_path
from engine.casebook.casework import Draft
from engine.casebook.queries import (
    AuditLine,
    CaseQuery,
    DecisionRow,
    PageKey,
    ReferralRow,
    audit_lines,
    decisions_recorded_from,
    decisions_touched,
)
from engine.casebook.replay import Replayer, ReplayResult
from engine.errors import InputError, PathwaysError
from engine.files import PrivateFile, create_private, ensure_private_dir
from engine.intake.loader import RawCase
from engine.intake.scenarios import iter_cases
from engine.intake.validate import build_case
from engine.model.adviser import AdviserDecision
from engine.model.case import Case
from engine.model.decision import Decision
from engine.model.letter import build_letter, render_html, render_text
from engine.policy.driver import default_engine
from engine.policy.rulebook import RuleSet
from engine.textsafe import clean

TRAINING_NAME = "pathways-training.db"
"""File name of the default training case book, kept beside the default live book."""


def book_kind(path: Path) -> str | None:
    """The kind of the case book at `path` (live or training), or None when it has none yet."""
    if not path.exists():
        return None
    with CaseBook(path, readonly=True) as book:
        return book.kind


def training_path_for(db: Path | None) -> Path:
    """The training book to use beside `db`: `db` itself if it is a training book."""
    if db is None:
        return default_db_path().with_name(TRAINING_NAME)
    try:
        if book_kind(db) == TRAINING:
            return db
    except InputError:
        pass
    return db.with_name(f"{db.stem}-training{db.suffix or '.db'}")


@attrs.frozen
class BookInfo:
    """A case book's kind and how much it holds (for banners)."""

    path: Path
    kind: str | None
    decisions: int


def open_info(path: Path, training: bool | None = None, create: bool = True) -> BookInfo:
    """Open (creating if allowed) a case book of the wanted kind and describe it."""
    with CaseBook(path, training=training, create=create) as book:
        return BookInfo(path, book.kind, len(book.decision_ids()))


@attrs.frozen
class CaseRow:
    """One case in the advise list: its latest decision and open referrals."""

    decision_id: int
    ref: str
    as_of: str
    edition: str
    priority: str
    outcomes: int
    open_referrals: int
    adviser: str
    recorded_at: str
    referrals: tuple[str, ...] = ()
    status: str = "open"
    draft_id: int | None = None

    @property
    def row_key(self) -> str:
        """The row's key in the case table: its decision, or its draft when nothing is recorded yet."""
        return f"decision-{self.decision_id}" if self.decision_id else f"draft-{self.draft_id}"

    @property
    def status_words(self) -> str:
        """The status as the list shows it: open, closed, or DRAFT while a draft is held (Enter resumes it, #12)."""
        return "DRAFT" if self.draft_id else self.status

    @property
    def key(self) -> PageKey:
        """Where a page of the list ending at this case ends (the next page starts after it)."""
        return PageKey(self.ref, self.decision_id)


def referral_line(ref: ReferralRow) -> str:
    """One referral as a line: id, code, status, provider, appointment and latest notes."""
    notes = ref.notes
    when = f" on {ref.appointment}" if ref.appointment else ""
    return clean(f"#{ref.id} {ref.code} {ref.status}{when}: {ref.provider}" + (f" ({notes})" if notes else ""))


@attrs.frozen
class CasesPage:
    """One page of the case list as the screen shows it: the book's kind, the rows, where the next page starts."""

    kind: str | None
    rows: tuple[CaseRow, ...]
    next: PageKey | None


def case_page(path: Path, query: CaseQuery, after: PageKey | None = None,
              cancelled: Callable[[], bool] | None = None) -> CasesPage:
    """One page of the book's cases (latest decision per case ref) matching `query`, after `after`.

    `cancelled` is polled while SQLite works: when it says True (a newer search superseded this
    one) the query stops at once instead of running on in its thread.
    """
    if not path.exists():
        return CasesPage(None, (), None)
    with CaseBook(path, create=False) as book:
        if cancelled is not None:
            book.conn.set_progress_handler(lambda: int(cancelled()), PROGRESS_STEPS)
        page = book.case_page(query, after)
        statuses = book.case_statuses(sorted({r.ref for r in page.rows}))
        drafts = {d.ref: d for d in reversed(book.drafts())}  # the newest draft of each case
        rows = [CaseRow(r.decision_id, r.ref, r.as_of, r.edition, r.priority, r.outcomes, r.open_referrals,
                        r.adviser, r.recorded_at, tuple(referral_line(x) for x in r.referrals),
                        status=statuses.get(r.ref, "open"),
                        draft_id=drafts[r.ref].id if r.ref in drafts else None)
                for r in page.rows]
        listed = {r.ref for r in rows}
        if after is None and query.priority is None and not query.open_only:
            # cases held only as a draft (nothing recorded yet) head the first page: few, and never paged
            recorded = book.refs_recorded(sorted(set(drafts) - listed))
            rows[:0] = [CaseRow(0, d.ref, d.as_of, "", "", 0, 0, d.saved_by, d.saved_at, draft_id=d.id)
                        for d in drafts.values()
                        if d.ref not in listed and d.ref not in recorded and _draft_matches(d, query)]
        return CasesPage(book.kind, tuple(rows), page.next)


def _draft_matches(draft: Draft, query: CaseQuery) -> bool:
    """Whether a draft-only case belongs in the list searched for (by reference, or by its exact NINO)."""
    if query.nino is not None:
        return draft.nino == query.nino
    return query.search in draft.ref.upper()


PROGRESS_STEPS = 20_000
"""SQLite virtual machine steps between two checks whether a case list query was superseded."""


@attrs.frozen
class CaseCount:
    """How many cases a book held when its audit chain ended at event `head`."""

    head: int
    cases: int


def case_count(path: Path, known: CaseCount | None = None) -> CaseCount:
    """How many cases (distinct case references) the book holds; `known` again when no event was added since.

    Counting reads the whole reference index (most of a second on a million cases), so coming back
    to the list recounts only after a change: every change to a book appends an audit event.
    """
    if not path.exists():
        return CaseCount(0, 0)
    with CaseBook(path, create=False) as book:
        anchor = book.head()
        head = anchor.seq if anchor is not None else 0
        if known is not None and known.head == head:
            return known
        return CaseCount(head, book.case_count())


@attrs.frozen
class OpenedCase:
    """A recorded case loaded back for the adviser: the case, its recommendation, the adviser's
    decisions on it (None when it was recorded without them) and its referrals."""

    case: Case
    decision_id: int
    decision: Decision
    referrals: tuple[ReferralRow, ...]
    choices: tuple[AdviserDecision, ...] | None = None


def open_case(path: Path, decision_id: int) -> OpenedCase:
    """Load a recorded decision's case inputs (with NINO), recommendation, the adviser's decisions and referrals."""
    with CaseBook(path, readonly=True) as book:
        row = book.decision_record(decision_id)
        if row is None or row.inputs is None:
            raise InputError(f"no decision {decision_id} in this case book", key="decision")
        data = json.loads(row.inputs)
        if row.nino:
            data.setdefault("claimant", {})["nino"] = row.nino
        case = build_case(RawCase(data, f"case book decision {decision_id}", None, lambda _p: None))
        decision = Decision.from_data(json.loads(row.decision))
        referrals = tuple(book.referrals(decision_id))
    return OpenedCase(case, decision_id, decision, referrals, row.adviser_decisions())


def record(path: Path, case: Case, decision: Decision, ruleset: RuleSet, adviser: str,
           training: bool | None = None, choices: Sequence[AdviserDecision] | None = None) -> int:
    """Record a case's recommendation with the adviser's decisions on it (and the audit event); returns the
    decision id."""
    with CaseBook(path, training=training) as book:
        book.check_nino(case)
        return book.record(case, decision, ruleset, adviser, choices)


@attrs.frozen
class ReferralInput:
    """What the referral form collected (already validated by the form)."""

    code: str
    provider: str
    appointment: dt.date | None
    notes: str


def add_referral(path: Path, decision_id: int, form: ReferralInput, adviser: str) -> int:
    """Log a referral against a recorded decision; returns its id."""
    with CaseBook(path, create=False) as book:
        return book.add_referral(decision_id, form.code, form.provider, adviser, form.appointment, form.notes)


def decision_rows(path: Path, **filters: Any) -> list[DecisionRow]:
    """Recorded decisions matching the audit filters, newest first (read-only)."""
    with CaseBook(path, readonly=True) as book:
        return book.decisions(**filters)


@attrs.frozen
class VerifyResult:
    """`audit verify` in short: events checked, every problem found, and the rows and events they touch.

    `scope` says what an incremental check (from a verification mark) covered; `partial` is set
    when only that was checked, not every row (#14).
    """

    events: int
    problems: tuple[str, ...]
    decisions: frozenset[int] = frozenset()
    seqs: frozenset[int] = frozenset()
    anchor: str = ""
    unvouched: frozenset[int] = frozenset()
    unvouched_from: int | None = None
    scope: str = ""
    partial: bool = False
    mark_saved: bool = False

    @property
    def ok(self) -> bool:
        """True when the chain and every row it vouches for check out."""
        return not self.problems


def verify(path: Path, anchor_file: Path | None = None, marks_dir: Path | None = None,
           progress: Progress | None = None) -> VerifyResult:
    """Check the audit chain of a case book in full (read-only), against an anchor file if given.

    A clean verify leaves its verification mark in `marks_dir` (when given); `progress` is told how
    far it has gone, and may raise to stop it.
    """
    anchor = load_anchor(anchor_file) if anchor_file is not None else None
    with CaseBook(path, readonly=True) as book:
        count, problems, mark = book.verify_marked(anchor, progress)
        result = _verify_result(book, count, problems)
    saved = False
    if mark is not None and marks_dir is not None:
        with contextlib.suppress(OSError):  # no mark kept: the next opening verifies in full, nothing worse
            saved = marks.save(marks_dir, mark) is not None
    return attrs.evolve(result, anchor=f"{anchor_file} (event {anchor.seq})" if anchor is not None and anchor_file
                        else "", mark_saved=saved)


PROCESS_FROM_BYTES = 64 * 1024 * 1024
"""A book this large is verified in a process of its own: a verify thread holds Python's lock for minutes
and every key waits for it (2 s a key measured on a million-case book)."""


def verify_full(path: Path, anchor_file: Path | None = None, marks_dir: Path | None = None,
                progress: Progress | None = None, *, in_process: bool | None = None) -> VerifyResult:
    """`verify`, in a process of its own for a large book (default: by the file's size), else in this thread.

    The process (this Python, `tui.data`'s `verify_child`) sends its progress and then its result
    back as JSON lines; when `progress` raises (the verify was superseded), the process is stopped.
    Plain `subprocess`, not `multiprocessing`: that needs a real stderr, which the UI replaces.
    """
    if in_process is None:
        try:
            in_process = path.stat().st_size >= PROCESS_FROM_BYTES
        except OSError:
            in_process = False
    if not in_process:
        return verify(path, anchor_file, marks_dir, progress)
    order = json.dumps({"path": str(path), "anchor": None if anchor_file is None else str(anchor_file),
                        "marks": None if marks_dir is None else str(marks_dir)})
    child = subprocess.Popen([sys.executable, "-c", "from tui.data import verify_child; verify_child()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, encoding="utf-8")
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(order + "\n")
        child.stdin.close()
        for line in child.stdout:
            said = json.loads(line)
            if "done" in said:
                return _result_from(said["done"])
            if "failed" in said:
                raise PathwaysError(str(said["failed"]))
            if progress is not None:
                what, done, total = said["progress"]
                progress(str(what), int(done), None if total is None else int(total))
        raise PathwaysError("the verify process stopped before it was done")
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()


def verify_child() -> None:
    """(the verify process) Read what to verify from stdin; write its progress, then its result, as JSON lines."""
    def say(data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()

    try:
        order = json.loads(sys.stdin.readline())
        anchor, marks_dir = order.get("anchor"), order.get("marks")
        result = verify(Path(order["path"]), None if anchor is None else Path(anchor),
                        None if marks_dir is None else Path(marks_dir),
                        lambda what, done, total: say({"progress": [what, done, total]}))
        say({"done": _result_data(result)})
    except Exception as exc:  # one line back, never a traceback with case data
        say({"failed": exc.message() if isinstance(exc, PathwaysError) else f"internal error ({type(exc).__name__})"})


def _result_data(result: VerifyResult) -> dict[str, Any]:
    """A VerifyResult as JSON-ready data (sets as sorted lists)."""
    return {key: sorted(value) if isinstance(value, frozenset) else list(value) if isinstance(value, tuple) else value
            for key, value in attrs.asdict(result, recurse=False).items()}


def _result_from(data: dict[str, Any]) -> VerifyResult:
    """A VerifyResult from `_result_data`'s form."""
    start = data["unvouched_from"]
    return VerifyResult(int(data["events"]), tuple(str(p) for p in data["problems"]), frozenset(data["decisions"]),
                        frozenset(data["seqs"]), str(data["anchor"]), frozenset(data["unvouched"]),
                        None if start is None else int(start), str(data["scope"]), bool(data["partial"]),
                        bool(data["mark_saved"]))


def verify_since(path: Path, marks_dir: Path, on_mark: Callable[[marks.Mark], object] | None = None
                 ) -> VerifyResult | None:
    """The quick check from the book's verification mark (None when it has none): `on_mark` is told the mark first."""
    with CaseBook(path, readonly=True) as book:
        book_id = book.book_id()
        mark = marks.load(marks_dir, book_id) if book_id else None
        if mark is None:
            return None
        if on_mark is not None:
            on_mark(mark)
        since = book.verify_since(mark)
        result = _verify_result(book, since.events, since.problems)
    return attrs.evolve(result, scope=since.scope, partial=not since.full)


def _verify_result(book: CaseBook, count: int, problems: list[Problem]) -> VerifyResult:
    """What a verify found, with the decisions and events its problems touch (read in the same book)."""
    touched = decisions_touched(book.conn, [(p.table, p.key) for p in problems if p.table],
                                [p.seq for p in problems if p.seq is not None and p.unvouched_from is None])
    start = next((p.unvouched_from for p in problems if p.unvouched_from is not None), None)
    unvouched: set[int] = set()
    if start is not None:  # recorded after the break, or by an event that is gone
        unvouched = decisions_recorded_from(book.conn, start)
        unvouched |= set(book.decision_ids()) - set(book.audited_inputs())
    return VerifyResult(count, tuple(str(p) for p in problems), frozenset(touched),
                        frozenset(p.seq for p in problems if p.seq is not None), "",
                        frozenset(unvouched - touched), start)


def audit_events(path: Path) -> list[AuditLine]:
    """The book's referral, erasure, retention and other non-decision audit events, newest first (read-only)."""
    with CaseBook(path, readonly=True) as book:
        return audit_lines(book.conn)


@attrs.frozen
class ReplayView:
    """A decision replayed under its own rule set and under today's, with its record's details."""

    recorded: ReplayResult
    current: ReplayResult
    adviser: str
    recorded_at: str

    @property
    def decision(self) -> Decision | None:
        """The recommendation as recorded (or, when it cannot be read, as replayed)."""
        return self.recorded.recorded or self.current.recorded or self.recorded.replayed

    @property
    def choices(self) -> tuple[AdviserDecision, ...] | None:
        """The adviser's decisions as recorded (None: recorded without them)."""
        return self.recorded.adviser_decisions


def replay(path: Path, decision_id: int) -> ReplayView:
    """Replay one decision both ways (read-only)."""
    with CaseBook(path, readonly=True) as book:
        replayer = Replayer(book, default_engine())
        row = book.decision_record(decision_id)
        return ReplayView(replayer.replay(decision_id), replayer.replay(decision_id, under_current=True),
                          row.adviser if row else "", row.recorded_at if row else "")


SCREEN_LETTER_WIDTH = 68
"""The text version's line width, to fit the letter box at 80 columns."""
LETTERS_FOLDER = "letters"
"""The folder beside the case book that claimants' copies are written into (0700, files 0600)."""


@attrs.frozen
class WrittenLetter:
    """A claimant's copy written to a new file, and its text version to read out."""

    path: Path
    text: str


def _new_letter_file(folder: Path, decision_id: int) -> tuple[Path, PrivateFile]:
    """A new private file for decision `decision_id`'s letter (never an existing one), opened for writing."""
    ensure_private_dir(folder)
    for n in range(1, 1000):
        target = folder / (f"decision-{decision_id}.html" if n == 1 else f"decision-{decision_id}-{n}.html")
        if target.exists():
            continue
        return target, create_private(target)
    raise InputError("too many letters for this decision already: move some away", str(folder))


def write_letter(path: Path, decision_id: int) -> WrittenLetter:
    """Write the claimant's copy of a recorded decision (HTML) into a new 0600 file in the `letters` folder
    beside the case book; returns the file and the text version."""
    with CaseBook(path, readonly=True) as book:
        row = book.decision_record(decision_id)
    if row is None:
        raise InputError(f"no decision {decision_id} in this case book", key="decision")
    try:
        decision = Decision.from_data(json.loads(row.decision))
    except (ValueError, KeyError, TypeError):
        raise InputError(f"decision {decision_id} is unreadable: run `pathways audit verify`",
                         key="decision") from None
    choices = row.adviser_decisions()
    if choices is None:
        raise InputError(f"decision {decision_id} has no adviser's decisions: review and record it first",
                         key="decision")
    if {c.code for c in choices} != set(decision.codes):
        raise InputError(f"the adviser's decisions on decision {decision_id} do not match its recommendation: "
                         "run `pathways audit verify`", key="decision")
    letter = build_letter(decision, choices, decision_id=row.id, recorded_on=row.recorded_at[:10])
    target, handle = _new_letter_file(path.absolute().parent / LETTERS_FOLDER, decision_id)
    with handle:
        handle.write(render_html(letter))
    return WrittenLetter(target, render_text(letter, width=SCREEN_LETTER_WIDTH))


@attrs.frozen
class TrainLibrary:
    """The scenario library and the training book train mode records in (or why there is none)."""

    cases: tuple[Case, ...]
    refused: int
    book: str
    book_ok: bool


def train_library(folder: Path, training_db: Path | None) -> TrainLibrary:
    """Read the scenarios and open (creating if need be) the training book; a live book is refused."""
    cases, refused = load_scenarios(folder)
    if training_db is None:
        return TrainLibrary(tuple(cases), refused, "no training case book: scenarios only, nothing is recorded",
                            False)
    try:
        info = open_info(training_db, training=True)
    except PathwaysError as exc:  # a live book, or one that cannot be opened: train without recording
        return TrainLibrary(tuple(cases), refused, f"no training case book ({exc.message()})", False)
    return TrainLibrary(tuple(cases), refused, f"{training_db} ({info.decisions} decisions)", True)


def load_scenarios(folder: Path) -> tuple[list[Case], int]:
    """The scenario library: cases with their titles, sorted by ref; and how many were refused."""
    cases, refused = [], 0
    for item in iter_cases(folder):
        if isinstance(item, InputError):
            refused += 1
        else:
            cases.append(item)
    return sorted(cases, key=lambda c: c.case), refused

"""Case book commands: record, referral, replay, audit, export."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.casebook.fields import default_adviser
from engine.cli.options import FILE, file_option
from engine.cli.root import EXIT_CHECK_FAILED, fail, parse_date
from engine.cli.textfile import read_text_file, text_file_option, text_or_file
from engine.errors import InputError
from engine.files import create_private
from engine.textsafe import clean, escape_json

if TYPE_CHECKING:
    from engine.casebook.book import CaseBook


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The shared --db option (default: $PATHWAYS_DB, else the user data folder)."""
    return file_option("--db", "db",
                       help="Case book file (default: $PATHWAYS_DB, else pathways.db in your data folder).")(func)


def training_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The shared --training option."""
    return click.option("--training/--live", "training", default=None,
                        help="Require (or create) a training book (synthetic QQ numbers only) or a live one. "
                             "A new book given neither takes the kind of the first case written to it.")(func)


def open_book(db: Path | None, training: bool | None = None, create: bool = True, readonly: bool = False) -> CaseBook:
    """Open the case book named by --db or the default (imported here: `pathways --help` stays fast).

    Reading commands pass `readonly`: the book is opened with SQLite's `mode=ro`, never created or
    migrated, and a file that is not a case book is refused (exit 2) and left as it was.
    """
    from engine.casebook.book import CaseBook, default_db_path

    return CaseBook(db or default_db_path(), training=training, create=create, readonly=readonly)


@click.command()
@click.argument("case_file", metavar="CASE", type=click.Path(path_type=Path))
@db_option
@training_option
@click.option("--adviser", default=None, help="Adviser id recorded with the decision (default: login name).")
@click.option("--decline", "declines", multiple=True, metavar="CODE=REASON[:NOTE]",
              help="Decline one recommended outcome. REASON: not_reasonable, claimant_declined, "
                   "not_available_locally, facts_disputed, other (other needs a NOTE). Repeat for more.")
@click.option("--decline-file", "decline_file", metavar="PATH|-",
              type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default=None,
              help="Read declines from this file ('-': standard input), one CODE=REASON[:NOTE] a line, so notes "
                   "are not on the command line where other users can see them in `ps`.")
@click.option("--reasonable", is_flag=True,
              help="Confirm an accepted requirement is reasonable, having considered health, caring, travel "
                   "and the other matters of JSA Regs 1996 reg 72 (needed to accept a requirement).")
@click.option("--json", "as_json", is_flag=True, help='Print {"decision": ID, "case": REF} instead of the bare id.')
def record(case_file: Path, db: Path | None, training: bool | None, adviser: str | None,
           declines: tuple[str, ...], decline_file: Path | None, reasonable: bool, as_json: bool) -> None:
    """Decide a case and record the recommendation with the adviser's decision on each outcome.

    Every recommended outcome is accepted unless declined; an accepted requirement needs
    --reasonable; an open outcome cannot be decided. Prints the decision id.

    \b
    Examples:
      pathways record claimant.yaml --adviser A1234
      pathways record claimant.yaml --decline REFER_HOUSING_ADVICE=claimant_declined
      pathways record cases/001-jsa-heroin-toddlers-nfa.yaml --db training.db --training --reasonable
      pathways record claimant.yaml --decline-file declines.txt
    """
    if decline_file is not None:
        lines = read_text_file(decline_file, "--decline-file").splitlines()
        declines = (*declines, *(line.strip() for line in lines if line.strip()))
    from engine.intake.loader import read_case_file
    from engine.intake.validate import build_case
    from engine.model.adviser import adviser_decisions, parse_decline
    from engine.policy.driver import default_engine

    case = build_case(read_case_file(case_file))
    engine = default_engine()
    ruleset = engine.ruleset_for(case)
    decision = engine.decide(case, ruleset)
    choices = adviser_decisions(decision, [parse_decline(spec) for spec in declines], reasonable)
    with open_book(db, training) as book:
        book.check_nino(case)
        decision_id = book.record(case, decision, ruleset, adviser or default_adviser(), choices)
    click.echo(json.dumps({"decision": decision_id, "case": case.case}) if as_json else decision_id)


@click.group()
def referral() -> None:
    """Log referrals a decision calls for, and follow them through their lifecycle."""


@referral.command("add")
@click.argument("decision_id", metavar="DECISION", type=int)
@click.argument("code")
@click.option("--provider", default=None, help="Who the claimant is referred to (or --provider-file).")
@text_file_option("provider", "the provider")
@click.option("--appointment", metavar="DATE", help="Appointment date (the referral starts 'booked').")
@click.option("--notes", default="", help="Free-text notes (no control characters; or --notes-file).")
@text_file_option("notes", "the notes")
@click.option("--adviser", default=None, help="Adviser id (default: login name).")
@click.option("--json", "as_json", is_flag=True, help='Print {"referral": ID, "decision": ID, "code": CODE}.')
@db_option
def referral_add(decision_id: int, code: str, provider: str | None, provider_file: Path | None,
                 appointment: str | None, notes: str, notes_file: Path | None, adviser: str | None,
                 as_json: bool, db: Path | None) -> None:
    """Log a referral (its code must be a referral the decision calls for); prints its id.

    \b
    Examples:
      pathways referral add 12 REFER_HOUSING_ADVICE --provider "Shelter Leeds" --appointment 2010-03-01
      pathways referral add 12 REFER_HOUSING_ADVICE --provider-file provider.txt --notes-file - < notes.txt
    """
    if str(provider_file) == "-" and str(notes_file) == "-":
        raise click.UsageError("only one of --provider-file and --notes-file can read standard input")
    provider = text_or_file(provider, provider_file, "provider")
    if provider is None:
        raise click.UsageError("give --provider or --provider-file")
    notes = text_or_file(notes, notes_file, "notes") or ""
    day = parse_date(appointment, "--appointment")
    with open_book(db, create=False) as book:
        referral_id = book.add_referral(decision_id, code, provider, adviser or default_adviser(), day, notes)
    click.echo(json.dumps({"referral": referral_id, "decision": decision_id, "code": code}) if as_json else referral_id)


UPDATE_STATUSES = ("booked", "attended", "did_not_attend", "declined", "closed")
"""What a referral can become (every lifecycle status but `proposed`, where each starts)."""


@referral.command("update")
@click.argument("referral_id", metavar="REFERRAL", type=int)
@click.argument("status", metavar="STATUS", type=click.Choice(UPDATE_STATUSES))
@click.option("--appointment", metavar="DATE", help="Appointment date (required for 'booked').")
@click.option("--notes", default="", help="Free-text notes (or --notes-file).")
@text_file_option("notes", "the notes")
@click.option("--adviser", default=None, help="Adviser id (default: login name).")
@click.option("--json", "as_json", is_flag=True, help='Print {"referral": ID, "status": STATUS}.')
@db_option
def referral_update(referral_id: int, status: str, appointment: str | None, notes: str, notes_file: Path | None,
                    adviser: str | None, as_json: bool, db: Path | None) -> None:
    """Move a referral on: booked, attended, did_not_attend, declined, closed.

    \b
    Examples:
      pathways referral update 3 attended
      pathways referral update 3 declined --notes-file - < notes.txt
    """
    notes = text_or_file(notes, notes_file, "notes") or ""
    day = parse_date(appointment, "--appointment")
    with open_book(db, create=False) as book:
        book.update_referral(referral_id, status, adviser or default_adviser(), day, notes)
    shown = json.dumps({"referral": referral_id, "status": status}) if as_json else f"referral {referral_id}: {status}"
    click.echo(shown)


@referral.command("list")
@click.option("--decision", "decision_id", type=int, default=None, help="Only this decision's referrals.")
@click.option("--open", "open_only", is_flag=True, help="Only referrals still open.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@db_option
def referral_list(decision_id: int | None, open_only: bool, as_json: bool, db: Path | None) -> None:
    """List referrals with their current status."""
    with open_book(db, readonly=True) as book:
        for ref in book.referrals(decision_id, open_only):
            if as_json:
                click.echo(json.dumps({"referral": ref.id, "decision": ref.decision_id, "code": ref.code,
                                       "provider": ref.provider, "status": ref.status,
                                       "appointment": ref.appointment}))
            else:
                when = f" on {ref.appointment}" if ref.appointment else ""
                click.echo(clean(f"{ref.id:>5}  decision {ref.decision_id:<6} {ref.code:<26} {ref.status:<15}"
                                 f"{ref.provider}{when}"))


@click.command()
@db_option
@click.option("--decision", "decision_id", type=int, default=None, help="Replay one decision.")
@click.option("--all", "replay_all", is_flag=True, help="Replay every recorded decision.")
@click.option("--under", type=click.Choice(["recorded", "current"]), default="recorded",
              help="Re-decide under the recorded rule set (default) or today's.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@click.option("--workers", type=click.IntRange(0, 64), default=0,
              help="Processes replaying (default: one per core, for large runs).")
def replay(db: Path | None, decision_id: int | None, replay_all: bool, under: str, as_json: bool,
           workers: int) -> None:
    """Re-decide recorded decisions and report MATCH, MISMATCH, INPUTS_ALTERED or UNKNOWN_RULESET.

    Exit status 1 unless every decision MATCHes.

    \b
    Examples:
      pathways replay --all
      pathways replay --decision 12 --under current
    """
    from engine.casebook.replay import MATCH, replay_many

    if (decision_id is None) == (not replay_all):
        raise click.UsageError("give --decision ID or --all")
    with open_book(db, readonly=True) as book:
        ids = book.decision_ids() if decision_id is None else [decision_id]
        bad = 0
        counts: dict[str, int] = {}
        for result in replay_many(book, ids, under_current=(under == "current"), workers=workers,
                                  skip_erased=replay_all):
            counts[result.status] = counts.get(result.status, 0) + 1
            bad += result.status != MATCH
            if as_json:
                click.echo(json.dumps(result.to_data()))
            else:
                detail = ("; " + "; ".join(result.differences)) if result.differences else ""
                click.echo(clean(f"{result.decision:>6} {result.case:<14} {result.status}{detail}"))
        if not as_json:
            click.echo(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no decisions recorded")
        erased = len(ids) - sum(counts.values())
        if erased:
            fail(f"{erased} decision(s) erased while replaying were skipped")
    if bad:
        raise click.exceptions.Exit(EXIT_CHECK_FAILED)


@click.group()
def audit() -> None:
    """Verify the audit chain, and print or keep its anchor."""


def _read_anchor(path: Path | None) -> Any:
    """An anchor file written by `audit anchor -o`."""
    from engine.casebook.audit import load_anchor

    return None if path is None else load_anchor(path)


@audit.command("verify")
@db_option
@file_option("--anchor", "anchor_file",
             help="An anchor file kept outside the database: also catches truncation and rewrites.")
@file_option("--pubkey", "pubkey_file",
             help="The public key (KEY.pub) that signs checkpoints; needed with --checkpoint.")
@click.option("--checkpoint", "checkpoint_files", multiple=True,
              type=FILE, metavar="FILE",
              help="A signed checkpoint kept outside the book (repeatable): also catches a rewritten or cut "
                   "chain and rows erased without a signed erasure; events after the last are named unwitnessed.")
@click.option("--since-mark", "since_mark", is_flag=True,
              help="Check only what came after the last full, clean verify (its verification mark): the chain "
                   "since, and the rows the newer events vouch for; rows checked then are not read again.")
@click.option("--no-mark", "no_mark", is_flag=True,
              help="Leave no verification mark (a full, clean verify leaves one outside the book by default).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def audit_verify(db: Path | None, anchor_file: Path | None, pubkey_file: Path | None,
                 checkpoint_files: tuple[Path, ...], since_mark: bool, no_mark: bool, as_json: bool) -> None:
    """Check the audit chain and every recorded row; names the first broken event. Exit 1 if broken.

    A full, clean verify leaves a verification mark (the last event checked, when, the counts;
    nothing personal) in Pathways' state folder, outside the book; --since-mark then checks only
    what came after it.

    \b
    Examples:
      pathways audit verify
      pathways audit verify --since-mark
      pathways audit verify --anchor /secure/pathways-anchor.json
      pathways audit verify --pubkey /secure/checkpoint.key.pub --checkpoint /secure/checkpoint.json
    """
    from engine.casebook import marks
    from engine.cli.state import marks_dir

    if since_mark and (anchor_file is not None or checkpoint_files or pubkey_file is not None):
        raise click.UsageError("--since-mark checks only what came after the mark: give --anchor and "
                               "--checkpoint to a full verify")
    anchor = _read_anchor(anchor_file)
    points, public = _read_checkpoints(pubkey_file, checkpoint_files)
    report = since = mark = None
    scope = ""
    with open_book(db, readonly=True) as book:
        book_id = book.book_id() if since_mark or not no_mark else None
        earlier = marks.load(marks_dir(), book_id) if since_mark and book_id else None
        if earlier is not None:
            since = book.verify_since(earlier)
            count, problems, scope = since.events, since.problems, since.scope
        else:
            count, problems, mark = book.verify_marked(anchor)
            if since_mark:
                scope = "no verification mark for this book yet: verified in full"
        if points:
            report = book.verify_checkpoints(points, public)
            problems += report.problems
    saved = _save_mark(mark, no_mark or bool(problems), as_json)
    if as_json:
        click.echo(json.dumps({"events": count, "ok": not problems,
                               "first_broken": problems[0].seq if problems else None,
                               "problems": [str(p) for p in problems],
                               "details": [p.to_data() for p in problems],
                               **(report.to_data() if report else {}),
                               **({"since_mark": since.to_data()} if since else {}),
                               **({"scope": scope} if scope else {}),
                               "mark_saved": saved}))
    elif problems:
        for problem in problems:
            fail(str(problem))
        click.echo(clean(f"audit chain BROKEN: {len(problems)} problem(s) in {count} events; first: {problems[0]}"))
    else:
        click.echo(f"audit chain OK: {count} events" + (", anchor matched" if anchor else "")
                   + (f", checkpoint signature good to event {report.witnessed}" if report else "")
                   + (f" ({scope})" if scope else ""))
    if since is not None and not since.full and not as_json:
        click.echo("rows recorded up to the mark were not read again: a plain `pathways audit verify` checks "
                   "every row")
    if report is not None and report.unwitnessed and not as_json:
        first, last = report.unwitnessed
        click.echo(f"unwitnessed: events {first}-{last} came after the last checkpoint; no checkpoint vouches "
                   "for them yet")
    if problems:
        raise click.exceptions.Exit(EXIT_CHECK_FAILED)


def _save_mark(mark: Any, skip: bool, as_json: bool) -> bool:
    """Keep a clean full verify's mark in the state folder; a mark that cannot be written is said, not fatal."""
    if mark is None or skip:
        return False
    from engine.casebook import marks
    from engine.cli.state import marks_dir

    try:
        return marks.save(marks_dir(), mark) is not None
    except OSError as exc:
        if not as_json:
            fail(f"verification mark not saved ({exc.strerror or type(exc).__name__}): the next --since-mark "
                 "will verify in full")
        return False


def _read_checkpoints(pubkey_file: Path | None, files: tuple[Path, ...]) -> tuple[list[Any], Any]:
    """The checkpoints and the public key that signs them (both or neither, else a usage error)."""
    if not files and pubkey_file is None:
        return [], None
    if not files or pubkey_file is None:
        raise click.UsageError("--checkpoint and --pubkey go together")
    from engine.casebook.checkpoints import read_checkpoint
    from engine.casebook.signing import load_public

    return [read_checkpoint(path) for path in files], load_public(pubkey_file)


@audit.command("anchor")
@db_option
@file_option("-o", "--output", help="Also write the anchor to this new file (keep it off this machine).")
@click.option("--json", "as_json", is_flag=True, help="Print the anchor as JSON (it always is: accepted for scripts).")
def audit_anchor(db: Path | None, output: Path | None, as_json: bool) -> None:
    """Print the chain's head (seq and hash), to verify against later.

    \b
    Example:
      pathways audit anchor -o /media/usb/anchor-2010-03-01.json
    """
    with open_book(db, readonly=True) as book:
        head = book.head()
    if head is None:
        raise InputError("the audit log is empty")
    text = json.dumps(head.to_data())
    if output is not None:
        with create_private(output) as handle:
            handle.write(text + "\n")
    click.echo(text)


@click.command()
@db_option
@click.option("--what", type=click.Choice(["decisions", "referrals"]), default="decisions", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "jsonl"]), default="csv", show_default=True,
              help="csv (lists space-joined, times YYYY-MM-DD HH:MM:SS UTC), json (one array) or jsonl (a line each).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default=None,
              help="Write to this new file (created 0600); '-' or none: standard output.")
@click.option("--identified", is_flag=True,
              help="Include case references and NINOs. Only with a lawful need: the export is then personal data.")
def export(db: Path | None, what: str, fmt: str, output: Path | None, identified: bool) -> None:
    """Export decisions or referrals, pseudonymised by default (no NINO; case refs keyed-hashed).

    \b
    Examples:
      pathways export --what decisions --format csv -o decisions.csv
      pathways export --what referrals --format json -o - | jq .
      pathways export --format jsonl > decisions.jsonl
    """
    import sys

    from engine.casebook.export import (
        DECISION_FIELDS,
        REFERRAL_FIELDS,
        decision_rows,
        referral_rows,
        write_export,
    )

    to_stdout = output is None or str(output) == "-"
    with open_book(db, readonly=True) as book:
        nino = ("nino",) if identified else ()
        if what == "decisions":
            rows, fields = decision_rows(book, identified), DECISION_FIELDS + nino
        else:
            rows, fields = referral_rows(book, identified), REFERRAL_FIELDS + nino
        if to_stdout:
            count = write_export(rows, fmt, sys.stdout, fields)
        else:
            assert output is not None
            with create_private(output, newline="") as handle:
                count = write_export(rows, fmt, handle, fields)
    if not to_stdout:
        click.echo(f"{count} {what} written to {clean(output)}", err=True)


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path, allow_dash=True))
@db_option
@training_option
@click.option("--workers", type=click.IntRange(0, 64), default=0,
              help="Processes deciding cases (default: one per core; 1 = no worker processes).")
@click.option("--adviser", default=None, help="Adviser id recorded with every decision (default: login name).")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Decide every case with durable_rules (by default a case of a class already decided is "
                   "rendered from that decision, byte for byte the same).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def batch(input_path: Path, db: Path | None, training: bool | None, workers: int, adviser: str | None,
          no_cache: bool, quiet: bool, as_json: bool) -> None:
    """Decide and record every case in a .jsonl file (`-`: JSON Lines on standard input) or a folder of case files.

    Bad lines are reported (by line) and skipped; each chunk of cases is recorded whole or not at
    all; cases already in the book are skipped, so an interrupted run can simply be run again.

    \b
    Examples:
      pathways cases generate 20000 --seed 1 -o caseload.jsonl
      pathways batch caseload.jsonl --db district.db --training
      pathways cases generate 500 -o - | pathways batch - --db district.db
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from engine.casebook.batch import count_items, run_batch

    if str(input_path) != "-" and not input_path.exists():
        raise InputError("no such file or folder", str(input_path))
    total = count_items(input_path)
    columns = (TextColumn("deciding"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:>8.0f} cases/s"), TimeRemainingColumn())
    started = [0.0]
    import time

    with open_book(db, training) as book, Progress(*columns, disable=quiet, transient=True,
                                                   console=_stderr_console()) as progress:
        task = progress.add_task("batch", total=total, rate=0.0)
        started[0] = time.perf_counter()

        def advance(n: int) -> None:
            done = progress.tasks[0].completed + n
            elapsed = time.perf_counter() - started[0]
            progress.update(task, completed=done, rate=done / elapsed if elapsed else 0.0)

        summary = run_batch(input_path, book, adviser or default_adviser(), workers,
                            on_refused=lambda msg: progress.console.print(
                                f"pathways: {clean(msg)}", markup=False, highlight=False, soft_wrap=True),
                            on_progress=advance, cache=not no_cache)
    if as_json:
        click.echo(json.dumps({"decided": summary.decided, "recorded": summary.recorded, "already": summary.already,
                               "refused": summary.refused, "seconds": round(summary.seconds, 3),
                               "cases_per_second": round(summary.rate(), 1), "interrupted": summary.interrupted,
                               "last_line": summary.last_line}))
    else:
        click.echo(f"decided {summary.decided}, recorded {summary.recorded}, already recorded {summary.already}, "
                   f"refused {summary.refused} in {summary.seconds:.1f} s ({summary.rate():.0f} cases/s)")
    if summary.interrupted:
        where = f" (input line {summary.last_line})" if summary.last_line else ""
        fail(f"interrupted: {summary.recorded} recorded up to the last whole chunk{where}; "
             "the book is consistent: run the same command again to record the rest")
        raise click.exceptions.Exit(130)
    if summary.refused:
        raise click.exceptions.Exit(2)


def _stderr_console() -> Any:
    """A rich console on standard error (progress never mixes with output)."""
    from rich.console import Console

    return Console(stderr=True)


@click.command()
@click.option("--cases", type=click.IntRange(100, 1_000_000), default=5000, show_default=True,
              help="Synthetic cases for the throughput figures.")
@click.option("--workers", type=click.IntRange(0, 64), default=0, help="Processes (default: one per core).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--big", is_flag=True,
              help="Also measure the case list on a big training book, built once in the cache folder and reused.")
@click.option("--big-cases", type=click.IntRange(1000, 10_000_000), default=1_000_000, show_default=True,
              help="Cases in the big book.")
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where the big book is kept (default: the user's cache folder).")
@click.option("--anchors/--no-anchors", default=True, show_default=True,
              help="Also measure each figure beside its anchor (plain SQLite, the plain-Python evaluator) as ratios.")
def bench(cases: int, workers: int, as_json: bool, big: bool, big_cases: int, cache_dir: Path | None,
          anchors: bool) -> None:
    """Measure this machine: latency, decisions/s with and without recording, replay, audit verify.

    Uses synthetic cases in a temporary training book; nothing else is touched. With --big, also
    times the case list (open, search) on a training book of --big-cases generated cases, through
    the engine's queries and through the UI; building that book takes long the first time.

    \b
    Example:
      pathways bench --cases 20000
      pathways bench --big
    """
    from rich.console import Console
    from rich.table import Table

    from engine.cli.benchmark import ROWS, run_bench

    console = _stderr_console()
    figures = run_bench(cases, workers, progress=lambda s: console.print(f"measuring: {s}", markup=False))
    if anchors:
        figures["anchored"] = _anchored(cases, console)
    big_figures = _bench_big(big_cases, cache_dir, console) if big else None
    if as_json:
        click.echo(json.dumps(figures if big_figures is None else {**figures, "big": big_figures}, indent=2))
        return
    table = Table(title=f"Pathways bench: {figures['machine']}, {cases:,} cases")
    table.add_column("measure")
    table.add_column("figure", justify="right")
    for label, key, fmt in ROWS:
        table.add_row(label, fmt.format(figures[key]))
    Console().print(table)
    click.echo(f"replay all MATCH: {figures['replay_all_match']}; audit chain OK: {figures['verify_ok']}")
    if anchors:
        _print_anchored(figures["anchored"])
    if big_figures is not None:
        Console().print(_caselist_table(big_figures))


def _bench_big(cases: int, cache_dir: Path | None, console: Any) -> dict[str, Any]:
    """The big book (built once, then reused) and the case list's figures on it (#12)."""
    from engine.cli.benchmark import run_caselist_bench
    from engine.cli.bigbook import big_book

    def say(text: str) -> None:
        console.print(f"measuring: {text}", markup=False)

    book = big_book(cases, cache_dir, progress=say)
    figures = run_caselist_bench(book.path, progress=say)
    return {"book": str(book.path), "built_seconds": book.built_seconds, **figures}


def _caselist_table(figures: dict[str, Any]) -> Any:
    """The case list's figures as a table: engine queries (wall and CPU) and the UI (wall)."""
    from rich.table import Table

    table = Table(title=f"Case list on a book of {figures['caselist_cases']:,} cases (median ms)")
    table.add_column("measure")
    table.add_column("through", justify="left")
    table.add_column("wall ms", justify="right")
    table.add_column("CPU ms", justify="right")
    for _key, label, wall, cpu in figures["caselist_engine"]:
        table.add_row(label, "engine query", f"{wall:,.1f}", f"{cpu:,.1f}")
    for _key, label, wall, cpu in figures["caselist_plugins"]:
        table.add_row(label, "UI (Pilot)", f"{wall:,.1f}", f"{cpu:,.1f}")
    table.add_row("count the cases (after the first page is shown)", "engine query",
                  f"{figures['caselist_count_ms']:,.1f}", "")
    return table


def erasure_options(reasons: tuple[str, ...], default: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options erase and retain share: a reason from a fixed list, a reference, the data-protection key."""
    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        func = file_option("--key", "key_file",
                           help="The data-protection key that signs the erasure (required in a live book; "
                                 "see `pathways audit register-key`).")(func)
        func = click.option("--reference", default=None, metavar="REF",
                            help="The request's reference (ticket or letter number: 1-40 letters, digits, "
                                 "/ . _ -), never the person.")(func)
        return click.option("--reason", type=click.Choice(reasons), default=default, show_default=True,
                            help="Why (kept in the audit log).")(func)
    return wrap


def _erasure_key(path: Path | None) -> Any:
    """The data-protection private key named by --key, or None."""
    if path is None:
        return None
    from engine.casebook.signing import load_private

    return load_private(path)


def _read_nino(source: str) -> str:
    """The NINO to erase, from a file or standard input (never from the command line, where `ps` shows it)."""
    from engine.model.nino import nino_problem

    try:
        if source == "-":
            import sys

            text = sys.stdin.readline(64)
        else:
            with open(source, encoding="ascii") as handle:
                text = handle.readline(64)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the National Insurance number ({type(exc).__name__})", source,
                         key="--nino-from") from None
    nino = text.strip().upper()
    problem = nino_problem(nino)
    if problem:
        raise InputError(f"does not hold a National Insurance number: {problem}", source, key="--nino-from")
    return nino


def _report_erasure(done: Any, as_json: bool, data: dict[str, Any], words: str) -> None:
    """Print what an erasure did; exit 1, saying so, when the data is not yet scrubbed from the file."""
    if as_json:
        click.echo(escape_json(json.dumps({**data, "decisions_erased": done.decisions, "scrubbed": done.scrubbed},
                                          ensure_ascii=False)))
    else:
        click.echo(clean(words))
    if not done.scrubbed:
        fail(f"erased {done.decisions} decision(s) from the case book, but their data is not yet scrubbed from "
             "the file: another program is reading the book; close it, then run `pathways scrub`")
        raise click.exceptions.Exit(EXIT_CHECK_FAILED)


def _anchored(cases: int, console: Any) -> dict[str, Any]:
    """The anchored figures (engine/cli/anchors.py), with the machine's load when measured."""
    from engine.cli.anchors import env_note, run_anchored

    figures = run_anchored(cases, progress=lambda s: console.print(f"measuring: {s}", markup=False))
    figures["machine_load"] = env_note()
    return figures


def _print_anchored(figures: dict[str, Any]) -> None:
    """Each figure beside its anchor from the same run, and the ratio."""
    from rich.console import Console
    from rich.table import Table

    from engine.cli.anchors import anchored_lines

    table = Table(title=f"Beside their anchors, same run ({figures['clock']}; {figures['machine_load']})")
    for column in ("measure", "Pathways", "anchor", "ratio"):
        table.add_column(column, justify="left" if column in ("measure", "anchor") else "right")
    for row in anchored_lines(figures):
        table.add_row(*row)
    Console().print(table)
    click.echo(f"anchored replay all MATCH: {figures['replay_all_match']}; one replay MATCH: "
               f"{figures['one_replay_match']}; audit chain OK: {figures['verify_ok']}")


@click.command()
@click.argument("case_ref", metavar="[CASE]", required=False)
@click.option("--nino-from", "nino_from", metavar="FILE", default=None,
              help="Erase every case of the National Insurance number in FILE ('-': standard input), under "
                   "any case reference.")
@db_option
@click.option("--adviser", default=None, help="On whose behalf (default: login name).")
@erasure_options(("erasure_request", "recorded_in_error", "wrong_claimant", "duplicate_record",
                  "legal_obligation", "court_order"), "erasure_request")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print what was erased as one JSON object.")
def erase(case_ref: str | None, nino_from: str | None, db: Path | None, adviser: str | None, reason: str,
          reference: str | None, key_file: Path | None, yes: bool, as_json: bool) -> None:
    """Erase a claimant's records: every decision of one case reference, or of one NINO, from the case book.

    The rows are deleted and scrubbed from the file (secure_delete, WAL checkpoint); the audit
    chain keeps only keyed references and still verifies. In a live book the erasure is signed with
    the book's data-protection key (--key). Exit 1 if another program holds the book open so the
    data could not yet be scrubbed from the file.

    \b
    Examples:
      pathways erase TRN-0001 --reference DSAR-2024-118 --yes
      pathways erase --nino-from request.txt --key ~/dp.key --reason erasure_request --yes
    """
    if (case_ref is None) == (nino_from is None):
        raise click.UsageError("give a case reference or --nino-from, not both")
    if nino_from == "-" and not yes:
        raise click.UsageError("give --yes when the National Insurance number comes from standard input")
    nino = _read_nino(nino_from) if nino_from is not None else None
    what = f"case {clean(case_ref)}" if case_ref is not None else "that National Insurance number"
    if not yes and not click.confirm(f"Erase every record of {what}? This cannot be undone", err=as_json):
        raise click.exceptions.Exit(1)
    key = _erasure_key(key_file)
    with open_book(db, create=False) as book:
        who = adviser or default_adviser()
        if nino is not None:
            done = book.erase_nino(nino, who, reason, reference, key)
        else:
            done = book.erase(str(case_ref), who, reason, reference, key)
    data = {"case": case_ref} if case_ref is not None else {"nino": "(given)"}
    _report_erasure(done, as_json, data,
                    f"erased {what}: {done.decisions} decision(s) and their referrals, draft and status")


def parse_duration(text: str, now: Any) -> Any:
    """The moment `text` (e.g. 7y, 18m, 6w, 90d) before `now`; a usage error if malformed."""
    import datetime as dt
    import re

    match = re.fullmatch(r"([0-9]{1,4})([ymwd])", text.strip(), re.ASCII)
    if not match:
        raise click.BadParameter(f"{text!r} is not a duration (e.g. 7y, 18m, 6w, 90d)", param_hint="--older-than")
    amount, unit = int(match.group(1)), match.group(2)
    if unit in "wd":
        return now - dt.timedelta(days=amount * (7 if unit == "w" else 1))
    months = amount * (12 if unit == "y" else 1)
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    if year < 1:
        raise click.BadParameter(f"{text!r} reaches before year 1", param_hint="--older-than")
    day = min(now.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30,
                        31, 31, 30, 31, 30, 31][month])
    return now.replace(year=year, month=month + 1, day=day)


@click.command()
@db_option
@click.option("--older-than", "older_than", required=True, metavar="DURATION",
              help="Erase cases recorded longer ago than this: 7y, 18m, 6w or 90d.")
@click.option("--adviser", default=None, help="On whose behalf (default: login name).")
@erasure_options(("retention_schedule", "legal_obligation"), "retention_schedule")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print what was erased as one JSON object.")
def retain(db: Path | None, older_than: str, adviser: str | None, reason: str, reference: str | None,
           key_file: Path | None, yes: bool, as_json: bool) -> None:
    """Apply a retention period: erase every case recorded before it, recorded in the audit log.

    In a live book the erasure is signed with the book's data-protection key (--key).

    \b
    Example:
      pathways retain --older-than 6y --key ~/dp.key --yes
    """
    import datetime as dt

    from engine.casebook.audit import now as audit_now

    cutoff = parse_duration(older_than, dt.datetime.fromisoformat(audit_now())).isoformat()
    if not yes and not click.confirm(f"Erase every case recorded before {cutoff}?", err=as_json):
        raise click.exceptions.Exit(1)
    key = _erasure_key(key_file)
    with open_book(db, create=False) as book:
        done = book.retain(cutoff, adviser or default_adviser(), reason, reference, key)
    _report_erasure(done, as_json, {"before": cutoff},
                    f"retention applied: {done.decisions} decision(s) recorded before {cutoff} erased")


@click.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print whether the file was scrubbed as JSON.")
def scrub(db: Path | None, as_json: bool) -> None:
    """Push erased data out of the case book file now (exit 1 while another program still reads the book).

    \b
    Example:
      pathways scrub
    """
    with open_book(db, create=False) as book:
        done = book.scrub()
    if as_json:
        click.echo(json.dumps({"scrubbed": done}))
        if not done:
            raise click.exceptions.Exit(EXIT_CHECK_FAILED)
        return
    if not done:
        fail("not yet scrubbed from the file: another program is reading the case book; close it and try again")
        raise click.exceptions.Exit(EXIT_CHECK_FAILED)
    click.echo("scrubbed: erased data has left the file")


def _report_copy(report: Any, as_json: bool, what: str) -> None:
    """Print what a backup or restore wrote and what checking it found; exit 1 if it does not verify."""
    if as_json:
        click.echo(escape_json(json.dumps(report.to_data(), ensure_ascii=False)))
    else:
        head = f"head event {report.head.seq} ({report.head.hash[:16]}...)" if report.head else "no events"
        verdict = "audit chain OK" if not report.problems else f"audit chain BROKEN: {report.problems[0]}"
        click.echo(clean(f"{what} {report.path} ({report.mode}, {report.size:,} bytes): integrity ok, "
                         f"{verdict}: {report.events} events, {head}"))
    if report.problems:
        raise click.exceptions.Exit(EXIT_CHECK_FAILED)


@click.command()
@click.argument("dest", metavar="DEST", type=FILE)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the copy's checks as one JSON object.")
def backup(dest: Path, db: Path | None, as_json: bool) -> None:
    """Copy the case book into the new file DEST (0600) with SQLite's online backup, then verify the copy.

    Safe while others record. The copy is one self-contained file; after writing it is opened
    read-only for integrity_check and the whole audit verify, and its chain's head must be an
    event of this book. Exit 1 if the copy does not verify (a corrupt copy is removed).

    \b
    Examples:
      pathways backup /media/usb/pathways-2026-11-26.db
      pathways backup nightly.db --db district.db --json
    """
    from engine.casebook.backup import backup as make_backup

    with open_book(db, readonly=True) as book:
        report = make_backup(book.conn, dest)
    _report_copy(report, as_json, "backup written to")


@click.command()
@click.argument("src", metavar="SRC", type=FILE)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the restored book's checks as one JSON object.")
def restore(src: Path, db: Path | None, as_json: bool) -> None:
    """Restore the backup SRC into a new case book (--db PATH; never over an existing book), verified.

    SRC is checked first (integrity_check and audit verify; a backup that fails is refused and
    nothing is written), copied with SQLite's backup API into a new 0600 file, and checked again.

    \b
    Example:
      pathways restore /media/usb/pathways-2026-11-26.db --db restored.db
    """
    from engine.casebook.backup import restore as do_restore
    from engine.casebook.book import default_db_path

    report = do_restore(src, db or default_db_path())
    _report_copy(report, as_json, "restored")


@click.command("datasette-metadata")
@db_option
@click.option("--name", default=None, help="The database's name in Datasette (default: the book's file name "
                                          "without its extension, as Datasette names it).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default=None,
              help="Write to this new file; '-' or none: standard output.")
def datasette_metadata(db: Path | None, name: str | None, output: Path | None) -> None:
    """Print Datasette metadata for a case book: table, view and column descriptions, and canned queries.

    Canned queries: open referrals by age, decisions by edition and outcome, decisions where the
    adviser declined an outcome. The book is not opened.

    \b
    Example:
      pathways datasette-metadata --db book.db -o metadata.json
      datasette book.db --metadata metadata.json
    """
    from engine.casebook.book import default_db_path
    from engine.casebook.datasette import metadata

    text = json.dumps(metadata(name or (db or default_db_path()).stem), indent=2) + "\n"
    if output is None or str(output) == "-":
        click.echo(text, nl=False)
        return
    with create_private(output) as handle:
        handle.write(text)
    click.echo(f"Datasette metadata written to {clean(output)}", err=True)

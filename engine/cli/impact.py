"""`pathways impact`: what moving a caseload from one edition's rules to another's would change."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli.options import file_option
from engine.cli.root import EXIT_BAD_INPUT, fail
from engine.errors import InputError
from engine.textsafe import clean

if TYPE_CHECKING:
    from engine.intake.impact import Tally
    from engine.model.case import Case
    from engine.policy.driver import Engine

SHOWN = 20
"""Changed cases listed in readable output (JSON lists them all)."""


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path), required=False)
@file_option("--db", "db",
             help="Instead of INPUT, every decision recorded in this case book (its answers as recorded).")
@click.option("--from", "old", metavar="E1", required=True, help="The edition whose rules the caseload has now.")
@click.option("--to", "new", metavar="E2", required=True, help="The edition whose rules it would move to.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, every changed case streamed into it.")
@file_option("--html", "html_path",
             help="Also write an HTML report with a bar chart (a new file, readable only by you).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def impact(input_path: Path | None, db: Path | None, old: str, new: str, as_json: bool, html_path: Path | None,
           quiet: bool) -> None:
    """Decide every case's answers under two editions' rules: outcomes gained and lost, and which cases change.

    INPUT is a case file, a folder of case files, or a .jsonl file; or --db, a case book, whose
    recorded decisions' answers are read (the book is not changed). Each case keeps its own
    answers and date (date checks aside); a case that is not valid is reported and skipped (exit 2
    at the end). Memory stays flat however many cases there are.

    \b
    Examples:
      pathways impact cases/ --from 2008-announced --to 2009-voluntary
      pathways impact caseload.jsonl --from 2009-voluntary --to 2017-recovery --json > impact.json
      pathways impact --db pathways.db --from 2009-voluntary --to 2017-recovery
    """
    from engine.files import create_private
    from engine.intake.impact import Tally
    from engine.policy.driver import default_engine

    engine = default_engine()
    book = engine.book
    for edition in (old, new):
        if edition not in book.rulesets:
            fail(f"no edition {clean(edition)} (known: {', '.join(book.rulesets)})")
            raise click.exceptions.Exit(EXIT_BAD_INPUT)
    if (input_path is None) == (db is None):
        raise click.UsageError("give INPUT (a case file, folder or .jsonl) or --db (a case book), not both")
    if input_path is not None and not input_path.exists():
        raise InputError("no such file or folder", str(input_path))
    html_handle = create_private(html_path) if html_path is not None else None
    kinds = {code: info.kind for code, info in book.outcomes.items()}
    requirements = frozenset(code for code, kind in kinds.items() if kind == "requirement")
    tally = Tally(old, new, requirements)
    try:
        if db is not None:
            from engine.cli.book import open_book

            with open_book(db, readonly=True) as case_book:
                ids = case_book.decision_ids()
                _decide_all(_recorded_cases(case_book, ids), len(ids), engine, tally, as_json, quiet)
        else:
            from engine.intake.impact import count_cases
            from engine.intake.scenarios import iter_cases

            assert input_path is not None
            _decide_all(iter_cases(input_path), count_cases(input_path), engine, tally, as_json, quiet)
    except BaseException:
        if html_handle is not None and html_path is not None:  # no half-made report left behind
            html_handle.discard()
        raise
    if html_handle is not None:
        from engine.cli.impact_page import render_page

        with html_handle:
            html_handle.write(render_page(tally, kinds, {c: i.title for c, i in book.outcomes.items()}))
    if tally.refused:
        fail(f"{tally.refused} case(s) refused")
        raise click.exceptions.Exit(EXIT_BAD_INPUT)


def _recorded_cases(case_book: Any, ids: list[int]) -> Iterator[Case | InputError]:
    """Each recorded decision's answers as a validated case (one record at a time: memory stays flat)."""
    from engine.intake.loader import RawCase
    from engine.intake.validate import build_case

    for decision_id in ids:
        record = case_book.decision_record(decision_id)
        source = f"case book decision {decision_id}"
        try:
            yield build_case(RawCase(json.loads(record.inputs or ""), source, None, lambda _path: None))
        except (InputError, ValueError):
            yield InputError("its recorded answers no longer validate", source)


def _decide_all(items: Iterable[Case | InputError], total: int | None, engine: Engine, tally: Tally, as_json: bool,
                quiet: bool) -> None:
    """Decide every case both ways with a progress bar on standard error, streaming JSON or printing a summary."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from engine.intake.impact import run_items

    book = engine.book
    old, new = tally.old, tally.new
    columns = (TextColumn("deciding both ways"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), disable=quiet, transient=True) as progress:
        task = progress.add_task("impact", total=total)
        if as_json:
            click.echo(f'{{"from": {json.dumps(old)}, "to": {json.dumps(new)}, "changes": [', nl=False)
        first = True
        for item in run_items(engine, items, book.ruleset(old), book.ruleset(new), tally):
            progress.advance(task)
            if isinstance(item, InputError):
                progress.console.print(f"pathways: {clean(str(item))}", markup=False, highlight=False, soft_wrap=True)
            elif item is not None and as_json:
                click.echo(("\n" if first else ",\n") + json.dumps(item.to_data(), ensure_ascii=False), nl=False)
                first = False
    summary = tally.summary()
    if as_json:
        rest = json.dumps({k: v for k, v in summary.items() if k not in ("from", "to")}, ensure_ascii=False)[1:]
        click.echo("\n], " + rest)
    else:
        click.echo(clean(_readable(tally), keep_newlines=True))


def _readable(tally: Tally) -> str:
    """The totals, the outcomes gained and lost, and the first changed cases."""
    lines = [f"From {tally.old} to {tally.new}: {tally.changed:,} of {tally.cases:,} cases change"
             + (f" ({tally.refused:,} refused)" if tally.refused else "") + "."]
    lines.append(f"Requirements: {tally.requirements_gained:,} cases would gain one, "
                 f"{tally.requirements_lost:,} would lose one.")
    outcomes = tally.outcomes()
    if outcomes:
        width = max(len(code) for code in outcomes)
        lines += ["", f"{'outcome':<{width}}  {'gained':>7}  {'lost':>7}"]
        lines += [f"{code:<{width}}  {counts['gained']:>7,}  {counts['lost']:>7,}" for code, counts in outcomes.items()]
        lines += ["", "Cases that change:"]
        for change in tally.kept[:SHOWN]:
            parts = ([f"gains {', '.join(change.gained)}"] if change.gained else []) + \
                    ([f"loses {', '.join(change.lost)}"] if change.lost else [])
            lines.append(f"  {change.case}: {'; '.join(parts)}")
        if tally.changed > SHOWN:
            lines.append(f"  ... and {tally.changed - SHOWN:,} more (--json lists every one)")
    return "\n".join(lines)

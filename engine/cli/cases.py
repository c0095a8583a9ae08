"""`pathways cases ...`: run scenario expectations, and generate synthetic cases."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from engine.cli.root import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, fail
from engine.errors import InputError
from engine.files import create_private
from engine.textsafe import clean, escape_json


@click.group()
def cases() -> None:
    """Work with case files: test scenario expectations, generate synthetic cases."""


@cases.command("test")
@click.argument("path", required=False, type=click.Path(path_type=Path, allow_dash=True))
@click.option("-k", "pattern", metavar="PATTERN", default=None,
              help="Only cases whose reference, file name or title holds PATTERN (a glob if it has * ? or [).")
@click.option("-v", "--verbose", is_flag=True, help="Print the decision trace of each failing case.")
@click.option("--json", "as_json", is_flag=True, help="One JSON result a line.")
def test_command(path: Path | None, pattern: str | None, verbose: bool, as_json: bool) -> None:
    """Run the `expect:` blocks of case files (default: the bundled scenario library; `-`: standard input).

    Exit status 1 when an expectation fails; 2 when a case file is refused or there is nothing to
    test (no case files, none with an `expect:` block, or none matching -k).

    \b
    Examples:
      pathways cases test
      pathways cases test my-scenarios/ -k 'TRN-00*' --verbose
      pathways cases test -k heroin --json
    """
    from cases import CASES_DIR
    from engine.intake.scenarios import check_expectations, iter_case_sources, matches
    from engine.model.report import render_trace
    from engine.policy.driver import default_engine

    engine = default_engine()
    folder = path or CASES_DIR
    passed = failed = skipped = refused = found = 0
    for source, item in iter_case_sources(folder):
        if isinstance(item, InputError):  # a broken case file is reported whatever -k says
            fail(str(item))
            refused += 1
            continue
        if pattern is not None and not matches(pattern, item, source):
            continue
        found += 1
        check = check_expectations(item, engine.decide(item))
        if not check.checked:
            skipped += 1
            continue
        if check.passed:
            passed += 1
        else:
            failed += 1
        trace = verbose and not check.passed
        if as_json:
            result = {
                "case": item.case,
                "status": "PASS" if check.passed else "FAIL",
                "missing": list(check.missing),
                "unexpected": list(check.unexpected),
                "priority": check.decision.priority,
                "priority_ok": check.priority_ok,
                "open": [o.code for o in check.decision.open],
                "open_ok": check.open_ok,
            }
            if trace:
                result["trace"] = check.decision.to_data()["trace"]
            click.echo(escape_json(json.dumps(result, ensure_ascii=False)))
            continue
        title = clean(item.title or "")
        click.echo(f"{'PASS' if check.passed else 'FAIL'} {clean(item.case)} {title}")
        if check.missing:
            click.echo(f"     expected but missing: {clean(', '.join(check.missing))}")
        if check.unexpected:
            click.echo(f"     not expected: {clean(', '.join(check.unexpected))}")
        if not check.priority_ok and item.expect is not None:
            click.echo(f"     priority: expected {clean(item.expect.priority)}, got {check.decision.priority}")
        if not check.open_ok and item.expect is not None and item.expect.open is not None:
            got = ", ".join(o.code for o in check.decision.open) or "none"
            click.echo(f"     open: expected {clean(', '.join(item.expect.open)) or 'none'}, got {got}")
        if trace:
            click.echo(f"     trace ({clean(source)}):")
            for line in render_trace(check.decision).splitlines():
                click.echo(f"     {clean(line)}")
    if passed + failed == 0 and not refused:
        if pattern is not None and found == 0:
            fail(f"nothing to test: no case in {folder} matches -k {pattern}")
        elif found == 0:
            fail(f"nothing to test: no case files in {folder}")
        else:
            fail(f"nothing to test: none of the {found} case(s) in {folder} has an expect: block")
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    if not as_json:
        summary = f"{passed} passed, {failed} failed"
        if skipped:
            summary += f", {skipped} skipped"
        click.echo(summary)
    if refused:
        fail(f"{refused} case file(s) refused")
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    if failed:
        raise click.exceptions.Exit(EXIT_CHECK_FAILED)


@cases.command("generate")
@click.argument("count", metavar="N", type=click.IntRange(1, 10_000_000))
@click.option("--seed", metavar="S", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random seed: the same N and seed always give the same cases.")
@click.option("-o", "--output", "output", metavar="FILE", type=click.Path(path_type=Path, allow_dash=True),
              help="Write to this new file (created 0600; never overwritten); '-' or none: standard output.")
def generate_command(count: int, seed: int, output: Path | None) -> None:
    """Write N synthetic cases (QQ National Insurance numbers) as JSON Lines, reproducibly.

    Cases SYN-00000001 onwards cover every edition (boundary days included), every benefit valid
    on the date and every pathway. N is 1 to 10,000,000.

    \b
    Examples:
      pathways cases generate 100 --seed 7
      pathways cases generate 100000 --seed 7 -o caseload.jsonl
      pathways evaluate caseload.jsonl --json > decisions.jsonl
      pathways cases generate 5 -o - | pathways evaluate - --json
    """
    from engine.intake.generate import generate_cases

    encode = json.JSONEncoder(separators=(",", ":")).encode
    cases_iter = generate_cases(count, seed)
    if output is None or str(output) == "-":
        out = sys.stdout
        for data in cases_iter:
            out.write(encode(data) + "\n")
        out.flush()
        return
    with create_private(output) as handle:  # named only when whole: a full disk or ^C leaves no partial file
        for data in cases_iter:
            handle.write(encode(data) + "\n")

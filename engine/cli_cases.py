"""`pathways cases ...`: run scenario expectations, and generate synthetic cases."""

from __future__ import annotations

import json
from pathlib import Path

import click

from engine.cli import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, cli, fail
from engine.errors import InputError
from engine.textsafe import clean


@cli.group()
def cases() -> None:
    """Work with case files: test scenario expectations, generate synthetic cases."""


@cases.command("test")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON result a line.")
def test_command(path: Path | None, as_json: bool) -> None:
    """Run the `expect:` blocks of case files (default: the bundled scenario library).

    \b
    Examples:
      pathways cases test
      pathways cases test my-scenarios/
    """
    from cases import CASES_DIR
    from engine.decide import default_engine
    from engine.scenarios import check_expectations, iter_cases

    engine = default_engine()
    passed = failed = skipped = refused = 0
    for item in iter_cases(path or CASES_DIR):
        if isinstance(item, InputError):
            fail(str(item))
            refused += 1
            continue
        check = check_expectations(item, engine.decide(item))
        if not check.checked:
            skipped += 1
            continue
        if check.passed:
            passed += 1
        else:
            failed += 1
        if as_json:
            click.echo(json.dumps({
                "case": item.case,
                "status": "PASS" if check.passed else "FAIL",
                "missing": list(check.missing),
                "unexpected": list(check.unexpected),
                "priority": check.decision.priority,
                "priority_ok": check.priority_ok,
            }))
            continue
        title = clean(item.title or "")
        click.echo(f"{'PASS' if check.passed else 'FAIL'} {item.case} {title}")
        if check.missing:
            click.echo(f"     expected but missing: {', '.join(check.missing)}")
        if check.unexpected:
            click.echo(f"     not expected: {', '.join(check.unexpected)}")
        if not check.priority_ok:
            click.echo(f"     priority: expected {item.expect.priority}, got {check.decision.priority}")
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

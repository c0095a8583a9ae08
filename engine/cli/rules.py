"""`pathways rules lint` and `pathways rules coverage`: checks on the policy files themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from engine.cli.root import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, fail
from engine.errors import InputError


@click.group()
def rules() -> None:
    """Check the rule files and what the scenario library exercises."""


@rules.command("lint")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="A rules folder other than the bundled one.")
def lint_command(directory: Path | None) -> None:
    """Check the rule files: schema, unknown facts, duplicate ids, citations, editions.

    \b
    Example:
      pathways rules lint
    """
    from engine.policy.lint import lint_folder
    from engine.policy.rulebook import read_book
    from rules import RULES_DIR

    folder = directory or RULES_DIR
    findings = lint_folder(folder)
    for finding in findings:
        fail(str(finding))
    if findings:
        raise click.exceptions.Exit(EXIT_CHECK_FAILED)
    book = read_book(folder)
    editions = ", ".join(e.id for e in book.calendar.editions)
    click.echo(f"rules OK: {len(book.rules)} rules, {len(book.outcomes)} outcomes, editions {editions}")


@rules.command("coverage")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the coverage report as JSON.")
@click.option("--strict", is_flag=True, help="Exit 1 when a rule or outcome is never exercised.")
def coverage_command(path: Path | None, as_json: bool, strict: bool) -> None:
    """Which rules and outcome codes the scenario cases exercise, per edition, and which never.

    \b
    Example:
      pathways rules coverage            # the bundled scenario library
    """
    from cases import CASES_DIR
    from engine.intake.scenarios import iter_cases
    from engine.policy.driver import default_engine

    engine = default_engine()
    fired: dict[str, set[str]] = {rs.edition.id: set() for rs in engine.book.all_rulesets()}
    codes: set[str] = set()
    refused = 0
    for item in iter_cases(path or CASES_DIR):
        if isinstance(item, InputError):
            fail(str(item))
            refused += 1
            continue
        decision = engine.decide(item)
        fired[decision.edition] |= {f.rule for f in decision.trace}
        codes |= set(decision.codes)
    never_codes = sorted(set(engine.book.outcomes) - codes)
    editions: dict[str, dict[str, Any]] = {}
    missing_any = bool(never_codes)
    for ruleset in engine.book.all_rulesets():
        ids = [r.id for r in ruleset.rules]
        never = [i for i in ids if i not in fired[ruleset.edition.id]]
        missing_any = missing_any or bool(never)
        editions[ruleset.edition.id] = {
            "rules": len(ids),
            "exercised": len(ids) - len(never),
            "never": never,
        }
    if as_json:
        click.echo(json.dumps({"editions": editions, "outcomes_never_produced": never_codes}, indent=2))
    else:
        for edition, info in editions.items():
            click.echo(f"{edition}: {info['exercised']}/{info['rules']} rules exercised")
            for rule_id in info["never"]:
                click.echo(f"  never: {rule_id}")
        click.echo("outcome codes never produced: " + (", ".join(never_codes) if never_codes else "none"))
    if refused:
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    if strict and missing_any:
        raise click.exceptions.Exit(EXIT_CHECK_FAILED)

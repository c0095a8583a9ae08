"""`pathways rules ...`: checks on the policy files themselves (lint, coverage; verify lives in its own module)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from engine.cli.root import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, fail
from engine.cli.rulesbook import book_command
from engine.cli.rulesdiff import diff_command
from engine.cli.verify import verify_command
from engine.errors import InputError
from engine.textsafe import clean, escape_json


@click.group()
def rules() -> None:
    """Check the rule files, prove their invariants, compare editions, and what the scenarios exercise."""


rules.add_command(verify_command)
rules.add_command(diff_command)
rules.add_command(book_command)


@rules.command("lint")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="A rules folder other than the bundled one.")
@click.option("--seeds", "seeds", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
              help="A folder of the seed documents' text: every quote from a seed must appear in it.")
@click.option("--json", "as_json", is_flag=True,
              help='Print one JSON object: {"ok", "rules", "outcomes", "editions", "findings": [{"file", "line", '
                   '"where", "problem"}]}.')
def lint_command(directory: Path | None, seeds: Path | None, as_json: bool) -> None:
    """Check the rule files: schema, facts, ids, sources and quotes, texts, editions; compile every edition.

    Texts said to the claimant are checked for forbidden words (sanction, working days...),
    adviser-only wording, unexplained jargon and a Flesch reading ease under 50.

    \b
    Examples:
      pathways rules lint
      pathways rules lint --seeds ../shared/seeds
      pathways rules lint --json | jq '.findings[] | "\\(.file):\\(.line) \\(.problem)"'
    """
    from engine.policy.lint import lint_folder
    from engine.policy.rulebook import read_book
    from rules import RULES_DIR

    folder = directory or RULES_DIR
    findings = lint_folder(folder, seeds)
    book = None if findings else read_book(folder)
    if as_json:
        data: dict[str, Any] = {"ok": not findings, "findings": [f.to_data() for f in findings]}
        if book is not None:
            data |= {"rules": len(book.rules), "outcomes": len(book.outcomes),
                     "editions": [e.id for e in book.calendar.editions]}
        click.echo(escape_json(json.dumps(data, ensure_ascii=False)))
    else:
        for finding in findings:
            fail(str(finding))
    if findings:
        raise click.exceptions.Exit(EXIT_CHECK_FAILED)
    assert book is not None
    if not as_json:
        editions = ", ".join(e.id for e in book.calendar.editions)
        click.echo(f"rules OK: {len(book.rules)} rules, {len(book.outcomes)} outcomes, editions {editions}")


@rules.command("coverage")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--conditions", is_flag=True,
              help="Report each condition of each rule: does some case fail on that condition alone?")
@click.option("--json", "as_json", is_flag=True, help="Print the coverage report as JSON.")
@click.option("--strict", is_flag=True, help="Exit 1 when a rule, outcome (or condition) is never exercised.")
def coverage_command(path: Path | None, conditions: bool, as_json: bool, strict: bool) -> None:
    """Which rules and outcome codes the scenario cases exercise, per edition, and which never.

    With --conditions, condition coverage: for each condition of each rule, a case that fails on
    that condition alone (it is false, and the rule would hold if it were true).

    \b
    Examples:
      pathways rules coverage            # the bundled scenario library
      pathways rules coverage --conditions --strict
    """
    from cases import CASES_DIR
    from engine.intake.scenarios import iter_cases
    from engine.model.case import input_values
    from engine.policy.coverage import condition_coverage
    from engine.policy.driver import default_engine

    engine = default_engine()
    fired: dict[str, set[str]] = {rs.edition.id: set() for rs in engine.book.all_rulesets()}
    codes: set[str] = set()
    refused = 0
    seen: list[tuple[str, str, dict[str, Any]]] = []
    for item in iter_cases(path or CASES_DIR):
        if isinstance(item, InputError):
            fail(str(item))
            refused += 1
            continue
        decision = engine.decide(item)
        fired[decision.edition] |= {f.rule for f in decision.trace}
        codes |= set(decision.codes)
        if conditions:
            seen.append((item.case, decision.edition, input_values(item)))
    report: dict[str, Any] = {"editions": {}, "outcomes_never_produced": sorted(set(engine.book.outcomes) - codes)}
    missing_any = bool(report["outcomes_never_produced"])
    for ruleset in engine.book.all_rulesets():
        ids = [r.id for r in ruleset.rules]
        never = [i for i in ids if i not in fired[ruleset.edition.id]]
        missing_any = missing_any or bool(never)
        report["editions"][ruleset.edition.id] = {
            "rules": len(ids),
            "exercised": len(ids) - len(never),
            "never": never,
        }
    if conditions:
        rows = condition_coverage(engine.book.all_rulesets(), seen)
        covered = sum(r.covered for r in rows)
        report["conditions"] = {
            "total": len(rows), "covered": covered,
            "percent": round(100 * covered / len(rows), 1) if rows else 100.0,
            "uncovered": [{"edition": r.edition, "rule": r.rule, "condition": r.condition} for r in rows
                          if not r.covered],
        }
        missing_any = missing_any or covered < len(rows)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        for edition, info in report["editions"].items():
            click.echo(f"{edition}: {info['exercised']}/{info['rules']} rules exercised")
            for rule_id in info["never"]:
                click.echo(f"  never: {rule_id}")
        never_codes = report["outcomes_never_produced"]
        click.echo("outcome codes never produced: " + (", ".join(never_codes) if never_codes else "none"))
        if conditions:
            cov = report["conditions"]
            click.echo(f"conditions: {cov['covered']}/{cov['total']} ({cov['percent']}%) fail alone in some case")
            for row in cov["uncovered"]:
                click.echo(clean(f"  not covered: {row['edition']} {row['rule']}: {row['condition']}"))
    if refused:
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    if strict and missing_any:
        raise click.exceptions.Exit(EXIT_CHECK_FAILED)

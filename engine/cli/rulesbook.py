"""`pathways rules book`: the rulebook for policy staff, as one HTML file or Markdown."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from engine.cli.root import EXIT_BAD_INPUT, fail
from engine.errors import InputError


@click.command("book")
@click.option("--edition", "edition", metavar="E", default=None, help="Only this edition's rules.")
@click.option("--format", "fmt", type=click.Choice(["html", "md"]), default="html", show_default=True,
              help="One HTML file with print styles, or Markdown.")
@click.option("-o", "--output", "output", metavar="PATH", default="-", help="Where to write it ('-': standard output).")
def book_command(edition: str | None, fmt: str, output: str) -> None:
    """The rulebook: per outcome, its rules in plain words beside their sources, texts, editions and scenarios.

    \b
    Examples:
      pathways rules book -o rulebook.html
      pathways rules book --edition 2017-recovery --format md -o rulebook.md
    """
    from engine.policy.policybook import build
    from engine.policy.policybook_html import render_html
    from engine.policy.policybook_md import render_markdown
    from engine.policy.rulebook import load_book
    from engine.policy.wording import read_words

    book = load_book()
    if edition is not None and edition not in book.rulesets:
        fail(f"--edition: no edition {edition} (known: {', '.join(book.rulesets)})")
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    document = build(book, read_words(book), scenario_index(), _valid, edition)
    text = render_html(document) if fmt == "html" else render_markdown(document)
    if output == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the rulebook ({exc.strerror})", output) from None


def scenario_index() -> dict[str, list[tuple[str, str]]]:
    """For each rule id, the bundled scenario cases (reference, title) in which the rule holds."""
    from cases import CASES_DIR
    from engine.intake.scenarios import iter_cases
    from engine.model.case import input_values
    from engine.policy.explain import evaluate
    from engine.policy.rulebook import load_book

    book = load_book()
    index: dict[str, list[tuple[str, str]]] = {}
    for case in iter_cases(CASES_DIR):
        if isinstance(case, InputError):
            continue
        ruleset = book.ruleset(book.calendar.edition_for(case.as_of).id)
        for rule_id, truth in evaluate(ruleset, input_values(case)).rules.items():
            if truth is True:
                index.setdefault(rule_id, []).append((case.case, case.title or ""))
    return index


def _valid(values: Mapping[str, Any]) -> bool:
    """True when the answers make a valid case file."""
    from engine.intake.classcases import validated

    try:
        validated(values, "TABLE")
    except InputError:
        return False
    return True

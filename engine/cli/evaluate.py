"""`pathways evaluate`: decide one case file, or every line of a JSON Lines file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import attrs
import click

from engine.cli.root import EXIT_BAD_INPUT, fail, parse_date
from engine.errors import InputError


def _with_as_of(raw: Any, as_of: dt.date | None) -> Any:
    """The raw case with its date replaced by --as-of (validated like the file's own)."""
    if as_of is None or not isinstance(raw.data, dict):
        return raw
    data = dict(raw.data)
    data["as_of"] = as_of
    return attrs.evolve(raw, data=data)


@click.command()
@click.argument("case_file", metavar="CASE", type=click.Path(path_type=Path, allow_dash=True))
@click.option("--as-of", "as_of", metavar="DATE", help="Decide as on this date instead of the case's own.")
@click.option("--json", "as_json", is_flag=True, help="Print the decision JSON (one object a line).")
@click.option("--trace", is_flag=True, help="Also print the rule firings (readable output only).")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
              help="Decide under the rules in this folder (a draft) instead of the bundled ones.")
def evaluate(case_file: Path, as_of: str | None, as_json: bool, trace: bool, rules_dir: Path | None) -> None:
    """Decide one case file, or every line of a .jsonl file; `-` reads standard input.

    Standard input may hold JSON Lines (one case a line) or one YAML or JSON case.

    \b
    Examples:
      pathways evaluate case.yaml
      pathways evaluate case.yaml --as-of 2010-01-04 --json
      pathways evaluate caseload.jsonl --json > decisions.jsonl
      pathways cases generate 5 -o - | pathways evaluate - --json
      pathways evaluate counterexample.yaml --rules draft-rules/
    """
    from engine.intake.loader import is_stdin, iter_jsonl, read_case_file, read_stdin
    from engine.intake.validate import build_case
    from engine.model.report import render_decision, render_trace
    from engine.policy.driver import Engine, default_engine
    from engine.policy.rulebook import read_book

    day = parse_date(as_of, "--as-of")
    engine = Engine(read_book(rules_dir)) if rules_dir is not None else default_engine()

    def show(raw: Any) -> None:
        decision = engine.decide(build_case(_with_as_of(raw, day), engine.book.calendar))
        if as_json:
            click.echo(decision.to_json())
        else:
            click.echo(render_decision(decision))
            if trace:
                click.echo("\nTrace:\n" + render_trace(decision))

    if is_stdin(case_file):
        lines, items = read_stdin()
        if not lines:  # one YAML or JSON case, refused (if it is) like a file
            item = next(items)
            if isinstance(item, InputError):
                raise item
            show(item)
            return
    elif case_file.suffix.lower() != ".jsonl":
        show(read_case_file(case_file))
        return
    else:
        items = iter_jsonl(case_file)
    refused = 0
    first = True
    for item in items:
        try:
            if isinstance(item, InputError):
                raise item
            if not first and not as_json:
                click.echo("")
            show(item)
            first = False
        except InputError as exc:
            refused += 1
            fail(str(exc))
    if refused:
        fail(f"{refused} case(s) refused")
        raise click.exceptions.Exit(EXIT_BAD_INPUT)

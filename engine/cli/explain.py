"""`pathways explain`: for each outcome of a case, the smallest changes of answers that would flip it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli.root import EXIT_BAD_INPUT, fail
from engine.textsafe import clean

if TYPE_CHECKING:
    from engine.intake.counterfactual import Counterfactual, Explainer
    from engine.policy.wording import Words

SHOWN = 6
"""Change sets shown per outcome in readable output (JSON lists them all)."""


@click.command()
@click.argument("case_file", metavar="CASE", type=click.Path(path_type=Path))
@click.option("--code", "code", metavar="CODE", default=None, help="Explain this outcome code only.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per outcome code, a line each.")
def explain(case_file: Path, code: str | None, as_json: bool) -> None:
    """What would have to be different for each outcome to apply, or to stop applying.

    For every outcome (or one), the smallest sets of changed answers that flip it: exact, by a search
    over every class of answers the rules tell apart, each set checked to give a valid case. Changes
    to what a person cannot change (age, the date) come last.

    \b
    Examples:
      pathways explain cases/039-jsa-heroin-toddler-temporary-housing.yaml
      pathways explain case.yaml --code REFER_HOUSING_ADVICE --json
    """
    from engine.intake.counterfactual import Explainer
    from engine.intake.loader import read_case_file
    from engine.intake.validate import build_case
    from engine.model.decision import reading_order
    from engine.policy.rulebook import load_book
    from engine.policy.wording import read_words

    book = load_book()
    if code is not None and code not in book.outcomes:
        fail(f"--code: no outcome {clean(code)} (one of the codes in rules/outcomes.yaml, e.g. REFER_HOUSING_ADVICE)")
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    case = build_case(read_case_file(case_file), book.calendar)
    explainer = Explainer(book)
    found = explainer.explain(case, [code] if code else None)
    if as_json:
        for item in found:
            click.echo(json.dumps(counterfactual_data(item), ensure_ascii=False))
        return
    words = read_words(book)
    edition = book.calendar.edition_for(case.as_of)
    click.echo(f"What would change the recommendation for case {case.case} on {case.as_of} "
               f"(edition {edition.id}):")
    for item in sorted(found, key=lambda c: reading_order(c.kind, c.code)):
        click.echo("")
        click.echo(clean(render(item, words, explainer), keep_newlines=True))


def counterfactual_data(item: Counterfactual) -> dict[str, Any]:
    """The CONTRACT.md explain object (with `kind`, and `then` for an open outcome: what each set settles it to)."""
    from engine.policy.driver import json_value

    data: dict[str, Any] = {
        "code": item.code,
        "kind": item.kind,
        "applies": item.applies,
        "changes": [[{"fact": c.fact, "to": json_value(c.to)} for c in s.changes] for s in item.sets],
    }
    if item.applies is None:
        data["then"] = [s.then for s in item.sets]
    return data


def render(item: Counterfactual, words: Words, explainer: Explainer) -> str:
    """One outcome's counterfactual in plain words."""
    from engine.intake.counterfactual import change_words

    title = words.outcomes.get(item.code, "")
    state = {True: "applies", False: "does not apply", None: "is open (it waits on answers not known)"}[item.applies]
    lines = [f"{item.code} ({item.kind}): {title}. It {state}."]
    if not item.sets:
        lines.append("  No change of up to three answers would change that.")
        return "\n".join(lines)
    wanted = [True, False] if item.applies is None else [not item.applies]
    for outcome in wanted:
        sets = [s for s in item.sets if s.then is outcome]
        if not sets:
            continue
        lines.append(f"  It would {'apply' if outcome else 'not apply'} if:")
        for change_set in sets[:SHOWN]:
            text = change_words(change_set, words, explainer.space)
            lines += textwrap.wrap(text, 96, initial_indent="    - ", subsequent_indent="      ")
        if len(sets) > SHOWN:
            lines.append(f"    ... and {len(sets) - SHOWN} more (--json lists them all)")
    return "\n".join(lines)

"""`pathways rules diff E1 E2`: what changes between two editions' rule sets, in words."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING, Any

import click

from engine.cli.root import EXIT_BAD_INPUT, fail
from engine.textsafe import clean

if TYPE_CHECKING:
    from engine.intake.diffcases import DiffSearch
    from engine.model.case import Case
    from engine.policy.editiondiff import EditionDiff, OutcomeChange
    from engine.policy.editions import Edition
    from engine.policy.rulebook import Rule
    from engine.policy.wording import Words

WIDTH = 96
"""Readable output's line width."""


@click.command("diff")
@click.argument("old", metavar="E1")
@click.argument("new", metavar="E2")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as one JSON object.")
def diff_command(old: str, new: str, as_json: bool) -> None:
    """What changes from edition E1's rule set to E2's: rules and outcomes added, removed and changed.

    A changed outcome comes with an example of someone it now reaches and someone it no longer
    reaches, found by searching every class of answers (the same answers decided under both rule
    sets, with their own date).

    \b
    Examples:
      pathways rules diff 2008-announced 2009-voluntary
      pathways rules diff 2009-voluntary 2017-recovery --json
    """
    from engine.intake.diffcases import DiffSearch
    from engine.policy.editiondiff import diff
    from engine.policy.rulebook import load_book
    from engine.policy.wording import read_words

    book = load_book()
    for edition in (old, new):
        if edition not in book.rulesets:
            fail(f"no edition {clean(edition)} (known: {', '.join(book.rulesets)})")
            raise click.exceptions.Exit(EXIT_BAD_INPUT)
    found = diff(book.ruleset(old), book.ruleset(new))
    search = DiffSearch(found.old, found.new, book.calendar)
    words = read_words(book)
    examples = {(c.code, gained): search.example(c.code, gained) for c in found.outcomes_changed
                for gained in (True, False)}
    if as_json:
        click.echo(json.dumps(diff_data(found, words, search, examples), ensure_ascii=False))
    else:
        click.echo(clean(render(found, words, search, examples), keep_newlines=True))


def _edition_line(edition: Edition) -> str:
    """An edition's id, title, status and dates."""
    status = "announced policy, never in force" if edition.status == "announced" else "in force"
    end = f"to {edition.end.isoformat()}" if edition.end else "onwards"
    return f"{edition.id}: {edition.title} ({status}; {edition.start.isoformat()} {end})"


def _rule_data(rule: Rule, words: Words) -> dict[str, Any]:
    """A rule in words, for JSON."""
    what = {"derives": rule.derives} if rule.derives else {"concludes": rule.concludes}
    return {"id": rule.id, "title": rule.title, **what, "when": words.condition(rule.when)}


def example_words(case: Case | None, search: DiffSearch, words: Words, code: str) -> list[str] | None:
    """The answers of an example case behind an outcome, each as a clause."""
    if case is None:
        return None
    out = []
    for name in search.facts(code):
        value_class = search.space.class_of(name, case[name])
        if value_class is not None:
            out.append(words.is_value(name, case[name], value_class))
    return out


def _example_data(case: Case | None, search: DiffSearch, words: Words, code: str) -> dict[str, Any] | None:
    """An example for JSON: the answers behind the outcome in words, and the whole case as case-file data."""
    if case is None:
        return None
    return {"answers": example_words(case, search, words, code), "case": case.to_file_data()}


def _change_data(change: OutcomeChange, words: Words) -> dict[str, Any]:
    """An outcome change for JSON: its code, kind, title and rules before and after."""
    return {"code": change.code, "kind": change.kind, "title": words.outcomes.get(change.code, ""),
            "rules_before": [_rule_data(r, words) for r in change.before],
            "rules_after": [_rule_data(r, words) for r in change.after]}


def diff_data(found: EditionDiff, words: Words, search: DiffSearch,
              examples: dict[tuple[str, bool], Case | None]) -> dict[str, Any]:
    """The differences as JSON-ready data."""
    return {
        "from": found.old.edition.id,
        "to": found.new.edition.id,
        "editions": {"from": _edition_line(found.old.edition), "to": _edition_line(found.new.edition)},
        "rules": {"added": [_rule_data(r, words) for r in found.rules_added],
                  "removed": [_rule_data(r, words) for r in found.rules_removed]},
        "outcomes": {
            "added": [_change_data(c, words) for c in found.outcomes_added],
            "removed": [_change_data(c, words) for c in found.outcomes_removed],
            "changed": [{**_change_data(c, words),
                         "now_reaches": _example_data(examples[(c.code, True)], search, words, c.code),
                         "no_longer_reaches": _example_data(examples[(c.code, False)], search, words, c.code)}
                        for c in found.outcomes_changed],
            "unchanged": list(found.outcomes_unchanged),
        },
        "derived_changed": list(found.derived_changed),
    }


def _wrap(text: str, indent: str) -> list[str]:
    """One paragraph wrapped under an indent."""
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")


def _rules_lines(label: str, rules: tuple[Rule, ...], words: Words) -> list[str]:
    """Each rule of an outcome, with its conditions in words."""
    lines = []
    for rule in rules:
        lines += _wrap(f"{label} rule {rule.id}, when {words.condition(rule.when)}", "    ")
    return lines


def render(found: EditionDiff, words: Words, search: DiffSearch,
           examples: dict[tuple[str, bool], Case | None]) -> str:
    """The differences in plain words."""
    lines = [f"From {found.old.edition.id} to {found.new.edition.id}",
             f"  {_edition_line(found.old.edition)}", f"  {_edition_line(found.new.edition)}"]
    sections = (("Outcomes that end", found.outcomes_removed, "was made by"),
                ("Outcomes that begin", found.outcomes_added, "made by"))
    for heading, changes, label in sections:
        if changes:
            lines += ["", f"{heading} ({len(changes)})"]
        for change in changes:
            lines.append(f"  {change.code} ({change.kind}): {words.outcomes.get(change.code, '')}")
            lines += _rules_lines(label, change.after or change.before, words)
    if found.outcomes_changed:
        lines += ["", f"Outcomes decided differently ({len(found.outcomes_changed)})"]
    for change in found.outcomes_changed:
        lines.append(f"  {change.code} ({change.kind}): {words.outcomes.get(change.code, '')}")
        kept = [r for r in change.after if r in change.before]
        lines += _rules_lines("no longer made by", tuple(r for r in change.before if r not in kept), words)
        lines += _rules_lines("now made by", tuple(r for r in change.after if r not in kept), words)
        if kept:
            lines += _wrap("still made by rule " + ", ".join(r.id for r in kept)
                           + (", but what it reads is worked out differently" if len(kept) == len(change.after)
                              and len(kept) == len(change.before) else ""), "    ")
        gained = example_words(examples[(change.code, True)], search, words, change.code)
        lost = example_words(examples[(change.code, False)], search, words, change.code)
        if gained:
            lines += _wrap("now reaches, for example, someone for whom " + "; ".join(gained), "    ")
        if lost:
            lines += _wrap("no longer reaches, for example, someone for whom " + "; ".join(lost), "    ")
        if not gained and not lost:
            lines.append("    decided the same for every class of answers: only what it reads was restated")
    if found.derived_changed:
        lines += ["", "Derived facts worked out differently: " + ", ".join(found.derived_changed)]
    if found.outcomes_unchanged:
        lines += ["", f"Unchanged ({len(found.outcomes_unchanged)})"]
        lines += _wrap(", ".join(found.outcomes_unchanged), "  ")
    return "\n".join(lines)

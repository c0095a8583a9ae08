"""The rulebook as Markdown: the same content as the HTML, for a wiki or a pull request."""

from __future__ import annotations

from engine.policy.policybook import PolicyBook, RouteTable, RuleEntry, WordedVariant, date_words, source_kinds
from engine.policy.wording import Outline

_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>|#"})


def md(text: str) -> str:
    """Text with Markdown's special characters escaped, on one line."""
    return " ".join(text.split()).translate(_SPECIAL)


def _outline(item: Outline, depth: int = 0) -> list[str]:
    """A condition tree as a nested list."""
    lines = [f"{'  ' * depth}- {md(item.text)}"]
    for part in item.parts:
        lines += _outline(part, depth + 1)
    return lines


def _variants(heading: str, variants: tuple[WordedVariant, ...]) -> list[str]:
    """A text or note with its variants."""
    if not variants:
        return []
    lines = [f"*{heading}:*", ""]
    for index, variant in enumerate(variants):
        when = f"When {variant.when}: " if variant.when else ("Otherwise: " if index and len(variants) > 1 else "")
        lines.append(f"> {md(when)}{md(variant.text) or '(nothing is said)'}")
        lines.append(">")
    return [*lines[:-1], ""]


def _rule(entry: RuleEntry, kinds: dict[str, str]) -> list[str]:
    """One rule: conditions, sources, texts, scenarios."""
    lines = [f"#### Rule `{entry.id}`: {md(entry.title)}", ""]
    what = f"derives `{entry.derives}`; " if entry.derives else ""
    lines += [f"{what}editions: {md(', '.join(entry.editions))}", "", "Applies when:", ""]
    lines += _outline(entry.conditions) + ["", "Sources:", ""]
    for cite in entry.sources:
        kind = kinds.get(cite.source, "")
        basis = "established fact" if cite.basis == "fact" else "modelling assumption"
        lines.append(f"- *{md(cite.title)}*{', ' + md(cite.locator) if cite.locator else ''}"
                     f"{f' ({md(kind)})' if kind else ''} — {basis}"
                     + (f": “{md(cite.quote)}”" if cite.quote else ""))
    lines.append("")
    lines += _variants("Said to the claimant", entry.text) + _variants("For the adviser (never read out)",
                                                                      entry.adviser_note)
    scenarios = ", ".join(md(ref) + (f" ({md(title)})" if title else "") for ref, title in entry.scenarios)
    return [*lines, f"Scenario cases that exercise it: {scenarios or 'none'}", ""]


def _table(table: RouteTable) -> list[str]:
    """One edition's treatment-route table."""
    lines = [f"### {table.edition}", "", "| Benefit | " + " | ".join(md(c) for c in table.columns) + " |",
             "|---" * (len(table.columns) + 1) + "|"]
    lines += ["| " + md(benefit) + " | " + " | ".join(md(c) or " " for c in cells) + " |"
              for benefit, cells in table.rows]
    return [*lines, "", md(table.note), ""]


def render_markdown(book: PolicyBook) -> str:
    """The whole rulebook as Markdown."""
    kinds = source_kinds(book.sources)
    lines = ["# Pathways rulebook", "",
             f"Every outcome the rules can recommend, for {book.scope}: when it applies, beside the public sources "
             "it rests on; what the adviser says and does; the scenario cases that exercise it.", "",
             "## Editions", ""]
    for entry in book.editions:
        edition = entry.edition
        status = "Announced policy, never in force" if edition.status == "announced" else "In force"
        lines += [f"### {edition.id}: {md(edition.title)}", "",
                  f"**{status}**, {date_words(edition.start, edition.end)}. {md(edition.summary)}", "",
                  f"Rule set `{entry.digest}`", ""]
        lines += [f"- *{md(c.title)}*, {md(c.locator)}" for c in entry.sources] + [""]
    lines += ["## Outcomes", ""]
    for outcome in book.outcomes:
        timeline = " · ".join(f"**{e}**" if on else f"~~{e}~~" for e, on in outcome.editions)
        lines += [f"### {outcome.code} ({outcome.kind})", "", md(outcome.title), "", f"Editions: {timeline}", ""]
        for rule in outcome.rules:
            lines += _rule(rule, kinds)
    lines += ["## Derived facts", ""]
    for rule in book.derived:
        lines += _rule(rule, kinds)
    lines += ["## Treatment route by benefit, drug use and treatment", ""]
    for table in book.tables:
        lines += _table(table)
    lines += ["## Sources", ""]
    for source in book.sources:
        extra = ", ".join(md(x) for x in (source.publisher, source.date) if x)
        url = f" <{source.url}>" if source.url else ""
        lines.append(f"1. *{md(source.title)}*{'. ' + extra if extra else ''}{url}")
    return "\n".join(lines) + "\n"

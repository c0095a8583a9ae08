"""The rulebook for policy staff (`pathways rules book`): what goes in it, before HTML or Markdown.

Per outcome code: its kind and title, the editions it applies in, and each rule in plain words
beside its sources (title, locator, quote, fact or model), with the text read to the claimant and
the adviser's note, each variant with the condition that chooses it, and the scenario cases that
exercise the rule. Then the derived facts the rules build on, a decision table of the treatment
route per edition, the editions with their sources and rule set hashes, and the bibliography.
Internal working documents are never named: only the public sources in rules/sources.yaml.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import yaml

from engine.model.decision import reading_order
from engine.model.facts import INPUT_FACTS
from engine.policy import conditions as C
from engine.policy.editions import Edition
from engine.policy.explain import evaluate
from engine.policy.rulebook import Book, Citation, Rule, RuleSet, SourceEntry, Variant, parse_citations
from engine.policy.wording import Outline, Words, day

Valid = Callable[[Mapping[str, Any]], bool]
"""Says whether a full set of answers is a valid case (the decision table leaves impossible cells empty)."""


@attrs.frozen
class WordedVariant:
    """A text or note, and when it is used (empty: always, or when no earlier variant's condition holds)."""

    text: str
    when: str


@attrs.frozen
class RuleEntry:
    """One rule as the book prints it."""

    id: str
    title: str
    editions: tuple[str, ...]
    conditions: Outline
    sentence: str
    sources: tuple[Citation, ...]
    text: tuple[WordedVariant, ...]
    adviser_note: tuple[WordedVariant, ...]
    scenarios: tuple[tuple[str, str], ...]
    derives: str = ""


@attrs.frozen
class OutcomeEntry:
    """One outcome code: kind, title, the editions it applies in, and its rules."""

    code: str
    kind: str
    title: str
    editions: tuple[tuple[str, bool], ...]
    rules: tuple[RuleEntry, ...]


@attrs.frozen
class EditionEntry:
    """One edition: dates, status, summary, sources and the hash of its rule set."""

    edition: Edition
    digest: str
    sources: tuple[Citation, ...]


@attrs.frozen
class RouteTable:
    """For one edition: the treatment route for each benefit, kind of drug use and treatment status."""

    edition: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    note: str


@attrs.frozen
class PolicyBook:
    """Everything the rulebook prints."""

    editions: tuple[EditionEntry, ...]
    outcomes: tuple[OutcomeEntry, ...]
    derived: tuple[RuleEntry, ...]
    tables: tuple[RouteTable, ...]
    sources: tuple[SourceEntry, ...]
    scope: str


def _variants(variants: tuple[Variant, ...], words: Words) -> tuple[WordedVariant, ...]:
    """Texts with their conditions in words (the default last, with no condition)."""
    return tuple(WordedVariant(v.text, words.condition(v.when) if v.when is not None else "")
                 for v in variants if v.text or len(variants) > 1)


def _rule_entry(rule: Rule, words: Words, scenarios: Mapping[str, list[tuple[str, str]]]) -> RuleEntry:
    """A rule in words, with the scenarios that exercise it."""
    return RuleEntry(id=rule.id, title=rule.title, editions=rule.editions, conditions=words.outline(rule.when),
                     sentence=words.condition(rule.when), sources=rule.sources,
                     text=_variants(rule.text, words), adviser_note=_variants(rule.adviser_note, words),
                     scenarios=tuple(scenarios.get(rule.id, ())), derives=rule.derives or "")


def _edition_sources(book: Book) -> dict[str, tuple[Citation, ...]]:
    """Each edition's cited sources, resolved against the bibliography."""
    data = yaml.safe_load((book.directory / "editions.yaml").read_text(encoding="utf-8")) or {}
    return {str(item["id"]): parse_citations(item.get("sources"), f"editions.yaml {item['id']}", book.sources)
            for item in data.get("editions") or () if isinstance(item, dict) and "id" in item}


def build(book: Book, words: Words, scenarios: Mapping[str, list[tuple[str, str]]], valid: Valid,
          edition: str | None = None) -> PolicyBook:
    """The rulebook of a rules folder, for every edition or one; `scenarios` maps rule ids to (case, title)."""
    rulesets = [rs for rs in book.all_rulesets() if edition is None or rs.edition.id == edition]
    wanted = {rs.edition.id for rs in rulesets}
    rules = [r for r in book.rules if wanted & set(r.editions)]
    cited = _edition_sources(book)
    editions = tuple(EditionEntry(rs.edition, rs.digest, cited.get(rs.edition.id, ())) for rs in rulesets)
    outcomes = []
    for code, info in sorted(book.outcomes.items(), key=lambda item: reading_order(item[1].kind, item[0])):
        mine = [r for r in rules if r.concludes == code]
        if not mine:
            continue
        timeline = tuple((rs.edition.id, any(r.concludes == code for r in rs.rules)) for rs in rulesets)
        outcomes.append(OutcomeEntry(code, info.kind, info.title, timeline,
                                     tuple(_rule_entry(r, words, scenarios) for r in mine)))
    derived = tuple(_rule_entry(r, words, scenarios) for r in rules if r.derives)
    sources = tuple(sorted(book.sources.values(), key=lambda entry: entry.title.lower()))
    tables = tuple(route_table(book, rs, words, valid) for rs in rulesets)
    scope = f"edition {edition}" if edition else "every edition"
    return PolicyBook(editions, tuple(outcomes), derived, tables, sources, scope)


DRUG_USE = (
    ("problem drug use", {"drugs.substances": ("heroin",), "drugs.known_by": "self_disclosure"}),
    ("suspected only", {"drugs.substances": ("heroin",), "drugs.known_by": "adviser_suspicion"}),
    ("other drugs", {"drugs.substances": ("cannabis",), "drugs.known_by": "self_disclosure"}),
    ("no known drug use", {"drugs.substances": (), "drugs.known_by": None}),
)
"""The decision table's kinds of drug use, as answers."""
TREATMENT = (("not in treatment", {"drugs.in_treatment": False}), ("in treatment", {"drugs.in_treatment": True}))
"""The decision table's treatment statuses, as answers."""


def route_codes(ruleset: RuleSet) -> tuple[str, ...]:
    """The treatment routes: the outcomes whose applying a derived fact of the rules reads."""
    found: list[str] = []
    for rule in ruleset.rules:
        if rule.derives:
            found += [t.value for t in C.tests(rule.when) if t.fact == C.OUTCOME_KEY and t.value not in found]
    return tuple(found)


def route_table(book: Book, ruleset: RuleSet, words: Words, valid: Valid) -> RouteTable:
    """Benefit x drug use x treatment -> the treatment route, for an adult in England on the edition's
    latest benefit start (every benefit of the edition exists then), other answers at their defaults."""
    codes = route_codes(ruleset)
    edition = ruleset.edition
    when = max([edition.start, *(d for d in book.calendar.benefits_from.values() if edition.in_force(d))])
    base: dict[str, Any] = {name: spec.default for name, spec in INPUT_FACTS.items()}
    base.update({"as_of": when, "claimant.age": 30, "claimant.nation": "england"})
    benefit_words = words.facts["benefit"].words if "benefit" in words.facts else {}
    columns = tuple(f"{use}, {status}" for use, _a in DRUG_USE for status, _b in TREATMENT)
    rows = []
    for benefit in INPUT_FACTS["benefit"].choices:
        cells = []
        for _use, use_answers in DRUG_USE:
            for _status, status_answers in TREATMENT:
                values = {**base, "benefit": benefit, **use_answers, **status_answers,
                          "uc_group": "all_work_requirements" if benefit == "uc" else None,
                          "children.dependants": 1 if benefit == "is_lone_parent" else 0,
                          "children.youngest_age": 3 if benefit == "is_lone_parent" else None}
                if not valid(values):
                    cells.append("")
                    continue
                applying = [c for c in codes if evaluate(ruleset, values).outcomes.get(c) is True]
                cells.append(", ".join(applying) or "none")
        rows.append((benefit_words.get(benefit, benefit), tuple(cells)))
    note = (f"An adult (30) in England on {day(when)}, other answers at their defaults; an empty cell cannot "
            "happen (the benefit did not exist yet, or treatment without known drug use).")
    return RouteTable(edition.id, columns, tuple(rows), note)


def source_kinds(entries: Iterable[SourceEntry]) -> dict[str, str]:
    """How each source's kind is printed (the documents the rules were first built from are just sources)."""
    return {e.id: ("" if e.kind == "seed" else e.kind) for e in entries}


def date_words(start: dt.date, end: dt.date | None) -> str:
    """An edition's dates for the book: "27 April 2009 to 13 July 2017", or "from 14 July 2017 onwards"."""
    return f"{day(start)} to {day(end)}" if end else f"from {day(start)} onwards"

"""Check the rule files: schema, unknown facts, ids, citations, outcomes and edition coverage."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import attrs

from engine.errors import RuleFileError
from engine.model.facts import INPUT_FACTS
from engine.policy import conditions as C
from engine.policy.compiler import compile_ruleset
from engine.policy.invariants import read_invariants
from engine.policy.rulebook import Book, Rule, RuleSet, read_book
from engine.policy.textlint import text_problems
from engine.policy.wording import missing_statements, read_words
from rules import RULES_DIR

KINDS = ("requirement", "offer", "referral", "priority", "signpost", "note")
"""Allowed outcome kinds (POLICY.md)."""


_PLACE = re.compile(r"([\w.-]+\.ya?ml)(?::([0-9]+))?")
"""A finding's file and line at the start of its `where` ("treatment.yaml:10: rule ...")."""


@attrs.frozen
class Finding:
    """One lint problem: where (file and rule) and what."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"

    def to_data(self) -> dict[str, object]:
        """JSON-ready: the file and line (when known) split out of `where`."""
        place = _PLACE.match(self.where)
        return {"file": place.group(1) if place else None,
                "line": int(place.group(2)) if place and place.group(2) else None,
                "where": self.where, "problem": self.problem}


def lint_book(book: Book) -> list[Finding]:
    """Every problem found in a parsed rules folder (empty when clean)."""
    found: list[Finding] = []
    edition_ids = [e.id for e in book.calendar.editions]
    found += _edition_findings(book)
    derived = {r.derives for r in book.rules if r.derives}
    seen: dict[str, str] = {}
    for rule in book.rules:
        where = rule.where
        if rule.id in seen:
            found.append(Finding(where, f"duplicate rule id (also in {seen[rule.id]})"))
        seen[rule.id] = rule.source
        if not rule.title.strip():
            found.append(Finding(where, "missing title"))
        if not rule.citation.strip():
            found.append(Finding(where, "missing citation: cite at least one source"))
        found += _citation_findings(where, rule)
        if bool(rule.derives) == bool(rule.concludes):
            found.append(Finding(where, "must have exactly one of 'derives' and 'concludes'"))
        if rule.concludes:
            if rule.concludes not in book.outcomes:
                found.append(Finding(where, f"concludes unknown outcome {rule.concludes}"))
            if not any(v.text for v in rule.text + rule.adviser_note):
                found.append(Finding(where, "missing text: give the claimant's text or the adviser's note"))
            for label, variants in (("text", rule.text), ("adviser_note", rule.adviser_note)):
                audience = "claimant" if label == "text" else "adviser"
                for number, variant in enumerate(variants, start=1):
                    which = f"{label} variant {number}" if len(variants) > 1 else label
                    found += [Finding(where, f"{which}: {problem}")
                              for problem in text_problems(variant.text, audience=audience)]
                    for test in C.tests(variant.when) if variant.when is not None else ():
                        if test.fact == C.OUTCOME_KEY or (test.fact not in INPUT_FACTS and test.fact not in derived):
                            found.append(Finding(where, f"{label} variant tests {test.fact}: only facts may be tested"))
        for edition in rule.editions:
            if edition not in edition_ids:
                found.append(Finding(where, f"unknown edition {edition}"))
        for test in C.tests(rule.when):
            if test.fact == C.OUTCOME_KEY:
                if test.value not in book.outcomes:
                    found.append(Finding(where, f"tests unknown outcome {test.value}"))
            elif test.fact not in INPUT_FACTS and test.fact not in derived:
                found.append(Finding(where, f"tests unknown fact {test.fact}"))
        for name in rule.shows:
            if name not in INPUT_FACTS:
                found.append(Finding(where, f"shows unknown fact {name}"))
    for code, info in book.outcomes.items():
        if info.kind not in KINDS:
            found.append(Finding(f"outcomes.yaml {code}", f"unknown kind {info.kind}"))
        if not any(r.concludes == code for r in book.rules):
            found.append(Finding(f"outcomes.yaml {code}", "no rule concludes this outcome"))
    used = {t.fact for r in book.rules for t in C.tests(r.when)}
    for name in derived - used:
        found.append(Finding("derived facts", f"{name} is derived but no rule reads it"))
    for level, code in book.priority_levels:
        if code not in book.outcomes:
            found.append(Finding("outcomes.yaml priority", f"{level} names unknown outcome {code}"))
    asked = {q.get("fact") for q in book.questions}
    found += label_findings(book)
    for name in INPUT_FACTS:
        if name != "as_of" and name not in asked:
            found.append(Finding("questions.yaml", f"no question for input fact {name}"))
    found += [Finding("questions.yaml", f"{problem}: the rulebook cannot word conditions on it")
              for problem in missing_statements(book, read_words(book))]
    for ruleset in book.all_rulesets():  # always: a rule set that does not compile cannot decide anything
        missing = edition_fact_findings(ruleset)
        found += missing
        if missing:
            continue
        try:
            compile_ruleset(ruleset)
            _ = ruleset.derived_names
        except (RuleFileError, KeyError) as exc:
            found.append(Finding(f"edition {ruleset.edition.id}", str(exc)))
    return found


LABEL_WIDTH = 24
"""The most characters a question's short `label` may take: with its answer it fits one line of the
answers list at 80 columns."""


def label_findings(book: Book) -> list[Finding]:
    """Each question needs a short label that fits LABEL_WIDTH, different from every other question's."""
    found: list[Finding] = []
    seen: dict[str, str] = {}
    for q in book.questions:
        fact, label = q.get("fact"), str(q.get("label") or "")
        where = f"questions.yaml {fact}"
        if not label.strip():
            found.append(Finding(where, "no short label (`label`) for lists of answers"))
        elif len(label) > LABEL_WIDTH:
            found.append(Finding(where, f"label is {len(label)} characters, more than {LABEL_WIDTH}"))
        elif label.casefold() in seen:
            found.append(Finding(where, f"label {label!r} is also {seen[label.casefold()]}'s"))
        seen.setdefault(label.casefold(), str(fact))
    return found


def edition_fact_findings(ruleset: RuleSet) -> list[Finding]:
    """Rules that test a derived fact no rule of their own edition derives (they could not be decided)."""
    derived = {r.derives for r in ruleset.rules if r.derives}
    return [Finding(rule.where,
                    f"in edition {ruleset.edition.id} tests {test.fact}, which no rule of that edition derives")
            for rule in ruleset.rules for test in C.tests(rule.when)
            if test.fact not in INPUT_FACTS and test.fact != C.OUTCOME_KEY and test.fact not in derived]


INTERNAL_NAMES = ("POLICY.md", "DOMAIN.md", "CONTRACT.md", "DESIGN.md", "seed 00", "seeds/", "shared/")
"""Internal documents a citation must never name: users of the rules do not have them."""


def _citation_findings(where: str, rule: Rule) -> list[Finding]:
    """Sources that do not resolve, internal documents named, and bad bases."""
    out = []
    for cite in rule.sources:
        if not cite.title:
            out.append(Finding(where, f"source {cite.source} is not in sources.yaml"))
        if not cite.locator:
            out.append(Finding(where, f"source {cite.source} needs a locator (section, paragraph or page)"))
    text = " ".join([rule.citation, *(c.locator + " " + c.quote for c in rule.sources)])
    for name in INTERNAL_NAMES:
        if name.lower() in text.lower():
            out.append(Finding(where, f"cites the internal document {name.strip()!r}: cite a public source"))
    return out


def _edition_findings(book: Book) -> list[Finding]:
    """Editions that overlap, leave a gap, or end before they start."""
    out = []
    editions = book.calendar.editions
    for edition in editions:
        if edition.end is not None and edition.end < edition.start:
            out.append(Finding(f"editions.yaml {edition.id}", "ends before it starts"))
    for before, after in itertools.pairwise(editions):
        if before.end is None:
            out.append(Finding(f"editions.yaml {before.id}", f"never ends, but {after.id} follows"))
            continue
        gap = (after.start - before.end).days
        if gap > 1:
            first_gap = before.end + dt.timedelta(days=1)
            out.append(Finding(f"editions.yaml {after.id}", f"gap: no edition in force from {first_gap}"))
        elif gap < 1:
            out.append(Finding(f"editions.yaml {after.id}", f"overlaps {before.id} from {after.start}"))
    if editions and editions[-1].end is not None:
        out.append(Finding(f"editions.yaml {editions[-1].id}", "the last edition should stay in force"))
    return out


def _collapse(text: str) -> str:
    """Text with every run of whitespace made one space (quotes are compared this way)."""
    return " ".join(text.split())


def quote_findings(book: Book, seeds: Path) -> list[Finding]:
    """Quotes from the seed documents that do not appear in them (whitespace aside).

    Each seed source is matched to the file in `seeds` that holds most of its quotes; every
    quote citing that source must then appear in that file.
    """
    texts = {path.name: _collapse(path.read_text(encoding="utf-8", errors="replace"))
             for path in sorted(seeds.glob("*.txt"))}
    cited: dict[str, list[tuple[str, str]]] = {}
    for rule in book.rules:
        for cite in rule.sources:
            entry = book.sources.get(cite.source)
            if cite.quote and entry is not None and entry.kind == "seed":
                cited.setdefault(cite.source, []).append((rule.where, _collapse(cite.quote)))
    found = []
    for source, quotes in cited.items():
        best = max(texts, key=lambda name: sum(q in texts[name] for _w, q in quotes), default=None)
        for where, quote in quotes:
            if best is None or quote not in texts[best]:
                found.append(Finding(where, f"quote not found in its source {book.sources[source].title!r}: "
                                            f"{quote[:60]!r}"))
    return found


def lint_folder(directory: Path = RULES_DIR, seeds: Path | None = None) -> list[Finding]:
    """Lint a rules folder (and, given the seed documents, every quote from them)."""
    try:
        book = read_book(directory)
    except RuleFileError as exc:
        text = str(exc)
        place = _PLACE.match(text)
        if place and text[place.end():].startswith(": "):
            return [Finding(place.group(0), text[place.end() + 2:])]
        return [Finding("rules", text)]
    except (KeyError, TypeError, ValueError) as exc:
        return [Finding("rules", f"malformed rule file ({type(exc).__name__}): {' '.join(str(exc).split())}")]
    found = lint_book(book)
    try:
        read_invariants(book)
    except RuleFileError as exc:
        found.append(Finding("invariants", str(exc)))
    if seeds is not None:
        found += quote_findings(book, seeds)
    return found

"""Load the rule files into one RuleSet per edition, each identified by the hash of its content."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import yaml

from engine.errors import RuleFileError
from engine.model.facts import INPUT_FACTS
from engine.policy import conditions as C
from engine.policy.editions import Calendar, Edition, read_calendar
from rules import RULES_DIR

SNAPSHOT_FORMAT = 1
"""Version of the rule set snapshot layout (part of what is hashed)."""

DATA_FILES = ("editions.yaml", "outcomes.yaml", "questions.yaml")
"""Rule-folder files that hold no rules."""


@attrs.frozen
class Rule:
    """One declarative rule: derives a fact or concludes an outcome when its condition holds."""

    id: str
    title: str
    when: C.Cond
    citation: str
    derives: str | None = None
    concludes: str | None = None
    text: str = ""
    shows: tuple[str, ...] = ()
    positive_only: bool = False
    editions: tuple[str, ...] = ()
    source: str = ""

    def to_data(self) -> dict[str, Any]:
        """Canonical data for the snapshot (without editions and source file)."""
        data: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "when": C.to_data(self.when),
            "citation": self.citation,
        }
        if self.derives:
            data["derives"] = self.derives
            if self.positive_only:
                data["positive_only"] = True
        if self.concludes:
            data["concludes"] = self.concludes
            data["text"] = self.text
        if self.shows:
            data["shows"] = list(self.shows)
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Rule:
        """Rebuild from snapshot data."""
        return cls(
            id=data["id"],
            title=data["title"],
            when=C.from_data(data["when"]),
            citation=data["citation"],
            derives=data.get("derives"),
            concludes=data.get("concludes"),
            text=data.get("text", ""),
            shows=tuple(data.get("shows", ())),
            positive_only=data.get("positive_only", False),
        )


@attrs.frozen
class OutcomeInfo:
    """An outcome code's kind and short title."""

    kind: str
    title: str


@attrs.frozen(eq=False)
class RuleSet:
    """The rules in force in one edition, with the outcome catalogue and priority levels."""

    edition: Edition
    rules: tuple[Rule, ...]
    outcomes: dict[str, OutcomeInfo]
    priority_levels: tuple[tuple[str, str], ...]
    priority_default: str

    def snapshot(self) -> dict[str, Any]:
        """The canonical content: stored in the case book and hashed for the rule set id."""
        return {
            "format": SNAPSHOT_FORMAT,
            "edition": self.edition.to_data(),
            "rules": [rule.to_data() for rule in self.rules],
            "outcomes": {code: attrs.asdict(info) for code, info in sorted(self.outcomes.items())},
            "priority": {
                "levels": [{"level": lvl, "when_outcome": code} for lvl, code in self.priority_levels],
                "default": self.priority_default,
            },
        }

    @functools.cached_property
    def canonical(self) -> str:
        """The snapshot as canonical JSON (sorted keys, no whitespace)."""
        return canonical_json(self.snapshot())

    @functools.cached_property
    def digest(self) -> str:
        """The rule set's identity: `sha256:` and the hash of its canonical content."""
        return "sha256:" + hashlib.sha256(self.canonical.encode("utf-8")).hexdigest()

    @functools.cached_property
    def derived_names(self) -> tuple[str, ...]:
        """Derived facts in an order where each comes after those it depends on."""
        return _derived_order(self.rules)

    def rule(self, rule_id: str) -> Rule:
        """A rule by id."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def priority_for(self, codes: set[str] | frozenset[str]) -> str:
        """The decision priority given the outcome codes that apply."""
        for level, code in self.priority_levels:
            if code in codes:
                return level
        return self.priority_default

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> RuleSet:
        """Rebuild a rule set from its stored snapshot (for replay under past rules)."""
        if data.get("format") != SNAPSHOT_FORMAT:
            raise RuleFileError(f"unsupported rule set snapshot format {data.get('format')!r}")
        return cls(
            edition=Edition.from_data(data["edition"]),
            rules=tuple(Rule.from_data(r) for r in data["rules"]),
            outcomes={code: OutcomeInfo(**info) for code, info in data["outcomes"].items()},
            priority_levels=tuple((p["level"], p["when_outcome"]) for p in data["priority"]["levels"]),
            priority_default=data["priority"]["default"],
        )


def canonical_json(data: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 text kept as is."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _derived_order(rules: tuple[Rule, ...]) -> tuple[str, ...]:
    """Topologically order derived facts by the derived facts their rules read."""
    deps: dict[str, set[str]] = {}
    for rule in rules:
        if rule.derives:
            deps.setdefault(rule.derives, set())
    for rule in rules:
        if rule.derives:
            deps[rule.derives] |= {t.fact for t in C.tests(rule.when) if t.fact in deps}
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise RuleFileError("derived facts depend on each other in a cycle: " + " -> ".join(chain + (name,)))
        state[name] = 1
        for dep in sorted(deps[name]):
            visit(dep, chain + (name,))
        state[name] = 2
        order.append(name)

    for name in deps:
        visit(name, ())
    return tuple(order)


@attrs.frozen(eq=False)
class Book:
    """Everything in the rules folder: calendar, all rules, outcome catalogue, questions."""

    calendar: Calendar
    rules: tuple[Rule, ...]
    outcomes: dict[str, OutcomeInfo]
    priority_levels: tuple[tuple[str, str], ...]
    priority_default: str
    questions: tuple[dict[str, Any], ...]
    directory: Path
    rulesets: dict[str, RuleSet] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        """Build every edition's rule set once."""
        out = {}
        for edition in self.calendar.editions:
            chosen = tuple(r for r in self.rules if edition.id in r.editions)
            out[edition.id] = RuleSet(
                edition, chosen, self.outcomes, self.priority_levels, self.priority_default
            )
        object.__setattr__(self, "rulesets", out)

    def ruleset(self, edition_id: str) -> RuleSet:
        """The rule set for one edition."""
        return self.rulesets[edition_id]

    def all_rulesets(self) -> list[RuleSet]:
        """Every edition's rule set, in date order."""
        return [self.ruleset(e.id) for e in self.calendar.editions]


def _load_yaml(path: Path) -> Any:
    """Load one rule file with safe_load."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleFileError(f"{path.name}: cannot read: {exc}") from None


def rule_files(directory: Path) -> Iterator[Path]:
    """The files holding rules, in name order."""
    for path in sorted(directory.glob("*.yaml")):
        if path.name not in DATA_FILES:
            yield path


def parse_rule(item: Any, source: str, edition_ids: tuple[str, ...]) -> Rule:
    """One rule entry from a rule file (RuleFileError naming file and rule on a defect)."""
    if not isinstance(item, dict):
        raise RuleFileError(f"{source}: a rule must be a mapping")
    rid = item.get("id", "?")
    allowed = {"id", "title", "derives", "concludes", "editions", "when", "citation", "text", "shows", "positive_only"}
    unknown = set(item) - allowed
    if unknown:
        raise RuleFileError(f"{source}: rule {rid}: unknown keys {sorted(unknown)}")
    editions = item.get("editions")
    if editions == "all":
        editions = list(edition_ids)
    if not isinstance(editions, list) or not editions:
        raise RuleFileError(f"{source}: rule {rid}: 'editions' must be 'all' or a list of edition ids")
    try:
        when = C.parse(item.get("when"))
    except C.ConditionError as exc:
        raise RuleFileError(f"{source}: rule {rid}: {exc}") from None
    return Rule(
        id=str(rid),
        title=str(item.get("title", "")),
        when=when,
        citation=str(item.get("citation", "")),
        derives=item.get("derives"),
        concludes=item.get("concludes"),
        text=" ".join(str(item.get("text", "")).split()),
        shows=tuple(item.get("shows", ())),
        positive_only=bool(item.get("positive_only", False)),
        editions=tuple(editions),
        source=source,
    )


def read_book(directory: Path = RULES_DIR) -> Book:
    """Read and parse the whole rules folder (without lint: see engine.lint)."""
    calendar = read_calendar(directory / "editions.yaml")
    edition_ids = tuple(e.id for e in calendar.editions)
    catalogue = _load_yaml(directory / "outcomes.yaml") or {}
    outcomes = {
        code: OutcomeInfo(kind=str(spec["kind"]), title=str(spec.get("title", "")))
        for code, spec in (catalogue.get("outcomes") or {}).items()
    }
    prio = catalogue.get("priority") or {}
    levels = tuple((str(p["level"]), str(p["when_outcome"])) for p in prio.get("levels", ()))
    rules: list[Rule] = []
    for path in rule_files(directory):
        data = _load_yaml(path) or {}
        for item in data.get("rules") or ():
            rules.append(parse_rule(item, path.name, edition_ids))
    # Derived-fact rules first: they feed the others (durable_rules chains either way).
    rules.sort(key=lambda r: 0 if r.derives else 1)
    questions_data = _load_yaml(directory / "questions.yaml") or {}
    return Book(
        calendar=calendar,
        rules=tuple(rules),
        outcomes=outcomes,
        priority_levels=levels,
        priority_default=str(prio.get("default", "routine")),
        questions=tuple(questions_data.get("questions") or ()),
        directory=directory,
    )


@functools.lru_cache(maxsize=4)
def load_book(directory: Path = RULES_DIR) -> Book:
    """The rules folder, parsed once per process."""
    return read_book(directory)


def known_facts(ruleset: RuleSet) -> set[str]:
    """Names a condition may test in this rule set: input facts and derived facts."""
    return set(INPUT_FACTS) | {r.derives for r in ruleset.rules if r.derives}

"""Load the rule files into one RuleSet per edition, each identified by the hash of its content."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from engine import jsonfast
from engine.errors import RuleFileError
from engine.policy import conditions as C
from engine.policy import ruleyaml as RY
from engine.policy.editions import Calendar, Edition, read_calendar
from engine.policy.ordering import Cycle, dependency_order
from rules import RULES_DIR

SNAPSHOT_FORMAT = 2
"""Version of the rule set snapshot layout (part of what is hashed); format 1 snapshots still load."""

DATA_FILES = ("editions.yaml", "outcomes.yaml", "questions.yaml", "sources.yaml", "invariants.yaml")
"""Rule-folder files that hold no rules."""


@attrs.frozen
class Citation:
    """A rule's source: a bibliography entry, where in it, a verbatim quote, and fact or model basis."""

    source: str
    title: str
    locator: str = ""
    quote: str = ""
    basis: str = "fact"

    def to_data(self) -> dict[str, Any]:
        """Canonical data for the snapshot."""
        data = {"source": self.source, "title": self.title, "locator": self.locator, "basis": self.basis}
        if self.quote:
            data["quote"] = self.quote
        return data

    def public(self) -> dict[str, Any]:
        """The citation as a decision names it (CONTRACT.md v2 `sources`)."""
        return {"source": self.source, "title": self.title, "locator": self.locator, "basis": self.basis}

    def words(self) -> str:
        """One line for readable output: title, locator."""
        return f"{self.title}, {self.locator}" if self.locator else self.title


@attrs.frozen
class Variant:
    """One wording of a text, used when its condition holds (None: the default, last)."""

    text: str
    when: C.Cond | None = None

    def to_data(self) -> dict[str, Any]:
        """Canonical data for the snapshot."""
        data: dict[str, Any] = {"text": self.text}
        if self.when is not None:
            data["when"] = C.to_data(self.when)
        return data


def choose(variants: tuple[Variant, ...], lookup: Mapping[str, Any]) -> str:
    """The first variant whose condition certainly holds (unknown counts as not holding), else the default."""
    for variant in variants:
        if variant.when is None or C.evaluate(variant.when, lookup) is True:
            return variant.text
    return variants[-1].text


def _variants_data(variants: tuple[Variant, ...]) -> Any:
    """Variants as snapshot data: a plain string when there is only the default."""
    if len(variants) == 1 and variants[0].when is None:
        return variants[0].text
    return [v.to_data() for v in variants]


def _variants_from_data(data: Any) -> tuple[Variant, ...]:
    """Rebuild variants from snapshot data."""
    if isinstance(data, list):
        return tuple(Variant(v["text"], C.from_data(v["when"]) if "when" in v else None) for v in data)
    return (Variant(str(data or "")),)


@attrs.frozen
class Rule:
    """One declarative rule: derives a fact or concludes an outcome when its condition holds."""

    id: str
    title: str
    when: C.Cond
    citation: str
    derives: str | None = None
    concludes: str | None = None
    text: tuple[Variant, ...] = (Variant(""),)
    adviser_note: tuple[Variant, ...] = (Variant(""),)
    sources: tuple[Citation, ...] = ()
    shows: tuple[str, ...] = ()
    positive_only: bool = False
    editions: tuple[str, ...] = ()
    source: str = ""
    line: int | None = attrs.field(default=None, eq=False)
    """The rule's line in its file (None for a rule read back from a snapshot); not part of the rule."""

    @property
    def where(self) -> str:
        """`file:line: rule ID`, for messages."""
        place = f"{self.source}:{self.line}" if self.line else self.source
        return f"{place}: rule {self.id}"

    @property
    def default_text(self) -> str:
        """The text when no variant's condition holds (the last variant)."""
        return self.text[-1].text

    def to_data(self, snapshot_format: int = 2) -> dict[str, Any]:
        """Canonical data for the snapshot (without editions and source file)."""
        data: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "when": C.to_data(self.when),
            "citation": self.citation,
        }
        if snapshot_format >= 2:
            data["sources"] = [s.to_data() for s in self.sources]
        if self.derives:
            data["derives"] = self.derives
            if self.positive_only:
                data["positive_only"] = True
        if self.concludes:
            data["concludes"] = self.concludes
            data["text"] = _variants_data(self.text) if snapshot_format >= 2 else self.default_text
            if snapshot_format >= 2:
                data["adviser_note"] = _variants_data(self.adviser_note)
        if self.shows:
            data["shows"] = list(self.shows)
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Rule:
        """Rebuild from snapshot data (format 1 or 2)."""
        return cls(
            id=data["id"],
            title=data["title"],
            when=C.from_data(data["when"]),
            citation=data["citation"],
            derives=data.get("derives"),
            concludes=data.get("concludes"),
            text=_variants_from_data(data.get("text", "")),
            adviser_note=_variants_from_data(data.get("adviser_note", "")),
            sources=tuple(Citation(**s) for s in data.get("sources", ())),
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
    format: int = SNAPSHOT_FORMAT

    def snapshot(self) -> dict[str, Any]:
        """The canonical content: stored in the case book and hashed for the rule set id."""
        return {
            "format": self.format,
            "edition": self.edition.to_data(),
            "rules": [rule.to_data(self.format) for rule in self.rules],
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

    def rules_behind(self, codes: Iterable[str]) -> tuple[Rule, ...]:
        """The rules that conclude these outcome codes and every rule they read (derived facts, other
        outcomes), in rule-set order: the one walk the explanations, the classes and the diff share."""
        return _rules_behind(self, frozenset(codes))

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
        if data.get("format") not in (1, SNAPSHOT_FORMAT):
            raise RuleFileError(f"unsupported rule set snapshot format {data.get('format')!r}")
        return cls(
            edition=Edition.from_data(data["edition"]),
            rules=tuple(Rule.from_data(r) for r in data["rules"]),
            outcomes={code: OutcomeInfo(**info) for code, info in data["outcomes"].items()},
            priority_levels=tuple((p["level"], p["when_outcome"]) for p in data["priority"]["levels"]),
            priority_default=data["priority"]["default"],
            format=int(data["format"]),
        )


@functools.lru_cache(maxsize=4096)
def _rules_behind(ruleset: RuleSet, codes: frozenset[str]) -> tuple[Rule, ...]:
    """`RuleSet.rules_behind`, worked out once per rule set and set of codes."""
    keep: set[str] = set()
    todo = [r for r in ruleset.rules if r.concludes in codes]
    while todo:
        rule = todo.pop()
        if rule.id in keep:
            continue
        keep.add(rule.id)
        for test in C.tests(rule.when):
            if test.fact == C.OUTCOME_KEY:
                todo += [r for r in ruleset.rules if r.concludes == test.value]
            else:
                todo += [r for r in ruleset.rules if r.derives == test.fact]
    return tuple(r for r in ruleset.rules if r.id in keep)


def canonical_json(data: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 text kept as is (the standard library's bytes, made faster)."""
    return jsonfast.canonical(data)


def _derived_order(rules: tuple[Rule, ...]) -> tuple[str, ...]:
    """Topologically order derived facts by the derived facts their rules read."""
    deps: dict[str, set[str]] = {}
    for rule in rules:
        if rule.derives:
            deps.setdefault(rule.derives, set())
    for rule in rules:
        if rule.derives:
            deps[rule.derives] |= {t.fact for t in C.tests(rule.when) if t.fact in deps}
    try:
        return tuple(dependency_order(deps, lambda name: sorted(deps[name])))
    except Cycle as cycle:
        raise RuleFileError(f"derived facts depend on each other in a cycle: {cycle}") from None


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
    sources: dict[str, SourceEntry] = attrs.field(factory=dict)
    rulesets: dict[str, RuleSet] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        """Build every edition's rule set once; mark the editions that have requirements."""
        requirement_codes = {code for code, info in self.outcomes.items() if info.kind == "requirement"}
        editions = tuple(
            attrs.evolve(e, has_requirements=any(r.concludes in requirement_codes and e.id in r.editions
                                                 for r in self.rules))
            for e in self.calendar.editions
        )
        object.__setattr__(self, "calendar", attrs.evolve(self.calendar, editions=editions))
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
    """Load one rule file with safe_load (line numbers kept for messages: `engine.policy.ruleyaml`)."""
    return RY.load_rule_yaml(path)


def rule_files(directory: Path) -> Iterator[Path]:
    """The files holding rules, in name order."""
    for path in sorted(directory.glob("*.yaml")):
        if path.name not in DATA_FILES:
            yield path


RULE_KEYS = frozenset({"id", "title", "derives", "concludes", "editions", "when", "citation", "sources", "text",
                       "adviser_note", "shows", "positive_only"})
"""Keys a rule entry may hold (`citation` is the v1 form of `sources`)."""

BASES = ("fact", "model")
"""A citation's basis: an established fact, or a modelling assumption."""


@attrs.frozen
class SourceEntry:
    """One bibliography entry of rules/sources.yaml: a real public document."""

    id: str
    title: str
    publisher: str = ""
    date: str = ""
    url: str = ""
    kind: str = ""


def read_sources(path: Path) -> dict[str, SourceEntry]:
    """The bibliography (empty when the file is missing)."""
    if not path.exists():
        return {}
    data = _load_yaml(path) or {}
    entries = data.get("sources") or {}
    if not isinstance(entries, dict):
        raise RuleFileError(f"{path.name}: 'sources' must be a mapping of source ids")
    out = {}
    for sid, entry in entries.items():
        if not isinstance(entry, dict) or not entry.get("title"):
            raise RuleFileError(f"{RY.where(path.name, entries, str(sid))}: sources.{sid}.title: missing required key")
        out[str(sid)] = SourceEntry(id=str(sid), title=" ".join(str(entry["title"]).split()),
                                    publisher=str(entry.get("publisher", "")), date=str(entry.get("date", "")),
                                    url=str(entry.get("url", "")), kind=str(entry.get("kind", "")))
    return out


def parse_citations(raw: Any, where: str, bibliography: dict[str, SourceEntry]) -> tuple[Citation, ...]:
    """A rule's `sources` list, each entry resolved against the bibliography."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RuleFileError(f"{where}: 'sources' must be a list")
    out = []
    for item in raw:
        if not isinstance(item, dict) or "source" not in item:
            raise RuleFileError(f"{where}: each source needs a 'source' id")
        unknown = set(item) - {"source", "locator", "quote", "basis"}
        if unknown:
            raise RuleFileError(f"{where}: source {item['source']}: unknown keys {sorted(unknown)}")
        sid = str(item["source"])
        entry = bibliography.get(sid)
        basis = str(item.get("basis", "fact"))
        if basis not in BASES:
            raise RuleFileError(f"{where}: source {sid}: basis must be fact or model")
        out.append(Citation(source=sid, title=entry.title if entry else "", locator=str(item.get("locator", "")),
                            quote=" ".join(str(item.get("quote", "")).split()), basis=basis))
    return tuple(out)


def _variants(raw: Any, where: str) -> tuple[Variant, ...]:
    """A `text` or `adviser_note`: one string, or variants chosen by condition with a default last."""
    if raw is None:
        return (Variant(""),)
    if isinstance(raw, str):
        return (Variant(" ".join(raw.split())),)
    if not isinstance(raw, list) or not raw:
        raise RuleFileError(f"{where}: must be text or a list of variants")
    out = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise RuleFileError(f"{where}: variant {index + 1} needs a 'text'")
        last = index == len(raw) - 1
        if ("when" in item) == last:
            raise RuleFileError(f"{where}: every variant but the last needs a 'when'; the last (the default) has none")
        try:
            when = C.parse(item["when"]) if "when" in item else None
        except C.ConditionError as exc:
            raise RuleFileError(f"{where}: variant {index + 1}: {exc}") from None
        out.append(Variant(" ".join(item["text"].split()), when))
    return tuple(out)


def parse_rule(item: Any, source: str, edition_ids: tuple[str, ...],
               bibliography: dict[str, SourceEntry] | None = None) -> Rule:
    """One rule entry from a rule file (RuleFileError naming file and rule on a defect)."""
    if not isinstance(item, dict):
        raise RuleFileError(f"{source}: a rule must be a mapping")
    rid = item.get("id", "?")
    where = f"{RY.where(source, item)}: rule {rid}"
    unknown = sorted(set(item) - RULE_KEYS)
    if unknown:
        raise RuleFileError(f"{RY.where(source, item, unknown[0])}: rule {rid}: {unknown[0]}: unknown key "
                            f"(allowed: {', '.join(sorted(RULE_KEYS))})")
    editions = item.get("editions")
    if editions == "all":
        editions = list(edition_ids)
    if not isinstance(editions, list) or not editions:
        raise RuleFileError(f"{where}: 'editions' must be 'all' or a list of edition ids")
    try:
        when = C.parse(item.get("when"))
    except C.ConditionError as exc:
        raise RuleFileError(f"{where}: when: {exc}") from None
    sources = parse_citations(item.get("sources"), where, bibliography or {})
    citation = "; ".join(c.words() for c in sources) if sources else " ".join(str(item.get("citation", "")).split())
    return Rule(
        id=str(rid),
        title=str(item.get("title", "")),
        when=when,
        citation=citation,
        derives=item.get("derives"),
        concludes=item.get("concludes"),
        text=_variants(item.get("text"), f"{where}: text"),
        adviser_note=_variants(item.get("adviser_note"), f"{where}: adviser_note"),
        sources=sources,
        shows=tuple(item.get("shows", ())),
        positive_only=bool(item.get("positive_only", False)),
        editions=tuple(editions),
        source=source,
        line=item.line if isinstance(item, RY.Located) else None,
    )


def read_book(directory: Path = RULES_DIR) -> Book:
    """Read and parse the whole rules folder (without lint: see engine.policy.lint)."""
    calendar = read_calendar(directory / "editions.yaml")
    edition_ids = tuple(e.id for e in calendar.editions)
    bibliography = read_sources(directory / "sources.yaml")
    catalogue = _load_yaml(directory / "outcomes.yaml") or {}
    name = "outcomes.yaml"
    if not isinstance(catalogue, dict):
        raise RuleFileError(f"{name}: must be a mapping with 'outcomes' and 'priority'")
    outcomes = {
        str(code): OutcomeInfo(kind=str(RY.required(spec, "kind", name, f"outcomes.{code}")),
                               title=str(spec.get("title", "")))
        for code, spec in (catalogue.get("outcomes") or {}).items()
    }
    prio = catalogue.get("priority") or {}
    if not isinstance(prio, dict) or not isinstance(prio.get("levels", []), list):
        raise RuleFileError(f"{RY.where(name, catalogue, 'priority')}: priority: must hold a 'levels' list")
    levels = tuple((str(RY.required(p, "level", name, f"priority.levels[{n}]")),
                    str(RY.required(p, "when_outcome", name, f"priority.levels[{n}]")))
                   for n, p in enumerate(prio.get("levels", ()), start=1))
    rules: list[Rule] = []
    for path in rule_files(directory):
        data = _load_yaml(path) or {}
        if not isinstance(data, dict):
            raise RuleFileError(f"{path.name}: must be a mapping with a 'rules' list")
        for item in data.get("rules") or ():
            rules.append(parse_rule(item, path.name, edition_ids, bibliography))
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
        sources=bibliography,
    )


@functools.lru_cache(maxsize=4)
def load_book(directory: Path = RULES_DIR) -> Book:
    """The rules folder, parsed once per process."""
    return read_book(directory)

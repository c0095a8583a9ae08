"""The one registry of input facts: each declared once, and read by validation, the case model,
the interview, the generator, the compiler and the docs.

A fact's name is its dotted path in a case file (`drugs.in_treatment`). Adding a fact means one
`FactSpec` here (and a question in rules/questions.yaml if it is asked), plus the rules that read it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

BENEFITS = ("jsa", "uc", "ib", "is_lone_parent", "esa_wrag", "esa_support", "none")
"""Benefit codes a case may name."""

SUBSTANCES = (
    "heroin",
    "crack",
    "powder_cocaine",
    "cannabis",
    "amphetamines",
    "benzodiazepines",
    "novel_psychoactive",
    "other",
)
"""Substances a case may list."""

KNOWN_BY = ("self_disclosure", "dip", "drr", "probation", "prison", "adviser_suspicion")
"""How the drug use became known."""

HOUSING = ("settled", "temporary", "sofa_surfing", "no_fixed_abode", "rough_sleeping", "eviction_risk")
"""Housing situations."""

GOOD_CAUSES = ("relapse", "illness", "caring", "transport", "job_interview", "bereavement", "other")
"""Good cause a claimant may give for a missed discussion (or none)."""

NATIONS = ("england", "wales", "scotland")
"""Where the claimant lives (the 2009 Jobcentre referral route was England-only)."""

UC_GROUPS = ("all_work_requirements", "work_preparation", "work_focused_interview", "no_work_requirements")
"""Universal Credit's conditionality groups."""

MISSED_KINDS = ("required", "voluntary")
"""What kind of treatment discussion was missed."""


@attrs.frozen
class Unknown:
    """An answer that is not known: `unknown` (not asked, or not known) or `declined` (not said)."""

    reason: str

    def __str__(self) -> str:
        return self.reason


NOT_KNOWN = Unknown("unknown")
"""The answer was not asked, or the claimant does not know."""
DECLINED = Unknown("declined")
"""The claimant chose not to say."""
UNKNOWN_ANSWERS: dict[str, Unknown] = {"unknown": NOT_KNOWN, "declined": DECLINED}
"""The words a case file uses for an unknown answer."""


def is_unknown(value: Any) -> bool:
    """True for an `unknown` or `declined` answer."""
    return isinstance(value, Unknown)


@attrs.frozen
class FactSpec:
    """One input fact: its type, allowed values, default and how it may be left unanswered.

    kind: bool, enum, int, list (of `choices`), date, or flag (true when its block is present).
    optional: the fact may be absent (None): not given, or not applicable.
    unknowable: the fact may be `unknown` or `declined`.
    """

    name: str
    kind: str
    choices: tuple[str, ...] = ()
    low: int = 0
    high: int = 0
    default: Any = None
    optional: bool = False
    unknowable: bool = True
    required: bool = False

    @functools.cached_property
    def path(self) -> tuple[str, ...]:
        """Where the fact sits in a case file (computed once: validation reads it for every key of every case)."""
        return tuple(self.name.split("."))

    @functools.cached_property
    def block(self) -> str | None:
        """The case-file block holding the fact (`drugs`), or None for a top-level key."""
        return self.path[0] if len(self.path) > 1 else None

    @functools.cached_property
    def attr(self) -> str:
        """The flat attribute name in the durable_rules case fact."""
        return self.name.replace(".", "__")

    @property
    def allowed(self) -> str:
        """The allowed values, in words, for error messages."""
        if self.kind == "int":
            text = f"{self.low}..{self.high}"
        elif self.kind == "bool":
            text = "true, false"
        elif self.kind in ("enum", "list"):
            text = ", ".join(self.choices)
        elif self.kind == "date":
            text = "YYYY-MM-DD"
        else:
            text = ""
        if self.unknowable and text:
            text += ", unknown, declined"
        return text


def _facts(*specs: FactSpec) -> dict[str, FactSpec]:
    """Index specs by name, in declaration order (the order questions and encodings use)."""
    return {spec.name: spec for spec in specs}


INPUT_FACTS: dict[str, FactSpec] = _facts(
    FactSpec("as_of", "date", required=True, unknowable=False),
    FactSpec("claimant.age", "int", low=16, high=120, required=True, unknowable=False),
    FactSpec("claimant.nation", "enum", NATIONS, default="england"),
    FactSpec("benefit", "enum", BENEFITS, required=True, unknowable=False),
    FactSpec("uc_group", "enum", UC_GROUPS, optional=True),
    FactSpec("drugs.substances", "list", SUBSTANCES, default=()),
    FactSpec("drugs.known_by", "enum", KNOWN_BY, optional=True),
    FactSpec("drugs.in_treatment", "bool", default=False),
    FactSpec("drugs.on_drr", "bool", default=False),
    FactSpec("drugs.failed_treatment_episodes", "int", low=0, high=50, default=0),
    FactSpec("children.dependants", "int", low=0, high=20, default=0),
    FactSpec("children.youngest_age", "int", low=0, high=19, optional=True),
    FactSpec("children.at_risk", "bool", default=False),
    FactSpec("children.pregnant", "bool", default=False),
    FactSpec("children.kinship_carer", "bool", default=False),
    FactSpec("housing", "enum", HOUSING, default="settled"),
    FactSpec("prison_release_weeks", "int", low=0, high=520, optional=True),
    FactSpec("mental_health", "bool", default=False),
    FactSpec("consent.treatment_provider", "bool", default=False),
    FactSpec("consent.housing_advice", "bool", default=False),
    FactSpec("consent.employment_support", "bool", default=False),
    FactSpec("missed_discussion", "flag", default=False, unknowable=False),
    FactSpec("missed_discussion.good_cause", "enum", GOOD_CAUSES, optional=True),
    FactSpec("missed_discussion.kind", "enum", MISSED_KINDS, optional=True, unknowable=False),
)
"""Every input fact a rule may test, by dotted name, in interview order."""

BLOCKS = ("claimant", "drugs", "children", "consent", "missed_discussion")
"""Case-file keys that hold a mapping of facts (never a value, never `unknown`)."""

SET_SUFFIX = "__set"
"""Suffix of the flag attribute saying an optional fact has a value."""


def block_facts(block: str) -> Iterator[FactSpec]:
    """The facts inside one case-file block, in declaration order."""
    for spec in INPUT_FACTS.values():
        if spec.block == block:
            yield spec


def encode_case_fact(values: Mapping[str, Any], names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The case as one flat durable_rules fact (only `names`, if given).

    Absent optional facts get an explicit `__set: false` flag; unknown facts are left out
    entirely, so no rule can match on them and durable_rules concludes only what is certain.
    """
    fact: dict[str, Any] = {"kind": "case"}
    for name in INPUT_FACTS if names is None else names:
        spec = INPUT_FACTS[name]
        value = values[name]
        if isinstance(value, Unknown):
            continue
        attr = spec.attr
        if spec.kind == "list":
            for choice in spec.choices:
                fact[f"{attr}__{choice}"] = choice in value
            fact[f"{attr}__count"] = len(value)
            continue
        if spec.optional:
            fact[attr + SET_SUFFIX] = value is not None
            if value is None:
                continue
        fact[attr] = value.toordinal() if spec.kind == "date" else value
    return fact


def _scalar_json(value: Any) -> str:
    """One case-fact value as JSON text (bool, int, date as its ordinal, text)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, dt.date):
        return str(value.toordinal())
    return json.dumps(value, ensure_ascii=False)


def case_fact_encoder(names: tuple[str, ...], wanted: frozenset[str] | None = None
                      ) -> Callable[[Mapping[str, Any]], str]:
    """A function writing `encode_case_fact(values, names)` as JSON text, without the closing brace and
    keeping only the attributes in `wanted` (those a compiled rule set tests; None: all).

    Made once per compiled rule set: the per-fact choices (list items, `__set` flags) are worked out
    here, so each case costs one pass over its values and no JSON encoder (#14). An attribute no rule
    tests cannot change what durable_rules matches, so leaving it out changes no decision.
    """

    def keep(attr: str) -> bool:
        return wanted is None or attr in wanted

    plan: list[tuple[str, str, str | None, str | None, tuple[tuple[str, str], ...], str | None]] = []
    for name in names:
        spec = INPUT_FACTS[name]
        attr = spec.attr
        choices = tuple((choice, f'"{attr}__{choice}":') for choice in spec.choices
                        if keep(f"{attr}__{choice}")) if spec.kind == "list" else ()
        count = f'"{attr}__count":' if spec.kind == "list" and keep(f"{attr}__count") else None
        flag = f'"{attr}{SET_SUFFIX}":' if spec.optional and keep(attr + SET_SUFFIX) else None
        key = f'"{attr}":' if spec.kind != "list" and keep(attr) else None
        if choices or count or flag or key:
            plan.append((name, spec.kind, key, flag, choices, count))
    def segment(kind: str, key: str | None, flag: str | None, choices: tuple[tuple[str, str], ...],
                count: str | None, value: Any) -> str:
        """One fact's attributes, each after a comma (nothing for an unknown answer)."""
        if isinstance(value, Unknown):
            return ""
        if kind == "list":
            out = "".join("," + item + ("true" if choice in value else "false") for choice, item in choices)
            return out + ("," + count + str(len(value)) if count is not None else "")
        out = "," + flag + ("false" if value is None else "true") if flag is not None else ""
        if value is None or key is None:
            return out
        return out + "," + key + _scalar_json(value)

    memos: list[tuple[str, dict[tuple[type, Any], str],
                      tuple[str, str | None, str | None, tuple[tuple[str, str], ...], str | None]]] = [
        (name, {}, (kind, key, flag, choices, count)) for name, kind, key, flag, choices, count in plan]

    def encode(values: Mapping[str, Any]) -> str:
        out = ['{"kind":"case"']
        for name, memo, how in memos:
            value = values[name]
            try:
                text: str | None = memo.get((type(value), value))
                if text is None:
                    text = segment(*how, value)
                    if len(memo) < 4096:  # a date's values may not repeat: the memo stays small
                        memo[(type(value), value)] = text
            except TypeError:  # unhashable: never memoised
                text = segment(*how, value)
            out.append(text)
        return "".join(out)

    return encode

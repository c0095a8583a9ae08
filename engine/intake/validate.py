"""Validate raw case data into a Case, refusing anything CONTRACT.md does not allow.

Types, ranges, defaults and which facts may be unknown come from the fact registry
(engine.model.facts); this module adds the cross-field rules of CONTRACT.md and POLICY.md.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from engine.errors import InputError
from engine.intake.loader import RawCase
from engine.model.case import CASE_REF, PRIORITIES, Case, Expect
from engine.model.facts import BLOCKS, INPUT_FACTS, UNKNOWN_ANSWERS, FactSpec, Unknown, block_facts
from engine.model.nino import nino_problem
from engine.policy.editions import Calendar
from engine.policy.rulebook import load_book
from engine.textsafe import shown_value

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_OUTCOME_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}", re.ASCII)
_CODES = "codes such as REFER_HOUSING_ADVICE"
_KEY = re.compile(r"[a-z][a-z0-9_]{0,40}", re.ASCII)
MAX_TEXT = 4000
"""Longest title or narrative accepted, in characters."""

TOP_KEYS: tuple[str, ...] = (
    "schema",
    "case",
    *dict.fromkeys(spec.path[0] for spec in INPUT_FACTS.values()),
    "title",
    "narrative",
    "expect",
)
"""Keys a case file may hold at the top level."""

BLOCK_KEYS: dict[str, tuple[str, ...]] = {
    block: tuple(spec.path[1] for spec in block_facts(block)) + (("nino",) if block == "claimant" else ())
    for block in BLOCKS
}
"""Keys each block may hold."""


class _Reader:
    """Reads typed values out of raw data, raising errors that name file, line and key."""

    def __init__(self, raw: RawCase) -> None:
        self.raw = raw

    def fail(self, path: tuple[str, ...], problem: str, allowed: str = "") -> InputError:
        """An InputError at `path`, with the best line number known."""
        line = None
        for depth in range(len(path), 0, -1):
            line = self.raw.locate(path[:depth])
            if line is not None:
                break
        if line is None:
            line = self.raw.line
        return InputError(problem, self.raw.source, line, ".".join(path), allowed)

    def mapping(self, value: Any, path: tuple[str, ...], keys: tuple[str, ...]) -> dict[str, Any]:
        """A mapping holding only `keys`."""
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a mapping, not {_kind(value)}", "keys " + ", ".join(keys))
        for key in value:
            if not isinstance(key, str) or key not in keys:
                if isinstance(key, str) and _KEY.fullmatch(key):
                    raise self.fail(path + (key,), "unknown key", ", ".join(keys))
                raise self.fail(path, "has a key that is not a name (not shown)", ", ".join(keys))
        return value

    def fact(self, value: Any, spec: FactSpec) -> Any:
        """One input fact's value, typed by its registry entry (`unknown`/`declined` where allowed)."""
        path = spec.path
        if isinstance(value, str) and value in UNKNOWN_ANSWERS:
            if not spec.unknowable:
                raise self.fail(path, f"cannot be {value}", spec.allowed)
            return UNKNOWN_ANSWERS[value]
        if spec.kind == "bool":
            return self.boolean(value, path)
        if spec.kind == "int":
            return self.integer(value, path, spec.low, spec.high)
        if spec.kind == "enum":
            return self.choice(value, path, spec.choices)
        if spec.kind == "list":
            if not isinstance(value, list):
                raise self.fail(path, f"must be a list, not {_kind(value)}", spec.allowed)
            items: list[str] = []
            for item in value:
                name = self.choice(item, path, spec.choices)
                if name in items:
                    raise self.fail(path, f"{name!r} is listed twice")
                items.append(name)
            return tuple(sorted(items, key=spec.choices.index))
        raise self.fail(path, "cannot be given here")  # pragma: no cover - dates and flags are read apart

    def integer(self, value: Any, path: tuple[str, ...], low: int, high: int) -> int:
        """A whole number in [low, high] (booleans and floats refused)."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"must be a whole number, not {_kind(value)}", f"{low}..{high}")
        if not low <= value <= high:
            shown = shown_value(value) if abs(value) < 10**12 else "a number this size"  # str() of a huge int raises
            raise self.fail(path, f"{shown} is out of range", f"{low}..{high}")
        return value

    def boolean(self, value: Any, path: tuple[str, ...]) -> bool:
        """true or false, nothing else."""
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, not {_kind(value)}", "true, false")
        return value

    def choice(self, value: Any, path: tuple[str, ...], choices: tuple[str, ...]) -> str:
        """One of `choices`."""
        if not isinstance(value, str) or value not in choices:
            shown = _show(value)
            raise self.fail(path, f"{shown} is not allowed", ", ".join(choices))
        return value

    def text(self, value: Any, path: tuple[str, ...]) -> str:
        """A string of printable length."""
        if not isinstance(value, str):
            raise self.fail(path, f"must be text, not {_kind(value)}")
        if len(value) > MAX_TEXT:
            raise self.fail(path, f"is longer than {MAX_TEXT} characters")
        return value

    def date(self, value: Any, path: tuple[str, ...]) -> dt.date:
        """An ISO calendar date (YAML date or 'YYYY-MM-DD' text)."""
        if isinstance(value, dt.datetime):
            raise self.fail(path, "must be a date without a time", "YYYY-MM-DD")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise self.fail(path, f"{value} is not a real date", "YYYY-MM-DD") from None  # ISO-shaped: safe
        raise self.fail(path, f"{_show(value)} is not a date", "YYYY-MM-DD")


def _kind(value: Any) -> str:
    """A short name for a value's type, for messages (never the value itself)."""
    if value is None:
        return "null"
    return {
        bool: "true/false",
        int: "a number",
        float: "a decimal number",
        str: "text",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    """A value quoted for an error message only when it cannot be personal (`shown_value`), else its kind."""
    if isinstance(value, str):
        return shown_value(value)
    return _kind(value)


def build_case(raw: RawCase, calendar: Calendar | None = None) -> Case:
    """Validate one raw case object into a Case (InputError on the first problem)."""
    cal = calendar or load_book().calendar
    r = _Reader(raw)
    top = r.mapping(raw.data, (), TOP_KEYS)
    for required in ("schema", "case", "as_of", "claimant", "benefit"):
        if required not in top:
            raise r.fail((), f"missing required key '{required}'")
    if type(top["schema"]) is not int or top["schema"] != 1:
        raise r.fail(("schema",), f"unsupported schema {_show(top['schema'])}", "1")
    ref = top["case"]
    if not isinstance(ref, str) or not CASE_REF.fullmatch(ref):
        raise r.fail(("case",), f"{_show(ref)} is not a case reference", "1-32 of A-Z, 0-9 and -")
    as_of = r.date(top["as_of"], ("as_of",))
    first = cal.first_day()
    if as_of < first:
        raise r.fail(("as_of",), f"{as_of} is before the first edition", f"dates from {first.isoformat()}")
    blocks: dict[str, dict[str, Any]] = {}
    for block, allowed, keys in _BLOCK_PLAN:
        value = top.get(block)
        if block == "missed_discussion" and value is None:
            continue  # null, like any optional key, means not given
        if value is None:
            value = {}
        # a mapping of allowed keys passes at once; anything else gets `mapping`'s exact refusal
        blocks[block] = value if type(value) is dict and value.keys() <= allowed else r.mapping(value, (block,), keys)
    if "age" not in blocks["claimant"]:
        raise r.fail(("claimant",), "missing required key 'age'", "16..120")
    answers: dict[str, Any] = {}
    given: set[str] = set()
    for name, kind, within, key, spec in _FACT_PLAN:
        if kind == "flag":
            answers[name] = name in blocks
            continue
        container = blocks.get(within) if within else top
        if container is None or key not in container:
            answers[name] = spec.default
            continue
        value = container[key]
        if value is None:
            if not spec.optional:
                raise r.fail(spec.path, "cannot be null: give a value or leave the key out", spec.allowed)
            answers[name] = spec.default
            continue
        given.add(name)
        # the common well-typed answers are taken at once; the rest (unknown, declined, lists, errors) by `fact`
        answers[name] = value if _well_typed(kind, value, spec) else r.fact(value, spec)
    nino = _nino(r, blocks["claimant"].get("nino"))
    _check_together(r, answers, given, as_of, cal)
    title = r.text(top["title"], ("title",)) if top.get("title") is not None else None
    narrative = r.text(top["narrative"], ("narrative",)) if top.get("narrative") is not None else None
    expect = _expect(r, top["expect"]) if top.get("expect") is not None else None
    return Case(case=ref, as_of=as_of, answers=answers, nino=nino, title=title, narrative=narrative,
                expect=expect)


_BLOCK_PLAN: tuple[tuple[str, frozenset[str], tuple[str, ...]], ...] = tuple(
    (block, frozenset(BLOCK_KEYS[block]), BLOCK_KEYS[block]) for block in BLOCKS)
"""Each block of a case file, the keys it may hold as a set (for the quick check) and in order (for messages)."""

_FACT_PLAN: tuple[tuple[str, str, str | None, str, FactSpec], ...] = tuple(
    (spec.name, spec.kind, spec.block, spec.path[-1], spec) for spec in INPUT_FACTS.values() if spec.name != "as_of")
"""Each input fact `build_case` reads, with its kind, block and key taken out once (#14)."""


def _well_typed(kind: str, value: Any, spec: FactSpec) -> bool:
    """True for a plain answer `_Reader.fact` would take as it is: true/false, a whole number in range, a choice."""
    if kind == "bool":
        return value is True or value is False
    if kind == "int":
        return type(value) is int and spec.low <= value <= spec.high
    return kind == "enum" and type(value) is str and value in spec.choices and value not in UNKNOWN_ANSWERS


def _nino(r: _Reader, nino: Any) -> str | None:
    """The optional National Insurance number, checked (HMRC format, QQ for synthetic data)."""
    if nino is None:
        return None
    if not isinstance(nino, str):
        raise r.fail(("claimant", "nino"), f"must be text, not {_kind(nino)}", "e.g. QQ123456C")
    problem = nino_problem(nino)
    if problem:
        raise r.fail(("claimant", "nino"), f"not a National Insurance number: {problem}")
    return nino


def _known(value: Any) -> bool:
    """True for an answer that is neither unknown nor declined."""
    return not isinstance(value, Unknown)


def _check_together(r: _Reader, answers: dict[str, Any], given: set[str], as_of: dt.date, cal: Calendar) -> None:
    """The cross-field rules: required and forbidden companions, benefit dates, POLICY.md consistency.

    An `unknown` or `declined` answer never conflicts.
    """
    benefit = answers["benefit"]
    from_day = cal.benefit_from(benefit)
    if from_day is not None and as_of < from_day:
        raise r.fail(("benefit",), f"{benefit} did not exist on {as_of}", f"{benefit} from {from_day.isoformat()}")
    substances = answers["drugs.substances"]
    known_by = answers["drugs.known_by"]
    if _known(substances) and substances:
        if known_by is None:
            raise r.fail(("drugs", "known_by"), "required when substances are listed",
                         INPUT_FACTS["drugs.known_by"].allowed)
    elif _known(substances) and known_by is not None:
        if _known(known_by):
            raise r.fail(("drugs", "known_by"), "not allowed when no substances are listed")
        answers["drugs.known_by"] = None  # no drug use: there is nothing to have become known
    elif not _known(substances) and known_by is None:
        answers["drugs.known_by"] = substances  # left out while substances is unknown: unknown too
    dependants = answers["children.dependants"]
    youngest = answers["children.youngest_age"]
    if _known(dependants) and dependants > 0:
        if youngest is None:
            raise r.fail(("children", "youngest_age"), "required when dependants is above 0", "0..19")
    elif _known(dependants) and youngest is not None:
        if _known(youngest):
            raise r.fail(("children", "youngest_age"), "not allowed when dependants is 0")
        answers["children.youngest_age"] = None  # no children: there is no youngest age to know
    elif not _known(dependants) and youngest is None:
        answers["children.youngest_age"] = dependants
    if benefit == "uc":
        if answers["uc_group"] is None:
            answers["uc_group"] = "all_work_requirements"
    elif "uc_group" in given and _known(answers["uc_group"]):
        raise r.fail(("uc_group",), f"only with benefit uc, and benefit is {benefit}", "leave uc_group out")
    no_child = _known(dependants) and dependants == 0
    if benefit == "is_lone_parent" and no_child:
        raise r.fail(("children", "dependants"),
                     "benefit is_lone_parent needs children.dependants of at least 1", "1..20")
    if answers["children.kinship_carer"] is True and no_child:
        raise r.fail(("children", "kinship_carer"),
                     "children.kinship_carer is true but children.dependants is 0", "dependants 1..20")
    no_drugs = _known(substances) and not substances
    for fact in ("drugs.in_treatment", "drugs.on_drr"):
        if answers[fact] is True and no_drugs:
            raise r.fail(tuple(fact.split(".")), f"{fact} is true but drugs.substances is empty",
                         "list the substances")
    if answers["missed_discussion.kind"] == "required" and not cal.edition_for(as_of).has_requirements:
        raise r.fail(("missed_discussion", "kind"),
                     f"a required discussion cannot be missed on {as_of}: no edition then has requirements",
                     "voluntary")


def _is_code(value: Any) -> bool:
    """True for a string shaped like an outcome code (capitals, digits, underscores): nothing else is echoed."""
    return isinstance(value, str) and _OUTCOME_CODE.fullmatch(value) is not None


def _expect(r: _Reader, value: Any) -> Expect:
    """The scenario expectations: the exact outcome codes and the priority."""
    block = r.mapping(value, ("expect",), ("outcomes", "priority", "open"))
    outcomes = block.get("outcomes")
    if outcomes is not None:
        if not isinstance(outcomes, list) or not all(_is_code(o) for o in outcomes):
            raise r.fail(("expect", "outcomes"), "must be a list of outcome codes", _CODES)
        outcomes = tuple(sorted(set(outcomes)))
    open_ = block.get("open")
    if open_ is not None:
        if not isinstance(open_, list) or not all(_is_code(o) for o in open_):
            raise r.fail(("expect", "open"), "must be a list of outcome codes", _CODES)
        open_ = tuple(sorted(set(open_)))
    priority = block.get("priority")
    if priority is not None:
        priority = r.choice(priority, ("expect", "priority"), PRIORITIES)
    return Expect(outcomes=outcomes, priority=priority, open=open_)


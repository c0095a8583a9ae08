"""Validate raw case data into a Case, refusing anything CONTRACT.md does not allow."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from engine.errors import InputError
from engine.intake.loader import RawCase
from engine.model.case import (
    BENEFITS,
    CASE_REF,
    GOOD_CAUSES,
    HOUSING,
    KNOWN_BY,
    PRIORITIES,
    SUBSTANCES,
    Case,
    Children,
    Claimant,
    Consent,
    Drugs,
    Expect,
    MissedDiscussion,
)
from engine.model.nino import nino_problem
from engine.policy.editions import Calendar, load_calendar

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
MAX_TEXT = 4000
"""Longest title or narrative accepted, in characters."""

TOP_KEYS = (
    "schema",
    "case",
    "as_of",
    "claimant",
    "benefit",
    "drugs",
    "children",
    "housing",
    "prison_release_weeks",
    "mental_health",
    "consent",
    "missed_discussion",
    "title",
    "narrative",
    "expect",
)
"""Keys a case file may hold at the top level."""


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
                raise self.fail(path + (str(key),), "unknown key", ", ".join(keys))
        return value

    def integer(self, value: Any, path: tuple[str, ...], low: int, high: int) -> int:
        """A whole number in [low, high] (booleans and floats refused)."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"must be a whole number, not {_kind(value)}", f"{low}..{high}")
        if not low <= value <= high:
            shown = str(value) if abs(value) < 10**12 else "a number this size"  # str() of a huge int raises
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
                raise self.fail(path, f"{value} is not a real date", "YYYY-MM-DD") from None
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
    """A value quoted for an error message, shortened and stripped of control characters."""
    if isinstance(value, str):
        clean = "".join(ch if ch.isprintable() else "?" for ch in value[:40])
        return repr(clean)
    return _kind(value)


def build_case(raw: RawCase, calendar: Calendar | None = None) -> Case:
    """Validate one raw case object into a Case (InputError on the first problem)."""
    cal = calendar or load_calendar()
    r = _Reader(raw)
    top = r.mapping(raw.data, (), TOP_KEYS)
    for required in ("schema", "case", "as_of", "claimant", "benefit"):
        if required not in top:
            raise r.fail((), f"missing required key '{required}'")
    if isinstance(top["schema"], bool) or top["schema"] != 1:
        raise r.fail(("schema",), f"unsupported schema {_show(top['schema'])}", "1")
    ref = top["case"]
    if not isinstance(ref, str) or not CASE_REF.fullmatch(ref):
        raise r.fail(("case",), f"{_show(ref)} is not a case reference", "1-32 of A-Z, 0-9 and -")
    as_of = r.date(top["as_of"], ("as_of",))
    first = cal.first_day()
    if as_of < first:
        raise r.fail(
            ("as_of",), f"{as_of} is before the first edition", f"dates from {first.isoformat()}"
        )
    claimant = _claimant(r, top["claimant"])
    benefit = r.choice(top["benefit"], ("benefit",), BENEFITS)
    from_day = cal.benefit_from(benefit)
    if from_day is not None and as_of < from_day:
        raise r.fail(
            ("benefit",),
            f"{benefit} did not exist on {as_of}",
            f"{benefit} from {from_day.isoformat()}",
        )
    drugs = _drugs(r, top.get("drugs", {}))
    children = _children(r, top.get("children", {}))
    housing = r.choice(top.get("housing", "settled"), ("housing",), HOUSING)
    weeks = top.get("prison_release_weeks")
    if weeks is not None:
        weeks = r.integer(weeks, ("prison_release_weeks",), 0, 520)
    mental = r.boolean(top.get("mental_health", False), ("mental_health",))
    consent = _consent(r, top.get("consent", {}))
    missed = None
    if top.get("missed_discussion") is not None:  # null, like any optional key, means not given
        missed = _missed(r, top["missed_discussion"])
    title = r.text(top["title"], ("title",)) if top.get("title") is not None else None
    narrative = r.text(top["narrative"], ("narrative",)) if top.get("narrative") is not None else None
    expect = _expect(r, top["expect"]) if top.get("expect") is not None else None
    return Case(
        case=ref,
        as_of=as_of,
        claimant=claimant,
        benefit=benefit,
        drugs=drugs,
        children=children,
        housing=housing,
        prison_release_weeks=weeks,
        mental_health=mental,
        consent=consent,
        missed_discussion=missed,
        title=title,
        narrative=narrative,
        expect=expect,
    )


def _claimant(r: _Reader, value: Any) -> Claimant:
    """The claimant block: age required, NINO optional."""
    block = r.mapping(value, ("claimant",), ("age", "nino"))
    if "age" not in block:
        raise r.fail(("claimant",), "missing required key 'age'", "16..120")
    age = r.integer(block["age"], ("claimant", "age"), 16, 120)
    nino = block.get("nino")
    if nino is not None:
        if not isinstance(nino, str):
            raise r.fail(("claimant", "nino"), f"must be text, not {_kind(nino)}", "e.g. QQ123456C")
        problem = nino_problem(nino)
        if problem:
            raise r.fail(("claimant", "nino"), f"not a National Insurance number: {problem}")
    return Claimant(age=age, nino=nino)


def _drugs(r: _Reader, value: Any) -> Drugs:
    """The drugs block, with known_by required exactly when substances are listed."""
    keys = ("substances", "known_by", "in_treatment", "on_drr", "failed_treatment_episodes")
    if value is None:
        value = {}
    block = r.mapping(value, ("drugs",), keys)
    raw_list = block.get("substances", [])
    if raw_list is None:
        raw_list = []
    if not isinstance(raw_list, list):
        raise r.fail(("drugs", "substances"), f"must be a list, not {_kind(raw_list)}", ", ".join(SUBSTANCES))
    substances: list[str] = []
    for item in raw_list:
        name = r.choice(item, ("drugs", "substances"), SUBSTANCES)
        if name in substances:
            raise r.fail(("drugs", "substances"), f"{name!r} is listed twice")
        substances.append(name)
    known_by = block.get("known_by")
    if substances:
        if known_by is None:
            raise r.fail(
                ("drugs", "known_by"), "required when substances are listed", ", ".join(KNOWN_BY)
            )
        known_by = r.choice(known_by, ("drugs", "known_by"), KNOWN_BY)
    elif known_by is not None:
        raise r.fail(("drugs", "known_by"), "not allowed when no substances are listed")
    return Drugs(
        substances=tuple(sorted(substances, key=SUBSTANCES.index)),
        known_by=known_by,
        in_treatment=r.boolean(block.get("in_treatment", False), ("drugs", "in_treatment")),
        on_drr=r.boolean(block.get("on_drr", False), ("drugs", "on_drr")),
        failed_treatment_episodes=r.integer(
            block.get("failed_treatment_episodes", 0), ("drugs", "failed_treatment_episodes"), 0, 50
        ),
    )


def _children(r: _Reader, value: Any) -> Children:
    """The children block, with youngest_age required exactly when there are dependants."""
    keys = ("dependants", "youngest_age", "at_risk", "pregnant", "kinship_carer")
    if value is None:
        value = {}
    block = r.mapping(value, ("children",), keys)
    dependants = r.integer(block.get("dependants", 0), ("children", "dependants"), 0, 20)
    youngest = block.get("youngest_age")
    if dependants > 0:
        if youngest is None:
            raise r.fail(("children", "youngest_age"), "required when dependants is above 0", "0..19")
        youngest = r.integer(youngest, ("children", "youngest_age"), 0, 19)
    elif youngest is not None:
        raise r.fail(("children", "youngest_age"), "not allowed when dependants is 0")
    return Children(
        dependants=dependants,
        youngest_age=youngest,
        at_risk=r.boolean(block.get("at_risk", False), ("children", "at_risk")),
        pregnant=r.boolean(block.get("pregnant", False), ("children", "pregnant")),
        kinship_carer=r.boolean(block.get("kinship_carer", False), ("children", "kinship_carer")),
    )


def _consent(r: _Reader, value: Any) -> Consent:
    """The consent block (both default false)."""
    if value is None:
        value = {}
    block = r.mapping(value, ("consent",), ("treatment_provider", "housing_advice"))
    return Consent(
        treatment_provider=r.boolean(
            block.get("treatment_provider", False), ("consent", "treatment_provider")
        ),
        housing_advice=r.boolean(block.get("housing_advice", False), ("consent", "housing_advice")),
    )


def _missed(r: _Reader, value: Any) -> MissedDiscussion:
    """The missed discussion block (good cause may be null)."""
    block = r.mapping(value, ("missed_discussion",), ("good_cause",))
    cause = block.get("good_cause")
    if cause is not None:
        cause = r.choice(cause, ("missed_discussion", "good_cause"), GOOD_CAUSES)
    return MissedDiscussion(good_cause=cause)


def _expect(r: _Reader, value: Any) -> Expect:
    """The scenario expectations: the exact outcome codes and the priority."""
    block = r.mapping(value, ("expect",), ("outcomes", "priority"))
    outcomes = block.get("outcomes")
    if outcomes is not None:
        if not isinstance(outcomes, list) or not all(isinstance(o, str) for o in outcomes):
            raise r.fail(("expect", "outcomes"), "must be a list of outcome codes")
        outcomes = tuple(sorted(set(outcomes)))
    priority = block.get("priority")
    if priority is not None:
        priority = r.choice(priority, ("expect", "priority"), PRIORITIES)
    return Expect(outcomes=outcomes, priority=priority)


CaseBuilder = Callable[[RawCase], Case]
"""Anything that turns a raw case into a validated Case."""

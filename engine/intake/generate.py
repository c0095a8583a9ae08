"""Synthetic cases for training, load tests and property checks (`pathways cases generate`).

`generate_cases(n, seed)` yields `n` valid case-file objects (CONTRACT.md case schema 1) from
nothing but `random.Random(seed)`: no clock, environment or files, so the same seed always gives
the same cases. National Insurance numbers use the `QQ` prefix, which HMRC never issues, so
generated data can never be mistaken for a live claimant (a live case book refuses it).

The mix is deliberately weighted so every pathway in shared/POLICY.md occurs: problem drug use
(heroin/crack) is common, and with it requirements, parents, unstable housing, prison release,
missed discussions, suspicion only, other drug use and kinship carers. Dates cover all three
editions, including their boundary days, and every benefit that existed on the date.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Iterator, Sequence
from typing import Any, Generic, TypeVar

from engine.model.case import Case
from engine.model.facts import DECLINED, GOOD_CAUSES, INPUT_FACTS, NOT_KNOWN, SUBSTANCES, UC_GROUPS, FactSpec

T = TypeVar("T")

REF_PREFIX = "SYN-"
"""Generated case references are `SYN-` and an 8-digit serial number (SYN-00000001)."""

LAST_DAY = dt.date(2026, 12, 31)
"""The last `as_of` date generated (the current edition has no end date)."""

EDITION_WINDOWS: tuple[tuple[str, dt.date, dt.date], ...] = (
    ("2008-announced", dt.date(2008, 2, 27), dt.date(2009, 4, 26)),
    ("2009-voluntary", dt.date(2009, 4, 27), dt.date(2017, 7, 13)),
    ("2017-recovery", dt.date(2017, 7, 14), LAST_DAY),
)
"""Each edition and the days cases are dated within it (shared/POLICY.md 'Editions')."""

BENEFIT_FROM: dict[str, dt.date] = {
    "esa_wrag": dt.date(2008, 10, 27),
    "esa_support": dt.date(2008, 10, 27),
    "uc": dt.date(2013, 4, 29),
}
"""The first day a benefit could be named (shared/POLICY.md 'Benefit validity')."""

BOUNDARY_DATES: tuple[dt.date, ...] = (
    dt.date(2008, 2, 27),
    dt.date(2008, 10, 26),
    dt.date(2008, 10, 27),
    dt.date(2009, 4, 26),
    dt.date(2009, 4, 27),
    dt.date(2011, 6, 30),
    dt.date(2011, 7, 1),
    dt.date(2013, 4, 28),
    dt.date(2013, 4, 29),
    dt.date(2017, 7, 13),
    dt.date(2017, 7, 14),
    LAST_DAY,
)
"""Days where an edition, a benefit or a rule's date test changes: generated often on purpose."""

class _Weighted(Generic[T]):
    """A fixed table of values and weights to draw from (cumulative weights computed once)."""

    __slots__ = ("cumulative", "total", "values")

    def __init__(self, pairs: Sequence[tuple[T, int]]) -> None:
        self.values = tuple(value for value, _ in pairs)
        self.cumulative = list(itertools.accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        """One value, with probability in proportion to its weight (as `rng.choices` draws it)."""
        return self.values[bisect.bisect(self.cumulative, rng.random() * self.total)]


_EDITIONS = _Weighted(list(zip(EDITION_WINDOWS, (30, 35, 35), strict=True)))

_BENEFIT_WEIGHTS: tuple[tuple[str, int, int], ...] = (
    # benefit, weight before UC, weight once UC exists (legacy benefits shrink as UC rolls out)
    ("jsa", 34, 18),
    ("uc", 0, 30),
    ("ib", 12, 4),
    ("is_lone_parent", 12, 6),
    ("esa_wrag", 14, 16),
    ("esa_support", 6, 7),
    ("none", 5, 5),
)
_BENEFIT_ERAS: tuple[tuple[dt.date, _Weighted[str]], ...] = tuple(
    (
        day,
        _Weighted([
            (name, after if day >= BENEFIT_FROM["uc"] else before)
            for name, before, after in _BENEFIT_WEIGHTS
            if day >= BENEFIT_FROM.get(name, dt.date.min)
        ]),
    )
    for day in sorted({EDITION_WINDOWS[0][1], *BENEFIT_FROM.values()}, reverse=True)
)
"""Benefit tables by the first day they apply, latest first (a benefit only once it existed)."""

_AGE_BANDS = _Weighted([
    ((16, 17), 2), ((18, 24), 18), ((25, 34), 28), ((35, 44), 25), ((45, 54), 17), ((55, 64), 8), ((65, 90), 2),
])

# Drug profiles: no known use, problem drug use (heroin/crack, known), heroin/crack on suspicion
# alone, other drugs (known), other drugs on suspicion alone.
_PROFILES = _Weighted([("none", 30), ("pdu", 42), ("suspected", 7), ("other", 17), ("other_suspected", 4)])
_PDU_SETS = _Weighted([(("heroin",), 42), (("crack",), 22), (("heroin", "crack"), 26)])
_PDU_EXTRAS = _Weighted([
    ("benzodiazepines", 4), ("cannabis", 4), ("powder_cocaine", 2), ("amphetamines", 1), ("other", 1),
])
_OTHER_DRUGS_WEIGHTS = (
    ("cannabis", 50), ("powder_cocaine", 18), ("amphetamines", 10), ("benzodiazepines", 9),
    ("novel_psychoactive", 8), ("other", 5),
)
_OTHER_DRUGS = _Weighted(_OTHER_DRUGS_WEIGHTS)
_OTHER_DRUGS_YOUNG = _Weighted([
    (name, weight * 2 if name in ("cannabis", "novel_psychoactive") else weight)
    for name, weight in _OTHER_DRUGS_WEIGHTS
])
_KNOWN_BY_PDU = _Weighted([("self_disclosure", 40), ("dip", 16), ("drr", 10), ("probation", 16), ("prison", 12)])
_KNOWN_BY_OTHER = _Weighted([("self_disclosure", 70), ("dip", 6), ("drr", 4), ("probation", 12), ("prison", 8)])
_FAILED_EPISODES = _Weighted([(1, 18), (2, 12), (3, 8), (4, 5), (5, 3), (6, 2)])
_DEPENDANTS_LONE_PARENT = _Weighted([(1, 40), (2, 30), (3, 18), (4, 8), (5, 3), (6, 1)])
_DEPENDANTS = _Weighted([(0, 62), (1, 14), (2, 12), (3, 6), (4, 3), (5, 2)])
_HOUSING_TROUBLED = _Weighted([
    ("settled", 42), ("temporary", 15), ("sofa_surfing", 12), ("no_fixed_abode", 11),
    ("rough_sleeping", 8), ("eviction_risk", 12),
])
_HOUSING_OTHER = _Weighted([
    ("settled", 78), ("temporary", 7), ("sofa_surfing", 4), ("no_fixed_abode", 2),
    ("rough_sleeping", 2), ("eviction_risk", 7),
])
_RELEASE_BANDS = _Weighted([((0, 4), 37), ((5, 13), 25), ((14, 52), 22), ((53, 520), 8)])
_GOOD_CAUSE: _Weighted[str | None] = _Weighted([
    (None, 30), ("relapse", 20), ("illness", 14), ("caring", 10), ("transport", 10),
    ("job_interview", 6), ("bereavement", 5), ("other", 5),
])
assert {c for c in _GOOD_CAUSE.values if c is not None} == set(GOOD_CAUSES)

_NATION = _Weighted([("england", 84), ("wales", 8), ("scotland", 8)])
_UC_GROUP = _Weighted(list(zip(UC_GROUPS, (55, 15, 15, 15), strict=True)))
_MISSED_KIND_2008 = _Weighted([(None, 60), ("required", 20), ("voluntary", 20)])
_MISSED_KIND_LATER = _Weighted([(None, 70), ("voluntary", 30)])


def _chance(rng: random.Random, p: float) -> bool:
    """True with probability `p`."""
    return rng.random() < p


def _as_of(rng: random.Random) -> dt.date:
    """A date in one of the editions, a boundary day one time in ten."""
    if _chance(rng, 0.1):
        return rng.choice(BOUNDARY_DATES)
    _, start, end = _EDITIONS.pick(rng)
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def _age(rng: random.Random) -> int:
    """A claimant's age: working age mostly, with the 24/25 boundary and the young edge common."""
    if _chance(rng, 0.04):
        return rng.choice((16, 24, 25))
    low, high = _AGE_BANDS.pick(rng)
    return rng.randint(low, high)


def _benefit(rng: random.Random, as_of: dt.date) -> str:
    """A benefit that existed on `as_of`, weighted by how common it was then."""
    for first_day, table in _BENEFIT_ERAS:
        if as_of >= first_day:
            return table.pick(rng)
    raise ValueError(f"{as_of} is before the first edition")


def _drugs(rng: random.Random, profile: str, age: int) -> dict[str, Any]:
    """The drugs answers for a profile (known_by exactly when substances are listed)."""
    if profile == "none":
        return {"drugs.substances": (), "drugs.known_by": None, "drugs.in_treatment": False, "drugs.on_drr": False,
                "drugs.failed_treatment_episodes": 0}
    if profile in ("pdu", "suspected"):
        chosen = list(_PDU_SETS.pick(rng))
        if _chance(rng, 0.15):
            chosen.append(_PDU_EXTRAS.pick(rng))
    else:
        table = _OTHER_DRUGS_YOUNG if age <= 24 else _OTHER_DRUGS
        chosen = [table.pick(rng)]
        if _chance(rng, 0.2):
            chosen.append(table.pick(rng))
    substances = tuple(sorted(set(chosen), key=SUBSTANCES.index))
    if profile in ("suspected", "other_suspected"):
        return {"drugs.substances": substances, "drugs.known_by": "adviser_suspicion", "drugs.in_treatment": False,
                "drugs.on_drr": False, "drugs.failed_treatment_episodes": 0}
    known_by = (_KNOWN_BY_PDU if profile == "pdu" else _KNOWN_BY_OTHER).pick(rng)
    pdu = profile == "pdu"
    on_drr = _chance(rng, 0.8) if known_by == "drr" else _chance(rng, 0.08 if pdu else 0.02)
    in_treatment = _chance(rng, 0.4 if pdu else 0.12) or (known_by == "dip" and _chance(rng, 0.3))
    failed = 0
    if pdu and _chance(rng, 0.5):
        failed = _FAILED_EPISODES.pick(rng)
        if _chance(rng, 0.05):
            failed = rng.randint(7, 50)
    elif not pdu and _chance(rng, 0.1):
        failed = rng.randint(1, 3)
    return {"drugs.substances": substances, "drugs.known_by": known_by, "drugs.in_treatment": in_treatment,
            "drugs.on_drr": on_drr, "drugs.failed_treatment_episodes": failed}


def _children(rng: random.Random, benefit: str, age: int, pdu: bool) -> dict[str, Any]:
    """The children answers (youngest_age exactly when there are dependants, and plausible for the age)."""
    kinship = _chance(rng, 0.08 if age >= 40 else 0.02) and age >= 18
    if benefit == "is_lone_parent":
        dependants = _DEPENDANTS_LONE_PARENT.pick(rng)
    else:
        dependants = _DEPENDANTS.pick(rng)
        if _chance(rng, 0.005):
            dependants = rng.randint(6, 20)
    if kinship and dependants == 0:
        dependants = rng.randint(1, 3)
    youngest = None
    if dependants:
        oldest_possible = max(0, min(19, age - 15)) if not kinship else 19
        ceiling = 15 if benefit == "is_lone_parent" else 17
        if _chance(rng, 0.03):
            ceiling = 19
        youngest = min(rng.randint(0, ceiling), oldest_possible, rng.randint(0, ceiling))
    pregnant = 16 <= age <= 45 and _chance(rng, 0.06)
    at_risk = False
    if dependants or pregnant:
        at_risk = _chance(rng, 0.14 if pdu else 0.03)
    return {"children.dependants": dependants, "children.youngest_age": youngest, "children.at_risk": at_risk,
            "children.pregnant": pregnant, "children.kinship_carer": kinship}


def _prison_weeks(rng: random.Random, known_by: str | None, troubled: bool) -> int | None:
    """Weeks since release from prison, or None (common when prison or probation made drug use known)."""
    p = {"prison": 0.85, "probation": 0.4, "drr": 0.15}.get(known_by or "", 0.12 if troubled else 0.03)
    if not _chance(rng, p):
        return None
    if _chance(rng, 0.1):
        return rng.choice((0, 4, 5, 13, 14))  # the edges of the 4- and 13-week tests
    low, high = _RELEASE_BANDS.pick(rng)
    return rng.randint(low, high)


def _maybe_drop(rng: random.Random, block: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Remove keys equal to their default, each half the time, so both forms occur."""
    for key, default in defaults.items():
        if key in block and block[key] == default and _chance(rng, 0.5):
            del block[key]


def _file_form(rng: random.Random, case: Case) -> dict[str, Any]:
    """The case as case-file data, with defaulted keys sometimes written out and sometimes omitted."""
    data = case.to_file_data()
    _maybe_drop(rng, data["drugs"], {"substances": [], "in_treatment": False, "on_drr": False,
                                     "failed_treatment_episodes": 0})
    _maybe_drop(rng, data["children"], {"dependants": 0, "at_risk": False, "pregnant": False,
                                        "kinship_carer": False})
    _maybe_drop(rng, data["consent"], {"treatment_provider": False, "housing_advice": False,
                                       "employment_support": False})
    _maybe_drop(rng, data["claimant"], {"nation": "england"})
    for block in ("drugs", "children", "consent"):
        if not data[block] and _chance(rng, 0.7):
            del data[block]
    _maybe_drop(rng, data, {"housing": "settled", "prison_release_weeks": None, "mental_health": False})
    if data.get("uc_group") == "all_work_requirements" and _chance(rng, 0.5):
        del data["uc_group"]
    missed = data.get("missed_discussion")
    if missed is not None and missed.get("good_cause") is None and _chance(rng, 0.5):
        missed.pop("good_cause", None)
    return data


def _generic(rng: random.Random, spec: FactSpec) -> Any:
    """A value for a fact with no bespoke distribution here: its default mostly, else any allowed value."""
    if spec.optional or not _chance(rng, 0.15):
        return spec.default
    if spec.kind in ("bool", "flag"):
        return not spec.default
    if spec.kind == "enum":
        return rng.choice(spec.choices)
    if spec.kind == "int":
        return rng.randint(spec.low, spec.high)
    return spec.default


_UNKNOWABLE = tuple(s.name for s in INPUT_FACTS.values() if s.unknowable)
"""Facts a generated case may leave `unknown` or `declined`."""


def _leave_unknown(rng: random.Random, answers: dict[str, Any]) -> None:
    """Now and then make one or two answers unknown or declined, as a real interview does."""
    if not _chance(rng, 0.08):
        return
    for name in rng.sample(_UNKNOWABLE, rng.choice((1, 1, 2))):
        if INPUT_FACTS[name].block == "missed_discussion" and not answers["missed_discussion"]:
            continue
        answers[name] = rng.choice((NOT_KNOWN, NOT_KNOWN, DECLINED))
    if answers["drugs.substances"] in (NOT_KNOWN, DECLINED) and answers["drugs.known_by"] is None:
        answers["drugs.known_by"] = answers["drugs.substances"]
    if answers["children.dependants"] in (NOT_KNOWN, DECLINED) and answers["children.youngest_age"] is None:
        answers["children.youngest_age"] = answers["children.dependants"]


def synthetic_case(rng: random.Random, number: int) -> Case:
    """One valid synthetic Case numbered `number`, drawn from `rng` (for callers that want the model)."""
    as_of = _as_of(rng)
    age = _age(rng)
    benefit = _benefit(rng, as_of)
    profile = _PROFILES.pick(rng)
    answers: dict[str, Any] = {"claimant.age": age, "benefit": benefit, **_drugs(rng, profile, age)}
    pdu = profile == "pdu"
    troubled = profile in ("pdu", "suspected")
    answers.update(_children(rng, benefit, age, pdu))
    housing = (_HOUSING_TROUBLED if troubled else _HOUSING_OTHER).pick(rng)
    answers["housing"] = housing
    answers["prison_release_weeks"] = _prison_weeks(rng, answers["drugs.known_by"], troubled)
    answers["mental_health"] = _chance(rng, 0.35 if troubled else 0.18)
    substances = answers["drugs.substances"]
    answers["consent.treatment_provider"] = _chance(rng, 0.7 if substances else 0.2)
    answers["consent.housing_advice"] = _chance(rng, 0.65 if housing != "settled" else 0.25)
    answers["consent.employment_support"] = _chance(rng, 0.55 if substances else 0.3)
    answers["claimant.nation"] = _NATION.pick(rng)
    answers["uc_group"] = _UC_GROUP.pick(rng) if benefit == "uc" else None
    treated = answers.get("drugs.in_treatment") or answers.get("drugs.on_drr")
    if pdu:
        p_missed = 0.03 if treated else 0.2
    else:
        p_missed = 0.04 if substances else 0.01
    missed = _chance(rng, p_missed)
    answers["missed_discussion"] = missed
    answers["missed_discussion.good_cause"] = _GOOD_CAUSE.pick(rng) if missed else None
    kinds = _MISSED_KIND_2008 if as_of <= EDITION_WINDOWS[0][2] else _MISSED_KIND_LATER
    answers["missed_discussion.kind"] = kinds.pick(rng) if missed else None
    for spec in INPUT_FACTS.values():
        if spec.name != "as_of" and spec.name not in answers:
            answers[spec.name] = _generic(rng, spec)
    _leave_unknown(rng, answers)
    nino = None
    if _chance(rng, 0.8):
        nino = f"QQ{rng.randint(0, 999_999):06d}{rng.choice('ABCD')}"
    return Case(case=f"{REF_PREFIX}{number:08d}", as_of=as_of, answers=answers, nino=nino)


def generate_cases(count: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Yield `count` valid synthetic cases as case-file dicts, the same ones for the same seed."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError("count must be a whole number, 0 or more")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        # random.Random seeds from abs(seed): -5 and 5 would give the same cases
        raise ValueError("seed must be a whole number, 0 or more")
    return _generate(count, random.Random(seed))  # noqa: S311 - synthetic data, not security


def _generate(count: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    """The generator behind generate_cases (arguments already checked, so errors come at the call)."""
    for number in range(1, count + 1):
        yield _file_form(rng, synthetic_case(rng, number))

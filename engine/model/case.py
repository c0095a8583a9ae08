"""The case model (CONTRACT.md case schema 1) as frozen attrs classes."""

from __future__ import annotations

import datetime as dt
import re
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

CASE_REF = re.compile(r"[A-Z0-9-]{1,32}", re.ASCII)
"""A case reference: 1-32 of A-Z, 0-9 and - (match with `fullmatch`)."""

PRIORITIES = ("urgent", "priority", "routine")
"""Decision priority levels, most pressing first."""


@attrs.frozen
class Claimant:
    """Who the claimant is: age and an optional National Insurance number."""

    age: int
    nino: str | None = None


@attrs.frozen
class Drugs:
    """Known drug use and treatment status."""

    substances: tuple[str, ...] = ()
    known_by: str | None = None
    in_treatment: bool = False
    on_drr: bool = False
    failed_treatment_episodes: int = 0


@attrs.frozen
class Children:
    """Children in the claimant's care, and concerns about them."""

    dependants: int = 0
    youngest_age: int | None = None
    at_risk: bool = False
    pregnant: bool = False
    kinship_carer: bool = False


@attrs.frozen
class Consent:
    """What the claimant agreed may be shared."""

    treatment_provider: bool = False
    housing_advice: bool = False


@attrs.frozen
class MissedDiscussion:
    """A missed treatment discussion and the good cause given, if any."""

    good_cause: str | None = None


@attrs.frozen
class Expect:
    """What a scenario expects (checked by `pathways cases test`; never changes a decision)."""

    outcomes: tuple[str, ...] | None = None
    priority: str | None = None


@attrs.frozen
class Case:
    """One validated case: the inputs a decision is made from."""

    case: str
    as_of: dt.date
    claimant: Claimant
    benefit: str
    drugs: Drugs = Drugs()
    children: Children = Children()
    housing: str = "settled"
    prison_release_weeks: int | None = None
    mental_health: bool = False
    consent: Consent = Consent()
    missed_discussion: MissedDiscussion | None = None
    title: str | None = None
    narrative: str | None = None
    expect: Expect | None = None
    schema: int = 1

    def inputs(self) -> dict[str, Any]:
        """The decision inputs as canonical JSON-ready data (no title, narrative or expect)."""
        data: dict[str, Any] = {
            "schema": self.schema,
            "case": self.case,
            "as_of": self.as_of.isoformat(),
            "claimant": {"age": self.claimant.age, "nino": self.claimant.nino},
            "benefit": self.benefit,
            "drugs": {
                "substances": list(self.drugs.substances),
                "known_by": self.drugs.known_by,
                "in_treatment": self.drugs.in_treatment,
                "on_drr": self.drugs.on_drr,
                "failed_treatment_episodes": self.drugs.failed_treatment_episodes,
            },
            "children": attrs.asdict(self.children),
            "housing": self.housing,
            "prison_release_weeks": self.prison_release_weeks,
            "mental_health": self.mental_health,
            "consent": attrs.asdict(self.consent),
        }
        if self.missed_discussion is not None:
            data["missed_discussion"] = {"good_cause": self.missed_discussion.good_cause}
        return data

    def to_file_data(self) -> dict[str, Any]:
        """The whole case as case-file data (inputs plus title, narrative and expect)."""
        data = self.inputs()
        if data["claimant"]["nino"] is None:
            del data["claimant"]["nino"]
        if not data["drugs"]["substances"]:
            del data["drugs"]["known_by"]
        if data["children"]["youngest_age"] is None:
            del data["children"]["youngest_age"]
        if self.title is not None:
            data["title"] = self.title
        if self.narrative is not None:
            data["narrative"] = self.narrative
        if self.expect is not None:
            exp: dict[str, Any] = {}
            if self.expect.outcomes is not None:
                exp["outcomes"] = list(self.expect.outcomes)
            if self.expect.priority is not None:
                exp["priority"] = self.expect.priority
            data["expect"] = exp
        return data


def input_values(case: Case) -> dict[str, Any]:
    """The rule inputs by dotted fact name, as the rules and questions name them."""
    return {
        "as_of": case.as_of,
        "claimant.age": case.claimant.age,
        "benefit": case.benefit,
        "drugs.substances": case.drugs.substances,
        "drugs.known_by": case.drugs.known_by,
        "drugs.in_treatment": case.drugs.in_treatment,
        "drugs.on_drr": case.drugs.on_drr,
        "drugs.failed_treatment_episodes": case.drugs.failed_treatment_episodes,
        "children.dependants": case.children.dependants,
        "children.youngest_age": case.children.youngest_age,
        "children.at_risk": case.children.at_risk,
        "children.pregnant": case.children.pregnant,
        "children.kinship_carer": case.children.kinship_carer,
        "housing": case.housing,
        "prison_release_weeks": case.prison_release_weeks,
        "mental_health": case.mental_health,
        "consent.treatment_provider": case.consent.treatment_provider,
        "consent.housing_advice": case.consent.housing_advice,
        "missed_discussion": case.missed_discussion is not None,
        "missed_discussion.good_cause": (
            case.missed_discussion.good_cause if case.missed_discussion is not None else None
        ),
    }

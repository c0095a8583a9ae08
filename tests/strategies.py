"""Hypothesis strategies for cases: valid cases across every edition, benefit and pathway."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from engine.case import (
    BENEFITS,
    GOOD_CAUSES,
    HOUSING,
    KNOWN_BY,
    SUBSTANCES,
    Case,
    Children,
    Claimant,
    Consent,
    Drugs,
    MissedDiscussion,
)

FIRST_DAY = dt.date(2008, 2, 27)
BOUNDARIES = [
    dt.date(2008, 2, 27), dt.date(2008, 10, 27), dt.date(2009, 4, 26), dt.date(2009, 4, 27),
    dt.date(2011, 6, 30), dt.date(2011, 7, 1), dt.date(2013, 4, 29), dt.date(2017, 7, 13),
    dt.date(2017, 7, 14),
]
BENEFIT_FROM = {"esa_wrag": dt.date(2008, 10, 27), "esa_support": dt.date(2008, 10, 27), "uc": dt.date(2013, 4, 29)}

dates = st.one_of(st.sampled_from(BOUNDARIES), st.dates(min_value=FIRST_DAY, max_value=dt.date(2030, 12, 31)))
ninos = st.builds(
    lambda digits, suffix: f"QQ{digits:06d}{suffix}",
    st.integers(0, 999_999),
    st.sampled_from("ABCD"),
)


@st.composite
def drugs(draw: st.DrawFn) -> Drugs:
    """A drugs block: mostly heroin/crack-heavy so the interesting rules fire often."""
    substances = draw(
        st.one_of(
            st.just(()),
            st.lists(st.sampled_from(SUBSTANCES), unique=True, max_size=3).map(tuple),
            st.sampled_from([("heroin",), ("crack",), ("heroin", "crack"), ("cannabis",)]),
        )
    )
    substances = tuple(sorted(substances, key=SUBSTANCES.index))
    return Drugs(
        substances=substances,
        known_by=draw(st.sampled_from(KNOWN_BY)) if substances else None,
        in_treatment=draw(st.booleans()),
        on_drr=draw(st.booleans()),
        failed_treatment_episodes=draw(st.one_of(st.integers(0, 5), st.integers(0, 50))),
    )


@st.composite
def children(draw: st.DrawFn) -> Children:
    """A children block honouring the youngest_age rule."""
    dependants = draw(st.one_of(st.just(0), st.integers(0, 4), st.integers(0, 20)))
    return Children(
        dependants=dependants,
        youngest_age=draw(st.integers(0, 19)) if dependants else None,
        at_risk=draw(st.booleans()),
        pregnant=draw(st.booleans()),
        kinship_carer=draw(st.booleans()),
    )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A valid case (as the validator would build it) on any date and benefit allowed then."""
    as_of = draw(dates)
    benefit = draw(st.sampled_from([b for b in BENEFITS if BENEFIT_FROM.get(b, FIRST_DAY) <= as_of]))
    missed = draw(st.one_of(st.none(), st.builds(MissedDiscussion, st.one_of(st.none(), st.sampled_from(GOOD_CAUSES)))))
    return Case(
        case=draw(st.from_regex(r"[A-Z0-9-]{1,12}", fullmatch=True)),
        as_of=as_of,
        claimant=Claimant(age=draw(st.one_of(st.sampled_from([16, 24, 25, 120]), st.integers(16, 120))),
                          nino=draw(st.one_of(st.none(), ninos))),
        benefit=benefit,
        drugs=draw(drugs()),
        children=draw(children()),
        housing=draw(st.sampled_from(HOUSING)),
        prison_release_weeks=draw(st.one_of(st.none(), st.sampled_from([0, 4, 5, 13, 14]), st.integers(0, 520))),
        mental_health=draw(st.booleans()),
        consent=Consent(treatment_provider=draw(st.booleans()), housing_advice=draw(st.booleans())),
        missed_discussion=missed,
    )

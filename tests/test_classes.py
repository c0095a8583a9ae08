"""The classes of cases come from the rules, and every valid case's classes have a case made for them."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from cases import CASES_DIR
from engine.intake.classcases import Realizer
from engine.intake.generate import generate_cases
from engine.intake.loader import RawCase
from engine.intake.scenarios import iter_cases
from engine.intake.validate import build_case
from engine.model.case import input_values
from engine.model.facts import INPUT_FACTS, NOT_KNOWN
from engine.policy.classes import edition_space
from engine.policy.explain import evaluate, inputs_behind
from engine.policy.rulebook import load_book, read_book
from rules import RULES_DIR

BOOK = load_book()


def words(edition: str, fact: str) -> list[str]:
    space = edition_space(BOOK.ruleset(edition), BOOK.calendar)
    return [vc.words for vc in space.domains[fact]]


def test_numbers_are_cut_at_the_thresholds_the_rules_test() -> None:
    assert words("2017-recovery", "claimant.age") == ["16 to 17", "18 to 24", "25 to 120"]
    # no rule tells "not given" from "14 weeks or more": both fail every test on the weeks, so one class
    assert words("2017-recovery", "prison_release_weeks") == ["14 to 520 or not given", "0 to 4", "5 to 13", "unknown"]
    assert words("2017-recovery", "drugs.failed_treatment_episodes") == ["0 to 2", "3 to 50", "unknown"]


def test_choices_are_grouped_by_the_tests_they_pass() -> None:
    assert words("2009-voluntary", "claimant.nation") == ["england", "wales or scotland", "unknown"]
    assert words("2008-announced", "claimant.nation") == ["england, wales or scotland", "unknown"]
    assert words("2017-recovery", "housing") == [
        "settled", "temporary or eviction_risk", "sofa_surfing, no_fixed_abode or rough_sleeping", "unknown"]
    assert words("2017-recovery", "drugs.substances") == [
        "none", "heroin or crack", "powder_cocaine, cannabis, amphetamines, benzodiazepines, novel_psychoactive or "
        "other", "unknown"]


def test_dates_are_cut_at_editions_benefit_starts_and_date_tests() -> None:
    assert words("2009-voluntary", "as_of") == [
        "2009-04-27 to 2011-06-30", "2011-07-01 to 2013-04-28", "2013-04-29 to 2013-09-30", "2013-10-01 to 2017-07-13"]
    assert words("2017-recovery", "as_of") == ["2017-07-14 onwards"]


def test_answers_that_cannot_be_unknown_have_no_unknown_class() -> None:
    space = edition_space(BOOK.ruleset("2017-recovery"), BOOK.calendar)
    assert all(vc.value is not NOT_KNOWN for vc in space.domains["claimant.age"] + space.domains["benefit"])
    assert space.domains["mental_health"][-1].value is NOT_KNOWN


def test_a_new_rule_extends_the_space_by_itself(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = folder / "signposts.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("      - mental_health: true\n",
                                 "      - mental_health: true\n      - claimant.age: {gte: 60}\n", 1), encoding="utf-8")
    book = read_book(folder)
    space = edition_space(book.ruleset("2017-recovery"), book.calendar)
    assert [vc.words for vc in space.domains["claimant.age"]] == ["16 to 17", "18 to 24", "25 to 59", "60 to 120"]


def test_a_case_decides_like_its_class_representative() -> None:
    """Two cases in the same classes are decided alike: swap every answer for its class's representative."""
    for case in iter_cases(CASES_DIR):
        ruleset = BOOK.ruleset(BOOK.calendar.edition_for(case.as_of).id)
        space = edition_space(ruleset, BOOK.calendar)
        values = input_values(case)
        representative = {name: space.class_of(name, value).value for name, value in values.items()}
        assert evaluate(ruleset, representative).outcomes == evaluate(ruleset, values).outcomes, case.case


def test_every_valid_cases_classes_are_made_into_a_case() -> None:
    """The search misses no class a real case has: for generated and bundled cases, each outcome's facts."""
    spaces = {rs.edition.id: (rs, edition_space(rs, BOOK.calendar)) for rs in BOOK.all_rulesets()}
    makers = {edition: Realizer(space, BOOK.calendar) for edition, (_rs, space) in spaces.items()}
    raws = [RawCase(data, "generated", None, lambda _p: None) for data in generate_cases(400, seed=13)]
    cases = [build_case(raw) for raw in raws] + [c for c in iter_cases(CASES_DIR)]
    checked = 0
    for case in cases:
        edition = BOOK.calendar.edition_for(case.as_of).id
        ruleset, space = spaces[edition]
        values = input_values(case)
        fact_sets = [inputs_behind(ruleset, code) for code in ruleset.outcomes] + [set(INPUT_FACTS)]
        for names in fact_sets:
            chosen = {name: space.class_of(name, values[name]) for name in names}
            made = makers[edition].case(chosen)
            assert made is not None, (case.case, sorted(names))
            got = input_values(made)
            assert all(space.class_of(name, got[name]) == chosen[name] for name in names)
            checked += 1
    assert checked > 5000


def test_class_of_a_date_outside_the_edition_is_none() -> None:
    space = edition_space(BOOK.ruleset("2009-voluntary"), BOOK.calendar)
    assert space.class_of("as_of", dt.date(2008, 6, 2)) is None
    assert space.class_of("as_of", dt.date(2012, 1, 1)).words == "2011-07-01 to 2013-04-28"

"""Rule conditions read as plain English, from the statements beside the questions."""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.policy import conditions as C
from engine.policy.classes import edition_space
from engine.policy.lint import lint_folder
from engine.policy.rulebook import load_book
from engine.policy.wording import read_words
from rules import RULES_DIR

BOOK = load_book()
WORDS = read_words(BOOK)


def rule_words(rule_id: str) -> str:
    return WORDS.condition(BOOK.ruleset("2017-recovery").rule(rule_id).when)


def test_a_rule_reads_as_a_sentence_of_statements() -> None:
    sentence = WORDS.condition(BOOK.ruleset("2008-announced").rule("derive-requirement-route").when)
    assert sentence == (
        "the claimant is on Jobseeker's Allowance, Incapacity Benefit, Income Support (lone parent) or ESA "
        "work-related activity group, and the claimant is a problem drug user (heroin or crack cocaine, known other "
        "than by the adviser's suspicion), and the claimant is neither in treatment nor on a Drug Rehabilitation "
        "Requirement, and the claimant is 18 or over")


def test_alternatives_dates_and_numbers_read_naturally() -> None:
    assert rule_words("refer-housing-advice").startswith(
        "the claimant's housing is unstable (temporary, sofa surfing, no fixed abode, rough sleeping or at risk of "
        "eviction), and (either the claimant is a problem drug user")
    assert rule_words("employment-support").endswith("and the claim carries work-related requirements, and the claimant "
                                                     "agrees to a referral to employment support")
    assert rule_words("signpost-residential-rehab").endswith("treatment has not worked for the claimant at least 3 "
                                                             "times before")
    assert rule_words("signpost-prison-continuity").endswith("and the claimant left prison at most 4 weeks ago")


def test_negated_tests_flip_their_words() -> None:
    assert WORDS.test(C.Test("claimant.age", "lt", 18).negate()) == "the claimant's age is at least 18"
    assert WORDS.test(C.Test("claimant.nation", "eq", "england").negate()) == "the claimant does not live in England"
    assert WORDS.test(C.Test("drugs.substances", "empty", True)) == "no drug use is known"


def test_a_class_of_answers_reads_as_a_statement() -> None:
    space = edition_space(BOOK.ruleset("2017-recovery"), BOOK.calendar)
    classes = {vc.words: vc for vc in space.domains["drugs.substances"]}
    assert WORDS.is_class("drugs.substances", classes["heroin or crack"]) == "the claimant uses heroin or crack cocaine"
    ages = {vc.words: vc for vc in space.domains["claimant.age"]}
    assert WORDS.is_class("claimant.age", ages["18 to 24"]) == "the claimant's age is 18 to 24"
    assert WORDS.is_class("as_of", space.domains["as_of"][0]) == "the date is 14 July 2017 or later"


def test_lint_names_a_fact_the_rulebook_cannot_word(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = folder / "questions.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('    says: "the claimant has a diagnosed mental health condition"\n', ""),
                    encoding="utf-8")
    assert [str(f) for f in lint_folder(folder)] == [
        "questions.yaml: mental_health has no 'says' statement: the rulebook cannot word conditions on it"]

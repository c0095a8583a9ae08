"""The text lint flags what must never be read out to a claimant, and every shipped text passes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.policy.textlint import MIN_READING_EASE, reading_ease, text_problems

RULES = Path(__file__).resolve().parent.parent / "rules"

PLAIN = "You can choose to see a drug service. It is your choice whether to go."


def shipped_texts() -> Iterator[tuple[str, str, str]]:
    """(where, audience, words) for every text and adviser note in the rule files, variants included."""
    for path in sorted(RULES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in data.get("rules") or ():
            for key, audience in (("text", "claimant"), ("adviser_note", "adviser")):
                value = rule.get(key)
                where = f"{path.name} {rule['id']} {key}"
                if isinstance(value, str):
                    yield where, audience, value
                elif isinstance(value, list):
                    for number, variant in enumerate(value, 1):
                        yield f"{where} variant {number}", audience, variant.get(key, variant.get("text", ""))


def concluding_rules() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(RULES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in data.get("rules") or ():
            if "concludes" in rule:
                yield f"{path.name} {rule['id']}", rule


def test_plain_text_passes() -> None:
    assert text_problems(PLAIN, audience="claimant") == []
    assert text_problems(PLAIN, audience="adviser") == []


def test_empty_text_passes() -> None:
    assert text_problems("", audience="claimant") == []


@pytest.mark.parametrize(
    "planted",
    [
        "If you do not go, you may get a sanction.",
        "If you do not go, you will lose your benefit.",
        "You have 5 working days to tell us why.",
    ],
)
def test_forbidden_words_are_flagged(planted: str) -> None:
    problems = text_problems(planted, audience="claimant")
    assert any("no claimant text may use" in p for p in problems), problems


@pytest.mark.parametrize(
    "planted",
    [
        "The adviser must check this first.",
        "Consider safeguarding. You can go to the drug service.",
        "Follow local procedures. You can go to the drug service.",
        "We suspect you use drugs, so here is a leaflet.",
        "There is a suspicion of drug use.",
        "Tell the claimant about the drug service.",
    ],
)
def test_adviser_only_words_are_flagged(planted: str) -> None:
    problems = text_problems(planted, audience="claimant")
    assert any("for the adviser only" in p for p in problems), problems


def test_adviser_words_are_fine_in_an_adviser_note() -> None:
    note = "Consider safeguarding and follow local procedures. Do not tell the claimant."
    assert text_problems(note, audience="adviser") == []


@pytest.mark.parametrize(
    "planted",
    [
        "You are on a DRR. We will plan around it.",
        "Mutual aid can help you. Here are the details.",
        "We help people with complex needs. Here are the details.",
        "They can give you advocacy. Here are the details.",
        "We will send this to a Decision Maker. They will write to you.",
    ],
)
def test_unexplained_jargon_is_flagged(planted: str) -> None:
    problems = text_problems(planted, audience="claimant")
    assert any("without explaining it" in p for p in problems), problems


@pytest.mark.parametrize(
    "explained",
    [
        "You are on a DRR (an order from a court to get help with drugs). We will plan around it.",
        "You are on a Drug Rehabilitation Requirement, or DRR. We will plan around it.",
        "Mutual aid groups, where people help each other, can help you.",
        "We help people with complex needs, which means drug and mental health problems at once.",
        "They can give you advocacy, which means someone who speaks up for you.",
        "We will send this to a Decision Maker, a member of staff who makes decisions about benefits.",
        "Mutual aid: people in recovery who help each other. Here are the details.",
    ],
)
def test_explained_jargon_passes(explained: str) -> None:
    assert not any("without explaining it" in p for p in text_problems(explained, audience="claimant"))


def test_an_unreadable_sentence_is_flagged() -> None:
    dense = (
        "Notwithstanding the aforementioned considerations, the organisational implementation of "
        "comprehensive multidisciplinary interventions necessitates extraordinary interdepartmental collaboration."
    )
    assert reading_ease(dense) < MIN_READING_EASE
    for audience in ("claimant", "adviser"):
        problems = text_problems(dense, audience=audience)
        assert any("hard to read" in p for p in problems), problems


def test_unknown_audience_is_refused() -> None:
    with pytest.raises(ValueError, match="audience"):
        text_problems(PLAIN, audience="trainer")


def test_there_are_texts_to_check() -> None:
    assert sum(1 for _ in shipped_texts()) > 50


@pytest.mark.parametrize(("where", "audience", "words"), list(shipped_texts()), ids=lambda v: str(v)[:60])
def test_every_shipped_text_passes(where: str, audience: str, words: str) -> None:
    assert text_problems(words, audience=audience) == [], where


def test_text_variants_are_well_formed() -> None:
    """A variant list: every variant but the last has a `when`; the last (the default) has none."""
    for where, rule in concluding_rules():
        assert "text" in rule and "adviser_note" in rule, f"{where}: a concluding rule has text and adviser_note"
        for key in ("text", "adviser_note"):
            value = rule[key]
            if isinstance(value, str):
                continue
            assert isinstance(value, list) and value, f"{where}: {key} is text or a non-empty list"
            *chosen, default = value
            assert "when" not in default, f"{where}: the last {key} variant is the default"
            for variant in chosen:
                assert variant.get("when"), f"{where}: every {key} variant but the last has a when"


def test_derived_rules_have_no_words() -> None:
    for path in sorted(RULES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in data.get("rules") or ():
            if "derives" in rule:
                assert "text" not in rule and "adviser_note" not in rule, rule["id"]


def test_outcomes_that_say_nothing_to_the_claimant() -> None:
    """Safeguarding and recovery checks are for the adviser only; a suspicion is never read out."""
    for where, rule in concluding_rules():
        if rule["concludes"] in ("SAFEGUARDING_CONSIDERATION", "RECOVERY_CHECKS_NOTE"):
            assert rule["text"] == "", where
        if rule["concludes"] == "NOTE_SUSPICION_ONLY":
            assert "available to anyone" in rule["text"], where

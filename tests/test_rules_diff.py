"""`pathways rules diff`: what changes between editions, with example cases decided both ways."""

from __future__ import annotations

import json

import pytest

from engine.intake.loader import RawCase
from engine.intake.validate import build_case
from engine.policy.driver import default_engine
from engine.policy.rulebook import load_book
from tests.helpers import run_main

BOOK = load_book()


_FOUND: dict[tuple[str, str], dict] = {}


def diff(capsys, old: str, new: str) -> dict:
    """`rules diff --json` (run once per pair of editions in this module)."""
    if (old, new) not in _FOUND:
        result = run_main(capsys, "rules", "diff", old, new, "--json")
        assert result.code == 0, result.err
        _FOUND[(old, new)] = json.loads(result.out)
    return _FOUND[(old, new)]


def test_from_the_announced_policy_to_the_voluntary_scheme(capsys) -> None:
    found = diff(capsys, "2008-announced", "2009-voluntary")
    assert [c["code"] for c in found["outcomes"]["removed"]] == [
        "JSD_TREATMENT_DISCUSSION", "REFER_DECISION_MAKER", "WFI_TREATMENT_DISCUSSION"]
    assert [c["code"] for c in found["outcomes"]["added"]] == ["SIGNPOST_LOCAL_DRUG_SERVICES"]
    changed = {c["code"]: c for c in found["outcomes"]["changed"]}
    assert {"VOLUNTARY_TREATMENT_REFERRAL", "REFER_TREATMENT_PROVIDER", "NOTE_MISSED_VOLUNTARY"} <= set(changed)
    assert "PARENT_PRIORITY" in found["outcomes"]["unchanged"]
    voluntary = changed["VOLUNTARY_TREATMENT_REFERRAL"]
    assert [r["id"] for r in voluntary["rules_before"]] == ["voluntary-treatment-referral-2008"]
    assert voluntary["rules_after"][0]["when"].endswith("and the claimant lives in England")
    assert {r["id"] for r in found["rules"]["removed"]} >= {"jsd-treatment-discussion", "derive-requirement-route"}
    assert found["derived_changed"] == ["missed_required", "requirement_route"]


@pytest.mark.parametrize(("old", "new"), [("2008-announced", "2009-voluntary"), ("2009-voluntary", "2017-recovery"),
                                          ("2017-recovery", "2008-announced")])
def test_every_example_is_decided_differently_by_the_two_rule_sets(capsys, old: str, new: str) -> None:
    found = diff(capsys, old, new)
    engine = default_engine()
    examples = 0
    for change in found["outcomes"]["changed"]:
        for key, gained in (("now_reaches", True), ("no_longer_reaches", False)):
            example = change[key]
            if example is None:
                continue
            case = build_case(RawCase(example["case"], "example", None, lambda _p: None))
            before = change["code"] in engine.decide(case, BOOK.ruleset(old)).codes
            after = change["code"] in engine.decide(case, BOOK.ruleset(new)).codes
            assert (after and not before) if gained else (before and not after), (change["code"], key)
            assert example["answers"]
            examples += 1
    assert examples > 0 or not found["outcomes"]["changed"]


def test_an_edition_against_itself_changes_nothing(capsys) -> None:
    found = diff(capsys, "2017-recovery", "2017-recovery")
    assert not found["rules"]["added"] and not found["rules"]["removed"]
    assert not any(found["outcomes"][k] for k in ("added", "removed", "changed"))


def test_readable_output_is_in_words(capsys) -> None:
    result = run_main(capsys, "rules", "diff", "2009-voluntary", "2017-recovery")
    assert result.code == 0
    assert "Outcomes that begin (1)\n  RECOVERY_CHECKS_NOTE (note)" in result.out
    flat = " ".join(result.out.split())
    assert "the claimant is in structured drug treatment" in flat
    assert "Unchanged (21)" in result.out  # employment support is one rule in both, its programme named by date


def test_an_unknown_edition_is_one_line_and_exit_2(capsys) -> None:
    result = run_main(capsys, "rules", "diff", "2008-announced", "2010")
    assert result.code == 2 and "no edition 2010" in result.err and not result.out

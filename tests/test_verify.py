"""`pathways rules verify`: the shipped rules keep every invariant; each invariant, broken in a copy of the
rules, is caught with a counterexample case that `pathways evaluate` decides the way the proof says."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.intake.verify import AGREEMENT_ID, prove
from engine.policy import compiler
from engine.policy.driver import Engine
from engine.policy.explain import evaluate
from engine.policy.invariants import read_invariants
from engine.policy.rulebook import load_book, read_book
from rules import RULES_DIR
from tests.helpers import pathways, run_main

ROUTES = {"JSD_TREATMENT_DISCUSSION", "WFI_TREATMENT_DISCUSSION", "VOLUNTARY_TREATMENT_REFERRAL"}
REQUIREMENTS = {"JSD_TREATMENT_DISCUSSION", "WFI_TREATMENT_DISCUSSION"}


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    """The proof over the shipped rules, run once through the command line."""
    result = pathways("rules", "verify", "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_shipped_rules_keep_every_invariant(shipped: dict[str, Any]) -> None:
    declared = [inv.id for inv in read_invariants(load_book())]
    assert shipped["holds"] is True
    assert [v["id"] for v in shipped["invariants"]] == declared + [AGREEMENT_ID]
    assert all(v["holds"] and v["classes"] > 0 and not v["counterexamples"] for v in shipped["invariants"])
    assert set(shipped["editions"]) == {"2008-announced", "2009-voluntary", "2017-recovery"}
    assert shipped["classes"] == sum(shipped["editions"].values()) > 10_000
    agreement = shipped["invariants"][-1]
    assert agreement["classes"] >= shipped["classes"]  # every distinct class was decided by durable_rules too


def test_readable_output_reports_the_classes_and_time(capsys) -> None:
    result = run_main(capsys, "rules", "verify", "--only", "no-requirement-for-a-minor")
    assert result.code == 0
    first = result.out.splitlines()[0]
    assert "classes of cases checked in" in first and "unknown answers included" in first
    assert "holds  no-requirement-for-a-minor" in result.out and "Every invariant holds." in result.out


def copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def edit(folder: Path, file: str, old: str, new: str) -> None:
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


REDUNDANT_RULE = """
  - id: signpost-mutual-aid-drr
    title: A problem drug user on a DRR is signposted to mutual aid
    concludes: SIGNPOST_MUTUAL_AID
    editions: all
    when:
      - problem_drug_user: true
      - drugs.on_drr: true
    sources:
      - source: criminal-justice-act-2003
        locator: "section 209"
        basis: fact
    text: Mutual aid groups can help you alongside your treatment.
"""


def _codes(decision: dict[str, Any]) -> set[str]:
    return {o["code"] for o in decision["outcomes"]}


def _open(decision: dict[str, Any]) -> set[str]:
    return {o["code"] for o in decision["open"]}


WHERE = {"one-treatment-route": "2008-announced", "referral-or-consent-exactly-with-a-route": "2017-recovery",
         "no-requirement-for-a-minor": "2008-announced", "no-requirement-on-suspicion": "2008-announced",
         "no-requirement-in-force": "2009-voluntary", "missed-discussion-acknowledged": "2008-announced",
         "no-redundant-rule": "2017-recovery"}
"""The edition each broken invariant is looked for in (the search over the others would only take longer)."""

BREAKS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "one-treatment-route": (("treatment.yaml", "      - requirement_route: false\n", ""),),
    "referral-or-consent-exactly-with-a-route": (
        ("treatment.yaml", "      - treatment_route_applies: true\n      - consent.treatment_provider: true",
         "      - problem_drug_user: true\n      - consent.treatment_provider: true"),),
    "no-requirement-for-a-minor": (("derived.yaml", "      - minor: false\n", ""),),
    "no-requirement-on-suspicion": (("derived.yaml", "      - drugs.known_by: {not_in: [adviser_suspicion]}\n", ""),),
    "no-requirement-in-force": (
        ("treatment.yaml", "concludes: JSD_TREATMENT_DISCUSSION\n    editions: [2008-announced]",
         "concludes: JSD_TREATMENT_DISCUSSION\n    editions: [2008-announced, 2009-voluntary]"),
        ("derived.yaml", "derives: requirement_route\n    editions: [2008-announced]",
         "derives: requirement_route\n    editions: [2008-announced, 2009-voluntary]")),
    "missed-discussion-acknowledged": (
        ("treatment.yaml", "      - missed_required: false\n", "      - missed_required: false\n      - mental_health: true\n"),),
    "no-redundant-rule": (("signposts.yaml", "\n  - id: signpost-residential-rehab", REDUNDANT_RULE + "\n  - id: signpost-residential-rehab"),),
}
"""For each invariant, edits to a copy of the rules that break it."""

CONFIRM: dict[str, Callable[[dict[str, Any], dict[str, Any]], bool]] = {
    "one-treatment-route": lambda case, d: len(_codes(d) & ROUTES) >= 2,
    "referral-or-consent-exactly-with-a-route": lambda case, d: "REFER_TREATMENT_PROVIDER" in _codes(d)
    and not (_codes(d) | _open(d)) & ROUTES,
    "no-requirement-for-a-minor": lambda case, d: case["claimant"]["age"] < 18 and bool(_codes(d) & REQUIREMENTS),
    "no-requirement-on-suspicion": lambda case, d: case["drugs"]["known_by"] == "adviser_suspicion"
    and bool(_codes(d) & REQUIREMENTS),
    "no-requirement-in-force": lambda case, d: d["edition_status"] == "in_force" and bool(_codes(d) & REQUIREMENTS),
    "missed-discussion-acknowledged": lambda case, d: "missed_discussion" in case
    and set(case["drugs"]["substances"]) & {"heroin", "crack"} and case["drugs"]["known_by"] != "adviser_suspicion"
    and not (_codes(d) | _open(d)) & {"REFER_DECISION_MAKER", "NOTE_MISSED_VOLUNTARY"},
    "no-redundant-rule": lambda case, d: "SIGNPOST_MUTUAL_AID" in _codes(d),
}
"""For each invariant, what `pathways evaluate` must show for its counterexample under the broken rules."""


@pytest.mark.parametrize("invariant", sorted(BREAKS))
def test_a_broken_invariant_gives_a_counterexample_evaluate_confirms(tmp_path: Path, capsys, invariant: str) -> None:
    folder = copy_rules(tmp_path)
    for file, old, new in BREAKS[invariant]:
        edit(folder, file, old, new)
    result = run_main(capsys, "rules", "verify", "--dir", str(folder), "--only", invariant, "--edition",
                      WHERE[invariant], "--json")
    assert result.code == 1, result.err
    proof = json.loads(result.out)
    (verdict,) = proof["invariants"]
    assert verdict["id"] == invariant and verdict["holds"] is False
    example = verdict["counterexamples"][0]
    case_file = tmp_path / "counterexample.yaml"
    import yaml

    case_file.write_text(yaml.safe_dump(example["case"]), encoding="utf-8")
    decided = run_main(capsys, "evaluate", str(case_file), "--rules", str(folder), "--json")
    assert decided.code == 0, decided.err
    decision = json.loads(decided.out)
    assert decision["edition"] == example["edition"]
    assert CONFIRM[invariant](example["case"], decision), (example, decision["outcomes"])
    assert run_main(capsys, "evaluate", str(case_file), "--json").code == 0  # a valid case file for the bundled rules


def test_the_readable_counterexample_is_a_case_file_evaluate_reads(tmp_path: Path, capsys) -> None:
    folder = copy_rules(tmp_path)
    for file, old, new in BREAKS["one-treatment-route"]:
        edit(folder, file, old, new)
    result = run_main(capsys, "rules", "verify", "--dir", str(folder), "--only", "one-treatment-route")
    assert result.code == 1
    assert "BROKEN one-treatment-route" in result.out and "counterexample CEX-1 below" in result.out
    case_file = tmp_path / "cex.yaml"
    case_file.write_text(result.out.split("---\n", 1)[1], encoding="utf-8")
    decided = run_main(capsys, "evaluate", str(case_file), "--rules", str(folder), "--json")
    assert len(_codes(json.loads(decided.out)) & ROUTES) == 2


def test_a_rule_that_can_never_apply_is_named(tmp_path: Path, capsys) -> None:
    folder = copy_rules(tmp_path)
    edit(folder, "signposts.yaml", "      - mental_health: true\n",
         "      - mental_health: true\n      - claimant.age: {lt: 18}\n      - claimant.age: {gte: 25}\n")
    result = run_main(capsys, "rules", "verify", "--dir", str(folder), "--only", "every-rule-can-apply",
                      "--edition", "2009-voluntary", "--edition", "2017-recovery", "--json")
    assert result.code == 1
    (verdict,) = json.loads(result.out)["invariants"]
    problems = [(c["edition"], c["problem"]) for c in verdict["counterexamples"]]
    assert problems == [(e, "rule signpost-complex-needs (SIGNPOST_COMPLEX_NEEDS) applies to no case")
                        for e in ("2009-voluntary", "2017-recovery")]
    assert all(c["case"] is None for c in verdict["counterexamples"])


def test_the_redundant_rule_and_the_rule_covering_it_are_named(tmp_path: Path, capsys) -> None:
    folder = copy_rules(tmp_path)
    for file, old, new in BREAKS["no-redundant-rule"]:
        edit(folder, file, old, new)
    result = run_main(capsys, "rules", "verify", "--dir", str(folder), "--only", "no-redundant-rule",
                      "--edition", "2017-recovery", "--json")
    (verdict,) = json.loads(result.out)["invariants"]
    example = verdict["counterexamples"][0]
    assert "rule signpost-mutual-aid-drr adds nothing" in example["problem"] and "signpost-mutual-aid " in example["problem"]
    book = read_book(folder)
    from engine.intake.loader import RawCase
    from engine.intake.validate import build_case
    from engine.model.case import input_values

    case = build_case(RawCase(example["case"], "cex", None, lambda _p: None), book.calendar)
    truths = evaluate(book.ruleset(example["edition"]), input_values(case)).rules
    assert truths["signpost-mutual-aid-drr"] is True and truths["signpost-mutual-aid"] is True


def test_durable_rules_disagreeing_with_the_evaluator_is_caught(monkeypatch) -> None:
    """A compiler that ignored where the claimant lives would refer Welsh claimants: the proof says so."""
    real = compiler.encode_test

    def blind(test):
        return {"kind": "case"} if test.fact == "claimant.nation" else real(test)

    monkeypatch.setattr(compiler, "encode_test", blind)
    book = read_book(RULES_DIR)
    engine = Engine(book)
    try:
        proof = prove(book, (), engine, only=frozenset({AGREEMENT_ID}), editions=frozenset({"2009-voluntary"}))
    finally:
        engine.close()
    (verdict,) = proof.verdicts
    assert not verdict.holds
    example = verdict.counterexamples[0]
    assert example.edition == "2009-voluntary" and "durable_rules says" in example.problem
    assert "SIGNPOST_LOCAL_DRUG_SERVICES" in example.problem or "VOLUNTARY_TREATMENT_REFERRAL" in example.problem


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("invariants.yaml", "check: at_most_one", "check: at_most_two", "invariants.yaml: invariant one-treatment-route: check"),
        ("invariants.yaml", "      - claimant.age: {lt: 18}", "      - minor: true", "minor is not an input fact"),
        ("invariants.yaml", "outcomes: [REFER_TREATMENT_PROVIDER,", "outcomes: [REFER_TREATMENT_PROVIDERS,",
         "unknown outcome REFER_TREATMENT_PROVIDERS"),
        ("treatment.yaml", "concludes: JSD_TREATMENT_DISCUSSION\n    editions: [2008-announced]",
         "concludes: JSD_TREATMENT_DISCUSSION\n    editions: [2009-voluntary]",
         "rule jsd-treatment-discussion: in edition 2009-voluntary tests requirement_route"),
    ],
)
def test_bad_rule_files_are_one_line_and_exit_2(tmp_path: Path, capsys, file: str, old: str, new: str,
                                                expected: str) -> None:
    folder = copy_rules(tmp_path)
    edit(folder, file, old, new)
    result = run_main(capsys, "rules", "verify", "--dir", str(folder))
    assert result.code == 2
    assert expected in result.err and len(result.err.strip().splitlines()) == 1 and not result.out


def test_an_unknown_invariant_id_is_a_usage_error(capsys) -> None:
    result = run_main(capsys, "rules", "verify", "--only", "no-such-thing")
    assert result.code == 2 and "no invariant no-such-thing" in result.err

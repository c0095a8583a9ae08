"""`pathways cases generate`: reproducible, valid synthetic cases that reach every pathway."""

from __future__ import annotations

import collections
import itertools
import json
import os
import re
import stat
from pathlib import Path

import pytest

from engine.cli import main
from engine.errors import InputError
from engine.intake.generate import BENEFIT_FROM, EDITION_WINDOWS, LAST_DAY, generate_cases
from engine.intake.loader import iter_jsonl
from engine.intake.validate import build_case
from engine.model.case import Case
from engine.model.facts import BENEFITS, Unknown
from engine.policy.driver import decide
from engine.policy.editions import load_calendar
from engine.policy.rulebook import load_book
from tests.helpers import pathways, run_main

OUTCOME_CODES = set(load_book().outcomes)
COUNT = 3000
SEED = 20080227
SYNTHETIC_NINO = re.compile(r"QQ[0-9]{6}[A-D]", re.ASCII)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """COUNT cases written by the command to a new file (once for the module)."""
    path = tmp_path_factory.mktemp("gen") / "cases.jsonl"
    with pytest.raises(SystemExit) as exit_info:
        main(["cases", "generate", str(COUNT), "--seed", str(SEED), "-o", str(path)])
    assert exit_info.value.code == 0
    return path


@pytest.fixture(scope="module")
def lines(written: Path) -> list[dict]:
    """The written file's lines as JSON objects."""
    return [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def validated(written: Path) -> list[Case]:
    """Every written line, read back with the JSON Lines reader and validated."""
    out = []
    for item in iter_jsonl(written):
        assert not isinstance(item, InputError), str(item)
        out.append(build_case(item))
    return out


# --- reproducibility -------------------------------------------------------------------------


def test_same_seed_same_bytes_different_seed_differs(capsys) -> None:
    first = run_main(capsys, "cases", "generate", "300", "--seed", "7")
    again = run_main(capsys, "cases", "generate", "300", "--seed", "7")
    other = run_main(capsys, "cases", "generate", "300", "--seed", "8")
    assert first.code == again.code == other.code == 0
    assert first.err == ""
    assert first.out == again.out
    assert first.out != other.out
    assert len(first.out.splitlines()) == 300


def test_same_bytes_in_another_process_with_another_hash_seed(capsys) -> None:
    here = run_main(capsys, "cases", "generate", "200", "--seed", "11")
    there = pathways("cases", "generate", "200", "--seed", "11", env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert there.code == 0, there.err
    assert there.out == here.out


def test_a_prefix_of_a_larger_run_is_the_smaller_run(capsys) -> None:
    small = run_main(capsys, "cases", "generate", "50", "--seed", "3")
    large = run_main(capsys, "cases", "generate", "120", "--seed", "3")
    assert large.out.startswith(small.out)


def test_default_seed_is_zero(capsys) -> None:
    assert run_main(capsys, "cases", "generate", "20").out == run_main(capsys, "cases", "generate", "20", "--seed", "0").out


def test_generate_cases_is_lazy_and_checks_its_arguments() -> None:
    first = list(itertools.islice(generate_cases(10_000_000, 1), 3))  # returns at once: nothing built ahead
    assert [c["case"] for c in first] == ["SYN-00000001", "SYN-00000002", "SYN-00000003"]
    with pytest.raises(ValueError):
        generate_cases(5, -1)  # Random(-1) would repeat Random(1)
    with pytest.raises(ValueError):
        generate_cases(-1, 0)


# --- validity and shape ----------------------------------------------------------------------


def test_every_written_case_validates(validated: list[Case]) -> None:
    assert len(validated) == COUNT
    assert [c.case for c in validated] == [f"SYN-{n:08d}" for n in range(1, COUNT + 1)]


def test_file_is_compact_json_lines(written: Path, lines: list[dict]) -> None:
    text = written.read_text(encoding="utf-8")
    assert text.endswith("\n")
    for line in text.splitlines()[:50]:
        assert ", " not in line and ": " not in line
        assert json.dumps(json.loads(line), separators=(",", ":")) == line


def test_only_synthetic_ninos_and_no_scenario_keys(lines: list[dict]) -> None:
    ninos = [c["claimant"]["nino"] for c in lines if "nino" in c["claimant"]]
    assert ninos and len(ninos) < len(lines)  # present on most, absent on some
    assert all(isinstance(n, str) and SYNTHETIC_NINO.fullmatch(n) for n in ninos)
    for case in lines:
        assert case["schema"] == 1
        assert not {"title", "narrative", "expect"} & case.keys()


def test_schema_dependencies_hold(lines: list[dict]) -> None:
    for case in lines:
        drugs = case.get("drugs", {})
        unknown = ("unknown", "declined")
        if drugs.get("substances") not in unknown and drugs.get("known_by") not in unknown:
            assert ("known_by" in drugs) == bool(drugs.get("substances"))
        children = case.get("children", {})
        if children.get("dependants") not in unknown and children.get("youngest_age") not in unknown:
            assert ("youngest_age" in children) == (children.get("dependants", 0) > 0)
        assert 16 <= case["claimant"]["age"] <= 120
        numbers = (drugs.get("failed_treatment_episodes", 0), children.get("dependants", 0),
                   case.get("prison_release_weeks"))
        episodes, dependants, weeks = (None if n in unknown else n for n in numbers)
        assert episodes is None or 0 <= episodes <= 50
        assert dependants is None or 0 <= dependants <= 20
        assert weeks is None or 0 <= weeks <= 520


def test_defaults_are_sometimes_written_and_sometimes_omitted(lines: list[dict]) -> None:
    def both(present, absent) -> None:
        assert any(present(c) for c in lines) and any(absent(c) for c in lines)

    both(lambda c: c.get("housing") == "settled", lambda c: "housing" not in c)
    both(lambda c: "prison_release_weeks" in c and c["prison_release_weeks"] is None, lambda c: "prison_release_weeks" not in c)
    both(lambda c: c.get("mental_health") is False, lambda c: "mental_health" not in c)
    both(lambda c: "drugs" in c and c["drugs"].get("in_treatment") is False, lambda c: "drugs" in c and "in_treatment" not in c["drugs"])
    both(lambda c: "children" in c and c["children"].get("dependants") == 0, lambda c: "children" not in c)
    both(lambda c: "consent" in c and c["consent"].get("treatment_provider") is False, lambda c: "consent" not in c)


def test_constants_agree_with_the_rule_calendar() -> None:
    cal = load_calendar()
    assert [e.id for e in cal.editions] == [w[0] for w in EDITION_WINDOWS]
    for edition, (_, start, end) in zip(cal.editions, EDITION_WINDOWS, strict=True):
        assert edition.start == start
        assert edition.end == (None if end == LAST_DAY else end)
    assert cal.benefits_from == BENEFIT_FROM


# --- spread across editions, benefits and pathways ---------------------------------------------


def test_all_editions_and_benefits_and_boundary_days_appear(validated: list[Case]) -> None:
    cal = load_calendar()
    editions = collections.Counter(cal.edition_for(c.as_of).id for c in validated)
    assert set(editions) == {e.id for e in cal.editions}
    assert min(editions.values()) > COUNT // 6
    assert {c.benefit for c in validated} == set(BENEFITS)
    days = {c.as_of for c in validated}
    for _, start, end in EDITION_WINDOWS:
        assert start in days and end in days
    for first in BENEFIT_FROM.values():
        assert first in days


def test_every_outcome_code_is_reached(validated: list[Case]) -> None:
    seen: collections.Counter[str] = collections.Counter()
    priorities: collections.Counter[str] = collections.Counter()
    for case in validated:
        decision = decide(case)
        seen.update(o.code for o in decision.outcomes)
        priorities[decision.priority] += 1
    assert set(seen) == OUTCOME_CODES, sorted(OUTCOME_CODES - set(seen))
    assert set(priorities) == {"urgent", "priority", "routine"}


def test_a_realistic_mix_of_pathways(validated: list[Case]) -> None:
    listed = [c for c in validated if isinstance(c["drugs.substances"], tuple)]
    pdu = [c for c in listed if {"heroin", "crack"} & set(c["drugs.substances"])
           and c["drugs.known_by"] != "adviser_suspicion"]
    suspected = [c for c in validated if c["drugs.known_by"] == "adviser_suspicion"]
    no_drugs = [c for c in listed if not c["drugs.substances"]]
    assert 0.3 < len(pdu) / COUNT < 0.6
    assert 0.05 < len(suspected) / COUNT < 0.2
    assert 0.15 < len(no_drugs) / COUNT < 0.45
    missed = [c for c in validated if c["missed_discussion"]]
    assert any(c["missed_discussion.good_cause"] is None for c in missed)
    assert any(isinstance(c["missed_discussion.good_cause"], str) for c in missed)
    assert all(c["children.dependants"] != 0 for c in validated if c.benefit == "is_lone_parent")
    unknown = [c for c in validated if any(isinstance(v, Unknown) for v in c.answers.values())]
    assert 0.02 < len(unknown) / COUNT < 0.2, "some generated answers are unknown or declined, as in interviews"
    assert {c["claimant.nation"] for c in validated} >= {"england", "wales", "scotland"}


# --- the output file -------------------------------------------------------------------------


def test_output_file_is_created_0600_with_the_same_bytes_as_stdout(capsys, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    result = run_main(capsys, "cases", "generate", "40", "--seed", "9", "-o", str(target))
    assert result.code == 0, result.err
    assert result.out == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text(encoding="utf-8") == run_main(capsys, "cases", "generate", "40", "--seed", "9").out


def test_output_file_that_exists_is_refused(capsys, tmp_path: Path) -> None:
    target = tmp_path / "taken.jsonl"
    target.write_text("precious\n", encoding="utf-8")
    result = run_main(capsys, "cases", "generate", "5", "-o", str(target))
    assert result.code == 2
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1
    assert "already exists" in result.err and "Traceback" not in result.err
    assert target.read_text(encoding="utf-8") == "precious\n"


def test_output_through_a_symlink_is_refused(capsys, tmp_path: Path) -> None:
    link = tmp_path / "link.jsonl"
    link.symlink_to(tmp_path / "elsewhere.jsonl")  # dangling: O_EXCL must not follow it
    result = run_main(capsys, "cases", "generate", "5", "-o", str(link))
    assert result.code == 2
    assert not (tmp_path / "elsewhere.jsonl").exists()


def test_output_into_a_missing_folder_is_one_line(capsys, tmp_path: Path) -> None:
    result = run_main(capsys, "cases", "generate", "5", "-o", str(tmp_path / "no" / "such.jsonl"))
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["0"], ["10000001"], ["-3"], ["ten"], ["5", "--seed", "-1"], ["5", "--seed", "x"], []])
def test_bad_arguments_exit_2(capsys, args: list[str]) -> None:
    result = run_main(capsys, "cases", "generate", *args)
    assert result.code == 2
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1

"""Bad case files are refused with one clear line naming file, line and key; exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import pathways, run_main

GOOD = """\
schema: 1
case: TRN-9001
as_of: 2008-06-02
claimant:
  age: 34
  nino: QQ123456C
benefit: jsa
drugs:
  substances: [heroin]
  known_by: self_disclosure
consent:
  treatment_provider: true
"""

BAD_YAML = {
    "broken yaml": ("schema: 1\ncase: [unclosed\n", "invalid YAML"),
    "unknown top key": (GOOD + "colour: blue\n", "colour: unknown key"),
    "unknown nested key": (GOOD.replace("  age: 34", "  age: 34\n  shoe_size: 9"), "claimant.shoe_size: unknown key"),
    "missing case": (GOOD.replace("case: TRN-9001\n", ""), "missing required key 'case'"),
    "schema 2": (GOOD.replace("schema: 1", "schema: 2"), "unsupported schema"),
    "lower-case ref": (GOOD.replace("TRN-9001", "trn-9001"), "not a case reference"),
    "age as text": (GOOD.replace("age: 34", "age: '34'"), "claimant.age: must be a whole number"),
    "age too low": (GOOD.replace("age: 34", "age: 15"), "15 is out of range"),
    "age boolean": (GOOD.replace("age: 34", "age: true"), "must be a whole number"),
    "age decimal": (GOOD.replace("age: 34", "age: 34.5"), "must be a whole number"),
    "impossible date": (GOOD.replace("2008-06-02", "2008-02-30"), "as_of"),
    "date before editions": (GOOD.replace("2008-06-02", "2007-12-31"), "before the first edition"),
    "date with time": (GOOD.replace("2008-06-02", "2008-06-02 10:00:00"), "without a time"),
    "esa before 2008-10-27": (GOOD.replace("benefit: jsa", "benefit: esa_wrag"), "esa_wrag did not exist"),
    "uc before 2013": (GOOD.replace("benefit: jsa", "benefit: uc"), "uc did not exist"),
    "unknown benefit": (GOOD.replace("benefit: jsa", "benefit: dla"), "benefit: 'dla' is not allowed"),
    "bad nino suffix": (GOOD.replace("QQ123456C", "QQ123456E"), "claimant.nino"),
    "bad nino prefix": (GOOD.replace("QQ123456C", "DA123456A"), "prefix letters"),
    "unused nino prefix": (GOOD.replace("QQ123456C", "GB123456A"), "prefix GB is not used"),
    "nino newline": (GOOD.replace("nino: QQ123456C", 'nino: "QQ123456C\\n"'), "claimant.nino"),
    "nino arabic digits": (GOOD.replace("QQ123456C", "QQ١٢٣٤٥٦C"), "claimant.nino"),
    "known_by missing": (GOOD.replace("  known_by: self_disclosure\n", ""), "drugs.known_by: required"),
    "known_by without substances": (GOOD.replace("[heroin]", "[]"), "drugs.known_by: not allowed"),
    "youngest_age missing": (GOOD + "children:\n  dependants: 2\n", "children.youngest_age: required"),
    "youngest_age with no children": (GOOD + "children:\n  youngest_age: 3\n", "not allowed when dependants is 0"),
    "yaml NO is not a string": (GOOD.replace("housing: settled", "") + "housing: NO\n", "housing"),
    "python tag": (GOOD + "title: !!python/object/apply:os.system ['echo pwned']\n", "invalid YAML"),
    "duplicate key": (GOOD + "benefit: uc\n", "duplicate key"),
    "substance twice": (GOOD.replace("[heroin]", "[heroin, heroin]"), "listed twice"),
    "consent not bool": (GOOD.replace("treatment_provider: true", "treatment_provider: yes please"), "consent.treatment_provider"),
    "good cause unknown": (GOOD + "missed_discussion:\n  good_cause: hangover\n", "good_cause"),
    "top level list": ("- 1\n- 2\n", "must be a mapping"),
}


@pytest.mark.parametrize("name", sorted(BAD_YAML))
def test_bad_yaml_case_is_refused_in_one_line(name: str, tmp_path: Path, capsys) -> None:
    text, expected = BAD_YAML[name]
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path), "--json")
    assert result.code == 2, result
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    assert str(path) in lines[0]
    assert expected in lines[0]


def test_refusal_names_the_line_of_the_key(tmp_path: Path, capsys) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(GOOD.replace("known_by: self_disclosure", "known_by: gossip"), encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path))
    assert f"{path}:10: drugs.known_by: 'gossip' is not allowed" in result.err
    assert "allowed: self_disclosure, dip" in result.err


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.yaml", b""), ("blank.json", b"  \n"), ("binary.yaml", b"\x00\x01\x02\xff"),
     ("latin1.yaml", "schema: 1\ncase: caf\xe9\n".encode("latin-1")), ("case.txt", b"schema: 1\n"),
     ("bad.json", b'{"schema": 1, "case": '), ("nan.json", b'{"schema": NaN}'),
     ("bom.json", b'\xef\xbb\xbf{"schema": 1}'), ("twice.json", b'{"schema": 1, "schema": 1}')],
)
def test_unreadable_files_are_refused(name: str, content: bytes, tmp_path: Path, capsys) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = run_main(capsys, "evaluate", str(path))
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err


def test_missing_file_and_bad_option(tmp_path: Path, capsys) -> None:
    result = run_main(capsys, "evaluate", str(tmp_path / "nope.yaml"))
    assert (result.code, "no such file" in result.err) == (2, True)
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    result = run_main(capsys, "evaluate", str(good), "--as-of", "yesterday")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1


def test_json_error_names_line_of_key(tmp_path: Path, capsys) -> None:
    data = {"schema": 1, "case": "TRN-1", "as_of": "2010-01-04", "claimant": {"age": 30}, "benefit": "jsa",
            "children": {"dependants": 1, "youngest_age": 30}}
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path))
    assert result.code == 2
    assert f"{path}:11: children.youngest_age: 30 is out of range" in result.err


def test_jsonl_bad_line_reported_others_decided(tmp_path: Path, capsys) -> None:
    good = {"schema": 1, "case": "TRN-1", "as_of": "2010-01-04", "claimant": {"age": 30}, "benefit": "jsa"}
    lines = [json.dumps(good), "{not json", json.dumps({**good, "case": "TRN-3", "benefit": "uc"}),
             json.dumps({**good, "case": "TRN-4"})]
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path), "--json")
    assert result.code == 2
    decided = [json.loads(line)["case"] for line in result.out.splitlines()]
    assert decided == ["TRN-1", "TRN-4"]
    assert f"{path}:2: invalid JSON" in result.err
    assert f"{path}:3: benefit: uc did not exist" in result.err


def test_as_of_override_selects_the_edition(tmp_path: Path, capsys) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(GOOD, encoding="utf-8")
    first = json.loads(run_main(capsys, "evaluate", str(path), "--json").out)
    later = json.loads(run_main(capsys, "evaluate", str(path), "--json", "--as-of", "2012-03-01").out)
    assert first["edition"] == "2008-announced"
    assert "JSD_TREATMENT_DISCUSSION" in [o["code"] for o in first["outcomes"]]
    assert later["edition"] == "2009-voluntary" and later["as_of"] == "2012-03-01"
    assert "VOLUNTARY_TREATMENT_REFERRAL" in [o["code"] for o in later["outcomes"]]


def test_no_traceback_from_a_real_subprocess(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text("schema: 1\ncase: X\nas_of: !!python/name:os.system\n", encoding="utf-8")
    result = pathways("evaluate", str(path))
    assert result.code == 2
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


def test_null_optional_keys_mean_not_given(tmp_path: Path, capsys) -> None:
    text = GOOD + "missed_discussion: null\nprison_release_weeks: null\nchildren:\n  dependants: 0\n  youngest_age: null\n"
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path), "--json")
    assert result.code == 0, result.err
    assert "REFER_DECISION_MAKER" not in result.out
    path.write_text(GOOD + "missed_discussion:\n  good_cause: null\n", encoding="utf-8")
    assert "REFER_DECISION_MAKER" in run_main(capsys, "evaluate", str(path), "--json").out


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path, capsys) -> None:
    lines = ["a: &a {x: 1, y: 1}"]
    prev = "a"
    for name in "bcdefghij":
        lines.append(f"{name}: &{name} {{" + ", ".join(f"{name}{i}: *{prev}" for i in range(9)) + "}")
        prev = name
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\ntitle: *j\n", encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path))
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1

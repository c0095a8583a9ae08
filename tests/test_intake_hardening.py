"""Input the red team found accepted or hanging (#15 finding 10): each refused in one line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers import run_main

BASE = "schema: 1\ncase: T-1\nas_of: 2010-01-01\nclaimant: {age: 30}\nbenefit: jsa\n"


@pytest.mark.parametrize("word", ["yes", "No", "on", "OFF", "y", "n"])
def test_yaml_1_1_booleans_are_refused(tmp_path: Path, capsys, word: str) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(BASE + f"mental_health: {word}\n", encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path))
    assert result.code == 2 and "case.yaml:6" in result.err and "true or false" in result.err


def test_true_and_false_still_read(tmp_path: Path, capsys) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(BASE + "mental_health: True\n", encoding="utf-8")
    assert run_main(capsys, "evaluate", str(path)).code == 0


def test_a_decimal_schema_is_refused(tmp_path: Path, capsys) -> None:
    path = tmp_path / "case.json"
    path.write_text('{"schema": 1.0, "case": "T-1", "as_of": "2010-01-01", "claimant": {"age": 30}, "benefit": "jsa"}')
    result = run_main(capsys, "evaluate", str(path))
    assert result.code == 2 and "schema" in result.err


def test_a_fifo_named_like_a_case_file_is_refused_not_waited_on(tmp_path: Path, capsys) -> None:
    for name in ("pipe.yaml", "pipe.jsonl"):
        fifo = tmp_path / name
        os.mkfifo(fifo)
        result = run_main(capsys, "evaluate", str(fifo))
        assert result.code == 2 and "not a regular file" in result.err


def test_an_overlong_json_lines_line_is_refused_and_the_rest_decided(tmp_path: Path, capsys) -> None:
    path = tmp_path / "big.jsonl"
    good = {"schema": 1, "case": "B-1", "as_of": "2010-01-01", "claimant": {"age": 30}, "benefit": "jsa"}
    with path.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps({**good, "case": "A-1", "title": "x" * (3 * 1024 * 1024)}) + "\n")
        handle.write(json.dumps(good) + "\n")
    result = run_main(capsys, "evaluate", str(path), "--json")
    assert result.code == 2 and "big.jsonl:1: line is longer than" in result.err
    assert json.loads(result.out.splitlines()[0])["case"] == "B-1"


@pytest.mark.parametrize(("text", "where"), [
    ("schema: 1\ncase: AB123456C x\nas_of: 2010-01-01\nclaimant: {age: 30}\nbenefit: jsa\n", "case: this value"),
    (BASE.replace("benefit: jsa", "benefit: AB123456C"), "benefit: this value is not allowed"),
    (BASE.replace("as_of: 2010-01-01", "as_of: AB123456C"), "as_of: this value is not a date"),
    (BASE + "drugs: {AB123456C: true}\n", "drugs: has a key that is not a name (not shown)"),
    (BASE + "AB123456C: 1\n", "<top>"),
    (BASE.replace("age: 30", "age: 0123456"), "this value is not a whole number"),
    (BASE + "expect: {priority: Jane Smith 07700900123}\n", "expect.priority: this value is not allowed"),
])
def test_error_messages_never_echo_a_value_that_could_be_personal(tmp_path: Path, capsys, text: str,
                                                                   where: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path))
    assert result.code == 2 and len(result.err.splitlines()) == 1
    for secret in ("AB123456C", "0123456", "Jane", "07700900123"):
        assert secret not in result.err, result.err
    if where != "<top>":
        assert where in result.err, result.err


def test_error_messages_still_quote_a_typo_of_a_word(tmp_path: Path, capsys) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(BASE.replace("benefit: jsa", "benefit: jsaa"), encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path))
    assert result.code == 2 and "benefit: 'jsaa' is not allowed" in result.err
    path.write_text(BASE + "drugs: {heroine: true}\n", encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path))
    assert result.code == 2 and "drugs.heroine: unknown key" in result.err

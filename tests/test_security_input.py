"""Hostile input (issue #6): case files, NINOs, dates, sizes and every text shown: no crash, traceback or escape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model.nino import nino_problem
from tests import strategies as S
from tests.helpers import run_main
from tests.soak import CI_SIZES, hostile_input
from tests.soak.common import has_escape, run_cli, unsafe_chars


def test_hostile_input_properties_and_importer_fuzz() -> None:
    figures = hostile_input(**CI_SIZES["hostile"])
    broken = {name: p["examples_of_violations"] for name, p in figures["properties"].items()
              if name != "importer_fuzz" and p["violations"]}
    assert not broken, broken
    fuzz = figures["properties"]["importer_fuzz"]
    assert fuzz["crashes"] == 0 and fuzz["slow"] == 0, fuzz
    assert (figures["crashes"], figures["tracebacks"], figures["escapes"]) == (0, 0, 0)


@settings(max_examples=200)
@given(S.nino_traps())
def test_nino_check_follows_the_contract(value: str) -> None:
    assert (nino_problem(value) is None) == S.nino_oracle(value)


@pytest.mark.parametrize("value", ["QQ123456C\n", "QQ123456C\r\n", "QQ１２３４５６C", "QQ12345٦C", "qq123456c",
                                   "QQ123456C ", "ＱＱ123456C", "QQ123456\u200bC"])
def test_nino_traps_are_refused_with_one_line(tmp_path: Path, capsys, value: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"schema": 1, "case": "X1", "as_of": "2010-01-04", "benefit": "jsa",
                                "claimant": {"age": 30, "nino": value}}), encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path))
    assert result.code == 2 and "claimant.nino" in result.err and len(result.err.splitlines()) == 1


def test_yaml_block_scalar_nino_keeps_its_newline_and_is_refused(tmp_path: Path, capsys) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("schema: 1\ncase: X1\nas_of: 2010-01-04\nbenefit: jsa\nclaimant:\n  age: 30\n  nino: |\n"
                    "    QQ123456C\n", encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path))
    assert result.code == 2 and "claimant.nino" in result.err


@pytest.mark.parametrize("literal", ["042", "0:42", "1:20", "4_2", "0x2A", "0b101010", "0o52"])
def test_yaml_numbers_are_read_as_written_or_refused(tmp_path: Path, capsys, literal: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"schema: 1\ncase: X1\nas_of: 2010-01-04\nbenefit: jsa\nclaimant:\n  age: {literal}\n",
                    encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path), "--json")
    assert result.code == 2 and "claimant.age" in result.err, "YAML 1.1 would read another number"


def test_an_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    names = "abc"
    lines = [f"l0{n}: &l0{n} {{x: 1}}" for n in names]
    for k in range(1, 16):
        lines += [f"l{k}{n}: &l{k}{n} {{" + ", ".join(f"{m}: *l{k - 1}{m}" for m in names) + "}" for n in names]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import time

    started = time.perf_counter()
    result = run_cli("evaluate", str(path))
    assert result.code == 2 and time.perf_counter() - started < 5


@pytest.mark.parametrize("text", ["title: \"\\e[31mred\\e]0;pwned\\a\"\n", "title: a\x1b[31m\n", "title: \"\\u202eabc\"\n",
                                  "title: \"\\x9b2J\"\n"])
def test_escapes_in_case_files_never_reach_the_terminal(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("schema: 1\ncase: X1\nas_of: 2010-01-04\nbenefit: jsa\nclaimant:\n  age: 30\n" + text,
                    encoding="utf-8")
    for args in (("evaluate", str(path)), ("cases", "test", str(tmp_path))):
        result = run_cli(*args)
        assert result.code in (0, 1, 2) and not result.traceback
        assert not has_escape(result.out + result.err) and not unsafe_chars(result.out + result.err)


def test_huge_numbers_are_refused_not_crashed(tmp_path: Path, capsys) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("schema: 1\ncase: X1\nas_of: 2010-01-04\nbenefit: jsa\nclaimant:\n  age: " + "9" * 100 + "\n",
                    encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path))
    assert result.code == 2 and "out of range" in result.err


@settings(max_examples=100)
@given(st.text(alphabet=st.characters(codec=None)), st.booleans())
def test_clean_leaves_nothing_a_terminal_would_act_on(text: str, keep: bool) -> None:
    from engine.textsafe import clean

    shown = clean(text, keep_newlines=keep)
    assert not unsafe_chars(shown, allow="\n" if keep else "")
    assert len(shown) == len(text)


@pytest.mark.parametrize(("line", "key", "words"), [("title: !!timestamp foo", "title", "is not a date"),
                                                    ("as_of: !!timestamp 2008-02-30x", "as_of", "is not a date"),
                                                    ("narrative: !!timestamp 20080230", "narrative", "is not a date"),
                                                    ("title: !!float abc", "title", "is not a number")])
def test_text_tagged_as_a_yaml_date_or_number_is_refused_at_its_line(tmp_path: Path, capsys, line: str, key: str,
                                                                     words: str) -> None:
    """`!!timestamp` on text that is no date made PyYAML fail inside (an internal error, found by the fuzz), and
    `!!float` on text that is no number gave a bare ValueError without its line: both are refused at their key."""
    path = tmp_path / "c.yaml"
    as_of = "" if key == "as_of" else "as_of: 2010-01-04\n"
    path.write_text(f"schema: 1\ncase: X1\n{as_of}benefit: jsa\nclaimant:\n  age: 30\n{line}\n", encoding="utf-8")
    result = run_main(capsys, "evaluate", str(path))
    assert result.code == 2 and len(result.err.splitlines()) == 1
    assert f"c.yaml:{6 if key == 'as_of' else 7}: {key}: invalid YAML:" in result.err
    assert words in result.err

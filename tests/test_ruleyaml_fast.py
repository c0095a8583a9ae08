"""Rule files read through libyaml (#14) give what PyYAML's own parser gives, line numbers and errors included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.errors import RuleFileError
from engine.policy import ruleyaml
from rules import RULES_DIR


def _located(value: Any) -> Any:
    """A loaded value with every mapping's own line and its keys' lines spelled out, to compare whole."""
    if isinstance(value, dict):
        return (getattr(value, "line", None), getattr(value, "key_lines", None),
                {key: _located(item) for key, item in value.items()})
    if isinstance(value, list):
        return [_located(item) for item in value]
    return value


@pytest.mark.skipif(ruleyaml._FastLineLoader is None, reason="PyYAML built without libyaml")
@pytest.mark.parametrize("path", sorted(RULES_DIR.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_rule_file_reads_the_same_with_either_parser(path: Path) -> None:
    slow = yaml.load(path.read_text(encoding="utf-8"), Loader=ruleyaml._LineLoader)
    assert _located(ruleyaml.load_rule_yaml(path)) == _located(slow)


@pytest.mark.parametrize("text", ["a: [1, 2\nb: 3\n", "a: 1\n  b: 2\n", "- a\nb: c\n", "a: 'x\n"])
def test_a_broken_rule_file_is_reported_as_pyyamls_own_parser_reports_it(tmp_path: Path, text: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as fast:
        ruleyaml.load_rule_yaml(path)
    saved, ruleyaml._FastLineLoader = ruleyaml._FastLineLoader, None
    try:
        with pytest.raises(RuleFileError) as slow:
            ruleyaml.load_rule_yaml(path)
    finally:
        ruleyaml._FastLineLoader = saved
    assert str(fast.value) == str(slow.value) and str(fast.value).startswith("broken.yaml:")

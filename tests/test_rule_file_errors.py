"""Rule-file errors name the file, line and key, as case-file errors do (issue #16); `rules lint --json`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rules import RULES_DIR
from tests.helpers import CASES, run_main

IN_FORCE = next(CASES.glob("039-*.yaml"))


def _rules_with(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def _line_of(folder: Path, file: str, needle: str) -> int:
    lines = (folder / file).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if needle in line)


@pytest.mark.parametrize(("file", "old", "new", "needle", "expected"), [
    ("outcomes.yaml", "PARENT_PRIORITY: {kind: priority, ", "PARENT_PRIORITY: {", "PARENT_PRIORITY:",
     "outcomes.PARENT_PRIORITY.kind: missing required key"),
    ("editions.yaml", "    title:", "    titl:", "- id:", "editions[1].title: missing required key"),
    ("treatment.yaml", "    title: JSA problem drug user", "    titl: JSA problem drug user", "titl:",
     "rule jsd-treatment-discussion: titl: unknown key (allowed: adviser_note,"),
    ("treatment.yaml", "concludes: JSD_TREATMENT_DISCUSSION", "concludes: NO_SUCH_CODE", "- id: jsd-treatment",
     "rule jsd-treatment-discussion: concludes unknown outcome NO_SUCH_CODE"),
    ("treatment.yaml", "rules:\n", "rules: [unclosed\n", "rules: [unclosed", "invalid YAML: "),
])
def test_a_rule_file_defect_is_one_line_naming_file_line_and_key(tmp_path: Path, capsys, file: str, old: str,
                                                                 new: str, needle: str, expected: str) -> None:
    folder = _rules_with(tmp_path, file, old, new)
    line = _line_of(folder, file, needle)
    lint = run_main(capsys, "rules", "lint", "--dir", str(folder))
    assert lint.code == 1
    first = lint.err.splitlines()[0]
    assert first.startswith(f"pathways: {file}:") and expected in first, first
    assert "Error(" not in lint.err and "Traceback" not in lint.err
    if "YAML" not in expected:
        assert first.startswith(f"pathways: {file}:{line}: "), (first, line)
    data = json.loads(run_main(capsys, "rules", "lint", "--dir", str(folder), "--json").out)
    assert data["ok"] is False and data["findings"][0]["file"] == file
    assert isinstance(data["findings"][0]["line"], int)
    if expected != "rule jsd-treatment-discussion: concludes unknown outcome NO_SUCH_CODE":
        decided = run_main(capsys, "evaluate", str(IN_FORCE), "--rules", str(folder))
        assert decided.code == 2 and len(decided.err.splitlines()) == 1 and expected in decided.err


def test_rules_lint_json_on_the_bundled_rules(capsys) -> None:
    result = run_main(capsys, "rules", "lint", "--json")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["ok"] is True and data["findings"] == [] and data["rules"] > 0 and data["outcomes"] > 0
    assert data["editions"][0] == "2008-announced"

"""`pathways rules lint` passes on the bundled rules and catches each kind of defect."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.policy.lint import lint_folder
from rules import RULES_DIR
from tests.helpers import run_main


def copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_bundled_rules_are_clean(capsys) -> None:
    assert lint_folder() == []
    result = run_main(capsys, "rules", "lint")
    assert result.code == 0 and "rules OK" in result.out


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("signposts.yaml", "id: signpost-complex-needs", "id: signpost-mutual-aid", "duplicate rule id"),
        ("signposts.yaml", "- mental_health: true", "- mental_wellbeing: true", "unknown fact mental_wellbeing"),
        ("housing.yaml", "source: nta-2008-strategy-comment", "source: nta-2008-no-such-document",
         "source nta-2008-no-such-document is not in sources.yaml"),
        ("housing.yaml", 'locator: "paragraph 10"', 'locator: "DOMAIN.md section 4"', "internal document 'DOMAIN.md'"),
        ("housing.yaml", "You have agreed that we can put you", "If you miss it you face a sanction. You have agreed "
         "that we can put you", "sanction"),
        ("housing.yaml", "You have agreed that we can put you", "The adviser must tell you this. You have agreed "
         "that we can put you", "adviser"),
        ("treatment.yaml", "editions: [2017-recovery]", "editions: [2018-future]", "unknown edition 2018-future"),
        ("editions.yaml", "from: 2009-04-27", "from: 2009-05-27", "gap: no edition in force from 2009-04-27"),
        ("editions.yaml", "from: 2017-07-14", "from: 2017-07-01", "overlaps 2009-voluntary"),
        ("families.yaml", "concludes: PARENT_PRIORITY", "concludes: PARENT_PRIORITISED", "unknown outcome"),
        ("derived.yaml", "{in: [sofa_surfing, no_fixed_abode, rough_sleeping]}", "{between: [1, 2]}", "unknown operator"),
    ],
)
def test_lint_catches(tmp_path: Path, capsys, file: str, old: str, new: str, expected: str) -> None:
    folder = copy_rules(tmp_path)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    findings = [str(f) for f in lint_folder(folder)]
    assert any(expected in f for f in findings), findings
    result = run_main(capsys, "rules", "lint", "--dir", str(folder))
    assert result.code == 1 and expected in result.err


SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed documents (../shared/seeds) are not beside the project")
def test_lint_checks_every_seed_quote_against_its_seed(tmp_path: Path, capsys) -> None:
    assert run_main(capsys, "rules", "lint", "--seeds", str(SEEDS)).code == 0
    folder = copy_rules(tmp_path)
    path = folder / "housing.yaml"
    text = path.read_text(encoding="utf-8")
    old = "to sources of housing advice and advocacy"
    assert old in text
    path.write_text(text.replace(old, "to sources of housing advice, advocacy and free legal aid", 1), encoding="utf-8")
    result = run_main(capsys, "rules", "lint", "--dir", str(folder), "--seeds", str(SEEDS))
    assert result.code == 1 and "quote not found in its source" in result.err

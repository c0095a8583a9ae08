"""Dependencies flow one way: the engine never names the UI or Textual, and imports without Textual installed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

ENGINE = ROOT / "engine"
FORBIDDEN = ("tui", "textual", "textual_serve")
"""Top-level packages no module under engine/ may import, at module level or inside a function."""


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for every import anywhere in a module: top level, functions, methods, conditionals."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def forbidden_imports(path: Path) -> list[str]:
    """The imports in one source file that name a forbidden package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [f"{path.relative_to(ROOT)}:{line}: imports {module}" for line, module in imported_modules(tree)
            if module.split(".")[0] in FORBIDDEN]


def test_the_walker_sees_imports_inside_functions_and_methods() -> None:
    source = ("import os\n"
              "def f():\n    import textual.app\n"
              "class C:\n    def m(self):\n        from tui.data import x\n"
              "if False:\n    from textual_serve import server\n"
              "from .sibling import y\n")
    assert sorted(m for _, m in imported_modules(ast.parse(source))) == ["os", "textual.app", "textual_serve",
                                                                         "tui.data"]


@pytest.mark.parametrize("path", sorted(ENGINE.rglob("*.py")), ids=lambda p: str(p.relative_to(ENGINE)))
def test_no_engine_module_names_the_ui_or_textual(path: Path) -> None:
    assert forbidden_imports(path) == []


BLOCK_TEXTUAL = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("textual", "textual_serve"):
            raise ImportError(name + " is blocked for this test")
sys.meta_path.insert(0, Block())
import pkgutil, importlib, engine
names = [m.name for m in pkgutil.walk_packages(engine.__path__, "engine.")]
assert "engine.casebook.book" in names and "engine.cli.main" in names, names
for name in names:
    importlib.import_module(name)
assert not any(m.split(".")[0] == "tui" for m in sys.modules), "the engine imported the UI"
from engine.cli import main  # the UI's commands come in through their entry point; textual stays unloaded
try:
    main(["cases", "test"])
except SystemExit as exc:
    assert exc.code == 0, exc.code
assert not any(m.split(".")[0] in ("textual", "textual_serve") for m in sys.modules)
print("ok", len(names))
"""


def test_engine_imports_and_runs_without_textual() -> None:
    proc = subprocess.run([sys.executable, "-c", BLOCK_TEXTUAL], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1].startswith("ok")


AUDIT_WRITERS = ("INSERT INTO audit", "_event_hash_text", "event_hash(")
"""What only engine/casebook/audit.py may do: insert audit rows, or hash events."""


@pytest.mark.parametrize("path", sorted(p for p in ENGINE.rglob("*.py") if p.name != "audit.py"),
                         ids=lambda p: str(p.relative_to(ENGINE)))
def test_only_the_audit_module_extends_the_chain(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert [w for w in AUDIT_WRITERS if w in text] == []

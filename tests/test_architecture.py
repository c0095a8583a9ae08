"""Dependencies flow one way: the engine imports without Textual installed."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT

BLOCK_TEXTUAL = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "textual" or name.startswith("textual."):
            raise ImportError("textual is blocked for this test")
sys.meta_path.insert(0, Block())
import pkgutil, importlib, engine
for mod in pkgutil.iter_modules(engine.__path__):
    importlib.import_module("engine." + mod.name)
from engine.cli import main
try:
    main(["cases", "test"])
except SystemExit as exc:
    assert exc.code == 0, exc.code
assert not any(m == "textual" or m.startswith("textual.") for m in sys.modules)
print("ok")
"""


def test_engine_never_imports_textual() -> None:
    proc = subprocess.run([sys.executable, "-c", BLOCK_TEXTUAL], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("ok")

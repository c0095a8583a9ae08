"""Every `pathways` command and every batch or replay worker starts without loading pandas or numpy (#14)."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_opening_a_case_book_does_not_load_pandas_or_numpy_but_leaves_them_importable() -> None:
    out = _run("import sys; import engine.casebook.book, engine.casebook.batch, engine.casebook.replay; "
               "print('pandas' in sys.modules, 'numpy' in sys.modules); "
               "import pandas; print(pandas.DataFrame({'a': [1]}).shape)")
    assert out.splitlines() == ["False False", "(1, 1)"]


def test_pandas_loaded_first_is_left_alone() -> None:
    out = _run("import pandas, sqlite_utils.db as d; import engine.casebook.book; print(d.pd is pandas)")
    assert out == "True"

"""Pathways installed beside another project's top-level `engine` and `tui` packages (issue #16).

A scratch virtual environment sees this checkout's installed Pathways (the `.venv` site folder
added to its path) and gets a dummy distribution, `otherproj`, installed by pip from a wheel made
here, that ships its own `engine` and `tui`. The clash is real (`import engine` finds the other
one) and the `pathways` entry point refuses with one plain line instead of a traceback or
someone else's code; without the dummy, the same environment runs Pathways.
"""

from __future__ import annotations

import base64
import hashlib
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT

OTHER = {
    "engine/__init__.py": "WHOSE = 'otherproj'\n",
    "tui/__init__.py": "WHOSE = 'otherproj'\n",
}


def _wheel(folder: Path) -> Path:
    """A minimal pure-Python wheel of `otherproj` 1.0 with top-level `engine` and `tui` packages."""
    files = {
        **OTHER,
        "otherproj-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: otherproj\nVersion: 1.0\n",
        "otherproj-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    record.append("otherproj-1.0.dist-info/RECORD,,")
    path = folder / "otherproj-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
        wheel.writestr("otherproj-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return path


def _scratch_env(folder: Path) -> Path:
    """A venv without pip whose path ends with this checkout's environment (where Pathways is installed)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    own_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()]
    lines = "".join(f"import site; site.addsitedir({p!r})\n" for p in ours)
    (Path(own_site) / "zz_pathways_env.pth").write_text(lines, encoding="utf-8")
    return python


def _run(python: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="needs Pathways installed in a virtual environment")
def test_another_projects_engine_and_tui_are_detected_not_run(tmp_path: Path) -> None:
    python = _scratch_env(tmp_path / "env")
    work = tmp_path / "work"  # not the checkout: its folders must not be on the path by accident
    work.mkdir()
    launch = "import sys; sys.argv = ['pathways', '--version']; import pathways_cli; pathways_cli.main()"
    before = _run(python, launch, work)
    assert before.returncode == 0 and "pathways, version" in before.stdout, before.stderr

    wheel = _wheel(tmp_path)
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                                "--no-index", "--quiet", str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    # the clash is real: the other project's `engine` shadows Pathways' own
    shadow = _run(python, "import engine; print(engine.WHOSE)", work)
    assert shadow.stdout.strip() == "otherproj"

    after = _run(python, launch, work)
    assert after.returncode == 2 and after.stdout == ""
    assert after.stderr.splitlines() == [
        "pathways: the installed package 'otherproj' also provides a top-level 'engine' package, which clashes "
        "with Pathways' own: install Pathways in a virtual environment of its own (python -m venv, or pipx)"]
    found = _run(python, "import pathways_cli as p; print(p.foreign_providers()); print(p.misplaced_packages())",
                 work).stdout.splitlines()
    assert found[0] == "[('otherproj', 'engine'), ('otherproj', 'tui')]"
    assert "'engine'" in found[1] and "'tui'" in found[1] and str(ROOT) not in found[1]


def test_the_checkout_itself_is_clean() -> None:
    import pathways_cli

    assert pathways_cli.clash() is None
    assert pathways_cli.misplaced_packages() == []

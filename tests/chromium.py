"""Headless Chromium for the HTML outputs' tests: the page as the browser parsed it, and printed to PDF."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")
"""Flags for a quiet, offline, throwaway browser."""


def chromium() -> str:
    """The Chromium binary, or skip the test when it cannot be found."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        pytest.skip("chromium is not installed (make .venv/.installed installs it where apt works)")
    return found


def _run(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Chromium on a local file with a fresh profile."""
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
                              capture_output=True, text=True, timeout=120)


def dump_dom(page: Path) -> str:
    """The DOM Chromium builds from the page, serialised."""
    result = _run(page, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def print_pdf(page: Path, pdf: Path) -> bytes:
    """The page printed to PDF by Chromium (its print styles applied)."""
    result = _run(page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert result.returncode == 0 and pdf.exists(), result.stderr[-2000:]
    return pdf.read_bytes()

"""Snapshots of the main screens at 80x24 (pytest-textual-snapshot; `--snapshot-update` to accept)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.app import make_app


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder so the book path on screen is the same every time."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATHWAYS_DB", "snapshot.db")
    return Path("snapshot.db")


def test_advise_case_list(snap_compare, here: Path) -> None:
    assert snap_compare(make_app("advise", here), terminal_size=(80, 24))


def test_train_scenario_library(snap_compare, here: Path) -> None:
    assert snap_compare(make_app("train", Path("training.db")), terminal_size=(80, 24))


def test_help_screen_from_live_bindings(snap_compare, here: Path) -> None:
    assert snap_compare(make_app("advise", here), press=["f1"], terminal_size=(80, 24))


def test_too_small_screen(snap_compare, here: Path) -> None:
    assert snap_compare(make_app("advise", here), terminal_size=(60, 20))

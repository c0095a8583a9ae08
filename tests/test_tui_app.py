"""Throughout the UI: too-small screen, help from live bindings, palette, hostile text, and crashes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from textual.command import CommandPalette
from textual.widgets import OptionList, Static

from engine.casebook.book import CaseBook
from tests.conftest import record_scenarios
from tests.helpers import ROOT
from tests.tui_helpers import app_for, settle
from tui.screens.advise import AdviseScreen
from tui.screens.help import HelpScreen
from tui.screens.too_small import TooSmallScreen
from tui.screens.train import TrainScreen

HOSTILE = "[@click=app.quit]Jane[/] Smith [/] [bold red]x \x1b]52;c;ZXZpbA==\x07\x1b[2J\u202e"


def plain(widget: Static) -> str:
    """The text a Static holds (it is always a rich Text here, never markup)."""
    content = widget.content
    return content.plain if hasattr(content, "plain") else str(content)


async def test_too_small_screen_and_back(tmp_path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(70, 20)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, TooSmallScreen)
        assert "70x20" in plain(app.screen.query_one("#too-small", Static))
        await pilot.press("n", "f3", "ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen) and app.current_mode == "advise"
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, AdviseScreen)
        await pilot.resize_terminal(79, 24)
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)


async def test_help_is_built_from_the_live_bindings(tmp_path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        described = {row.description for row in help_screen.rows}
        assert {"New case", "Search", "Train", "Help", "Quit"} <= described
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AdviseScreen)


async def test_every_mode_is_one_key_away_and_in_the_palette(tmp_path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert app.current_mode == "audit"
        await pilot.press("f3")
        await settle(pilot)
        assert app.current_mode == "train" and isinstance(app.screen, TrainScreen)
        await pilot.press("f2")
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        for ch in "Audit mode":
            await pilot.press(ch if ch != " " else "space")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "audit"


async def test_hostile_text_in_a_scenario_is_shown_as_text(tmp_path) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    source = (ROOT / "cases" / "001-jsa-heroin-toddlers-nfa.yaml").read_text()
    escaped = HOSTILE.replace("\x1b", "\\e").replace("\x07", "\\a").replace("\u202e", "\\u202E")
    source = source.replace('title: "Heroin user on JSA, two toddlers, no fixed abode"', f'title: "{escaped}"')
    source = source.replace("narrative: >", f'narrative: "{escaped}"\nold_narrative: >').split("old_narrative")[0]
    source += "expect:\n  priority: urgent\n"
    (folder / "hostile.yaml").write_text(source)
    app = app_for(tmp_path, "train", cases_dir=folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TrainScreen) and screen.cases[0].title == HOSTILE
        shown = plain(screen.query_one("#narrative", Static))
        assert "[@click=app.quit]Jane[/]" in shown and "Smith [/]" in shown
        assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
        prompt = screen.query_one("#scenarios", OptionList).get_option_at_index(0).prompt
        assert "[@click=app.quit]" in prompt.plain and "\x1b" not in prompt.plain
        await pilot.click("#narrative")
        await pilot.press("enter")
        await pilot.pause()
        assert app.is_running
        story = plain(app.screen.query_one("#story", Static))
        assert "[/]" in story and "\x1b" not in story


async def test_hostile_referral_notes_and_adviser_are_shown_as_text(tmp_path) -> None:
    db = tmp_path / "live.db"
    with CaseBook(db, training=True) as book:
        (first,) = record_scenarios(book, limit=1)
        book.add_referral(first, "REFER_HOUSING_ADVICE", "[@click=app.quit]Evil[/]", "[b]T2[/]",
                          notes="Smith [/] [bold]loud")
    app = app_for(tmp_path, db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AdviseScreen)
        await pilot.press("down", "up")
        detail = plain(screen.query_one("#case-detail", Static))
        assert "[@click=app.quit]Evil[/]" in detail and "Smith [/] [bold]loud" in detail
        await pilot.click("#case-detail")
        await pilot.pause()
        assert app.is_running


CRASH = textwrap.dedent("""
    import sys
    from pathlib import Path
    import tui.app
    from tui.app import PathwaysApp

    class Boom(PathwaysApp):
        CSS_PATH = str(Path(tui.app.__file__).with_name("app.tcss"))  # beside the real app, not this script

        def on_ready(self) -> None:
            nino = "QQ123456C"  # a local a traceback with locals would print
            secret_note = "claimant uses heroin"
            raise RuntimeError(f"failed on {nino}: {secret_note}")

    app = Boom("advise", db=Path(sys.argv[1]), training_db=Path(sys.argv[2]))
    app.run(headless=True, size=(80, 24))
    sys.exit(app.return_code or 0)
""")


def test_a_crash_prints_one_line_and_no_case_data(tmp_path) -> None:
    script = tmp_path / "boom.py"
    script.write_text(CRASH)
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "a.db"), str(tmp_path / "t.db")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 1
    err = proc.stderr + proc.stdout
    assert "RuntimeError" in err
    assert "QQ123456C" not in err and "heroin" not in err and "Traceback" not in err
    assert len(proc.stderr.strip().splitlines()) <= 2

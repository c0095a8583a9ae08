"""Words and layout (#12 item 7): question labels that fit 80 columns, a panel of outcome titles with kinds
spelt out and codes on demand, the claimant's words first, a layout that grows at 120x40, and a help
dialog that cuts nothing."""

from __future__ import annotations

import shutil
from typing import Any

import yaml
from rich.console import Console
from textual.widgets import OptionList, Static

from cases import CASES_DIR
from engine.intake.interview import APPLIES, Interview
from engine.intake.loader import read_case_file
from engine.intake.validate import build_case
from engine.policy.lint import LABEL_WIDTH, lint_folder
from rules import RULES_DIR
from tests.tui_helpers import app_for, new_case, settle, step_through
from tui.screens.help import HelpScreen
from tui.screens.interview import DETAILS_OPTION, InterviewScreen
from tui.widgets.decision import DecisionPanel
from tui.words import KIND_NAMES, LEGEND

CONSENTS = build_case(read_case_file(CASES_DIR / "026-jsa-prison-release-4-weeks.yaml"))
"""2015: asks the housing and the employment consent questions (both once read "Does the claimant a..."); a note
for the adviser, an offer, a referral and signposts apply."""


def plain(widget: Static) -> str:
    """The text a Static holds."""
    content = widget.content
    return content.plain if hasattr(content, "plain") else str(content)


def test_every_question_has_a_short_label_that_fits_and_differs() -> None:
    questions = Interview("X", CONSENTS.as_of).questions
    labels = [q.short for q in questions]
    assert all(q.label for q in questions), [q.fact for q in questions if not q.label]
    assert max(map(len, labels)) <= LABEL_WIDTH
    assert len({label.casefold() for label in labels}) == len(labels), "two questions read alike"
    consent = [q.short for q in questions if q.fact.startswith("consent.")]
    assert len(set(consent)) == 3 and all(label.startswith("Consent: ") for label in consent)
    assert not [f for f in lint_folder() if "label" in f.problem]


def test_rules_lint_refuses_a_label_too_long_or_missing(tmp_path) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    data = yaml.safe_load((folder / "questions.yaml").read_text(encoding="utf-8"))
    data["questions"][0]["label"] = "A label far too long for the answers list"
    del data["questions"][1]["label"]
    (folder / "questions.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    found = [str(f) for f in lint_folder(folder) if "label" in f.problem]
    assert len(found) == 2 and any("more than 24" in f for f in found) and any("no short label" in f for f in found)


async def finished(pilot: Any) -> InterviewScreen:
    """The consent case answered from the keyboard in advise mode."""
    await settle(pilot)
    await new_case(pilot, "WORDS-1", CONSENTS.as_of.isoformat())
    await step_through(pilot, CONSENTS)
    screen = pilot.app.screen
    assert isinstance(screen, InterviewScreen) and screen.interview.is_complete()
    await pilot.pause()
    return screen


async def test_answers_list_shows_labels_that_fit_at_80_columns(tmp_path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await finished(pilot)
        answers = screen.query_one("#answers", OptionList)
        rows = [answers.get_option_at_index(i) for i in range(answers.option_count)]
        rows = [row for row in rows if row.id != DETAILS_OPTION]  # the last line: the case's date and NINO
        firsts = {}
        for row in rows:
            question = screen.interview.question(str(row.id))
            text = row.prompt.plain
            assert text.startswith(question.short + ": "), text
            firsts[question.fact] = text[: len(question.short)]
            assert len(question.short) + 2 < answers.scrollable_content_region.width  # the label is never cut
        consent = [firsts[f] for f in firsts if f.startswith("consent.")]
        assert len(consent) == 2 and len(set(consent)) == 2, consent  # no more "Does the claimant a..." twice


async def test_panel_shows_titles_kinds_in_words_a_legend_and_codes_on_demand(tmp_path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await finished(pilot)
        panel = screen.query_one(DecisionPanel)
        outcomes = panel.query_one("#outcomes", OptionList)
        ruleset = screen.interview.ruleset
        prompts = {str(outcomes.get_option_at_index(i).id): outcomes.get_option_at_index(i).prompt.plain
                   for i in range(outcomes.option_count)}
        assert plain(panel.query_one("#legend", Static)) == LEGEND
        for code, text in prompts.items():
            info = ruleset.outcomes[code]
            first, second = text.split("\n")
            assert first[2:] == info.title and code not in text
            assert second.strip() == KIND_NAMES[info.kind]
        notes = [t for c, t in prompts.items() if ruleset.outcomes[c].kind == "note"]
        assert notes and all("note for the adviser" in t for t in notes)  # never "not", read as a negation
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert panel.show_codes
        shown = [outcomes.get_option_at_index(i) for i in range(outcomes.option_count)]
        assert all(str(o.id) in o.prompt.plain for o in shown)
        assert str(panel.highlighted_code()) in plain(panel.query_one("#explain", Static))
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not panel.show_codes
        assert str(panel.highlighted_code()) not in plain(panel.query_one("#explain", Static))


async def test_the_claimants_words_come_first_and_above_the_fold(tmp_path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await finished(pilot)
        panel = screen.query_one(DecisionPanel)
        code = panel.highlighted_code()
        assert code is not None
        decision = screen.interview.live_decision()
        assert decision is not None
        said = {o.code: o.text for o in decision.outcomes if o.text}
        assert code == next(r.code for r in screen.interview.outcome_rows() if r.state == APPLIES)
        assert code in said, "the first applying outcome has words to read out"
        lines = plain(panel.query_one("#explain", Static)).splitlines()
        assert lines[1] == f"Say to the claimant: {said[code]}"
        box = panel.query_one("#explain-box")
        width = box.scrollable_content_region.width
        title_rows = len(Console(width=width).render_lines(lines[0], pad=False))
        assert box.scroll_y == 0 and title_rows < box.size.height, "the words to read out are on screen"


async def test_the_layout_grows_at_120_by_40(tmp_path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await finished(pilot)
        small = (screen.query_one(DecisionPanel).size, screen.query_one("#outcomes").size,
                 screen.query_one("#answers").size)
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        await pilot.pause()
        panel = screen.query_one(DecisionPanel)
        big = (panel.size, screen.query_one("#outcomes").size, screen.query_one("#answers").size)
        assert big[0].width >= small[0].width + 30 and big[1].height >= small[1].height + 6
        assert big[2].height > small[2].height
        longest = max(len(row.title) + 2 for row in screen.interview.outcome_rows() if row.state == APPLIES)
        assert screen.query_one("#outcomes").scrollable_content_region.width >= longest, "titles whole at 120"
        await pilot.resize_terminal(160, 40)
        await pilot.pause()
        await pilot.pause()
        outcomes, box = screen.query_one("#outcomes"), screen.query_one("#explain-box")
        assert box.region.x > outcomes.region.x and box.region.y == outcomes.region.y, "side by side when wide"


async def test_help_cuts_nothing_at_80_or_120_columns(tmp_path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await finished(pilot)
        for size in ((80, 24), (120, 40)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await pilot.press("f1")
            await pilot.pause()
            help_screen = app.screen
            assert isinstance(help_screen, HelpScreen)
            dialog = help_screen.query_one(".dialog")
            assert dialog.region.right <= size[0] and dialog.region.bottom <= size[1]
            table = help_screen.query_one("#key-table", Static)
            console = Console(width=table.scrollable_content_region.width, record=True)
            console.print(table.content)
            shown = " ".join(console.export_text().split())
            for row in help_screen.rows:
                assert row.description in shown, row
                assert " ".join(row.tooltip.split()) in shown or all(w in shown for w in row.tooltip.split()), row
            assert any(row.description == "Codes" for row in help_screen.rows)
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen

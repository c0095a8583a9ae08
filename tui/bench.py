"""The case list timed through the UI: `pathways bench --big` runs this on its big book (the `pathways.bench`
entry point), driving the real app headless with Textual's Pilot."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from tui.app import PathwaysApp
from tui.screens.advise import AdviseScreen

REPEAT = 5
"""Runs of each measurement (the median is reported)."""
SIZE = (120, 40)
"""The terminal size the app runs at."""
TIMEOUT = 60.0
"""Seconds to wait for a page before giving up."""


def caselist_figures(book: Path, queries: dict[str, str], repeat: int = REPEAT) -> list[tuple[str, str, float, float]]:
    """(key, label, wall ms, CPU ms) for the app opening at the list's first page and for each search, each
    timed until the rows are in the widget and the screen has been redrawn (medians of `repeat` runs)."""
    return asyncio.run(_measure(book, queries, repeat))


async def _page_shown(screen: AdviseScreen, before: int) -> None:
    """Wait until a page newer than generation `before` is in the table (not for the case count after it)."""
    deadline = time.perf_counter() + TIMEOUT
    while not (screen.generation > before and screen.shown_generation == screen.generation):
        if time.perf_counter() > deadline:
            raise TimeoutError("the case list did not show a page")
        await asyncio.sleep(0.001)


async def _type(pilot: Pilot[None], screen: AdviseScreen, text: str) -> tuple[float, float]:
    """Put `text` in the search box; wall and CPU seconds until its first page is shown and drawn."""
    box = screen.query_one("#search", Input)
    before = screen.generation
    start, start_cpu = time.perf_counter(), time.process_time()
    if box.value == text:  # no change to announce: read the list afresh
        screen.refill()
    else:
        box.value = text
    await _page_shown(screen, before)
    await pilot.pause()
    return time.perf_counter() - start, time.process_time() - start_cpu


async def _measure(book: Path, queries: dict[str, str], repeat: int) -> list[tuple[str, str, float, float]]:
    """Start the app on `book`, then time the first page and each search through the widget."""
    app = PathwaysApp("advise", db=book, adviser="bench")
    out: list[tuple[str, str, float, float]] = []
    start, start_cpu = time.perf_counter(), time.process_time()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, AdviseScreen)
        await _page_shown(screen, 0)
        await pilot.pause()
        out.append(("ui_start", "start the app: first page of the list shown",
                    (time.perf_counter() - start) * 1e3, (time.process_time() - start_cpu) * 1e3))
        await app.workers.wait_for_complete()  # the case count after the first page
        back: list[tuple[float, float]] = []
        for n, (label, text) in enumerate(queries.items(), start=1):
            times = []
            for _ in range(repeat):
                times.append(await _type(pilot, screen, text))
                back.append(await _type(pilot, screen, ""))
            out.append((f"ui_search_{n}", f"search for {label}", *_medians(times)))
        out.insert(1, ("ui_open", "search cleared: first page of the whole list shown", *_medians(back)))
    return out


def _medians(times: list[tuple[float, float]]) -> tuple[float, float]:
    """Median wall and CPU milliseconds."""
    return statistics.median(t[0] for t in times) * 1e3, statistics.median(t[1] for t in times) * 1e3

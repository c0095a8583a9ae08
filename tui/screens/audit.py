"""Audit mode (read-only): the decisions list with filters, the audit chain check, and replays.

Every problem `audit verify` finds is listed in full (wrapped and scrollable, never cut at the
screen's edge), and the decisions and audit events it touches are flagged "!" in their tables. An
anchor file (kept off the machine) can be loaded to check the chain's head against it. The book is
opened read-only (SQLite `mode=ro`) by every read: nothing here can change it.

On a large book the full verify takes minutes, so it runs in the background with its progress
shown, never holding up a key; meanwhile the last full verify's mark is shown at once and what came
after it is checked quickly (#14). The full verify's result replaces both when it is done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Select, Static, TabbedContent, TabPane

from engine.casebook.marks import Mark
from engine.casebook.queries import AuditLine, DecisionRow
from engine.dates import parse_iso_date
from engine.policy.driver import default_engine
from tui import data
from tui.jobs import JobDone, JobScreen, cancelled
from tui.safe import clip, safe
from tui.screens.replay import ReplayScreen
from tui.widgets.lists import OpenTable


class VerifyStopped(Exception):
    """A full verify was stopped: a newer one replaced it, or the app is closing."""


class AuditScreen(JobScreen):
    """Recorded decisions, filtered by date, adviser, edition and outcome; nothing is ever written."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filters", "Filter", tooltip="Go to the filters", id="audit.filter"),
        Binding("v", "verify", "Verify", tooltip="Run audit verify on the case book", id="audit.verify"),
        Binding("r", "reload", "Reload", tooltip="Read the decisions again", id="audit.reload"),
        Binding("p", "tab('problems')", "Problems", tooltip="Every problem audit verify found, in full",
                id="audit.problems"),
        Binding("e", "tab('events')", "Events", tooltip="Referral, erasure and other audit events",
                id="audit.events"),
        Binding("d", "tab('decisions')", "Decisions", show=False, tooltip="The decisions list",
                id="audit.decisions"),
        Binding("a", "anchor", "Anchor", tooltip="Verify against an anchor file kept off this machine",
                id="audit.anchor"),
        Binding("escape", "to_list", "List", show=False, id="audit.list"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[DecisionRow] = []
        self.events: list[AuditLine] = []
        self.events_drawn = False  # the events table shows self.events (it is filled only when its tab is shown)
        self.verify_result: data.VerifyResult | None = None
        self.anchor_file: Path | None = None
        self.verify_run = 0  # which verify the shown results belong to
        self.full_done = False  # the full verify of this run has finished
        self.progress_text = ""
        self.listed = False  # the decisions list of the latest reload is drawn
        self.full_waiting: Callable[[], object] | None = None  # the full verify, started once the list is drawn

    @property
    def db(self) -> Path:
        """The case book being audited."""
        return self.app.audit_db  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        """Banner, filters, the decisions table, the verify line."""
        book = default_engine().book
        editions = [(safe(e.id), e.id) for e in book.calendar.editions]
        outcomes = [(safe(code), code) for code in sorted(book.outcomes)]
        yield Header()
        yield Static(safe(f"AUDIT · read-only · case book {self.db}"), id="banner", classes="banner audit")
        with Horizontal(id="filter-row"):
            yield Input(placeholder="from date", id="since", max_length=10, compact=True)
            yield Input(placeholder="to date", id="until", max_length=10, compact=True)
            yield Input(placeholder="adviser", id="adviser", max_length=64, compact=True)
            yield Select(editions, prompt="edition", id="edition", compact=True)
            yield Select(outcomes, prompt="outcome", id="outcome", compact=True)
        with TabbedContent(id="audit-tabs", initial="decisions-tab"):
            with TabPane("Decisions", id="decisions-tab"):
                yield OpenTable(id="decisions", cursor_type="row", zebra_stripes=True)
            with TabPane("Events", id="events-tab"):
                yield DataTable(id="events", cursor_type="row", zebra_stripes=True)
            with TabPane("Problems", id="problems-tab"):
                yield Input(placeholder="anchor file (from `pathways audit anchor -o`): path, then Enter",
                            id="anchor", compact=True)
                with VerticalScroll(id="problems-box"):
                    yield Static("", id="problems", markup=False)
        yield Static("", id="verify", markup=False)
        yield Static("", id="verify-progress", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Columns, then load and verify."""
        table = self.query_one("#decisions", DataTable)
        for name, width in (("Id", 5), ("Case", 12), ("As of", 10), ("Edition", 13), ("Priority", 8),
                            ("Adviser", 8), ("Recorded", 10)):
            table.add_column(name, width=width)
        events = self.query_one("#events", DataTable)
        for name, width in (("Seq", 5), ("Recorded", 10), ("By", 6), ("Event", 16)):
            events.add_column(name, width=width)
        events.add_column("What")  # as wide as the longest summary: the table scrolls sideways
        table.focus()

    def on_screen_resume(self) -> None:
        """Say which mode this is, and read the book again (it may have changed in another mode)."""
        self.app.sub_title = "Audit (read-only)"
        self.action_reload()
        self.action_verify()

    def action_tab(self, name: str) -> None:
        """Show the decisions, the events or the problems (and put the keys on that list)."""
        self.query_one("#audit-tabs", TabbedContent).active = f"{name}-tab"
        target = {"decisions": "#decisions", "events": "#events", "problems": "#problems-box"}[name]
        self.query_one(target).focus()

    def action_anchor(self) -> None:
        """Go to the anchor file field."""
        self.query_one("#audit-tabs", TabbedContent).active = "problems-tab"
        self.query_one("#anchor", Input).focus()

    def filters(self) -> dict[str, Any]:
        """The decision filters from the filter row (invalid dates are ignored, and said so)."""
        out: dict[str, Any] = {}
        for ident, key in (("since", "since"), ("until", "until")):
            text = self.query_one(f"#{ident}", Input).value.strip()
            if not text:
                continue
            day = parse_iso_date(text)
            if day is None:
                self.notify(f"'{text}' is not a date (YYYY-MM-DD): ignored", severity="warning", markup=False)
                continue
            out[key] = (day + dt.timedelta(days=1)).isoformat() if key == "until" else day.isoformat()
        adviser = self.query_one("#adviser", Input).value.strip()
        if adviser:
            out["adviser"] = adviser
        for ident in ("edition", "outcome"):
            value = self.query_one(f"#{ident}", Select).value
            if isinstance(value, str):
                out[ident] = value
        return out

    def action_reload(self) -> None:
        """Read the matching decisions, and the audit events, in workers (each its own read-only connection)."""
        self.listed = False
        self.run_job(partial(data.decision_rows, self.db, **self.filters()), self.show_decisions,
                     group="audit-load", failed=self.decisions_failed)
        self.run_job(partial(data.audit_events, self.db), self.show_events, group="audit-events",
                     failed=lambda _text: self.show_events([]))

    def flagged(self) -> tuple[frozenset[int], frozenset[int]]:
        """The decisions and audit events the last verify's problems touch."""
        result = self.verify_result
        return (result.decisions, result.seqs) if result is not None else (frozenset(), frozenset())

    @staticmethod
    def _id_cell(value: int, flagged: bool, unvouched: bool = False) -> Text:
        """An id marked "!" (red) when a problem touches its row, "?" when a break in the chain leaves it unvouched."""
        if flagged:
            return safe(f"!{value}", "bold red")
        return safe(f"?{value}", "yellow") if unvouched else safe(value)

    def show_events(self, lines: list[AuditLine]) -> None:
        """Keep the audit events, and fill their table now if its tab is showing (else when it is opened).

        On a million-case book filling the hidden table took 0.6 s of the screen's first second.
        """
        self.events = lines
        self.events_drawn = False
        if self.query_one("#audit-tabs", TabbedContent).active == "events-tab":
            self.draw_events()

    @on(TabbedContent.TabActivated, "#audit-tabs")
    def tab_shown(self, event: TabbedContent.TabActivated) -> None:
        """Fill the events table when its tab is first shown after the events (or the flags) changed."""
        if event.pane.id == "events-tab" and not self.events_drawn:
            self.draw_events()

    def draw_events(self) -> None:
        """Fill the events table (referrals, erasures, retention, rule sets, the book's creation)."""
        self.events_drawn = True
        lines = self.events
        _, seqs = self.flagged()
        start = self.verify_result.unvouched_from if self.verify_result is not None else None
        table = self.query_one("#events", DataTable)
        table.clear()
        for line in lines:
            later = start is not None and line.seq >= start
            table.add_row(self._id_cell(line.seq, line.seq in seqs, later), safe(line.ts[:10]), safe(line.actor),
                          safe(line.event), safe(clip(line.summary, 200)), key=str(line.seq))

    def decisions_failed(self, text: str) -> None:
        """The decisions could not be read: say so where the chain's state shows, and list none."""
        self.query_one("#verify", Static).update(safe(text, "red"))
        self.show_decisions([])

    def show_decisions(self, rows: list[DecisionRow]) -> None:
        """The decisions of the latest reload are read: fill the table, then start a full verify waiting for it."""
        self.rows = rows
        self.draw_decisions()
        self.listed = True
        if self.full_waiting is not None:
            start, self.full_waiting = self.full_waiting, None
            start()

    def draw_decisions(self) -> None:
        """Fill the table with the decisions read, their rows flagged by the last verify."""
        table = self.query_one("#decisions", OpenTable)
        keep = table.current_key()
        table.clear()
        decisions, _ = self.flagged()
        unvouched = self.verify_result.unvouched if self.verify_result is not None else frozenset()
        for r in self.rows:
            table.add_row(self._id_cell(r.id, r.id in decisions, r.id in unvouched), safe(r.ref), safe(r.as_of),
                          safe(r.edition), safe(r.priority), safe(r.adviser), safe(r.recorded_at[:10]), key=str(r.id))
        table.restore(keep)

    @property
    def marks_dir(self) -> Path:
        """Where verification marks are kept (outside any book)."""
        return self.app.marks_dir  # type: ignore[attr-defined]

    def action_verify(self) -> None:
        """Verify: the quick check from the last full verify's mark (none with an anchor file), and the full one.

        Both run in workers; the full one reports its progress and is stopped when a newer verify
        replaces it.
        """
        run = self.begin_verify()
        if self.anchor_file is None:
            self.run_job(partial(data.verify_since, self.db, self.marks_dir, partial(self._post_mark, run)),
                         partial(self.show_quick, run), group="audit-quick", failed=partial(self.quick_failed, run))
        start = partial(self.run_job, partial(data.verify_full, self.db, self.anchor_file, self.marks_dir,
                                              self._progress_for(run)),
                        partial(self.show_full, run), group="audit-verify", failed=partial(self.full_failed, run))
        if self.listed:
            start()
        else:  # the full verify's own process would compete with drawing the list on a big book (#14)
            self.full_waiting = start

    def begin_verify(self) -> int:
        """Start a new verify run: earlier runs' results are ignored from now on; returns its number."""
        self.verify_run += 1
        self.full_done = False
        self.query_one("#verify", Static).update(safe("audit verify: checking..."))
        self.show_progress(self.verify_run, "events", 0, None)
        return self.verify_run

    def _post_mark(self, run: int, mark: Mark) -> None:
        """(worker thread) Show the mark as soon as it is read, before the quick check runs."""
        self.post_message(JobDone(partial(self.show_mark, run, mark)))

    def _progress_for(self, run: int) -> data.Progress:
        """(worker thread) A progress report for the full verify of `run`; stops it once superseded."""
        def report(what: str, done: int, total: int | None) -> None:
            if cancelled():
                raise VerifyStopped
            self.post_message(JobDone(partial(self.show_progress, run, what, done, total)))
        return report

    def show_mark(self, run: int, mark: Mark) -> None:
        """Say at once how much was verified in full, and when."""
        if run == self.verify_run and not self.full_done:
            self.query_one("#verify", Static).update(safe(
                f"audit verify: verified in full up to event {mark.seq:,} on {mark.day}; checking what came "
                "after...", "yellow"))

    def show_progress(self, run: int, what: str, done: int, total: int | None) -> None:
        """The full verify's progress line: events checked of the total, then rows, then signatures."""
        if run != self.verify_run or self.full_done:
            return
        if what == "events":
            text = f"full verify: {done:,} of {total:,} events checked" if total else "full verify: starting..."
        elif what == "rows":
            text = f"full verify: every event checked; {done:,} rows checked"
        else:
            text = f"full verify: every event and row checked; signatures read in {done:,} events"
        self.progress_text = text
        self.query_one("#verify-progress", Static).update(safe(text, "dim"))

    def show_quick(self, run: int, result: data.VerifyResult | None) -> None:
        """The quick check's result, unless the full verify's is in already (no mark: nothing to show)."""
        if run != self.verify_run or self.full_done or result is None:
            return
        self.show_verified(result)

    def quick_failed(self, run: int, text: str) -> None:
        """The mark could not be read or checked: say so, even when the full verify has already finished (on a
        small book, or a busy machine, it can finish first; the mark is damaged all the same)."""
        if run == self.verify_run:
            self.notify(f"verification mark: {text}", severity="warning", markup=False, timeout=8)

    def show_full(self, run: int, result: data.VerifyResult) -> None:
        """The full verify's result: it replaces the mark's and the quick check's."""
        if run != self.verify_run:
            return
        self.full_done = True
        self.progress_text = ""
        self.query_one("#verify-progress", Static).update("")
        self.show_verified(result)

    def full_failed(self, run: int, text: str) -> None:
        """The full verify could not run: say why."""
        if run != self.verify_run:
            return
        self.full_done = True
        self.query_one("#verify-progress", Static).update("")
        self.verify_failed(text)

    def show_verified(self, result: data.VerifyResult) -> None:
        """Show the chain's state, every problem in full, and flag the rows and events they touch."""
        self.verify_result = result
        target = self.query_one("#verify", Static)
        anchored = f", anchor {result.anchor} matched" if result.anchor else ""
        scope = f" ({result.scope}; full verify running)" if result.partial else ""
        if result.ok:
            target.update(safe(f"audit verify: chain OK, {result.events} events{anchored}{scope}",
                               "yellow" if result.partial else "green"))
            checked = ("what came after the last full verify checks out" if result.partial
                       else "the chain and every row it vouches for check out")
            self.query_one("#problems", Static).update(safe(f"No problems: {checked} ({result.events} events"
                                                            f"{anchored}{scope})."))
        else:
            target.update(safe(f"audit verify: BROKEN, {len(result.problems)} problem(s) in {result.events} events"
                               f"{scope} (p lists them; ! and ? mark rows)", "bold red"))
            listing = Text()
            for n, problem in enumerate(result.problems, 1):
                listing.append(safe(f"{n}. {problem}", "red"))
                listing.append("\n")
            self.query_one("#problems", Static).update(listing)
        self.draw_decisions()  # flagged anew; a list not read yet is not taken as drawn (the full verify waits for it)
        self.show_events(self.events)

    def verify_failed(self, text: str) -> None:
        """The chain could not be checked: say why."""
        self.verify_result = None
        self.query_one("#verify", Static).update(safe(f"audit verify: {text}", "red"))
        self.query_one("#problems", Static).update(safe(f"audit verify could not run: {text}", "red"))

    @on(Input.Submitted, "#anchor")
    def anchor_submitted(self, event: Input.Submitted) -> None:
        """Enter in the anchor field verifies against that file (an empty field: without an anchor)."""
        event.stop()
        text = event.value.strip()
        self.anchor_file = Path(text).expanduser() if text else None
        self.action_verify()
        self.query_one("#problems-box").focus()

    @on(Input.Submitted)
    def filter_submitted(self, event: Input.Submitted) -> None:
        """Enter in a filter applies the filters and returns to the list."""
        if event.input.id == "anchor":
            return
        self.action_reload()
        self.query_one("#audit-tabs", TabbedContent).active = "decisions-tab"
        self.query_one("#decisions").focus()

    @on(Select.Changed)
    def select_changed(self) -> None:
        """A changed edition or outcome filter applies at once."""
        self.action_reload()

    def action_filters(self) -> None:
        """Focus the first filter."""
        self.query_one("#since").focus()

    def action_to_list(self) -> None:
        """Back to the decisions list."""
        self.query_one("#audit-tabs", TabbedContent).active = "decisions-tab"
        self.query_one("#decisions").focus()

    @on(DataTable.RowSelected, "#decisions")
    def open_replay(self, event: DataTable.RowSelected) -> None:
        """Replay the selected decision."""
        if event.row_key.value is not None:
            self.app.push_screen(ReplayScreen(self.db, int(event.row_key.value)))

"""Audit mode (read-only): the decisions list with filters, the audit chain check, and replays."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from engine.casebook.queries import DecisionRow
from engine.dates import parse_iso_date
from engine.policy.driver import default_engine
from tui import data
from tui.jobs import JobScreen
from tui.safe import safe
from tui.screens.replay import ReplayScreen
from tui.widgets.lists import OpenTable


class AuditScreen(JobScreen):
    """Recorded decisions, filtered by date, adviser, edition and outcome; nothing is ever written."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filters", "Filter", tooltip="Go to the filters", id="audit.filter"),
        Binding("v", "verify", "Verify", tooltip="Run audit verify on the case book", id="audit.verify"),
        Binding("r", "reload", "Reload", tooltip="Read the decisions again", id="audit.reload"),
        Binding("escape", "to_list", "List", show=False, id="audit.list"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[DecisionRow] = []
        self.verify_result: data.VerifyResult | None = None

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
        table = OpenTable(id="decisions", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="verify", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Columns, then load and verify."""
        table = self.query_one("#decisions", DataTable)
        for name, width in (("Id", 4), ("Case", 12), ("As of", 10), ("Edition", 14), ("Priority", 8),
                            ("Adviser", 8), ("Recorded", 10)):
            table.add_column(name, width=width)
        table.focus()

    def on_screen_resume(self) -> None:
        """Say which mode this is, and read the book again (it may have changed in another mode)."""
        self.app.sub_title = "Audit (read-only)"
        self.action_reload()
        self.action_verify()

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
        """Read the matching decisions in a worker (its own read-only connection)."""
        self.run_job(partial(data.decision_rows, self.db, **self.filters()), self.show_decisions,
                     group="audit-load", failed=self.decisions_failed)

    def decisions_failed(self, text: str) -> None:
        """The decisions could not be read: say so where the chain's state shows, and list none."""
        self.query_one("#verify", Static).update(safe(text, "red"))
        self.show_decisions([])

    def show_decisions(self, rows: list[DecisionRow]) -> None:
        """Fill the table."""
        self.rows = rows
        table = self.query_one("#decisions", OpenTable)
        keep = table.current_key()
        table.clear()
        for r in self.rows:
            table.add_row(safe(r.id), safe(r.ref), safe(r.as_of), safe(r.edition), safe(r.priority),
                          safe(r.adviser), safe(r.recorded_at[:10]), key=str(r.id))
        table.restore(keep)

    def action_verify(self) -> None:
        """Run `audit verify` in a worker."""
        self.query_one("#verify", Static).update(safe("audit verify: checking..."))
        self.run_job(partial(data.verify, self.db), self.show_verified, group="audit-verify",
                     failed=self.verify_failed)

    def show_verified(self, result: data.VerifyResult) -> None:
        """Show the chain's state."""
        self.verify_result = result
        target = self.query_one("#verify", Static)
        if result.ok:
            target.update(safe(f"audit verify: chain OK, {result.events} events", "green"))
        else:
            first = result.problems[0]
            target.update(safe(f"audit verify: BROKEN, {len(result.problems)} problem(s); first: {first}",
                               "bold red"))

    def verify_failed(self, text: str) -> None:
        """The chain could not be checked: say why."""
        self.verify_result = None
        self.query_one("#verify", Static).update(safe(f"audit verify: {text}", "red"))

    @on(Input.Submitted)
    def filter_submitted(self) -> None:
        """Enter in a filter applies the filters and returns to the list."""
        self.action_reload()
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
        self.query_one("#decisions").focus()

    @on(DataTable.RowSelected, "#decisions")
    def open_replay(self, event: DataTable.RowSelected) -> None:
        """Replay the selected decision."""
        if event.row_key.value is not None:
            self.app.push_screen(ReplayScreen(self.db, int(event.row_key.value)))

"""Advise mode: the case list (search, filters), new case, and opening a case."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Static

from engine.casebook.queries import CaseQuery
from engine.intake.interview import Interview
from tui import casedata, data
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.new_case import NewCase, NewCaseDialog
from tui.dialogs.referral_steps import STATUS_WORDS, ReferralStepsDialog, next_steps
from tui.jobs import JobScreen, cancelled
from tui.safe import safe
from tui.screens.interview import InterviewScreen
from tui.watch import BookWatcher
from tui.widgets.caselist import CaseTable

WATCH_SECONDS = 1.0
"""How often the case list looks for changes made by other programs (a look costs microseconds)."""

PRIORITY_CYCLE = (None, "urgent", "priority", "routine")
"""The priority filter's values, in the order `p` steps through them."""


class AdviseScreen(JobScreen):
    """The adviser's case list on the case book."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_case", "New case", tooltip="Start a new case interview", id="advise.new"),
        Binding("slash", "search", "Search", tooltip="Search by case reference or whole NINO", id="advise.search",
                priority=True),  # checked as the key arrives, so the keys typed after it reach the box
        Binding("p", "cycle_priority", "Priority", tooltip="Filter by priority (cycles)", id="advise.priority"),
        Binding("o", "toggle_open", "Open refs", tooltip="Only cases with open referrals", id="advise.open"),
        Binding("c", "toggle_status", "Status", tooltip="Close the highlighted case, or reopen a closed one",
                id="advise.status"),
        Binding("f", "referral_steps", "Referrals", tooltip="Move the highlighted case's referrals on: booked, "
                "attended, did not attend, closed", id="advise.referrals"),
        Binding("t", "app.mode('train')", "Train", tooltip="Scenario library (training book)", id="advise.train"),
        Binding("r", "reload", "Reload", show=False, tooltip="Reload the case list", id="advise.reload"),
        Binding("escape", "leave_search", "List", show=False, id="advise.list"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.priority: str | None = None
        self.open_only = False
        self.kind: str | None = None
        self.total: int | None = None
        self.counted: data.CaseCount | None = None  # the last count, kept until the book changes
        self.generation = 0  # bumped by every new search or filter: pages of an older one are dropped
        self.shown_generation = 0  # the generation whose first page is in the table
        self.listing = CaseQuery()  # the search and filters of the generation being listed
        self.detail_shown = False  # the detail line shows a highlighted case (not the count)
        self.watcher: BookWatcher | None = None

    @property
    def db(self) -> data.Path:
        """The case book this screen works on."""
        return self.app.db  # type: ignore[attr-defined]

    @property
    def shown(self) -> list[data.CaseRow]:
        """The cases listed so far (the pages loaded)."""
        return self.query_one("#cases", CaseTable).cases

    @property
    def case_query(self) -> CaseQuery:
        """What the list shows now: the search box and the filters."""
        return CaseQuery(self.query_one("#search", Input).value, self.priority, self.open_only)

    def compose(self) -> ComposeResult:
        """Banner, search and filters, the case table, referral details."""
        yield Header()
        yield Static("", id="banner", classes="banner", markup=False)
        with Horizontal(id="filter-row"):
            # select_on_focus off: coming back to the box must not select (and so replace) what is typed
            yield Input(placeholder="/ search case ref or NINO", id="search", compact=True,
                        select_on_focus=False)
            yield Static("", id="filters", markup=False)
        yield CaseTable(id="cases", search="#search")
        yield Static("", id="case-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Show the filters and focus the list (at once: keys may already be on their way)."""
        self._show_filters()
        self.set_focus(self.query_one("#cases"))
        self.watcher = BookWatcher(self.db)
        self.watcher.changed()
        self.set_interval(WATCH_SECONDS, self.watch_book)

    def on_unmount(self) -> None:
        """Stop watching the book."""
        if self.watcher is not None:
            self.watcher.close()

    def watch_book(self) -> None:
        """Reload the list when another program (or adviser) changed the book since the last look (#12)."""
        if self.watcher is not None and self.watcher.changed() and self.is_current:
            self.action_reload()

    def on_screen_resume(self) -> None:
        """Reload whenever the list comes back into view."""
        self.app.sub_title = "Advise"
        self.action_reload()

    def action_reload(self) -> None:
        """Read the first page of the case list again (and count the cases afresh)."""
        self.total = None
        self.refill()

    def refill(self) -> None:
        """Load the first page for the search and filters now in force, in a worker (a newer one supersedes it)."""
        self.generation += 1
        self.listing = self.case_query
        self.workers.cancel_group(self, "advise-more")
        job = partial(data.case_page, self.db, self.listing, cancelled=cancelled)
        self.run_job(job, partial(self.show_cases, self.generation), group="advise-load", failed=self.cases_failed)

    def show_cases(self, generation: int, page: data.CasesPage) -> None:
        """Show the book's kind and the first page of its cases."""
        if generation != self.generation:
            return
        self.kind = page.kind
        described = f"{page.kind} case book" if page.kind else "new case book (created on first record)"
        self.query_one("#banner", Static).update(safe(f"ADVISE · {described}: {self.db}"))
        self.query_one("#cases", CaseTable).show(page.rows, page.next is not None)
        self.shown_generation = generation
        if self.total is None and page.next is None and self.listing == CaseQuery():
            self.total = len(page.rows)
        elif self.total is None and page.kind is not None:
            self.run_job(partial(data.case_count, self.db, self.counted), self.show_total, group="advise-count")
        self._show_count()

    def show_more(self, generation: int, page: data.CasesPage) -> None:
        """Add the next page of cases below those listed."""
        if generation == self.generation:
            self.query_one("#cases", CaseTable).extend(page.rows, page.next is not None)
            if not self.detail_shown:
                self._show_count()

    def show_total(self, count: data.CaseCount) -> None:
        """Show how many cases the book holds (counted after the first page was shown)."""
        self.counted = count
        self.total = count.cases
        if not self.detail_shown:
            self._show_count()

    @on(CaseTable.NextPage, "#cases")
    def next_page(self, event: CaseTable.NextPage) -> None:
        """Load the next page of the list after its last case."""
        job = partial(data.case_page, self.db, self.listing, event.after.key, cancelled=cancelled)
        self.run_job(job, partial(self.show_more, self.generation), group="advise-more", failed=self.cases_failed)

    def cases_failed(self, text: str) -> None:
        """The case list could not be read: say so, and show none."""
        self.query_one("#banner", Static).update(safe(f"ADVISE · case book not readable: {self.db}"))
        self.show_problem(text)
        self.query_one("#cases", CaseTable).show((), False)
        self._show_count()

    def _show_count(self) -> None:
        """How many cases are listed, of how many."""
        table = self.query_one("#cases", CaseTable)
        listed = f"{len(table.cases):,}{'+' if table.more else ''}"
        if self.total == 0 or (self.kind is None and not table.cases):
            detail = "No cases recorded yet: press n for a new case."
        elif self.total is None:
            detail = f"{listed} cases. Enter opens a case; c closes or reopens it; f moves its referrals on."
        else:
            detail = (f"{listed} of {self.total:,} cases. Enter opens a case; c closes or reopens it; "
                      "f moves its referrals on.")
        self.query_one("#case-detail", Static).update(safe(detail))
        self.detail_shown = False

    def _show_filters(self) -> None:
        """The filter summary beside the search box."""
        text = f"priority: {self.priority or 'any'} (p) · open referrals only: {'yes' if self.open_only else 'no'} (o)"
        self.query_one("#filters", Static).update(safe(text))

    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        """Filter as the adviser types."""
        self.refill()

    @on(Input.Submitted, "#search")
    def search_done(self) -> None:
        """Enter in the search box goes to the list."""
        self.query_one("#cases").focus()

    def action_search(self) -> None:
        """Focus the search box at once (keys typed straight after `/` must land in it)."""
        self.set_focus(self.query_one("#search"))

    def action_leave_search(self) -> None:
        """Back from the search box to the list."""
        self.query_one("#cases").focus()

    def action_cycle_priority(self) -> None:
        """Step the priority filter: any, urgent, priority, routine."""
        self.priority = PRIORITY_CYCLE[(PRIORITY_CYCLE.index(self.priority) + 1) % len(PRIORITY_CYCLE)]
        self._show_filters()
        self.refill()

    def action_toggle_open(self) -> None:
        """Only cases with open referrals, or all."""
        self.open_only = not self.open_only
        self._show_filters()
        self.refill()

    def action_new_case(self) -> None:
        """Ask for the new case's reference and date, then start the interview."""

        def start(new: NewCase | None) -> None:
            if new is not None:
                self.open_interview(Interview(new.ref, new.as_of, nino=new.nino))

        self.app.push_screen(NewCaseDialog(kind=self.kind), start)

    def open_interview(self, interview: Interview, opened: data.OpenedCase | None = None,
                       from_draft: bool = False) -> None:
        """Push the interview screen for a case."""
        self.app.push_screen(InterviewScreen(interview, self.db, self.app.adviser,  # type: ignore[attr-defined]
                                             decision_id=opened.decision_id if opened else None,
                                             decision=opened.decision if opened else None,
                                             choices=opened.choices if opened else None,
                                             kind=self.kind, from_draft=from_draft))

    def highlighted(self) -> data.CaseRow | None:
        """The case row under the cursor."""
        table = self.query_one("#cases", CaseTable)
        return table.by_key.get(str(table.current_key()))

    @on(DataTable.RowSelected, "#cases")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the selected case: its draft when it has one (resumed), else its latest recorded decision."""
        row = self.query_one("#cases", CaseTable).by_key.get(str(event.row_key.value))
        if row is None:
            return
        if row.draft_id is not None:
            self.run_job(partial(casedata.open_draft, self.db, row.draft_id),
                         partial(self.open_interview, from_draft=True), group="advise-open")
        else:
            self.run_job(partial(data.open_case, self.db, row.decision_id), self.open_recorded, group="advise-open")

    def action_toggle_status(self) -> None:
        """Close the highlighted case (or reopen it), after a confirmation; recorded with its audit event."""
        row = self.highlighted()
        if row is None or not row.decision_id:
            self.notify("Highlight a recorded case first (a draft has no status until it is recorded).",
                        severity="warning", markup=False)
            return
        new = "open" if row.status == "closed" else "closed"
        verb = "Reopen" if new == "open" else "Close"

        def done(yes: bool | None) -> None:
            if yes:
                self.run_job(partial(casedata.set_case_status, self.db, row.ref, new, self.app.adviser),  # type: ignore[attr-defined]
                             lambda status: self.status_set(row.ref, status), group="book-write")

        self.app.push_screen(ConfirmDialog(f"{verb} case {row.ref}?", safe(
            f"The case will show as {new}; the change is recorded in the audit log."), yes=verb), done)

    def status_set(self, ref: str, status: str) -> None:
        """Say so, and show the list as it is now."""
        self.notify(f"Case {ref} is now {status}.", markup=False)
        self.action_reload()

    def action_referral_steps(self) -> None:
        """Move the highlighted case's referrals on along their lifecycle."""
        row = self.highlighted()
        if row is None or not row.decision_id:
            self.notify("Highlight a recorded case first.", severity="warning", markup=False)
            return
        self.run_job(partial(casedata.case_referrals, self.db, row.ref), self.show_referral_steps,
                     group="advise-open")

    def show_referral_steps(self, referrals: casedata.CaseReferrals) -> None:
        """Open the lifecycle dialog; record the step chosen (or say why there is nothing to move on)."""
        if not any(next_steps(r) for r in referrals.referrals):
            closed = len(referrals.referrals)
            self.notify(f"Case {referrals.ref}: " + (f"all {closed} referrals are closed." if closed else
                        "no referral logged (open the case and log one: ctrl+l)."), markup=False)
            return

        def done(step: casedata.ReferralStep | None) -> None:
            if step is not None:
                self.run_job(partial(casedata.update_referral, self.db, step, self.app.adviser),  # type: ignore[attr-defined]
                             self.referral_moved, group="book-write")

        self.app.push_screen(ReferralStepsDialog(referrals), done)

    def referral_moved(self, step: casedata.ReferralStep) -> None:
        """Say so, and show the list as it is now."""
        self.notify(f"Referral {step.referral_id} is now {STATUS_WORDS.get(step.status, step.status)}.",
                    markup=False)
        self.action_reload()

    @on(DataTable.RowHighlighted, "#cases")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the highlighted case's summary."""
        row = self.query_one("#cases", CaseTable).by_key.get(str(event.row_key.value))
        if row is not None and not row.decision_id:
            self.query_one("#case-detail", Static).update(safe(
                f"Case {row.ref}: a DRAFT saved {row.recorded_at} by {row.adviser}, not recorded yet. "
                "Enter resumes the interview."))
            self.detail_shown = True
        elif row is not None:
            text = (f"Case {row.ref}: decision {row.decision_id}, {row.outcomes} recommended outcomes, "
                    f"recorded {row.recorded_at} by {row.adviser}, {row.status}"
                    + (": a DRAFT of changes is held, Enter resumes it" if row.draft_id else ""))
            lines = [text, *(row.referrals[:2] or ["No referrals logged."])]
            if len(row.referrals) > 2:
                lines.append(f"... and {len(row.referrals) - 2} more")
            self.query_one("#case-detail", Static).update(safe("\n".join(lines), keep_newlines=True))
            self.detail_shown = True

    def open_recorded(self, opened: data.OpenedCase) -> None:
        """Start the interview on a recorded case's answers (any can be changed)."""
        self.open_interview(Interview.from_case(opened.case), opened)

"""The case list: a table that holds only the pages of cases seen so far and asks for the next one as the
adviser nears its end; characters of a case reference typed on it go to the search box."""

from __future__ import annotations

from typing import ClassVar

from textual import events, on
from textual.message import Message
from textual.widgets import DataTable, Input

from tui.data import CaseRow
from tui.safe import safe
from tui.widgets.lists import OpenTable

COLUMNS = (("Case", 12), ("As of", 10), ("Edition", 14), ("Priority", 8), ("Out", 3), ("Open", 4), ("Status", 6),
           ("Adviser", 7))
"""The case list's columns and their widths (80 columns in all)."""

PRIORITY_STYLES = {"urgent": "bold red", "priority": "yellow"}
"""How a priority is shown."""

STATUS_STYLES = {"DRAFT": "bold magenta", "closed": "dim"}
"""How the status column marks drafts and closed cases."""

TYPE_AHEAD = frozenset("0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ")
"""Characters typed on the list that start a search (those of case references that are not keys of the list)."""


class CaseTable(OpenTable):
    """The case list, filled a page at a time: `show` the first page, `extend` with each next one."""

    LOOKAHEAD: ClassVar[int] = 20
    """How near the last loaded row the cursor (or the scrolled view) comes before the next page is asked for."""

    class NextPage(Message):
        """The adviser nears the last loaded case and more follow: load the next page."""

        def __init__(self, table: CaseTable, after: CaseRow) -> None:
            super().__init__()
            self.table = table
            self.after = after

        @property
        def control(self) -> CaseTable:
            """The case list that asks (so `@on(CaseTable.NextPage, "#id")` can match it)."""
            return self.table

    def __init__(self, *, search: str, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.search = search
        self.cases: list[CaseRow] = []
        self.by_key: dict[str, CaseRow] = {}
        self.more = False
        self.asked = False

    def on_mount(self) -> None:
        """Add the columns."""
        for name, width in COLUMNS:
            self.add_column(name, width=width)

    def show(self, rows: tuple[CaseRow, ...], more: bool) -> None:
        """Replace the list with a first page (the cursor stays on its case if that is still listed)."""
        if list(rows) == self.cases:  # the same cases again (a reload with nothing new): nothing to redraw
            self._add((), more)
            return
        keep = self.current_key()
        self.clear()
        self.cases, self.by_key = [], {}
        self._add(rows, more)
        self.restore(keep)

    def extend(self, rows: tuple[CaseRow, ...], more: bool) -> None:
        """Add the next page below the rows already listed."""
        self._add(rows, more)

    def _add(self, rows: tuple[CaseRow, ...], more: bool) -> None:
        """Append rows; note whether more follow (a next page asked for before is forgotten: a newer list
        replaced it or it arrived)."""
        for r in rows:
            key = r.row_key
            if key in self.by_key:  # never listed twice (a table key is unique)
                continue
            self.cases.append(r)
            self.by_key[key] = r
            self.add_row(safe(r.ref), safe(r.as_of), safe(r.edition),
                         safe(r.priority, PRIORITY_STYLES.get(r.priority, "")),
                         safe(r.outcomes if r.decision_id else ""), safe(r.open_referrals or ""),
                         safe(r.status_words, STATUS_STYLES.get(r.status_words, "")), safe(r.adviser), key=key)
        self.more = more
        self.asked = False
        self.call_after_refresh(self.want_more)

    def want_more(self) -> None:
        """Ask for the next page when the cursor or the view is within LOOKAHEAD rows of the last one."""
        if not self.more or self.asked or not self.cases:
            return
        near_cursor = self.cursor_row >= len(self.cases) - self.LOOKAHEAD
        near_view = self.scroll_y + self.scrollable_content_region.height >= len(self.cases) - self.LOOKAHEAD
        if near_cursor or near_view:
            self.asked = True
            self.post_message(self.NextPage(self, self.cases[-1]))

    @on(DataTable.RowHighlighted)
    def _cursor_moved(self) -> None:
        """The cursor moved: perhaps load more (the message goes on to the screen)."""
        self.want_more()

    def watch_scroll_y(self, old: float, new: float) -> None:
        """The view scrolled (mouse wheel, page down): perhaps load more."""
        super().watch_scroll_y(old, new)
        self.want_more()

    def on_key(self, event: events.Key) -> None:
        """A character of a case reference typed on the list goes to the search box, in order, and so does
        what follows: nothing typed while the list loads is lost."""
        if event.character is None or event.character not in TYPE_AHEAD:
            return
        event.stop()
        event.prevent_default()
        box = self.screen.query_one(self.search, Input)
        self.screen.set_focus(box)  # at once, not after a refresh: the next key must find the box focused
        box.insert_text_at_cursor(event.character)

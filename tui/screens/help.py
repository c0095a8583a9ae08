"""The help screen: every key that works right now, built from the live bindings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import attrs
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.safe import safe


@attrs.frozen
class KeyRow:
    """One key: how it is written, what it does, and more words on it."""

    key: str
    description: str
    tooltip: str


def key_table(rows: Iterable[KeyRow]) -> Table:
    """The keys as a table whose last column wraps to the width it is given (nothing is cut)."""
    table = Table(expand=True, box=None, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("Key", no_wrap=True, min_width=6)
    table.add_column("Does", no_wrap=True)
    table.add_column("More", ratio=1, overflow="fold")
    for row in rows:
        table.add_row(safe(row.key, "bold"), safe(row.description), safe(row.tooltip, "dim"))
    return table


class HelpScreen(ModalScreen[None]):
    """Lists the bindings active on the screen it was opened from."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "close", "Close", id="help.close")]

    def __init__(self, title: str, rows: Iterable[KeyRow]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        """A title and the key table (scrolls when it is taller than the screen)."""
        with Vertical(classes="dialog help"):
            yield Static(safe(f"Keys: {self.title_text}", "bold"), classes="dialog-title", markup=False)
            with VerticalScroll(id="keys"):
                yield Static(key_table(self.rows), id="key-table", markup=False)
            yield Static(safe("Ctrl+P opens the command palette. Escape closes this help."), markup=False)

    def on_mount(self) -> None:
        """Focus the table so the arrows scroll it."""
        self.query_one("#keys", VerticalScroll).focus()

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)

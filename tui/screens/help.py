"""The help screen: every key that works right now, built from the live bindings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import attrs
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.safe import safe


@attrs.frozen
class KeyRow:
    """One key: how it is written, what it does, and more words on it."""

    key: str
    description: str
    tooltip: str


class HelpScreen(ModalScreen[None]):
    """Lists the bindings active on the screen it was opened from."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "close", "Close", id="help.close")]

    def __init__(self, title: str, rows: Iterable[KeyRow]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        """A title and the key table."""
        with Vertical(classes="dialog help"):
            yield Static(safe(f"Keys: {self.title_text}", "bold"), classes="dialog-title")
            table: DataTable[Text] = DataTable(id="keys", cursor_type="row", zebra_stripes=True)
            yield table
            yield Static(safe("Ctrl+P opens the command palette. Escape closes this help."), markup=False)

    def on_mount(self) -> None:
        """Fill the table."""
        table = self.query_one("#keys", DataTable)
        table.add_column("Key", width=12)
        table.add_column("Does", width=16)
        table.add_column("More", width=40)
        for row in self.rows:
            table.add_row(safe(row.key, "bold"), safe(row.description), safe(row.tooltip))
        table.focus()

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)

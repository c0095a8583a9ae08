"""Lists whose Enter key is shown in the footer (the stock widgets hide it)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable, OptionList
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist


class OpenTable(DataTable[Any]):
    """A row table where Enter opens the row, and the footer says so."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", tooltip="Open the highlighted row", id="table.open"),
    ]

    def current_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # no such cell after a clear
            return None

    def restore(self, key: str | None) -> None:
        """Put the cursor back on the row with `key`, if it is still listed."""
        if key is None:
            return
        try:
            self.move_cursor(row=self.get_row_index(key))
        except RowDoesNotExist:  # the row went away: the cursor stays where it is
            return


class StartList(OptionList):
    """An option list where Enter starts the highlighted item, and the footer says so."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Start", tooltip="Start the highlighted scenario", id="list.start"),
    ]

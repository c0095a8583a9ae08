"""Option shapes the commands share: a file path named on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

FILE = click.Path(path_type=Path, dir_okay=False)
"""A file's path (not a folder), as a `Path`; whether it must exist is the command's to say."""


def file_option(*decls: str, **kwargs: Any) -> Any:
    """A click option naming a file (see FILE); no default unless given."""
    kwargs.setdefault("default", None)
    return click.option(*decls, type=FILE, **kwargs)

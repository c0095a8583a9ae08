"""The `tui` and `serve` commands: the terminal UI, and the same app in a browser on loopback.

They reach `pathways` through the `pathways.commands` entry point (`register`), so the engine's
command line never names the UI. Textual is imported inside the command bodies, so `pathways
--help` stays fast.
"""

from __future__ import annotations

import ipaddress
import shlex
import sys
from pathlib import Path

import click

from engine.errors import EXIT_INTERNAL, InputError

MODES = ("advise", "train", "audit")
"""The UI's modes."""


def _db_option(func: click.decorators.FC) -> click.decorators.FC:
    """The --db option (train mode: a training book; default: the training book beside the default one)."""
    return click.option(
        "--db", "db", type=click.Path(path_type=Path, dir_okay=False), default=None,
        help="Case book file. Advise/audit default: $PATHWAYS_DB, else pathways.db in your data folder. "
             "Train mode: a training book only (default: pathways-training.db beside the default book).")(func)


def _mode_option(func: click.decorators.FC) -> click.decorators.FC:
    """The --mode option."""
    return click.option("--mode", type=click.Choice(MODES), default="advise", show_default=True,
                        help="Which mode the UI opens in.")(func)


def check_training_book(db: Path | None) -> Path:
    """The training book train mode will use; a live book is refused (InputError, exit 2)."""
    from engine.casebook.book import LIVE, CaseBook
    from tui.data import training_path_for

    path = db or training_path_for(None)
    if path.exists():
        with CaseBook(path, readonly=True) as book:
            if book.kind == LIVE:
                raise InputError("train mode opens only a training case book, and this is a live one "
                                 "(use --db with a training book, or leave --db out)", str(path), key="--db")
    return path


def run_ui(mode: str = "advise", db: Path | None = None, adviser: str | None = None, locked: bool = False) -> None:
    """Open the terminal UI; exit status 3 (one line, no case data) if it fails unexpectedly."""
    from tui.app import make_app

    if mode == "train":
        db = check_training_book(db)
    app = make_app(mode, db, adviser, locked=locked)
    app.run()
    if app.return_code:
        raise click.exceptions.Exit(EXIT_INTERNAL)


@click.command()
@_mode_option
@_db_option
@click.option("--adviser", default=None, help="Adviser id recorded with decisions (default: login name).")
@click.option("--lock-mode", "locked", is_flag=True, hidden=True,
              help="Never leave the starting mode (how `pathways serve` runs each session).")
def tui(mode: str, db: Path | None, adviser: str | None, locked: bool) -> None:
    """Open the terminal UI: advise (case list and interviews), train (scenarios) or audit (read-only).

    F1 lists the keys on every screen; Ctrl+P opens the command palette; Ctrl+Q quits.

    \b
    Examples:
      pathways tui
      pathways tui --mode train
      pathways tui --mode audit --db /secure/pathways.db
    """
    run_ui(mode, db, adviser, locked)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve_command(mode: str, db: Path | None, adviser: str | None) -> str:
    """The shell command textual-serve runs for each browser connection (all parts quoted)."""
    parts = [sys.executable, "-c", "from engine.cli import main; main()", "tui", "--mode", mode, "--lock-mode"]
    if db is not None:
        parts += ["--db", str(db.resolve())]
    if adviser:
        parts += ["--adviser", adviser]
    return " ".join(shlex.quote(p) for p in parts)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on: loopback (127.0.0.1, localhost or ::1) unless --i-know-there-is-no-auth.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--public-url", default=None, metavar="URL",
              help="The address browsers use when a reverse proxy sits in front (e.g. https://pathways.example).")
@_mode_option
@_db_option
@click.option("--adviser", default=None, help="Adviser id recorded with decisions (default: login name).")
@click.option("--i-know-there-is-no-auth", "no_auth_ok", is_flag=True,
              help="Allow a non-loopback --host. Only the secret token in the printed address guards it: put it "
                   "behind an authenticating proxy.")
def serve(host: str, port: int, public_url: str | None, mode: str, db: Path | None, adviser: str | None,
          no_auth_ok: bool) -> None:
    """Serve the same app to a browser (for a trainer's projector), guarded against other web pages.

    It prints an address with a secret token made for this launch: only that address gets the app.
    Every request's Host and every WebSocket's Origin must be this server's; sessions are limited;
    the page fetches nothing from the internet. Each tab runs its own app, locked to --mode.

    \b
    Examples:
      pathways serve --mode train
      pathways serve --port 8080 --mode audit --db /secure/pathways.db
      pathways serve --host ::1 --mode train
    """
    if not is_loopback(host) and not no_auth_ok:
        raise click.UsageError(f"--host {host} is not loopback and the app has no login; "
                               "keep 127.0.0.1 (or pass --i-know-there-is-no-auth behind an authenticating proxy)")
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://", param_hint="--public-url")
    if mode == "train":
        db = check_training_book(db)
    from tui.serve import GuardedServer

    GuardedServer(serve_command(mode, db, adviser), host=host, port=port, public_url=public_url).serve()


def register(group: click.Group) -> None:
    """Add the UI's commands to the `pathways` group (the `pathways.commands` entry point)."""
    group.add_command(tui)
    group.add_command(serve)

"""The root of the `pathways` command line: the group, exit statuses, and one-line error output.

Exit status: 0 success; 1 a check failed; 2 bad input or usage (one line on standard error, no
traceback); 3 an internal error (its type only: no case data is ever printed).
"""

from __future__ import annotations

import datetime as dt
import sys

import click

from engine.dates import parse_iso_date
from engine.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_INTERNAL
from engine.textsafe import clean

DEFAULT_COMMAND = "tui"
"""The command bare `pathways` runs on a terminal, when a plug-in (the UI package) provides it."""


def fail(message: str) -> None:
    """Print one clean line to standard error."""
    click.echo(f"pathways: {clean(message)}", err=True)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pathways", prog_name="pathways")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Pathways: decide drug-strategy benefit pathways, record them, and replay them for audit.

    With no command, opens the terminal UI on the default case book (when one is installed and
    this is a terminal); otherwise prints this help and exits 2.

    \b
    Examples:
      pathways evaluate cases/001-jsa-heroin-toddlers-nfa.yaml
      pathways evaluate claimants.jsonl --json
      pathways cases test
      pathways rules lint
    """
    if ctx.invoked_subcommand is not None:
        return
    default = ctx.command.commands.get(DEFAULT_COMMAND) if isinstance(ctx.command, click.Group) else None
    if default is None or not (sys.stdin.isatty() and sys.stdout.isatty()):
        click.echo(ctx.get_help(), err=True)
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    ctx.invoke(default)


def parse_date(value: str | None, option: str) -> dt.date | None:
    """An ISO date from an option, or a usage error."""
    if value is None:
        return None
    day = parse_iso_date(value)
    if day is None:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option)
    return day


__all__ = ["EXIT_BAD_INPUT", "EXIT_CHECK_FAILED", "EXIT_INTERNAL", "cli", "fail", "parse_date"]

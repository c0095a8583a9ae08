"""Assemble the `pathways` command line: the engine's commands, plus those plug-ins register.

The UI package adds `tui` and `serve` through the `pathways.commands` entry point group (as
sqlite-utils plug-ins add theirs), so the engine's command line knows nothing of the UI.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import click

from engine.cli import book, cases, checkpoint, evaluate, explain, impact, rules
from engine.cli import decisions as recorded
from engine.cli.root import cli, fail
from engine.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, PathwaysError, storage_problem
from engine.textsafe import CleanStream

PLUGIN_GROUP = "pathways.commands"
"""Entry point group: each entry is a callable that takes the root click group and adds commands."""

ENGINE_COMMANDS: tuple[click.Command, ...] = (
    evaluate.evaluate,
    explain.explain,
    impact.impact,
    book.record,
    recorded.show,
    recorded.decisions,
    recorded.letter,
    book.referral,
    book.replay,
    book.audit,
    book.export,
    book.batch,
    book.bench,
    book.erase,
    book.retain,
    book.scrub,
    book.backup,
    book.restore,
    book.datasette_metadata,
    cases.cases,
    rules.rules,
)
"""The commands the engine itself provides (`checkpoint` adds keygen, checkpoint and register-key to `audit`)."""

AUDIT_COMMANDS: tuple[click.Command, ...] = (checkpoint.audit_keygen, checkpoint.audit_checkpoint,
                                             checkpoint.audit_register_key)
"""Subcommands engine.cli.checkpoint adds to `audit` when imported (#15)."""


def build() -> click.Group:
    """The root group with every engine command and every installed plug-in's commands."""
    for command in ENGINE_COMMANDS:
        cli.add_command(command)
    for entry in entry_points(group=PLUGIN_GROUP):
        entry.load()(cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI, turning every error into one line and an exit status.

    Standard output is written through `CleanStream`, so no data reaches a terminal raw.
    """
    group = build()
    real_stdout = sys.stdout
    sys.stdout = CleanStream(real_stdout)
    try:
        code = group.main(args=argv, prog_name="pathways", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.exceptions.Abort:
        fail("aborted")
        code = 130
    except click.ClickException as exc:
        fail(exc.format_message())
        code = EXIT_BAD_INPUT
    except PathwaysError as exc:
        fail(exc.message())
        code = exc.exit_status
    except KeyboardInterrupt:
        fail("interrupted")
        code = 130
    except BrokenPipeError:
        code = 0
    except Exception as exc:  # never a traceback or case data in front of a user
        problem = storage_problem(exc)
        if problem is not None:  # a case book write is one transaction: it was not made
            fail(f"{problem}: the case book write under way was not made (each is whole or not at all)")
            code = EXIT_BAD_INPUT
        else:
            fail(f"internal error ({type(exc).__name__}); no data was written")
            code = EXIT_INTERNAL
    finally:
        sys.stdout = real_stdout
    sys.exit(code if isinstance(code, int) else 0)

"""The `pathways` command line: the root group, error handling, and the evaluate command.

Exit status: 0 success; 1 a check failed; 2 bad input or usage (one line on standard error, no
traceback); 3 an internal error (its type only: no case data is ever printed).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import attrs
import click

from engine.errors import InputError, RuleFileError
from engine.textsafe import clean

EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


def fail(message: str) -> None:
    """Print one clean line to standard error."""
    click.echo(f"pathways: {clean(message)}", err=True)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pathways", prog_name="pathways")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Pathways: decide drug-strategy benefit pathways, record them, and replay them for audit.

    With no command, opens the terminal UI on the default case book.

    \b
    Examples:
      pathways evaluate cases/001-jsa-heroin-toddlers-nfa.yaml
      pathways evaluate claimants.jsonl --json
      pathways cases test
      pathways rules lint
    """
    if ctx.invoked_subcommand is None:
        from engine.cli_app import run_ui

        run_ui()


def parse_date(value: str | None, option: str) -> dt.date | None:
    """An ISO date from an option, or a usage error."""
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


def _with_as_of(raw: Any, as_of: dt.date | None) -> Any:
    """The raw case with its date replaced by --as-of (validated like the file's own)."""
    if as_of is None or not isinstance(raw.data, dict):
        return raw
    data = dict(raw.data)
    data["as_of"] = as_of
    return attrs.evolve(raw, data=data)


@cli.command()
@click.argument("case_file", metavar="CASE", type=click.Path(path_type=Path))
@click.option("--as-of", "as_of", metavar="DATE", help="Decide as on this date instead of the case's own.")
@click.option("--json", "as_json", is_flag=True, help="Print the decision JSON (one object a line).")
@click.option("--trace", is_flag=True, help="Also print the rule firings (readable output only).")
def evaluate(case_file: Path, as_of: str | None, as_json: bool, trace: bool) -> None:
    """Decide one case file, or every line of a .jsonl file.

    \b
    Examples:
      pathways evaluate case.yaml
      pathways evaluate case.yaml --as-of 2010-01-04 --json
      pathways evaluate caseload.jsonl --json > decisions.jsonl
    """
    from engine.decide import default_engine
    from engine.loader import iter_jsonl, read_case_file
    from engine.report import render_decision, render_trace
    from engine.validate import build_case

    day = parse_date(as_of, "--as-of")
    engine = default_engine()

    def show(raw: Any) -> None:
        decision = engine.decide(build_case(_with_as_of(raw, day)))
        if as_json:
            click.echo(decision.to_json())
        else:
            click.echo(render_decision(decision))
            if trace:
                click.echo("\nTrace:\n" + render_trace(decision))

    if case_file.suffix.lower() != ".jsonl":
        show(read_case_file(case_file))
        return
    refused = 0
    first = True
    for item in iter_jsonl(case_file):
        try:
            if isinstance(item, InputError):
                raise item
            if not first and not as_json:
                click.echo("")
            show(item)
            first = False
        except InputError as exc:
            refused += 1
            fail(str(exc))
    if refused:
        fail(f"{refused} case(s) refused")
        raise click.exceptions.Exit(EXIT_BAD_INPUT)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI, turning every error into one line and an exit status."""
    from engine import cli_app, cli_book, cli_cases, cli_rules  # noqa: F401 - register their commands

    try:
        code = cli.main(args=argv, prog_name="pathways", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.exceptions.Abort:
        fail("aborted")
        code = 130
    except click.ClickException as exc:
        fail(exc.format_message())
        code = EXIT_BAD_INPUT
    except InputError as exc:
        fail(str(exc))
        code = EXIT_BAD_INPUT
    except RuleFileError as exc:
        fail(f"rule files: {exc}")
        code = EXIT_BAD_INPUT
    except KeyboardInterrupt:
        fail("interrupted")
        code = 130
    except BrokenPipeError:
        code = 0
    except Exception as exc:  # never a traceback or case data in front of a user
        fail(f"internal error ({type(exc).__name__}); no data was written")
        code = EXIT_INTERNAL
    sys.exit(code if isinstance(code, int) else 0)

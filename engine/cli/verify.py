"""`pathways rules verify`: prove rules/invariants.yaml over every class of cases, per edition."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from engine.cli.root import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, fail
from engine.textsafe import clean

if TYPE_CHECKING:
    from engine.intake.verify import Counterexample, Proof, Verdict
    from engine.model.case import Case


@click.command("verify")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
              help="A rules folder other than the bundled one.")
@click.option("--json", "as_json", is_flag=True, help="Print the proof as one JSON object.")
@click.option("--only", "only", multiple=True, metavar="ID",
              help="Check only this invariant (repeatable; durable-rules-agrees names the engine check).")
@click.option("--edition", "editions", multiple=True, metavar="E", help="Check only this edition (repeatable).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Processes to spread the work over (default: one per core).")
def verify_command(directory: Path | None, as_json: bool, only: tuple[str, ...], editions: tuple[str, ...],
                   workers: int | None) -> None:
    """Prove the invariants in rules/invariants.yaml over every class of cases, edition by edition.

    The classes come from the rules: each fact's values are cut at every constant a rule tests, with
    absent and unknown answers as classes of their own. Every class is a valid case file; a broken
    invariant prints one as its counterexample (exit 1). durable_rules is held to the three-valued
    evaluator on every class as well.

    \b
    Examples:
      pathways rules verify
      pathways rules verify --dir my-rules --json
    """
    from engine.intake.classcases import case_file_text
    from engine.intake.verify import AGREEMENT_ID, prove
    from engine.policy.driver import Engine
    from engine.policy.invariants import read_invariants
    from engine.policy.rulebook import read_book
    from rules import RULES_DIR

    book = read_book(directory or RULES_DIR)
    invariants = read_invariants(book)
    known = {inv.id for inv in invariants} | {AGREEMENT_ID}
    unknown = sorted(set(only) - known)
    if unknown:
        fail(f"--only: no invariant {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    strange = sorted(set(editions) - set(book.rulesets))
    if strange:
        fail(f"--edition: no edition {', '.join(strange)} (known: {', '.join(book.rulesets)})")
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    engine = Engine(book)
    try:
        proof = prove(book, invariants, engine, frozenset(only) if only else None,
                      frozenset(editions) if editions else None, workers or os.cpu_count() or 1)
    finally:
        engine.close()
    numbered = _numbered(proof)
    if as_json:
        click.echo(json.dumps(_proof_data(proof, numbered), ensure_ascii=False))
    else:
        click.echo(_readable(proof))
        for number, (verdict, example) in enumerate(numbered, start=1):
            comment = f"Counterexample to {verdict.id} in {example.edition}: {example.problem}"
            text = case_file_text(_ref(example.case, number), comment)  # type: ignore[arg-type]
            click.echo("---\n" + clean(text, keep_newlines=True), nl=False)
    if not proof.holds:
        raise click.exceptions.Exit(EXIT_CHECK_FAILED)


def _numbered(proof: Proof) -> list[tuple[Verdict, Counterexample]]:
    """Every counterexample that has a case, with its verdict, in report order."""
    return [(v, c) for v in proof.verdicts for c in v.counterexamples if c.case is not None]


def _ref(case: Case, number: int) -> Case:
    """The counterexample case under its own reference (CEX-1, CEX-2, ...)."""
    return attrs.evolve(case, case=f"CEX-{number}", title="Counterexample found by pathways rules verify")


def _readable(proof: Proof) -> str:
    """The proof for a person: the classes and time, then each invariant's verdict."""
    per = "; ".join(f"{edition} {count:,}" for edition, count in proof.classes.items())
    total = sum(proof.classes.values())
    lines = [f"{total:,} classes of cases checked in {proof.seconds:.1f} s ({per}), unknown answers included."]
    number = 0
    for verdict in proof.verdicts:
        status = "holds " if verdict.holds else "BROKEN"
        lines.append(f"{status} {verdict.id} ({verdict.classes:,} classes)")
        lines += textwrap.wrap(verdict.words, 96, initial_indent="       ", subsequent_indent="       ")
        for example in verdict.counterexamples:
            where = ""
            if example.case is not None:
                number += 1
                where = f"; counterexample CEX-{number} below"
            lines += textwrap.wrap(f"in {example.edition}: {example.problem}{where}", 96,
                                   initial_indent="       ! ", subsequent_indent="         ")
    broken = sum(not v.holds for v in proof.verdicts)
    lines.append("Every invariant holds." if not broken else f"{broken} invariant(s) broken.")
    return clean("\n".join(lines), keep_newlines=True)


def _proof_data(proof: Proof, numbered: list[tuple[Verdict, Counterexample]]) -> dict[str, Any]:
    """The proof as JSON-ready data (counterexample cases as case-file data)."""
    refs = {id(example): number for number, (_v, example) in enumerate(numbered, start=1)}
    return {
        "holds": proof.holds,
        "classes": sum(proof.classes.values()),
        "editions": proof.classes,
        "seconds": round(proof.seconds, 2),
        "invariants": [
            {"id": v.id, "words": v.words, "check": v.check, "holds": v.holds, "classes": v.classes,
             "counterexamples": [
                 {"edition": c.edition, "problem": c.problem,
                  "case": _ref(c.case, refs[id(c)]).to_file_data() if c.case is not None else None}
                 for c in v.counterexamples]}
            for v in proof.verdicts
        ],
    }

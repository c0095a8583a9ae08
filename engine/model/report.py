"""Readable text renderings of decisions for the command line."""

from __future__ import annotations

import textwrap
from typing import Any

from engine.model.decision import Decision
from engine.textsafe import clean


def fact_words(value: Any) -> str:
    """A fact value as short plain words (yes/no, not set, lists joined), cleaned for a terminal."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "not set"
    if isinstance(value, (list, tuple)):
        return clean(", ".join(str(v) for v in value)) or "none"
    return clean(value)


def render_decision(decision: Decision, width: int = 88) -> str:
    """The decision as an adviser reads it: priority, then each outcome with why and where from."""
    lines = [
        f"Case {decision.case} on {decision.as_of}: edition {decision.edition}",
        f"Rule set {decision.ruleset}",
        f"Priority: {decision.priority.upper()}",
        "",
    ]
    if not decision.outcomes:
        lines.append("No outcomes apply.")
    indent = " " * 4
    for outcome in decision.outcomes:
        lines.append(f"* {outcome.code} ({outcome.kind})")
        lines.extend(textwrap.wrap(outcome.text, width, initial_indent=indent, subsequent_indent=indent))
        because = "; ".join(f"{k} = {fact_words(v)}" for k, v in outcome.because.items())
        lines.extend(
            textwrap.wrap(
                f"because: {because}", width, initial_indent=indent, subsequent_indent=indent + "  "
            )
        )
        lines.extend(
            textwrap.wrap(
                f"rule {outcome.rule}; source: {outcome.citation}",
                width,
                initial_indent=indent,
                subsequent_indent=indent + "  ",
            )
        )
    return clean("\n".join(lines), keep_newlines=True)


def render_trace(decision: Decision) -> str:
    """The firing trace, one numbered line per firing."""
    lines = []
    for n, firing in enumerate(decision.trace, start=1):
        facts = ", ".join(f"{k}={fact_words(v)}" for k, v in firing.facts.items())
        lines.append(f"{n:>3}. {firing.rule} -> {', '.join(firing.concluded)}  [{facts}]")
    return clean("\n".join(lines), keep_newlines=True)

"""Readable text renderings of decisions for the command line."""

from __future__ import annotations

import textwrap
from typing import Any

from engine.model.decision import ANNOUNCED_WORDS, Decision, reading_order
from engine.model.facts import Unknown
from engine.textsafe import clean


def fact_words(value: Any) -> str:
    """A fact value as short plain words (yes/no, not set, lists joined), cleaned for a terminal."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "not set"
    if isinstance(value, Unknown):
        return "declined to say" if value.reason == "declined" else "not known"
    if isinstance(value, (list, tuple)):
        return clean(", ".join(str(v) for v in value)) or "none"
    return clean(value)


def _wrapped(text: str, width: int, indent: str, hang: str = "  ") -> list[str]:
    """One paragraph wrapped under an indent."""
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent + hang)


def render_decision(decision: Decision, width: int = 88) -> str:
    """The recommendation as an adviser reads it: priority, then each outcome in reading order,
    with what to say to the claimant, what to do, why, and where the rule comes from."""
    lines = [f"Recommendation for case {decision.case} on {decision.as_of}: edition {decision.edition}"]
    if decision.announced:
        lines.append(f"*** {ANNOUNCED_WORDS.upper()}: for training and audit only ***")
    lines += [f"Rule set {decision.ruleset}", f"Priority: {decision.priority.upper()}", ""]
    if not decision.outcomes:
        lines.append("No outcomes apply.")
    indent = " " * 4
    for outcome in decision.in_reading_order():
        lines.append(f"* {outcome.code} ({outcome.kind})")
        if outcome.text:
            lines.extend(_wrapped(f"Say: {outcome.text}", width, indent))
        if outcome.adviser_note:
            lines.extend(_wrapped(f"Adviser: {outcome.adviser_note}", width, indent))
        because = "; ".join(f"{k} = {fact_words(v)}" for k, v in outcome.because.items())
        lines.extend(_wrapped(f"because: {because}", width, indent))
        lines.extend(_wrapped(f"rule {outcome.rule}; source: {outcome.citation}", width, indent))
    if decision.open:
        lines += ["", "Open: these may apply, depending on answers not known:"]
        for item in sorted(decision.open, key=lambda o: reading_order(o.kind, o.code)):
            lines.extend(_wrapped(f"? {item.code} ({item.kind}) waits on: {', '.join(item.needs)}", width, ""))
    return clean("\n".join(lines), keep_newlines=True)


def render_trace(decision: Decision) -> str:
    """The firing trace, one numbered line per firing."""
    lines = []
    for n, firing in enumerate(decision.trace, start=1):
        facts = ", ".join(f"{k}={fact_words(v)}" for k, v in firing.facts.items())
        lines.append(f"{n:>3}. {firing.rule} -> {', '.join(firing.concluded)}  [{facts}]")
    return clean("\n".join(lines), keep_newlines=True)

"""The claimant's copy of a recorded decision: what the adviser accepted, in plain words, as text or HTML.

Only accepted outcomes with something to say appear, in reading order; a declined outcome's words
never do. An accepted Jobseeker's Direction is printed as the written direction. The letter says
who decided what: the adviser decided this; a Decision Maker, not the adviser, decides good cause
and any effect on benefit. A decision under an announced edition is marked as a training copy.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence

import attrs

from engine.model.adviser import AdviserDecision
from engine.model.decision import ANNOUNCED_WORDS, Decision, Outcome
from engine.textsafe import clean

DIRECTION = "JSD_TREATMENT_DISCUSSION"
"""The outcome printed as a written Jobseeker's Direction when accepted."""

TRAINING_BANNER = f"{ANNOUNCED_WORDS[0].upper()}{ANNOUNCED_WORDS[1:]}: training copy"
"""The banner on every letter made under an announced edition."""

DIRECTION_CONSEQUENCE = (
    "If you do not go and do not show good cause, your adviser will pass this to a Decision Maker. "
    "The Decision Maker decides whether you had good cause. If you did not, your Jobseeker's Allowance "
    "may not be paid for a period (Jobseekers Act 1995, section 19(5); Jobseeker's Allowance "
    "Regulations 1996, regulation 69)."
)
"""The consequence of a missed direction, in sourced words (never stated as certain)."""

NEXT_STEPS = {
    "requirement": "You need to do this. Your adviser will give you the time and place.",
    "referral": "With your agreement, we will pass your details on. The service will contact you.",
    "offer": "This is your choice. Tell your adviser if you want it, now or later.",
    "priority": "",
    "signpost": "These are details you can use yourself, whenever you want.",
    "note": "",
}
"""What happens next, by kind of outcome."""

WHO_DECIDES = (
    "Your adviser decided what is in this letter, using a recommendation from a computer tool. "
    "A Decision Maker, not your adviser, decides whether you had good cause for missing anything "
    "and any effect on your benefit."
)
"""Who decided what."""

HOW_TO_RESPOND = (
    "If you think something here is wrong, or you have reasons or evidence to give (for example "
    "about your health, caring or travel), tell your adviser or write to your Jobcentre. You can "
    "ask for any decision about your benefit to be looked at again."
)
"""How the claimant gives reasons or evidence."""


@attrs.frozen
class Section:
    """One part of the letter: a heading and its paragraphs."""

    heading: str
    paragraphs: tuple[str, ...]


@attrs.frozen
class Letter:
    """The claimant's copy, as sections, ready to render."""

    title: str
    banner: str
    meta: tuple[str, ...]
    sections: tuple[Section, ...]


def _direction(outcome: Outcome) -> Section:
    """An accepted Jobseeker's Direction as the written direction."""
    return Section("Jobseeker's Direction", (
        outcome.text,
        "What you must do: go to a meeting with a specialist drug treatment service, to talk about the "
        "help they can give you.",
        "Going to the meeting is required. Starting treatment is not: that is your choice.",
        DIRECTION_CONSEQUENCE,
    ))


def build_letter(decision: Decision, choices: Sequence[AdviserDecision], *, decision_id: int,
                 recorded_on: str, nino: str | None = None) -> Letter:
    """The letter for a recorded decision and the adviser's choices (a NINO only when given)."""
    accepted = {c.code for c in choices if c.accepted}
    shown = [o for o in decision.in_reading_order() if o.code in accepted and o.text]
    sections = []
    for outcome in shown:
        if outcome.code == DIRECTION:
            sections.append(_direction(outcome))
            continue
        paragraphs = [outcome.text]
        if NEXT_STEPS.get(outcome.kind):
            paragraphs.append(NEXT_STEPS[outcome.kind])
        sections.append(Section(_heading(outcome), tuple(paragraphs)))
    if not sections:
        sections.append(Section("What was decided", ("Nothing was arranged today that needs a letter.",)))
    sections += [Section("Who decides", (WHO_DECIDES,)), Section("If you disagree", (HOW_TO_RESPOND,))]
    meta = [f"Reference: {decision.case}", f"Decided on: {recorded_on}", f"Record number: {decision_id}"]
    if nino:
        meta.append(f"National Insurance number: {nino}")
    return Letter(title="Your copy: what was decided today",
                  banner=TRAINING_BANNER if decision.announced else "",
                  meta=tuple(meta), sections=tuple(sections))


def _heading(outcome: Outcome) -> str:
    """A plain heading for an outcome's section."""
    return {
        "requirement": "What you need to do",
        "referral": "Referral",
        "offer": "An offer: your choice",
        "priority": "Priority",
        "signpost": "Help you can use",
        "note": "Good to know",
    }.get(outcome.kind, "What was decided")


def render_text(letter: Letter, width: int = 76) -> str:
    """The letter as plain text, wrapped, stripped of control characters."""
    lines = [letter.title, "=" * len(letter.title)]
    if letter.banner:
        lines += ["", f"*** {letter.banner.upper()} ***"]
    lines += ["", *letter.meta]
    for section in letter.sections:
        lines += ["", section.heading, "-" * len(section.heading)]
        for number, paragraph in enumerate(section.paragraphs):
            lines += [""] * (number > 0) + textwrap.wrap(paragraph, width)
    return clean("\n".join(lines).rstrip() + "\n", keep_newlines=True)


_CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 42em; margin: 2em auto; line-height: 1.5;
       color: #111; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { font-size: 1.15em; margin-top: 1.4em; border-bottom: 1px solid #999; }
.banner { border: 3px solid #900; color: #900; padding: .5em; font-weight: bold; text-transform: uppercase; }
.meta { color: #333; }
@media print { body { margin: 0; max-width: none; } h2 { page-break-after: avoid; }
               section { page-break-inside: avoid; } }
"""


def render_html(letter: Letter) -> str:
    """The letter as one HTML page with print styles (no external resources; every text escaped)."""
    esc = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en-GB"><head><meta charset="utf-8">',
             f"<title>{esc(letter.title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{esc(letter.title)}</h1>"]
    if letter.banner:
        parts.append(f'<p class="banner">{esc(letter.banner)}</p>')
    parts.append('<p class="meta">' + "<br>".join(esc(m) for m in letter.meta) + "</p>")
    for section in letter.sections:
        parts.append(f"<section><h2>{esc(section.heading)}</h2>")
        parts += [f"<p>{esc(clean(p))}</p>" for p in section.paragraphs]
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"

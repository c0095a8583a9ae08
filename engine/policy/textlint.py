"""Check the words of a rule: what the claimant hears (`text`) and what only the adviser reads (`adviser_note`).

Four kinds of problem are found, each reported as a plain-English sentence:

- forbidden words in claimant text: "sanction", "you will lose", "working days" (the engine never
  announces a sanction, a loss of benefit or an unverified deadline);
- adviser-only words in claimant text: instructions to the adviser ("adviser must", "consider
  safeguarding", "follow local procedures"), talk about the claimant in the third person ("the
  claimant"), and any mention of a suspicion ("suspect", "suspicion");
- jargon left unexplained in claimant text: DRR, mutual aid, complex needs, advocacy, Decision Maker;
- a Flesch reading ease below 50, for any non-empty text of either audience.

When is a term explained? At one of its uses in the same text, the term (or the term and one more
word, as in "mutual aid groups") is followed by a gloss:

- an opening bracket, a colon or a dash, then at least one word: "DRR (a Drug Rehabilitation
  Requirement set by a court)";
- a comma and an appositive that starts with a, an, the, someone, somebody, people, which, who,
  where, meaning or "that is": "a Decision Maker, a member of staff who ...";
- a defining word: means, meaning, "is a", "is an", "is when", are, where, which or who:
  "complex needs, which means ..." or "mutual aid groups where people in recovery help each other".

An abbreviation also counts as explained when its full form appears in the same text ("Drug
Rehabilitation Requirement" for DRR). The rule is deliberately simple so a policy writer can check it
by eye; it cannot tell a good gloss from a bad one, which is the reviewer's job.

The reading ease is textstat's Flesch score, computed in British English ("en-GB"): syllables are
counted with pyphen's en_GB hyphenation dictionary, which ships with pyphen. The en_US setting would
first try to download the CMU pronouncing dictionary at run time, which fails on a machine without
that network access and would make the score depend on the machine.
"""

from __future__ import annotations

import re

import attrs
from textstat.textstat import textstatistics

AUDIENCES = ("claimant", "adviser")
"""Who reads a text: `claimant` for a rule's `text` (read out), `adviser` for its `adviser_note`."""

MIN_READING_EASE = 50.0
"""The lowest Flesch reading ease any non-empty text may have."""

READING_LANG = "en-GB"
"""The textstat language used for the score: British English, syllables from pyphen only."""


@attrs.frozen
class Phrase:
    """A phrase a claimant text must not contain: a regular expression, its name and why."""

    pattern: str
    name: str
    why: str

    def found_in(self, text: str) -> bool:
        """True when the phrase occurs in `text` (case is ignored)."""
        return re.search(self.pattern, text, re.IGNORECASE) is not None


@attrs.frozen
class Jargon:
    """A term a claimant may not know: a regular expression, its name, and full forms that explain it."""

    pattern: str
    name: str
    full_forms: tuple[str, ...] = ()


FORBIDDEN: tuple[Phrase, ...] = (
    Phrase(r"\bsanction\w*", "sanction", "only a Decision Maker decides a sanction; the claimant is never told of one"),
    Phrase(r"\byou will lose\b", "you will lose", "it announces a loss as certain when nobody has decided it"),
    Phrase(r"\bworking days?\b", "working days", "it states a deadline that is not a verified fact"),
)
"""Words no claimant text may use."""

ADVISER_ONLY: tuple[Phrase, ...] = (
    Phrase(r"\badvis[eo]rs? (?:must|should)\b", "adviser must", "it is an instruction to the adviser"),
    Phrase(r"\bconsider safeguarding\b", "consider safeguarding", "it is an instruction to the adviser"),
    Phrase(r"\bfollow local procedures?\b", "follow local procedures", "it is an instruction to the adviser"),
    Phrase(r"\bthe claimant\b", "the claimant", "it talks about the claimant instead of to them"),
    Phrase(r"\bsuspect\w*", "suspect", "it reveals a suspicion to the claimant"),
    Phrase(r"\bsuspicio\w*", "suspicion", "it reveals a suspicion to the claimant"),
)
"""Words that belong in the adviser's note, never in what is read out."""

JARGON: tuple[Jargon, ...] = (
    Jargon(r"\bDRRs?\b", "DRR", ("drug rehabilitation requirement",)),
    Jargon(r"\bmutual aid\b", "mutual aid"),
    Jargon(r"\bcomplex needs\b", "complex needs"),
    Jargon(r"\badvocacy\b", "advocacy"),
    Jargon(r"\bdecision makers?\b", "Decision Maker"),
)
"""Terms a claimant text must explain where it uses them."""

_GLOSS = re.compile(
    r"(?:\s+[a-z'’-]+)?"  # one more word may come first: "mutual aid groups, where ..."
    r"(?:"
    r"\s*[(:—–]"  # a bracket, a colon or a dash
    r"|\s+-\s"
    r"|,\s+(?:a|an|the|someone|somebody|people|which|who|where|meaning|that is)\b"
    r"|\s+(?:means|meaning|is an?|is when|are|where|which|who)\b"
    r")"
    r"\s*\w+",
    re.IGNORECASE,
)

_SCORER = textstatistics()
_SCORER.set_lang(READING_LANG)


def reading_ease(text: str) -> float:
    """The Flesch reading ease of `text` (higher is easier; 60 is plain English)."""
    return float(_SCORER.flesch_reading_ease(text))


def is_explained(text: str, jargon: Jargon) -> bool:
    """True when `text` glosses `jargon` at one of its uses, or spells out its full form."""
    lowered = text.lower()
    if any(form in lowered for form in jargon.full_forms):
        return True
    uses = re.finditer(jargon.pattern, text, re.IGNORECASE)
    return any(_GLOSS.match(text, use.end()) for use in uses)


def text_problems(text: str, *, audience: str) -> list[str]:
    """Every problem with one text for its audience (`claimant` or `adviser`); empty when it is fine."""
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
    problems: list[str] = []
    if audience == "claimant":
        for phrase in FORBIDDEN:
            if phrase.found_in(text):
                problems.append(f'uses "{phrase.name}", which no claimant text may use: {phrase.why}')
        for phrase in ADVISER_ONLY:
            if phrase.found_in(text):
                problems.append(f'uses "{phrase.name}", which is for the adviser only: {phrase.why}')
        for jargon in JARGON:
            if re.search(jargon.pattern, text, re.IGNORECASE) and not is_explained(text, jargon):
                problems.append(
                    f'uses "{jargon.name}" without explaining it: add a short gloss after it, '
                    'in brackets or after a comma, or a clause that says what it means'
                )
    if text.strip():
        score = reading_ease(text)
        if score < MIN_READING_EASE:
            problems.append(
                f"is hard to read (Flesch reading ease {score:.0f}, below {MIN_READING_EASE:.0f}): "
                "use shorter sentences and shorter words"
            )
    return problems

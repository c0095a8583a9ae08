"""Rule conditions in plain English, from the statements beside each question in rules/questions.yaml.

"the claimant is on Jobseeker's Allowance, and the claimant is a problem drug user (...), and the
claimant is neither in treatment nor on a Drug Rehabilitation Requirement": the rulebook, `rules
diff` and `explain` all speak through `Words`. A fact without statements falls back to its name and
the operator's words, which `rules lint` reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from engine.errors import RuleFileError
from engine.model.facts import INPUT_FACTS, is_unknown
from engine.policy import conditions as C
from engine.policy.classes import ValueClass
from engine.policy.rulebook import Book

NUMBER_WORDS = {"lt": "under {}", "lte": "at most {}", "gt": "more than {}", "gte": "at least {}"}
"""How a comparison with a number reads."""
NUMBER_OPPOSITE = {"lt": "gte", "gte": "lt", "lte": "gt", "gt": "lte"}
"""A comparison's negation."""


def join(words: list[str], last: str = "or") -> str:
    """`a`, `a or b`, `a, b or c`."""
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {last} " + words[-1]


def day(value: dt.date) -> str:
    """A date as people write it: 1 July 2011."""
    return f"{value.day} {value.strftime('%B')} {value.year}"


@attrs.frozen
class Statement:
    """How conditions on one fact read (see the comment atop rules/questions.yaml)."""

    says: str = ""
    says_not: str = ""
    says_absent: str = ""
    says_given: str = ""
    words: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class Words:
    """Every fact's statements and every outcome's title: the vocabulary conditions are read in."""

    facts: Mapping[str, Statement]
    outcomes: Mapping[str, str]

    def value(self, fact: str, value: Any) -> str:
        """One value of a fact as a phrase (a label or its `words`, a number, a date)."""
        statement = self.facts.get(fact, Statement())
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, dt.date):
            return day(value)
        if isinstance(value, (tuple, list)):
            return join([self.value(fact, v) for v in value], "and") or "none"
        return statement.words.get(str(value), str(value))

    def test(self, test: C.Test) -> str:
        """One test as a clause: "the claimant is on Jobseeker's Allowance"."""
        if test.fact == C.OUTCOME_KEY:
            title = self.outcomes.get(test.value, test.value)
            return f"“{title}” {'does not apply' if test.negated else 'applies'}"
        op, value, negated = test.op, test.value, test.negated
        if op in ("before", "on_or_after"):
            before = (op == "before") != negated
            return f"the date is {'before' if before else 'on or after'} {day(value)}"
        statement = self.facts.get(test.fact)
        if statement is None or not statement.says:
            return test.describe()
        if op in ("eq",) and isinstance(value, bool):
            holds = value != negated
            return statement.says if holds else statement.says_not or f"not: {statement.says}"
        if op in ("given", "empty"):
            present = bool(value) == (op == "given")
            present = present != negated
            return statement.says_given if present else statement.says_absent
        if op in NUMBER_WORDS:
            op = NUMBER_OPPOSITE[op] if negated else op
            return _fill(statement.says, NUMBER_WORDS[op].format(value))
        values = value if isinstance(value, tuple) else (value,)
        positive = (op in ("eq", "in", "contains_any")) != negated
        phrase = join([self.value(test.fact, v) for v in values])
        if positive:
            return _fill(statement.says, phrase)
        return _fill(statement.says_not, phrase) if statement.says_not else f"not: {_fill(statement.says, phrase)}"

    def condition(self, cond: C.Cond) -> str:
        """A whole condition as one sentence: parts joined by "and", alternatives by "or"."""
        if isinstance(cond, C.Test):
            return self.test(cond)
        if len(cond.parts) == 1:
            return self.condition(cond.parts[0])
        parts = [_grouped(self.condition(p), p) for p in cond.parts]
        if isinstance(cond, C.All):
            return ", and ".join(parts)
        return "either " + ", or ".join(parts)

    def outline(self, cond: C.Cond) -> Outline:
        """A condition as a tree of clauses, for a printed list ("all of" / "one of")."""
        if isinstance(cond, C.Test):
            return Outline(self.test(cond))
        head = "all of:" if isinstance(cond, C.All) else "one of:"
        return Outline(head, tuple(self.outline(p) for p in cond.parts))

    def is_class(self, fact: str, value_class: ValueClass, actual: Any = None) -> str:
        """That a fact's answer falls in a class, as a clause ("the claimant's age is 18 to 24").

        Given the `actual` answer, a class that holds both "not given" and values is read as the one
        of the two the answer is (a known way the drug use is known, or none given).
        """
        statement = self.facts.get(fact, Statement())
        value = value_class.value
        if actual is not None and value is None and not isinstance(actual, (bool, int, tuple, dt.date)):
            value = actual
        if fact == "as_of":
            low, high = value_class.spans[0]
            return f"the date is {day(low)} or later" if high == dt.date.max else \
                f"the date is between {day(low)} and {day(high)}"
        if is_unknown(value):
            return f"{fact} is not known"
        if value is None:
            return statement.says_absent or f"{fact} is not given"
        if isinstance(value, bool):
            return (statement.says if value else statement.says_not) or f"{fact} is {self.value(fact, value)}"
        if isinstance(value, int):
            spans = [f"{lo}" if lo == hi else f"{lo} to {hi}" for lo, hi in value_class.spans]
            return _fill(statement.says, join(spans)) if statement.says else f"{fact} is {join(spans)}"
        if isinstance(value, tuple) and not value:
            return statement.says_absent or f"{fact} is empty"
        if isinstance(value, tuple):
            phrase = join([join([self.value(fact, item) for item in kind]) for kind in value_class.kinds], "and")
        else:
            phrase = join([self.value(fact, m) for m in value_class.members if m is not None and not is_unknown(m)])
        return _fill(statement.says, phrase) if statement.says else f"{fact} is {phrase}"


    def is_value(self, fact: str, value: Any, value_class: ValueClass) -> str:
        """One example answer as a clause: numbers and dates by the range of their class, the rest as they are."""
        statement = self.facts.get(fact, Statement())
        if fact == "as_of" or (isinstance(value, int) and not isinstance(value, bool)):
            return self.is_class(fact, value_class, value)
        if isinstance(value, bool) or value is None or value == ():
            return self.is_class(fact, ValueClass(value), value)
        phrase = self.value(fact, value)
        return _fill(statement.says, phrase) if statement.says else f"{fact} is {phrase}"


@attrs.frozen
class Outline:
    """A clause, and the clauses under it (for "all of:" and "one of:")."""

    text: str
    parts: tuple[Outline, ...] = ()


def _fill(template: str, phrase: str) -> str:
    """A statement with its value put in."""
    return template.replace("{}", phrase)


def _grouped(text: str, cond: C.Cond) -> str:
    """A part of a longer sentence, bracketed when it is itself a list of alternatives or conditions."""
    return f"({text})" if not isinstance(cond, C.Test) and len(cond.parts) > 1 else text


STATEMENT_KEYS = frozenset({"says", "says_not", "says_absent", "says_given", "words"})
"""The keys of a question or derived-fact entry that word conditions."""


def _statement(entry: Mapping[str, Any]) -> Statement:
    """The statements of one questions.yaml entry (labels stand in for missing `words`)."""
    words = {str(k): str(v) for k, v in (entry.get("labels") or {}).items()}
    words.update({str(k): str(v) for k, v in (entry.get("words") or {}).items()})
    return Statement(says=str(entry.get("says", "")), says_not=str(entry.get("says_not", "")),
                     says_absent=str(entry.get("says_absent", "")), says_given=str(entry.get("says_given", "")),
                     words=words)


def read_words(book: Book) -> Words:
    """The vocabulary of a rules folder: its questions' and derived facts' statements, its outcome titles."""
    path = Path(book.directory) / "questions.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RuleFileError(f"{path.name}: cannot read: {exc}") from None
    entries: Iterable[Any] = [*(data.get("questions") or ()), *(data.get("derived") or ())]
    facts = {str(e["fact"]): _statement(e) for e in entries if isinstance(e, dict) and "fact" in e}
    return Words(facts, {code: info.title for code, info in book.outcomes.items()})


def missing_statements(book: Book, words: Words) -> list[str]:
    """Facts the rules test that have no statement to read them by (for `rules lint`)."""
    tested = {t.fact for r in book.rules for t in C.tests(r.when) if t.fact not in ("as_of", C.OUTCOME_KEY)}
    out = []
    for fact in sorted(tested):
        statement = words.facts.get(fact)
        if statement is None or not statement.says:
            out.append(f"{fact} has no 'says' statement")
        elif (fact not in INPUT_FACTS or INPUT_FACTS[fact].kind in ("bool", "flag")) and not statement.says_not:
            out.append(f"{fact} has no 'says_not' statement")
    return out

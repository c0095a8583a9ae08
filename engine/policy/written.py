"""Writing a decision's JSON straight from durable_rules' session (#14): whole, for replay, or cut into its
class's template, for batch.

`Decision.to_json()` builds the decision's objects, then its data, then encodes it. The writers here
give the same bytes from what durable_rules concluded (the session), without the objects: `written`
the whole text, `template_of` the text cut at every per-case value (the case reference, its date and
each answer a rule saw), which `engine.policy.rendered` fills for the other cases of the class. Both
write only what the fast encoder writes as the standard library does (text, whole numbers, truth
values, null, lists of text); anything else gives None and the caller builds the decision.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from engine.model.case import Case
from engine.model.decision import ANNOUNCED, Decision, OpenOutcome
from engine.model.facts import INPUT_FACTS, Unknown
from engine.policy import conditions as C
from engine.policy.explain import open_outcomes
from engine.policy.rendered import Summary, Template, outcomes_column
from engine.policy.rulebook import Rule, RuleSet, choose

if TYPE_CHECKING:
    from engine.policy.driver import _Session as Session


Shown = tuple[str, Rule, str, tuple[dict[str, Any], ...], str, str, dict[str, Any]]
"""One outcome as a decision shows it: code, rule, kind, public sources, text, adviser note, `because`."""


def shown_outcomes(rs: RuleSet, session: Session) -> list[Shown]:
    """The session's outcomes in code order, each with its rule's kind, sources and chosen texts.

    Texts are chosen from their variants on what is certain (answers and the derived facts
    durable_rules concluded).
    """
    shown = _shown(rs)
    look: dict[str, Any] | None = None
    out: list[Shown] = []
    for code in sorted(session.outcomes):
        conc, because = session.outcomes[code]
        rule = conc.rule
        kind, sources, varies = shown[code, rule.id]
        if varies and look is None:
            values = session.values
            look = {**{name: values.get(name, C.UNANSWERED) for name in INPUT_FACTS},
                    **shown[None, rs.digest][1], **session.derived}
        out.append((code, rule, kind, sources,
                    choose(rule.text, look) if look is not None else rule.default_text,
                    choose(rule.adviser_note, look) if look is not None else rule.adviser_note[-1].text,
                    because))
    return out


def open_of(rs: RuleSet, session: Session) -> tuple[OpenOutcome, ...]:
    """The open outcomes, from the three-valued evaluator, and only when some answer is unknown (otherwise
    nothing can be open)."""
    if any(issubclass(kind, Unknown) for kind in set(map(type, session.values.values()))):
        return open_outcomes(rs, session.values)
    return ()


@attrs.frozen
class Written:
    """A decision's JSON text and the summary replay compares with the decision row (#14)."""

    text: str
    case: str
    as_of: str
    edition: str
    ruleset: str
    priority: str
    codes: tuple[str, ...]

    @classmethod
    def of(cls, decision: Decision) -> Written:
        """The text and summary of a built decision."""
        return cls(decision.to_json(), decision.case, decision.as_of, decision.edition, decision.ruleset,
                   decision.priority, decision.codes)


_PLAIN = frozenset({str, int, bool, type(None)})
"""Value types orjson writes exactly as the standard library does (an integer beyond 64 bits it refuses)."""


def _plain(value: Any) -> bool:
    """True for a value `_written` may write: text, a whole number, a truth value, null, or a list of text."""
    return type(value) in _PLAIN or (type(value) is list and all(type(item) is str for item in value))


def written(case: Case, rs: RuleSet, session: Session) -> Written | None:
    """`_decision(...)`'s JSON and summary, written from the session in one encoding (`Decision.to_data`'s
    layout, key for key); None when anything shown is not plain (a float is written differently by the fast
    encoder), and the caller builds the decision instead."""
    data = written_data(case, rs, session)
    if data is None:
        return None
    try:
        text = orjson.dumps(data).decode("utf-8")
    except orjson.JSONEncodeError:  # a lone surrogate, an integer beyond 64 bits
        return None
    return Written(text, case.case, data["as_of"], rs.edition.id, rs.digest, data["priority"],
                   tuple(o["code"] for o in data["outcomes"]))


def written_data(case: Case, rs: RuleSet, session: Session,
                  opened: tuple[OpenOutcome, ...] | None = None) -> dict[str, Any] | None:
    """`_decision(...).to_data()`, made from the session with fresh containers (the facts dicts are the
    session's); None when anything shown is not plain. `opened`: the open outcomes when already worked out."""
    if not plain_ruleset(rs) or type(case.case) is not str:
        return None
    for _rule, facts, _concluded in session.trace:
        for value in facts.values():
            if type(value) not in _PLAIN and not _plain(value):
                return None
    v2 = rs.format >= 2
    outcomes = []
    for code, rule, kind, sources, text, note, because in shown_outcomes(rs, session):
        outcome: dict[str, Any] = {"code": code, "kind": kind, "rule": rule.id, "citation": rule.citation}
        if v2:
            outcome.update(sources=sources, text=text, adviser_note=note)
        else:
            outcome["text"] = text
        outcome["because"] = because
        outcomes.append(outcome)
    as_of = case.as_of.isoformat()
    priority = rs.priority_for(set(session.outcomes))
    data: dict[str, Any] = {"schema": 1, "case": case.case, "as_of": as_of, "edition": rs.edition.id}
    if v2:
        data["edition_status"] = rs.edition.status
    data["ruleset"] = rs.digest
    data["priority"] = priority
    data["outcomes"] = outcomes
    if v2:
        data["open"] = [o.to_data() for o in (open_of(rs, session) if opened is None else opened)]
    data["trace"] = [{"rule": rule, "facts": facts, "concluded": concluded} for rule, facts, concluded in session.trace]
    return data


_PLAIN_RULESETS: dict[str, bool] = {}
"""Per rule set (by digest): whether everything a decision shows of it is text (`_written` may write it)."""


def plain_ruleset(rs: RuleSet) -> bool:
    """True when the edition, priorities and every concluding rule's shown fields and texts are text."""
    found = _PLAIN_RULESETS.get(rs.digest)
    if found is None:
        shown: list[Any] = [rs.edition.id, rs.edition.status, rs.digest, rs.priority_default,
                            *(level for level, _code in rs.priority_levels),
                            *(info.kind for info in rs.outcomes.values())]
        for rule in rs.rules:
            if rule.concludes:
                shown += [rule.concludes, rule.id, rule.citation, *(v.text for v in rule.text + rule.adviser_note)]
                shown += [value for source in rule.sources for value in source.public().values()]
        found = all(type(value) is str for value in shown)
        if len(_PLAIN_RULESETS) > 256:
            _PLAIN_RULESETS.clear()
        _PLAIN_RULESETS[rs.digest] = found
    return found


_SHOWN: dict[str, dict[tuple[str | None, str], tuple[Any, ...]]] = {}
"""Per rule set (by digest), what a decision shows of each outcome's rule that no case changes."""


def _shown(rs: RuleSet) -> dict[tuple[str | None, str], tuple[Any, ...]]:
    """Each (outcome code, rule id): the outcome's kind, the rule's public sources and whether its texts vary;
    under (None, digest) the derived facts all unanswered (the look-up texts' variants start from)."""
    found = _SHOWN.get(rs.digest)
    if found is None:
        found = {(rule.concludes, rule.id): (rs.outcomes[rule.concludes].kind,
                                             tuple(c.public() for c in rule.sources),
                                             len(rule.text) > 1 or len(rule.adviser_note) > 1)
                 for rule in rs.rules if rule.concludes}
        found[None, rs.digest] = ((), {name: C.UNANSWERED for name in rs.derived_names}, False)
        if len(_SHOWN) > 256:  # replaying many recorded rule sets: memory stays bounded
            _SHOWN.clear()
        _SHOWN[rs.digest] = found
    return found


def template_of(case: Case, rs: RuleSet, session: Session,
                opened: tuple[OpenOutcome, ...] | None = None) -> Template | None:
    """The decision's JSON (what `written` writes) cut at every per-case value, written from the session; None
    when anything shown is not plain or a value a rule saw is not one of the case's answers.

    The text between the per-case values is put together from pieces that depend only on the rule set and
    the rules that fired (each outcome's fields and chosen texts, each firing's fact names), encoded once and
    kept (#14: about half the time of writing the pieces each time).
    `opened`: the open outcomes when already worked out.
    """
    if not plain_ruleset(rs) or type(case.case) is not str:
        return None
    cut = _Cut(session.values)
    try:
        cut.text('{"schema":1,"case":')
        cut.hole("case")
        cut.text(',"as_of":')
        cut.hole("as_of")
        codes = tuple(sorted(session.outcomes))
        priority = rs.priority_for(set(codes))
        cut.text(_head(rs, priority))
        comma = ""
        for code, rule, kind, sources, text, note, because in shown_outcomes(rs, session):
            cut.text(comma + _outcome_head(rs, code, rule, kind, sources, text, note))
            cut.facts(because)
            cut.text("}")
            comma = ","
        cut.text("]")
        if rs.format >= 2:
            opened = open_of(rs, session) if opened is None else opened
            cut.text(',"open":' + orjson.dumps([o.to_data() for o in opened]).decode("utf-8") if opened else
                     ',"open":[]')
        cut.text(',"trace":[')
        comma = ""
        for rule_id, facts, concluded in session.trace:
            cut.text(comma + _firing_head(rule_id))
            cut.facts(facts)
            cut.text(_concluded(concluded))
            comma = ","
        cut.text("]}")
    except (orjson.JSONEncodeError, _NotPlain):  # a lone surrogate, an integer beyond 64 bits, a float
        return None
    summary = Summary(rs.edition.id, rs.digest, priority, codes, rs.edition.status == ANNOUNCED,
                      _column(codes))
    return cut.template(summary)


class _NotPlain(Exception):
    """A value the template writer leaves to the built decision (engine.jsonfast writes it)."""


class _Cut:
    """A decision's JSON as it is written: the text between holes, and which per-case value goes in each hole."""

    __slots__ = ("buffer", "names", "pieces", "slots", "values")

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.buffer: list[str] = []
        self.pieces: list[str] = []
        self.slots: list[int] = []
        self.names: dict[str, int] = {}

    def text(self, text: str) -> None:
        """Constant text, already JSON."""
        self.buffer.append(text)

    def hole(self, name: str) -> None:
        """A hole for the named per-case value (`case`, `as_of` or an input fact)."""
        self.pieces.append(_joined(self.buffer))
        self.buffer.clear()
        self.slots.append(self.names.setdefault(name, len(self.names)))

    def facts(self, facts: dict[str, Any]) -> None:
        """A `because` or trace `facts` object: an input fact's value is the case's (a hole), any other is the
        rule set's (derived facts and outcomes read)."""
        buffer = self.buffer
        if not facts:
            buffer.append("{}")
            return
        for (text, hole), value in zip(_shape(tuple(facts)), facts.values(), strict=True):
            buffer.append(text)
            if hole is not None:
                if hole not in self.values:
                    raise _NotPlain(hole)
                self.pieces.append(_joined(buffer))
                buffer.clear()
                self.slots.append(self.names.setdefault(hole, len(self.names)))
            elif value is True:
                buffer.append("true")
            elif value is False:
                buffer.append("false")
            elif type(value) in _PLAIN or _plain(value):
                buffer.append(orjson.dumps(value).decode("utf-8"))
            else:
                raise _NotPlain(text)
        buffer.append("}")

    def template(self, summary: Summary) -> Template:
        """The template: one more piece than holes, the holes' values picked by one `itemgetter`."""
        pieces = (*self.pieces, _joined(self.buffer))
        return Template(pieces, operator.itemgetter(*self.slots, len(self.names)), tuple(self.names), summary)


PIECES_KEPT = 20_000
"""Pieces kept at most in each kind (each a few hundred bytes): memory stays flat over any number of rule sets."""

_SHAPES: dict[tuple[str, ...], tuple[tuple[str, str | None], ...]] = {}
"""A facts object's layout by its names: the text before each value, and the input fact whose hole it is."""
_OUTCOMES: dict[tuple[str, str, str, str, str], str] = {}
_HEADS: dict[tuple[str, str], str] = {}
_FIRINGS: dict[str, str] = {}
_CONCLUDED: dict[tuple[str, ...], str] = {}
_COLUMNS: dict[tuple[str, ...], str] = {}


def _kept(kind: dict[Any, Any], key: Any, text: Any) -> Any:
    """Keep a piece of one kind (forgetting that kind's pieces when there are too many) and give it back."""
    if len(kind) >= PIECES_KEPT:
        kind.clear()
    kind[key] = text
    return text


_JOINED: dict[tuple[str, ...], str] = {}
"""Each piece of a template by the parts it was put together from."""


def _joined(parts: list[str]) -> str:
    """The parts as one piece, the same text object whenever the same parts come again (#14).

    Pieces recur across classes (1,461 distinct in the 105,088 pieces of 6,683 templates), so the class cache
    holds each once: a batch worker's templates for 50,000 generated cases took 111 MB, now 25 MB.
    """
    key = tuple(parts)
    found = _JOINED.get(key)
    return found if found is not None else _kept(_JOINED, key, "".join(parts))


def _text(value: str) -> str:
    """A string as JSON (orjson writes a string as the standard library does; a lone surrogate it refuses)."""
    return orjson.dumps(value).decode("utf-8")


def _shape(names: tuple[str, ...]) -> tuple[tuple[str, str | None], ...]:
    """A facts object's layout: `{"name":` (then `,"name":`) before each value, and the name when it is an input
    fact (its value is the case's)."""
    found = _SHAPES.get(names)
    if found is None:
        found = _kept(_SHAPES, names, tuple((("{" if n == 0 else ",") + _text(name) + ":",
                                             name if name in INPUT_FACTS else None) for n, name in enumerate(names)))
    return found


def _head(rs: RuleSet, priority: str) -> str:
    """What follows the date: the edition, its status, the rule set, the priority and the outcomes' opening."""
    found = _HEADS.get((rs.digest, priority))
    if found is None:
        status = ',"edition_status":' + _text(rs.edition.status) if rs.format >= 2 else ""
        found = _kept(_HEADS, (rs.digest, priority),
                      f',"edition":{_text(rs.edition.id)}{status},"ruleset":{_text(rs.digest)},'
                      f'"priority":{_text(priority)},"outcomes":[')
    return found


def _outcome_head(rs: RuleSet, code: str, rule: Rule, kind: str, sources: tuple[dict[str, Any], ...], text: str,
                  note: str) -> str:
    """An outcome's fields up to its `because` object."""
    key = (rs.digest, code, rule.id, text, note)
    found = _OUTCOMES.get(key)
    if found is None:
        head = f'{{"code":{_text(code)},"kind":{_text(kind)},"rule":{_text(rule.id)},"citation":{_text(rule.citation)}'
        if rs.format >= 2:
            shown = orjson.dumps(sources).decode("utf-8")
            head += f',"sources":{shown},"text":{_text(text)},"adviser_note":{_text(note)}'
        else:
            head += f',"text":{_text(text)}'
        found = _kept(_OUTCOMES, key, head + ',"because":')
    return found


def _firing_head(rule_id: str) -> str:
    """A firing's opening up to its `facts` object."""
    found = _FIRINGS.get(rule_id)
    return found if found is not None else _kept(_FIRINGS, rule_id, f'{{"rule":{_text(rule_id)},"facts":')


def _concluded(concluded: tuple[str, ...]) -> str:
    """A firing's end: what it concluded, and its closing."""
    found = _CONCLUDED.get(concluded)
    if found is None:
        found = _kept(_CONCLUDED, concluded, ',"concluded":' + orjson.dumps(list(concluded)).decode("utf-8") + "}")
    return found


def _column(codes: tuple[str, ...]) -> str:
    """The outcome codes as the decisions table's `outcomes` column holds them (kept: outcome sets repeat)."""
    found = _COLUMNS.get(codes)
    return found if found is not None else _kept(_COLUMNS, codes, outcomes_column(codes))

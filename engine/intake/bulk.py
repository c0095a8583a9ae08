"""Batch triage's worker: parse, validate, decide and prepare a task of cases for the case book to record.

A spawned worker imports this module to run its tasks, and with it only what deciding and packing need
(engine.packing): not the case book's code nor SQLite's tools (#14: a worker's imports and rules 0.18-0.27 ->
0.12-0.13 s of CPU when it starts). The case book's side of batch (reading the input, recording, resuming)
is engine.casebook.batch.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine import jsonfast
from engine.errors import InputError
from engine.intake.loader import _parse_json, read_case_file
from engine.intake.stored import replay_inputs, sha256_text
from engine.intake.validate import build_case
from engine.model.case import Case
from engine.packing import Packer
from engine.policy.driver import default_engine
from engine.policy.rendered import Rendered

Item = tuple[str, int | None, str]
"""(source, line or None, text): one case as read from the input."""

Decided = list[tuple[int | None, tuple[Any, ...] | str]]
"""A worker's answer for a task: each case's line and its prepared fields (`Prepared(*fields)`, a plain tuple:
cheap to pass between processes, #14 measured attrs objects at several times the cost), or its refusal."""


Dictionaries = Mapping[str, tuple[int, str]]
"""The case book's decision dictionaries by rule set digest: (id, stored text) (engine.casebook.compact)."""


def decide_task(task: tuple[list[Item], bool, Dictionaries]) -> Decided:
    """Worker: `decide_chunk` of one (items, cache, dictionaries) task."""
    return decide_chunk(*task)


def decide_chunk(items: list[Item], cache: bool = True, dictionaries: Dictionaries | None = None) -> Decided:
    """Parse, validate, decide and prepare each case; a refusal becomes its message.

    A decision under a rule set the book has a dictionary for (`dictionaries`) is prepared in its compact stored
    form, packed here rather than by the process recording it (#14): a fifth of the bytes to pass back. Its
    case's inputs are packed here too, and passed back beside their text (which the book's keyed hash is of).

    The chunk goes through in passes, each over every case: read, then decided one rule set at a time (in
    input order within each), then the stored inputs and hashes, then packed; the answers come back in input
    order. A case decided after one of another rule set found durable_rules' tables and the class templates
    out of the processor's caches (#14: 158 -> 142 us a case in one process), and so did each step that
    followed another's for every case: packing right after deciding, in particular, put the dictionary's
    compression tables in their way (#14: the workers' CPU about 7% less in a two-worker batch). With `cache`,
    a case of a class already decided is rendered from that class's decision.
    """
    engine = default_engine()
    out: list[tuple[int | None, tuple[Any, ...] | str] | None] = [None] * len(items)
    read: list[tuple[str, int, Case]] = []
    for index, (source, line, text) in enumerate(items):
        try:
            if line is None:
                raw = read_case_file(Path(source))
            elif "\x00" in text:
                raise InputError("binary data, not JSON", source, line)
            else:
                raw = _parse_json(text, source, line)
            case = build_case(raw)
            read.append((engine.ruleset_for(case).digest, index, case))
        except InputError as exc:
            out[index] = (line, str(exc))
    read.sort(key=operator.itemgetter(0))  # stable: input order within each rule set
    decided: list[tuple[str, int, Case, Rendered]] = []
    for digest, grouped in itertools.groupby(read, key=operator.itemgetter(0)):
        group = list(grouped)
        cases = [case for _digest, _index, case in group]
        made = engine.render_all(cases, engine.ruleset_for(cases[0])) if cache else \
            [engine.render(case, cache=False) for case in cases]
        decided += [(digest, index, case, one) for (_digest, index, case), one in zip(group, made, strict=True)]
    prepared = [(digest, index, prepared_fields(case, rendered)) for digest, index, case, rendered in decided]
    packers = _packers(dictionaries or {})
    for digest, grouped_fields in itertools.groupby(prepared, key=operator.itemgetter(0)):
        group_fields = list(grouped_fields)
        packer = packers.get(digest)
        if packer is None:
            for _digest, index, fields in group_fields:
                out[index] = (items[index][1], fields)
            continue
        # each decision packed in place, its inputs' packed form added (Prepared.packed_inputs)
        count = len(group_fields)
        packed = packer.pack_all([fields[9] for _d, _i, fields in group_fields] +
                                 [fields[2] for _d, _i, fields in group_fields])
        for (_digest, index, fields), decision, inputs in zip(group_fields, packed[:count], packed[count:],
                                                               strict=True):
            out[index] = (items[index][1], (*fields[:9], decision, *fields[10:], inputs))
    answers: Decided = [answer for answer in out if answer is not None]
    if len(answers) != len(items):
        raise RuntimeError("a batch case was neither decided nor refused")
    return answers


def _packers(dictionaries: Dictionaries) -> dict[str, Packer]:
    """A packer for each dictionary (its compression tables are made once a process, engine.casebook.compact)."""
    return {digest: Packer(ident, digest, stored) for digest, (ident, stored) in dictionaries.items()}


def prepared_fields(case: Case, rendered: Rendered) -> tuple[Any, ...]:
    """A rendered decision ready to record: the fields, in order, of what `Prepared.of`
    (engine.casebook.records) makes of the same decision."""
    inputs = jsonfast.canonical(replay_inputs(case), nan_free=True)  # a validated case holds no NaN
    summary = rendered.summary
    return (case.case, case.nino, inputs, sha256_text(inputs), rendered.as_of, summary.edition, summary.ruleset,
            summary.priority, summary.outcomes, rendered.text, sha256_text(rendered.text), summary.announced, None)

"""The case model (CONTRACT.md case schema 1) as frozen attrs classes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import attrs

from engine.model.facts import INPUT_FACTS, Unknown

CASE_REF = re.compile(r"[A-Z0-9-]{1,32}", re.ASCII)
"""A case reference: 1-32 of A-Z, 0-9 and - (match with `fullmatch`)."""

PRIORITIES = ("urgent", "priority", "routine")
"""Decision priority levels, most pressing first."""


@attrs.frozen
class Expect:
    """What a scenario expects (checked by `pathways cases test`; never changes a decision)."""

    outcomes: tuple[str, ...] | None = None
    priority: str | None = None
    open: tuple[str, ...] | None = None


@attrs.frozen
class Case:
    """One validated case: the answers a decision is made from, by input-fact name.

    `answers` holds every input fact of the registry except `as_of`: defaults filled in, absent
    optional facts as None, and `unknown`/`declined` answers kept as given.
    """

    case: str
    as_of: dt.date
    answers: Mapping[str, Any]
    nino: str | None = None
    title: str | None = None
    narrative: str | None = None
    expect: Expect | None = None
    schema: int = 1

    def __getitem__(self, name: str) -> Any:
        """One input fact's value by dotted name (`as_of` included)."""
        return self.as_of if name == "as_of" else self.answers[name]

    @property
    def benefit(self) -> str:
        """The benefit claimed."""
        return str(self.answers["benefit"])

    @property
    def age(self) -> int:
        """The claimant's age."""
        return int(self.answers["claimant.age"])

    def inputs(self) -> dict[str, Any]:
        """The decision inputs as canonical JSON-ready data (no title, narrative or expect)."""
        return self._data(omit_absent=False)

    def _data(self, omit_absent: bool) -> dict[str, Any]:
        """The inputs as case-file data; with `omit_absent`, the absent values a case file leaves out are left out.

        Built in one pass over a plan made once (`_PLAN`): batch and replay make this for every case (#14).
        """
        answers = self.answers
        claimant: dict[str, Any] = {} if omit_absent and self.nino is None else {"nino": self.nino}
        data: dict[str, Any] = {"schema": self.schema, "case": self.case, "as_of": self.as_of.isoformat(),
                                "claimant": claimant}
        missed = bool(answers["missed_discussion"])
        for name, block, key, in_missed, omissible in _PLAN:
            if in_missed and not missed:
                continue
            value = answers[name]
            if value is None:
                if omit_absent and omissible:
                    continue
            elif type(value) is tuple:
                value = list(value)
            elif isinstance(value, Unknown):
                value = str(value)
            if block is None:
                data[key] = value
            else:
                target = data.get(block)
                if target is None:
                    target = data[block] = {}
                target[key] = value
        if missed and "missed_discussion" not in data:
            data["missed_discussion"] = {}
        return data

    def to_file_data(self) -> dict[str, Any]:
        """The whole case as case-file data (inputs without absent values, plus title, narrative, expect)."""
        data = self._data(omit_absent=True)
        if self.title is not None:
            data["title"] = self.title
        if self.narrative is not None:
            data["narrative"] = self.narrative
        if self.expect is not None:
            exp: dict[str, Any] = {}
            if self.expect.outcomes is not None:
                exp["outcomes"] = list(self.expect.outcomes)
            if self.expect.priority is not None:
                exp["priority"] = self.expect.priority
            if self.expect.open is not None:
                exp["open"] = list(self.expect.open)
            data["expect"] = exp
        return data


OMIT_WHEN_ABSENT = frozenset({"nino", "known_by", "youngest_age", "uc_group", "kind"})
"""Keys a case file leaves out rather than writing null (they are forbidden or pointless as null)."""


_PLAN: tuple[tuple[str, str | None, str, bool, bool], ...] = tuple(
    (spec.name, spec.path[0] if len(spec.path) == 2 else None, spec.path[-1], spec.block == "missed_discussion",
     spec.path[-1] in OMIT_WHEN_ABSENT)
    for spec in INPUT_FACTS.values() if spec.name != "as_of" and spec.kind != "flag")
"""Each input fact a case file holds: its name, block (None at the top level), key, whether it sits in the
`missed_discussion` block, and whether a case file leaves it out when absent."""

if any(len(spec.path) > 2 for spec in INPUT_FACTS.values()):  # pragma: no cover - the registry's shape
    raise RuntimeError("case facts are at most one block deep: engine.model.case._PLAN needs extending")


def input_values(case: Case) -> dict[str, Any]:
    """The rule inputs by dotted fact name, as the rules and questions name them."""
    return {"as_of": case.as_of, **case.answers}

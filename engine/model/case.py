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
        data: dict[str, Any] = {"schema": self.schema, "case": self.case, "as_of": self.as_of.isoformat(),
                                "claimant": {"nino": self.nino}}
        missed = bool(self.answers["missed_discussion"])
        for spec in INPUT_FACTS.values():
            if spec.name == "as_of" or spec.kind == "flag":
                continue
            if spec.block == "missed_discussion" and not missed:
                continue
            value = self.answers[spec.name]
            if isinstance(value, Unknown):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            target = data
            for part in spec.path[:-1]:
                target = target.setdefault(part, {})
            target[spec.path[-1]] = value
        if missed:
            data.setdefault("missed_discussion", {})
        return data

    def to_file_data(self) -> dict[str, Any]:
        """The whole case as case-file data (inputs without absent values, plus title, narrative, expect)."""
        data = _without_nulls(self.inputs(), OMIT_WHEN_ABSENT)
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


def _without_nulls(data: dict[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    """A nested mapping without the None values of `keys` (a case file leaves those out)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out[key] = _without_nulls(value, keys)
        elif value is not None or key not in keys:
            out[key] = value
    return out


def input_values(case: Case) -> dict[str, Any]:
    """The rule inputs by dotted fact name, as the rules and questions name them."""
    return {"as_of": case.as_of, **case.answers}

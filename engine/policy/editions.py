"""Editions (effective-dated rule sets) and benefit start dates, read from rules/editions.yaml."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import attrs
import yaml

from engine.errors import InputError, RuleFileError
from rules import RULES_DIR


@attrs.frozen
class Edition:
    """One edition: its id, title and the days it is in force (end None = still in force)."""

    id: str
    title: str
    start: dt.date
    end: dt.date | None
    summary: str = ""
    citation: str = ""
    status: str = "in_force"
    has_requirements: bool = False

    def in_force(self, day: dt.date) -> bool:
        """True when `day` falls within this edition."""
        return self.start <= day and (self.end is None or day <= self.end)

    def to_data(self) -> dict[str, Any]:
        """Canonical data for snapshots."""
        return {
            "id": self.id,
            "title": self.title,
            "from": self.start.isoformat(),
            "to": self.end.isoformat() if self.end else None,
            "summary": self.summary,
            "citation": self.citation,
            **({"status": self.status} if self.status != "in_force" else {}),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Edition:
        """Rebuild from `to_data` output."""
        return cls(
            id=data["id"],
            title=data["title"],
            start=dt.date.fromisoformat(data["from"]),
            end=dt.date.fromisoformat(data["to"]) if data["to"] else None,
            summary=data.get("summary", ""),
            citation=data.get("citation", ""),
            status=data.get("status", "in_force"),
        )


@attrs.frozen
class Calendar:
    """The editions in date order and the first day each benefit existed."""

    editions: tuple[Edition, ...]
    benefits_from: dict[str, dt.date]

    def first_day(self) -> dt.date:
        """The first day any edition is in force."""
        return self.editions[0].start

    def edition_for(self, day: dt.date) -> Edition:
        """The edition in force on `day` (InputError when none is)."""
        for edition in self.editions:
            if edition.in_force(day):
                return edition
        raise InputError(f"no edition is in force on {day.isoformat()}", key="as_of")

    def benefit_from(self, benefit: str) -> dt.date | None:
        """The first day `benefit` could be claimed, or None when always."""
        return self.benefits_from.get(benefit)

    def get(self, edition_id: str) -> Edition:
        """An edition by id."""
        for edition in self.editions:
            if edition.id == edition_id:
                return edition
        raise KeyError(edition_id)


def _date(value: Any, where: str) -> dt.date:
    """A YAML date, or a RuleFileError."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise RuleFileError(f"{where}: expected a date, got {value!r}")


STATUSES = ("announced", "in_force")
"""An edition's status: `announced` (never commenced: training and audit only) or `in_force`."""


def _status(value: Any, where: str) -> str:
    """An edition status, or a RuleFileError."""
    if value not in STATUSES:
        raise RuleFileError(f"{where}: expected one of {', '.join(STATUSES)}, got {value!r}")
    return str(value)


def _citation_text(item: dict[str, Any]) -> str:
    """An edition's citation as one line: its sources' ids and locators (or the old `citation` text)."""
    sources = item.get("sources")
    if isinstance(sources, list):
        return "; ".join(f"{s.get('source', '?')}, {s.get('locator', '')}".rstrip(", ") for s in sources
                         if isinstance(s, dict))
    return str(item.get("citation", ""))


def read_calendar(path: Path) -> Calendar:
    """Read an editions file into a Calendar."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except (OSError, yaml.YAMLError) as exc:
        raise RuleFileError(f"{path.name}: {exc}") from None
    editions = []
    for item in data.get("editions", []):
        end = item.get("to")
        editions.append(
            Edition(
                id=item["id"],
                title=item["title"],
                start=_date(item["from"], f"{path.name} {item['id']} from"),
                end=_date(end, f"{path.name} {item['id']} to") if end is not None else None,
                summary=item.get("summary", ""),
                citation=_citation_text(item),
                status=_status(item.get("status", "in_force"), f"{path.name} {item['id']} status"),
            )
        )
    editions.sort(key=lambda e: e.start)
    benefits = {
        name: _date(spec["from"], f"{path.name} benefits {name}")
        for name, spec in (data.get("benefits") or {}).items()
    }
    if not editions:
        raise RuleFileError(f"{path.name}: no editions")
    return Calendar(tuple(editions), benefits)


@functools.lru_cache(maxsize=4)
def load_calendar(rules_dir: Path = RULES_DIR) -> Calendar:
    """The calendar from the bundled rules (cached)."""
    return read_calendar(rules_dir / "editions.yaml")

"""Every rule is sourced from the bibliography in rules/sources.yaml, and every seed quote is verbatim.

These tests read the rule files as plain YAML (no engine), so they hold whatever the engine does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
SEEDS = ROOT.parent / "shared" / "seeds"

SEED_FILES = {
    "nta-2008-strategy-comment": "000_",
    "home-office-2008-release": "001_",
    "smmgp-2008-policy-update": "002_",
    "ddn-2017-strategy-article": "003_",
    "pac-2010-tackling-problem-drug-use": "004_",
}
"""Each seed source id and the name prefix of its file in ../shared/seeds."""

KINDS = {"seed", "legislation", "guidance", "press", "parliament", "report", "other"}
BASES = {"fact", "model"}
CITATION_KEYS = {"source", "locator", "quote", "basis"}
INTERNAL = ("policy.md", "domain.md", "contract.md", "seed 00")


def load(name: str) -> Any:
    return yaml.safe_load((RULES / name).read_text(encoding="utf-8"))


def sources() -> dict[str, dict[str, Any]]:
    return load("sources.yaml")["sources"]


def rules() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every rule in every rule file, with the file it is in."""
    for path in sorted(RULES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in data.get("rules") or ():
            yield path.name, rule


def sourced_items() -> Iterator[tuple[str, dict[str, Any]]]:
    """Everything that must cite sources: each rule, each edition and each benefit start date."""
    for name, rule in rules():
        yield f"{name} rule {rule.get('id')}", rule
    editions = load("editions.yaml")
    for edition in editions["editions"]:
        yield f"editions.yaml edition {edition['id']}", edition
    for benefit, spec in editions["benefits"].items():
        yield f"editions.yaml benefit {benefit}", spec


def citations() -> Iterator[tuple[str, dict[str, Any]]]:
    for where, item in sourced_items():
        for citation in item.get("sources") or ():
            yield where, citation


def squash(text: str) -> str:
    return " ".join(text.split())


def test_there_are_rules_to_check() -> None:
    assert sum(1 for _ in rules()) > 30


def test_every_source_entry_is_complete() -> None:
    for sid, entry in sources().items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", sid), f"{sid}: ids are kebab-case"
        assert isinstance(entry.get("title"), str) and entry["title"].strip(), f"{sid}: no title"
        assert isinstance(entry.get("publisher"), str) and entry["publisher"].strip(), f"{sid}: no publisher"
        assert isinstance(entry.get("date"), (dt.date, str)), f"{sid}: date must be a date or text"
        assert entry.get("kind") in KINDS, f"{sid}: kind {entry.get('kind')!r}"
        if "url" in entry:
            assert str(entry["url"]).startswith(("https://", "http://")), f"{sid}: url"
        assert set(entry) <= {"title", "publisher", "date", "url", "kind"}, f"{sid}: unknown keys"


def test_seed_entries_match_the_seed_files_mapping() -> None:
    seeds = {sid for sid, entry in sources().items() if entry["kind"] == "seed"}
    assert seeds == set(SEED_FILES)


def test_every_rule_edition_and_benefit_has_a_source() -> None:
    for where, item in sourced_items():
        assert isinstance(item.get("sources"), list) and item["sources"], f"{where}: no sources"


def test_no_v1_citation_strings_remain() -> None:
    for where, item in sourced_items():
        assert "citation" not in item, f"{where}: 'citation' is replaced by 'sources'"


def test_every_citation_resolves_and_is_well_formed() -> None:
    known = sources()
    for where, citation in citations():
        assert isinstance(citation, dict), f"{where}: a citation is a mapping"
        assert set(citation) <= CITATION_KEYS, f"{where}: unknown keys {set(citation) - CITATION_KEYS}"
        assert citation.get("source") in known, f"{where}: unknown source {citation.get('source')!r}"
        assert isinstance(citation.get("locator"), str) and citation["locator"].strip(), f"{where}: no locator"
        assert citation.get("basis") in BASES, f"{where}: basis {citation.get('basis')!r}"
        if "quote" in citation:
            assert isinstance(citation["quote"], str) and citation["quote"].strip(), f"{where}: empty quote"


def test_no_rule_file_names_an_internal_document() -> None:
    for path in sorted(RULES.iterdir()):
        if path.is_file() and path.suffix in (".yaml", ".py"):
            text = path.read_text(encoding="utf-8").lower()
            for name in INTERNAL:
                assert name not in text, f"{path.name} mentions {name!r}"


def test_seed_quotes_are_verbatim() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"the seed documents are not beside the project ({SEEDS} is absent)")
    texts = {}
    for sid, prefix in SEED_FILES.items():
        (path,) = sorted(SEEDS.glob(f"{prefix}*.txt"))
        texts[sid] = squash(path.read_text(encoding="utf-8"))
    checked = 0
    for where, citation in citations():
        sid = citation["source"]
        if sid in texts and "quote" in citation:
            assert squash(citation["quote"]) in texts[sid], f"{where}: quote not in {sid}: {citation['quote']!r}"
            checked += 1
    assert checked >= 20


def test_known_corrections_hold() -> None:
    """The errors found in v1's citations stay fixed."""
    by_source: dict[str, list[dict[str, Any]]] = {}
    for _, citation in citations():
        by_source.setdefault(citation["source"], []).append(citation)
    for citation in by_source["smmgp-2008-policy-update"]:
        assert "Treatment and benefits" not in citation["locator"]
    for citation in by_source["home-office-2008-release"]:
        assert "public information" not in citation.get("quote", "").lower()
    for citation in by_source["ddn-2017-strategy-article"]:
        words = (citation["locator"] + " " + citation.get("quote", "")).lower()
        for word in ("jobcentre", "benefit", "universal credit"):
            assert word not in words, f"the DDN article says nothing of {word}: {citation}"

"""Shared fixtures: a case book with recorded scenario decisions."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from cases import CASES_DIR
from engine.casebook.book import CaseBook
from engine.intake.scenarios import iter_cases
from engine.policy.driver import default_engine

# Every book a test makes writes its pseudonym key file (and `audit verify` its verification mark) here, never
# into the user's config or state folder; subprocesses inherit it. Both go when the test run ends (test books'
# keys are secrets too, and every run left two folders behind).
for _variable, _prefix in (("PATHWAYS_KEY_DIR", "pathways-test-keys-"), ("PATHWAYS_STATE_DIR", "pathways-test-state-")):
    os.environ[_variable] = tempfile.mkdtemp(prefix=_prefix)
    atexit.register(shutil.rmtree, os.environ[_variable], ignore_errors=True)


def record_scenarios(book: CaseBook, limit: int | None = None) -> list[int]:
    engine = default_engine()
    ids = []
    for case in list(iter_cases(CASES_DIR))[:limit]:
        ruleset = engine.ruleset_for(case)
        ids.append(book.record(case, engine.decide(case, ruleset), ruleset, "T1"))
    return ids


@pytest.fixture
def training_book(tmp_path: Path):
    book = CaseBook(tmp_path / "books" / "training.db", training=True)
    record_scenarios(book)
    yield book
    book.close()

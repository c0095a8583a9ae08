"""Replay: recorded decisions re-decided under their own rule set match; today's rules may differ."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hypothesis import given, settings

from engine.casebook.book import CaseBook
from engine.casebook.replay import INPUTS_ALTERED, MATCH, MISMATCH, UNKNOWN_RULESET, Replayer
from engine.policy.driver import Engine
from engine.policy.rulebook import RuleSet, load_book, read_book
from rules import RULES_DIR
from tests.helpers import edit_inputs, run_main
from tests.strategies import cases


def test_snapshots_round_trip_to_the_same_hash() -> None:
    for ruleset in load_book().all_rulesets():
        rebuilt = RuleSet.from_snapshot(json.loads(ruleset.canonical))
        assert rebuilt.digest == ruleset.digest
        assert rebuilt.canonical == ruleset.canonical


def test_every_recorded_scenario_replays_to_match(training_book: CaseBook, capsys) -> None:
    result = run_main(capsys, "replay", "--db", str(training_book.path), "--all", "--json")
    statuses = [json.loads(line)["status"] for line in result.out.splitlines()]
    assert result.code == 0
    assert statuses and set(statuses) == {MATCH}


@settings(max_examples=60, deadline=None)
@given(cases())
def test_generated_cases_replay_to_match(tmp_path_factory, case) -> None:
    engine = Engine()
    path = tmp_path_factory.mktemp("replay") / "b.db"
    with CaseBook(path, training=True) as book:
        ruleset = engine.ruleset_for(case)
        decision_id = book.record(case, engine.decide(case, ruleset), ruleset, "T1")
        assert Replayer(book, engine).replay(decision_id).status == MATCH
    engine.close()


def test_replay_after_a_rule_change(tmp_path: Path, capsys) -> None:
    old_rules = tmp_path / "old-rules"
    shutil.copytree(RULES_DIR, old_rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = old_rules / "families.yaml"
    # The old rules gave parent priority only with dependent children (pregnancy did not count).
    text = path.read_text()
    path.write_text(text.replace("          - children.pregnant: true\n", "          - children.dependants: {gte: 2}\n"))
    derived = old_rules / "derived.yaml"
    derived.write_text(derived.read_text().replace("          - children.pregnant: true\n",
                                                   "          - children.dependants: {gte: 2}\n"))
    old_engine = Engine(read_book(old_rules))
    db = tmp_path / "book.db"
    from cases import CASES_DIR
    from engine.intake.scenarios import iter_cases
    with CaseBook(db, training=True) as book:
        for case in iter_cases(CASES_DIR):
            ruleset = old_engine.ruleset_for(case)
            book.record(case, old_engine.decide(case, ruleset), ruleset, "T1")
    result = run_main(capsys, "replay", "--db", str(db), "--all", "--json")
    assert result.code == 0, "recorded rule sets are replayed from their snapshots"
    assert {json.loads(line)["status"] for line in result.out.splitlines()} == {MATCH}
    current = run_main(capsys, "replay", "--db", str(db), "--all", "--under", "current", "--json")
    rows = [json.loads(line) for line in current.out.splitlines()]
    changed = [r for r in rows if r["status"] == MISMATCH]
    assert current.code == 1 and changed
    pregnant = next(r for r in rows if r["case"] == "TRN-0030")
    assert pregnant["status"] == MISMATCH and any("PARENT_PRIORITY" in d for d in pregnant["differences"])


def test_statuses_for_altered_inputs_and_missing_rule_sets(training_book: CaseBook) -> None:
    from tests.test_tamper import drop_triggers

    conn = training_book.conn
    drop_triggers(conn)
    conn.execute("PRAGMA foreign_keys=OFF")
    assert edit_inputs(conn, 1, '"jsa"', '"uc"')
    digest = conn.execute("SELECT ruleset FROM decisions WHERE id = 2").fetchone()[0]
    conn.execute("DELETE FROM rulesets WHERE digest = ?", (digest,))
    replayer = Replayer(training_book)
    assert replayer.replay(1).status == INPUTS_ALTERED
    assert replayer.replay(2).status == UNKNOWN_RULESET


def test_replay_needs_decision_or_all(training_book: CaseBook, capsys) -> None:
    result = run_main(capsys, "replay", "--db", str(training_book.path))
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert run_main(capsys, "replay", "--db", str(training_book.path), "--decision", "1").code == 0
    result = run_main(capsys, "replay", "--db", str(training_book.path), "--decision", "99999")
    assert result.code == 2 and "no decision 99999" in result.err

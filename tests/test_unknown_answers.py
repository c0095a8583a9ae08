"""Unknown and declined answers end to end: recorded as given, replayed, exported (POLICY.md v2)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import CASES, run_main


def test_unknown_answers_are_recorded_as_given_and_replay_matches(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    (declined,) = CASES.glob("092-*.yaml")  # children declined, rough sleeping
    (unknown,) = CASES.glob("086-*.yaml")   # housing consent unknown
    for path in (declined, unknown):
        assert run_main(capsys, "record", str(path), "--db", str(db), "--training").code == 0
    replay = run_main(capsys, "replay", "--db", str(db), "--all", "--json")
    assert replay.code == 0, replay.out + replay.err
    assert all(json.loads(line)["status"] == "MATCH" for line in replay.out.splitlines())
    import sqlite3
    conn = sqlite3.connect(db)
    from engine.casebook.compact import expand

    inputs = [json.loads(expand(conn, row[0])) for row in conn.execute("SELECT inputs FROM cases ORDER BY id")]
    conn.close()
    assert inputs[0]["children"]["dependants"] == "declined"
    assert inputs[1]["consent"]["housing_advice"] == "unknown"


def test_open_outcomes_are_listed_apart_and_never_applied(capsys) -> None:
    (path,) = CASES.glob("086-*.yaml")
    data = json.loads(run_main(capsys, "evaluate", str(path), "--json").out)
    open_codes = [o["code"] for o in data["open"]]
    assert open_codes == ["REFER_HOUSING_ADVICE", "SIGNPOST_HOUSING_ADVICE"]
    assert not set(open_codes) & {o["code"] for o in data["outcomes"]}
    assert all(o["needs"] == ["consent.housing_advice"] for o in data["open"])
    shown = run_main(capsys, "evaluate", str(path)).out
    assert "Open: these may apply" in shown and "consent.housing_advice" in shown


def test_unknown_is_refused_where_the_contract_forbids_it(tmp_path: Path, capsys) -> None:
    (path,) = CASES.glob("086-*.yaml")
    text = path.read_text(encoding="utf-8")
    for old, new, key in (("benefit: uc", "benefit: unknown", "benefit"),
                          ("  age: 33", "  age: declined", "claimant.age")):
        assert old in text
        bad = tmp_path / f"bad-{key}.yaml"
        bad.write_text(text.replace(old, new, 1), encoding="utf-8")
        result = run_main(capsys, "evaluate", str(bad))
        assert result.code == 2 and key in result.err, result.err

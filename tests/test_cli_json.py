"""The command line for scripts (#16): --json on writing commands, fixed choices, `cases test` -k and --verbose."""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

from tests.helpers import CASES, run_main

IN_FORCE = next(CASES.glob("039-*.yaml"))  # 2010: four outcomes, two of them referrals


def test_batch_erase_retain_and_anchor_answer_in_json(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "book.db")
    caseload = tmp_path / "caseload.jsonl"
    assert run_main(capsys, "cases", "generate", "4", "-o", str(caseload)).code == 0
    batch = run_main(capsys, "batch", str(caseload), "--db", db, "--workers", "1", "--quiet", "--json")
    summary = json.loads(batch.out)
    assert batch.code == 0 and summary["decided"] == summary["recorded"] == 4 and summary["refused"] == 0
    assert not summary["interrupted"] and summary["last_line"] == 4
    again = json.loads(run_main(capsys, "batch", str(caseload), "--db", db, "--workers", "1", "--json").out)
    assert (again["recorded"], again["already"]) == (0, 4)
    anchor = json.loads(run_main(capsys, "audit", "anchor", "--db", db, "--json").out)
    assert set(anchor) == {"seq", "hash"}
    erased = run_main(capsys, "erase", "SYN-00000001", "--db", db, "--yes", "--json")
    assert erased.code == 0 and json.loads(erased.out) == {"case": "SYN-00000001", "decisions_erased": 1,
                                                                "scrubbed": True}
    retained = json.loads(run_main(capsys, "retain", "--older-than", "1d", "--db", db, "--yes", "--json").out)
    assert retained["decisions_erased"] == 0 and retained["before"][:4].isdigit()
    assert run_main(capsys, "audit", "verify", "--db", db).code == 0


def test_referral_status_is_a_fixed_choice(tmp_path: Path, capsys) -> None:
    from engine.casebook.referrals import REFERRAL_STATUSES
    from engine.cli.book import UPDATE_STATUSES

    assert set(UPDATE_STATUSES) == set(REFERRAL_STATUSES) - {"proposed"}
    db = str(tmp_path / "book.db")
    assert run_main(capsys, "record", str(IN_FORCE), "--db", db, "--training").code == 0
    assert run_main(capsys, "referral", "add", "1", "REFER_HOUSING_ADVICE", "--provider", "Shelter", "--db", db).code == 0
    result = run_main(capsys, "referral", "update", "1", "atended", "--db", db)
    assert result.code == 2 and len(result.err.splitlines()) == 1
    assert "'atended' is not one of 'booked', 'attended', 'did_not_attend', 'declined', 'closed'" in result.err


def test_cases_test_with_nothing_to_test_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_main(capsys, "cases", "test", str(empty))
    assert (result.code, result.out) == (2, "") and result.err == f"pathways: nothing to test: no case files in {empty}\n"
    unexpected = tmp_path / "no-expect"
    unexpected.mkdir()
    data = yaml.safe_load(IN_FORCE.read_text())
    del data["expect"]
    (unexpected / "a.yaml").write_text(yaml.safe_dump(data))
    result = run_main(capsys, "cases", "test", str(unexpected))
    assert result.code == 2 and "none of the 1 case(s)" in result.err and len(result.err.splitlines()) == 1
    result = run_main(capsys, "cases", "test", "-k", "no-such-case")
    assert result.code == 2 and "matches -k no-such-case" in result.err


def test_cases_test_k_selects_by_reference_file_name_or_title(capsys) -> None:
    def picked(*args: str) -> list[str]:
        result = run_main(capsys, "cases", "test", *args, "--json")
        assert result.code == 0, result.err
        return [json.loads(line)["case"] for line in result.out.splitlines()]

    assert picked("-k", "TRN-0039") == ["TRN-0039"]
    assert picked("-k", "toddler-temporary") == ["TRN-0039"]             # the file name
    assert picked("-k", "KINSHIP") == ["TRN-0009", "TRN-0053", "TRN-0056"]   # titles, any case
    assert picked("-k", "TRN-00[12]?") == [f"TRN-00{n}" for n in range(10, 30)]  # a glob on the reference


def test_verbose_prints_the_trace_of_a_failing_case_without_control_characters(tmp_path: Path, capsys) -> None:
    data = yaml.safe_load(IN_FORCE.read_text())
    data["title"] = "Wrong \x1b[31mexpectation\x1b]0;owned\x07"
    data["expect"]["outcomes"] = ["PARENT_PRIORITY"]
    (tmp_path / "wrong.yaml").write_text(yaml.safe_dump(data))
    result = run_main(capsys, "cases", "test", str(tmp_path), "--verbose")
    assert result.code == 1
    assert "trace (" in result.out and "refer-housing-advice -> REFER_HOUSING_ADVICE" in result.out
    assert "\x1b" not in result.out and "\x07" not in result.out
    quiet = run_main(capsys, "cases", "test", str(tmp_path))
    assert quiet.code == 1 and "trace" not in quiet.out
    (line,) = run_main(capsys, "cases", "test", str(tmp_path), "-v", "--json").out.splitlines()
    assert "\x1b" not in line and json.loads(line)["trace"][0]["rule"] == "derive-problem-drug-user"


NOT_JSON = {"letter", "export", "rules book", "datasette-metadata", "cases generate", "tui", "serve",
            "audit checkpoint"}
"""Commands without --json: their output is a document in a chosen --format, JSON itself, or the UI."""


def test_every_other_command_offers_json() -> None:
    from engine.cli.main import build

    def walk(command: click.Command, prefix: tuple[str, ...]):
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(sub, (*prefix, name))
        else:
            yield " ".join(prefix), {o for p in command.params for o in getattr(p, "opts", [])}

    commands = dict(walk(build(), ()))
    assert set(commands) >= NOT_JSON
    lacking = sorted(name for name, opts in commands.items() if "--json" not in opts and name not in NOT_JSON)
    assert lacking == []


def test_record_and_referrals_print_json_when_asked(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "book.db")
    recorded = run_main(capsys, "record", str(IN_FORCE), "--db", db, "--training", "--json")
    assert json.loads(recorded.out) == {"decision": 1, "case": "TRN-0039"}
    added = run_main(capsys, "referral", "add", "1", "REFER_HOUSING_ADVICE", "--provider", "Shelter", "--db", db, "--json")
    assert json.loads(added.out) == {"referral": 1, "decision": 1, "code": "REFER_HOUSING_ADVICE"}
    updated = run_main(capsys, "referral", "update", "1", "declined", "--db", db, "--json")
    assert json.loads(updated.out) == {"referral": 1, "status": "declined"}


def test_key_commands_and_scrub_print_json_when_asked(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "book.db")
    run_main(capsys, "record", str(IN_FORCE), "--db", db, "--training")
    made = json.loads(run_main(capsys, "audit", "keygen", "-o", str(tmp_path / "dp.key"), "--json").out)
    assert made["private"].endswith("dp.key") and made["public"].endswith("dp.key.pub") and made["key"]
    registered = json.loads(run_main(capsys, "audit", "register-key", "--key", str(tmp_path / "dp.key"),
                                     "--db", db, "--json").out)
    assert registered == {"key": made["key"], "event": registered["event"]} and registered["event"] > 1
    assert json.loads(run_main(capsys, "scrub", "--db", db, "--json").out) == {"scrubbed": True}

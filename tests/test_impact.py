"""`pathways impact`: counts that agree with deciding each case under each edition independently."""

from __future__ import annotations

import collections
import json
from pathlib import Path

from cases import CASES_DIR
from engine.intake.scenarios import iter_cases
from engine.model.case import input_values
from engine.policy.explain import evaluate
from engine.policy.rulebook import load_book
from tests.chromium import dump_dom, print_pdf
from tests.helpers import CASES, run_main

BOOK = load_book()


def expected(old: str, new: str) -> tuple[int, dict[str, dict[str, int]], dict[str, tuple[list[str], list[str]]]]:
    """The impact worked out case by case with the three-valued evaluator, each edition's rules on the case."""
    gained: collections.Counter[str] = collections.Counter()
    lost: collections.Counter[str] = collections.Counter()
    changes = {}
    total = 0
    for case in iter_cases(CASES_DIR):
        total += 1
        values = input_values(case)
        before = set(evaluate(BOOK.ruleset(old), values).applies())
        after = set(evaluate(BOOK.ruleset(new), values).applies())
        if before != after:
            changes[case.case] = (sorted(after - before), sorted(before - after))
            gained.update(after - before)
            lost.update(before - after)
    codes = sorted(set(gained) | set(lost))
    return total, {c: {"gained": gained[c], "lost": lost[c]} for c in codes}, changes


def test_impact_of_the_voluntary_scheme_on_the_scenarios(capsys) -> None:
    result = run_main(capsys, "impact", str(CASES_DIR), "--from", "2008-announced", "--to", "2009-voluntary", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    total, outcomes, changes = expected("2008-announced", "2009-voluntary")
    assert (report["from"], report["to"], report["cases"]) == ("2008-announced", "2009-voluntary", total)
    assert report["outcomes"] == outcomes
    assert report["changed"] == len(changes) == len(report["changes"])
    assert {c["case"]: (c["gained"], c["lost"]) for c in report["changes"]} == changes
    assert report["outcomes"]["JSD_TREATMENT_DISCUSSION"]["lost"] > 0
    assert report["requirements"]["lost"] == sum(1 for g, lost in changes.values()
                                                 if {"JSD_TREATMENT_DISCUSSION", "WFI_TREATMENT_DISCUSSION"} & set(lost))


def test_readable_output_and_a_single_case_file(capsys) -> None:
    result = run_main(capsys, "impact", str(CASES / "001-jsa-heroin-toddlers-nfa.yaml"), "--from", "2008-announced",
                      "--to", "2017-recovery")
    assert result.code == 0
    assert result.out.startswith("From 2008-announced to 2017-recovery: 1 of 1 cases change.")
    assert "TRN-0001: gains VOLUNTARY_TREATMENT_REFERRAL; loses JSD_TREATMENT_DISCUSSION" in result.out


def test_a_bad_line_is_reported_and_the_rest_decided(capsys, tmp_path: Path) -> None:
    good = json.dumps({"schema": 1, "case": "X-1", "as_of": "2008-06-02", "claimant": {"age": 30}, "benefit": "jsa",
                       "drugs": {"substances": ["heroin"], "known_by": "self_disclosure"}})
    lines = tmp_path / "caseload.jsonl"
    lines.write_text(good + "\n" + '{"schema": 1, "case": "X-2"}\n' + good.replace("X-1", "X-3") + "\n", encoding="utf-8")
    result = run_main(capsys, "impact", str(lines), "--from", "2008-announced", "--to", "2009-voluntary", "--json",
                      "--quiet")
    assert result.code == 2
    assert "caseload.jsonl:2" in result.err and "1 case(s) refused" in result.err
    report = json.loads(result.out)
    assert report["cases"] == 2 and report["refused"] == 1 and [c["case"] for c in report["changes"]] == ["X-1", "X-3"]


def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path: Path) -> None:
    result = run_main(capsys, "impact", str(CASES_DIR), "--from", "2008-announced", "--to", "2030-future")
    assert result.code == 2 and "no edition 2030-future" in result.err and not result.out
    result = run_main(capsys, "impact", str(tmp_path / "missing"), "--from", "2008-announced", "--to", "2009-voluntary")
    assert result.code == 2 and "no such file or folder" in result.err


def test_the_html_report_renders_its_chart_in_chromium(capsys, tmp_path: Path) -> None:
    page = tmp_path / "impact.html"
    result = run_main(capsys, "impact", str(CASES_DIR), "--from", "2008-announced", "--to", "2009-voluntary",
                      "--html", str(page), "--quiet")
    assert result.code == 0, result.err
    assert oct(page.stat().st_mode & 0o777) == "0o600"
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and text.count("<svg") == 1
    dom = dump_dom(page)
    assert "<svg" in dom and "JSD_TREATMENT_DISCUSSION" in dom.split("<svg", 1)[1]
    assert "cases gaining it" in dom and "TRN-0001" in dom
    assert print_pdf(page, tmp_path / "impact.pdf").startswith(b"%PDF-")
    again = run_main(capsys, "impact", str(CASES_DIR), "--from", "2008-announced", "--to", "2009-voluntary",
                     "--html", str(page), "--quiet")
    assert again.code == 2 and "already exists" in again.err


def test_impact_over_a_case_book_counts_what_its_files_count_and_changes_nothing(tmp_path, capsys) -> None:
    """`impact --db` reads the answers recorded in a book: the same counts as the case files, the book untouched."""
    import json as _json

    from tests.helpers import CASES, run_main

    db = tmp_path / "book.db"
    assert run_main(capsys, "batch", str(CASES), "--db", str(db), "--training", "--quiet").code == 0
    before = db.read_bytes()
    from_book = run_main(capsys, "impact", "--db", str(db), "--from", "2008-announced", "--to", "2009-voluntary",
                         "--json", "--quiet")
    from_files = run_main(capsys, "impact", str(CASES), "--from", "2008-announced", "--to", "2009-voluntary",
                          "--json", "--quiet")
    assert from_book.code == from_files.code == 0, from_book.err
    book, files = _json.loads(from_book.out), _json.loads(from_files.out)
    assert (book["cases"], book["changed"], book["outcomes"]) == (files["cases"], files["changed"], files["outcomes"])
    assert db.read_bytes() == before
    both = run_main(capsys, "impact", str(CASES), "--db", str(db), "--from", "2008-announced", "--to", "2009-voluntary")
    assert both.code == 2 and "not both" in both.err

"""`-` for standard input and output (#16): cases flow through a shell pipeline as through files."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import CASES, ROOT, run_main

PATHWAYS = [sys.executable, "-c", "from engine.cli import main; main()"]
CASE1 = CASES / "001-jsa-heroin-toddlers-nfa.yaml"


def feed(monkeypatch, data: bytes) -> None:
    """Make `data` this process's standard input (as a pipe would)."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_generate_piped_into_evaluate_decides_every_case() -> None:
    """`pathways cases generate 5 -o - | pathways evaluate - --json`, as a shell runs it."""
    producer = subprocess.Popen([*PATHWAYS, "cases", "generate", "5", "-o", "-"], cwd=ROOT, stdout=subprocess.PIPE)
    consumer = subprocess.run([*PATHWAYS, "evaluate", "-", "--json"], cwd=ROOT, stdin=producer.stdout,
                              capture_output=True, text=True, timeout=120)
    producer.stdout.close()
    assert producer.wait(timeout=60) == 0
    assert consumer.returncode == 0, consumer.stderr
    decisions = [json.loads(line) for line in consumer.stdout.splitlines()]
    assert [d["case"] for d in decisions] == [f"SYN-0000000{i}" for i in range(1, 6)]
    assert all(d["schema"] == 1 and d["ruleset"].startswith("sha256:") for d in decisions)
    assert not (ROOT / "-").exists()


def test_evaluate_reads_one_yaml_or_json_case_from_standard_input(monkeypatch, capsys) -> None:
    from_file = json.loads(run_main(capsys, "evaluate", str(CASE1), "--json").out)
    feed(monkeypatch, CASE1.read_bytes())
    assert json.loads(run_main(capsys, "evaluate", "-", "--json").out) == from_file
    import yaml
    feed(monkeypatch, json.dumps(yaml.safe_load(CASE1.read_text()), default=str, indent=2).encode())
    assert json.loads(run_main(capsys, "evaluate", "-", "--json").out) == from_file


@pytest.mark.parametrize(("data", "message"), [
    (b"", "pathways: <stdin>: is empty"),
    (b"schema: 1\ncase: TRN-0001\nas_of: 2008-06-02\nclaimant: {age: 200}\nbenefit: jsa\n", "pathways: <stdin>:4: claimant.age"),
])
def test_a_refused_case_on_standard_input_is_one_line(monkeypatch, capsys, data: bytes, message: str) -> None:
    feed(monkeypatch, data)
    result = run_main(capsys, "evaluate", "-")
    assert result.code == 2 and result.err.startswith(message) and len(result.err.splitlines()) == 1, result.err


def test_bad_lines_on_standard_input_are_reported_by_line(monkeypatch, capsys) -> None:
    generated = run_main(capsys, "cases", "generate", "3", "-o", "-").out.splitlines()
    feed(monkeypatch, "\n".join([generated[0], '{"schema": 1}', generated[2]]).encode())
    result = run_main(capsys, "evaluate", "-", "--json")
    assert result.code == 2 and len(result.out.splitlines()) == 2
    assert "pathways: <stdin>:2: missing required key" in result.err


def test_batch_records_json_lines_from_standard_input(tmp_path: Path, monkeypatch, capsys) -> None:
    db = str(tmp_path / "book.db")
    feed(monkeypatch, run_main(capsys, "cases", "generate", "6", "-o", "-").out.encode())
    result = run_main(capsys, "batch", "-", "--db", db, "--workers", "1", "--quiet")
    assert result.code == 0 and "recorded 6" in result.out, result.err
    assert run_main(capsys, "replay", "--all", "--db", db).code == 0


def test_cases_test_reads_standard_input(monkeypatch, capsys) -> None:
    feed(monkeypatch, CASE1.read_bytes())
    result = run_main(capsys, "cases", "test", "-")
    assert result.code == 0 and result.out.startswith("PASS TRN-0001"), result.out + result.err


def test_bare_pathways_without_a_terminal_prints_usage_and_exits_2() -> None:
    """In a script or a pipe there is no terminal for the UI: usage on standard error, exit 2, no hang."""
    proc = subprocess.run(PATHWAYS, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("Usage: pathways [OPTIONS] [COMMAND] [ARGS]...")

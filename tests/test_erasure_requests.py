"""Erasure that really erases (#15 item 6): by NINO under every case reference, reasons from a list, and an
honest report when a reader keeps the data in the file."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

from engine.casebook import erasure
from engine.casebook.book import CaseBook
from tests.helpers import CASES, run_main
from tests.live_books import file_bytes

NINO = "QQ987654D"


def same_nino_cases(tmp_path: Path) -> list[Path]:
    """Two case files for one claimant under different references, and one for somebody else."""
    text = (CASES / "001-jsa-heroin-toddlers-nfa.yaml").read_text()
    import re

    out = []
    for ref, nino in (("ONE-1", NINO), ("ONE-2", NINO), ("OTHER-1", "QQ111111A")):
        path = tmp_path / f"{ref}.yaml"
        path.write_text(re.sub(r"nino: QQ[0-9]{6}[A-D]", f"nino: {nino}", text.replace("case: TRN-0001",
                                                                                          f"case: {ref}")))
        out.append(path)
    return out


@pytest.fixture
def book_path(tmp_path: Path, capsys) -> Path:
    db = tmp_path / "t.db"
    for case in same_nino_cases(tmp_path):
        assert run_main(capsys, "record", str(case), "--db", str(db), "--training", "--reasonable").code == 0
    return db


def test_erasure_by_nino_removes_it_under_every_case_reference(book_path: Path, tmp_path: Path, capsys) -> None:
    request = tmp_path / "request.txt"
    request.write_text(NINO.lower() + "\n")
    result = run_main(capsys, "erase", "--nino-from", str(request), "--db", str(book_path), "--yes", "--json",
                      "--reference", "DSAR-2024-7")
    assert result.code == 0, result.err
    assert json.loads(result.out)["decisions_erased"] == 2 and NINO not in result.out + result.err
    assert NINO.encode() not in file_bytes(book_path)
    assert b"ONE-1" not in file_bytes(book_path) and b"ONE-2" not in file_bytes(book_path)
    with CaseBook(book_path) as book:
        assert [d.ref for d in book.decisions()] == ["OTHER-1"]
        assert book.verify()[1] == []
        body = json.loads(book.conn.execute("SELECT body FROM audit ORDER BY seq DESC LIMIT 1").fetchone()[0])
    assert body["reason"] == "erasure_request" and body["reference"] == "DSAR-2024-7"
    assert body["nino_key"] != NINO and NINO not in json.dumps(body)


def test_erasure_by_nino_reads_standard_input_and_refuses_a_non_nino(book_path: Path, capsys,
                                                                     monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(NINO + "\n"))
    assert run_main(capsys, "erase", "--nino-from", "-", "--db", str(book_path), "--yes").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("not a nino\n"))
    refused = run_main(capsys, "erase", "--nino-from", "-", "--db", str(book_path), "--yes")
    assert refused.code == 2 and "not a nino" not in refused.err
    assert run_main(capsys, "erase", "ONE-1", "--nino-from", "-", "--db", str(book_path), "--yes").code == 2
    assert run_main(capsys, "erase", "--nino-from", "-", "--db", str(book_path)).code == 2  # needs --yes


def test_reasons_come_from_a_list_and_references_never_name_the_person(book_path: Path, capsys) -> None:
    free = run_main(capsys, "erase", "ONE-1", "--db", str(book_path), "--yes", "--reason", "asked by Mrs Smith")
    assert free.code == 2 and "erasure_request" in free.err
    nino_ref = run_main(capsys, "erase", "ONE-1", "--db", str(book_path), "--yes", "--reference", "AB123456C")
    assert nino_ref.code == 2 and "not the person" in nino_ref.err
    spaced = run_main(capsys, "erase", "ONE-1", "--db", str(book_path), "--yes", "--reference", "Mrs Smith")
    assert spaced.code == 2
    assert run_main(capsys, "retain", "--older-than", "1d", "--db", str(book_path), "--yes",
                    "--reason", "because").code == 2
    ok = run_main(capsys, "erase", "ONE-1", "--db", str(book_path), "--yes", "--reason", "recorded_in_error")
    assert ok.code == 0
    conn = sqlite3.connect(book_path)
    body = json.loads(conn.execute("SELECT body FROM audit ORDER BY seq DESC LIMIT 1").fetchone()[0])
    conn.close()
    assert body["reason"] == "recorded_in_error" and "reference" not in body


def test_with_a_reader_holding_the_book_erase_says_it_is_not_yet_scrubbed(book_path: Path, capsys,
                                                                          monkeypatch) -> None:
    monkeypatch.setattr(erasure, "SCRUB_WAIT_MS", 300)
    reader = sqlite3.connect(book_path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT COUNT(*) FROM claimants").fetchone()[0] == 3  # a snapshot held open
    try:
        result = run_main(capsys, "erase", "ONE-1", "--db", str(book_path), "--yes")
        assert result.code == 1 and "not yet scrubbed from the file" in result.err
        assert b"ONE-1" in file_bytes(book_path)  # the report was honest: the erased case is still in the file
        assert run_main(capsys, "scrub", "--db", str(book_path)).code == 1
    finally:
        reader.execute("COMMIT")
        reader.close()
    with CaseBook(book_path) as book:
        assert [d.ref for d in book.decisions()] == ["OTHER-1", "ONE-2"]  # erased from the tables all the same
    assert run_main(capsys, "scrub", "--db", str(book_path)).code == 0
    # ONE-2 holds the same NINO and stays; ONE-1's case row has left the file
    assert b"ONE-1" not in file_bytes(book_path)


def test_the_case_book_itself_refuses_free_text_reasons(book_path: Path) -> None:
    from engine.errors import BookError

    with CaseBook(book_path) as book:
        with pytest.raises(BookError) as refused:
            book.erase("ONE-1", "A1", reason="asked by Mrs Smith")
        assert "Mrs Smith" not in str(refused.value)
        with pytest.raises(BookError):
            book.retain("2999-01-01", "A1", reason="erasure_request")  # not a retention reason
        assert len(book.decisions()) == 3

"""The claimant's letter as a browser prints it: headless Chromium makes a PDF holding the accepted texts (#11)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.chromium import print_pdf
from tests.helpers import CASES, run_main


def pdf_text(pdf: Path) -> str:
    """The text of a PDF (pypdf), whitespace collapsed."""
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(pdf).pages).split())


def test_the_printed_letter_has_each_accepted_text_and_not_the_declined_one(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    case = next(CASES.glob("039-*.yaml"))
    assert run_main(capsys, "record", str(case), "--db", str(db), "--training",
                    "--decline", "REFER_HOUSING_ADVICE=claimant_declined").code == 0
    shown = json.loads(run_main(capsys, "show", "1", "--db", str(db), "--json").out)
    page = tmp_path / "letter.html"
    assert run_main(capsys, "letter", "1", "--db", str(db), "-o", str(page)).code == 0
    pdf = tmp_path / "letter.pdf"
    print_pdf(page, pdf)
    text = pdf_text(pdf)
    assert "Your copy: what was decided today" in text
    for outcome in shown["recommendation"]["outcomes"]:
        words = " ".join(outcome["text"].split())
        if not words:
            continue
        if outcome["code"] == "REFER_HOUSING_ADVICE":
            assert words[:60] not in text
        else:
            assert words[:60] in text, outcome["code"]

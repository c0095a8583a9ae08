"""`pathways rules book`: every rule and source, in plain words, escaped, printable in a real browser."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from engine.cli.rulesbook import scenario_index
from engine.policy.policybook import build
from engine.policy.policybook_html import render_html
from engine.policy.policybook_md import render_markdown
from engine.policy.rulebook import load_book, read_book
from engine.policy.wording import read_words
from rules import RULES_DIR
from tests.chromium import dump_dom, print_pdf
from tests.helpers import run_main

BOOK = load_book()
INTERNAL = ("policy.md", "domain.md", "contract.md", "design.md", "seed 0", "seeds/", "shared/", "seed 1")


def book_text(capsys, *args: str) -> str:
    result = run_main(capsys, "rules", "book", *args)
    assert result.code == 0, result.err
    return result.out


def test_the_html_book_names_every_rule_and_source_and_no_internal_file(capsys) -> None:
    text = book_text(capsys)
    page = html.unescape(text)
    for rule in BOOK.rules:
        assert f"rule-{rule.id}" in text and rule.id in page
    for source in BOOK.sources.values():
        assert source.title in page, source.title
    for rs in BOOK.all_rulesets():
        assert rs.digest in page
    assert not [name for name in INTERNAL if name in page.lower()]
    assert "<script" not in text and "http" not in re.sub(r'<span class="hash">[^<]*</span>', "", text).split("<body>")[0]


def test_the_book_words_conditions_and_shows_texts_variants_and_scenarios(capsys) -> None:
    page = html.unescape(book_text(capsys))
    assert "the claimant is on Jobseeker's Allowance" in page
    assert "the claimant is a problem drug user (heroin or crack cocaine, known other than by the adviser's suspicion)" \
           in page
    assert "When the claimant is on Jobseeker's Allowance, and the date is before 1 October 2013:" in page
    assert "For the adviser (never read out)" in page and "Scenario cases that exercise it: TRN-0001" in page
    assert "Announced policy, never in force" in page


def test_the_treatment_route_table_follows_each_edition() -> None:
    document = build(BOOK, read_words(BOOK), {}, lambda _values: True)
    tables = {t.edition: dict(t.rows) for t in document.tables}
    assert tables["2008-announced"]["Jobseeker's Allowance"][0] == "JSD_TREATMENT_DISCUSSION"
    assert tables["2008-announced"]["Incapacity Benefit"][0] == "WFI_TREATMENT_DISCUSSION"
    assert tables["2009-voluntary"]["Jobseeker's Allowance"][0] == "VOLUNTARY_TREATMENT_REFERRAL"
    assert tables["2017-recovery"]["Jobseeker's Allowance"][1:4] == ("none", "none", "none")


def test_one_edition_only(capsys) -> None:
    text = book_text(capsys, "--edition", "2017-recovery", "--format", "md")
    assert "recovery-checks-note" in text and "jsd-treatment-discussion" not in text
    assert text.startswith("# Pathways rulebook")
    assert run_main(capsys, "rules", "book", "--edition", "2020-future").code == 2


def test_markdown_names_every_rule_and_source(capsys, tmp_path: Path) -> None:
    target = tmp_path / "rulebook.md"
    assert run_main(capsys, "rules", "book", "--format", "md", "-o", str(target)).code == 0
    text = target.read_text(encoding="utf-8")
    for rule in BOOK.rules:
        assert f"`{rule.id}`" in text
    assert not [name for name in INTERNAL if name in text.lower()]


def test_every_text_is_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = folder / "signposts.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("title: A problem drug user in treatment is signposted to mutual aid and family support",
                                 'title: "<script>alert(\'x\')</script> & <b>bold</b> | `tick` # *star*"'),
                    encoding="utf-8")
    book = read_book(folder)
    document = build(book, read_words(book), {}, lambda _values: True)
    page = render_html(document)
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;" in page
    markdown = render_markdown(document)
    assert "\\<script\\>" in markdown and "\\`tick\\` \\# \\*star\\*" in markdown


def test_chromium_renders_and_prints_the_book(tmp_path: Path) -> None:
    page = tmp_path / "rulebook.html"
    document = build(BOOK, read_words(BOOK), scenario_index(), lambda _values: True)
    page.write_text(render_html(document), encoding="utf-8")
    dom = html.unescape(dump_dom(page))
    for rule in BOOK.rules:
        assert f'id="rule-{rule.id}"' in dom
    for source in BOOK.sources.values():
        assert source.title in dom, source.title
    pdf = print_pdf(page, tmp_path / "rulebook.pdf")
    assert pdf.startswith(b"%PDF-") and pdf.count(b"/Type /Page") > 20

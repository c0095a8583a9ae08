"""The case list's queries (#12): pages of each case's latest decision, from indexes, matching a plain model."""

from __future__ import annotations

import json
import random
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.casebook.book import CaseBook
from engine.casebook.db import CASE_LIST_INDEXES
from engine.casebook.queries import CaseQuery, PageKey
from engine.intake.generate import synthetic_case
from engine.policy.driver import default_engine
from tests.helpers import run_main

CASES = 70
"""Case references in the test book (some recorded twice, some with referrals, some sharing a NINO)."""


@pytest.fixture(scope="module")
def book_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A training book of generated cases: every 7th recorded again with other answers, every 4th with a
    referral (a third of them closed), and two cases given the same NINO."""
    path = tmp_path_factory.mktemp("caselist") / "book.db"
    engine = default_engine()
    rng = random.Random(5)
    shared_nino = "QQ700001A"
    with CaseBook(path, training=True) as book:
        items = []
        for number in [*range(1, CASES + 1), *range(7, CASES + 1, 7)]:
            case = synthetic_case(rng, number)
            items.append(attrs.evolve(case, nino=shared_nino) if number in (11, 42) else case)
        for case in items:
            ruleset = engine.ruleset_for(case)
            book.record(case, engine.decide(case, ruleset), ruleset, "T1")
        n = 0
        for ident in book.decision_ids():
            text = book.decision_record(ident).decision  # type: ignore[union-attr]
            codes = [o["code"] for o in json.loads(text)["outcomes"] if o["kind"] == "referral"]
            if codes and ident % 4 == 0:
                referral = book.add_referral(ident, codes[0], "Provider", "T1")
                if n % 3 == 0:
                    book.update_referral(referral, "closed", "T1")
                n += 1
    return path


def model(book: CaseBook, query: CaseQuery) -> list[tuple[str, int]]:
    """What the list should show, worked out in plain Python from every row: (ref, latest decision id)."""
    latest: dict[str, int] = {}
    for row in book.decisions(limit=-1):  # newest first
        latest.setdefault(row.ref, row.id)
    priority = {row.id: row.priority for row in book.decisions(limit=-1)}
    ninos: dict[str, set[str]] = {}
    for ref, nino in book.conn.execute(
            "SELECT d.ref, n.nino FROM decisions d JOIN claimants n ON n.case_id = d.case_id"):
        ninos.setdefault(ref, set()).add(nino)
    ref_of = {row.id: row.ref for row in book.decisions(limit=-1)}
    open_refs = {ref_of[r.decision_id] for r in book.referrals() if r.is_open}
    text = query.text.strip().upper()
    nino = "".join(query.text.split()).upper()
    out = []
    for ref, ident in latest.items():
        if text and text not in ref and nino not in ninos.get(ref, set()):
            continue
        if query.priority is not None and priority[ident] != query.priority:
            continue
        if query.open_only and ref not in open_refs:
            continue
        out.append((ref, ident))
    return sorted(out) if text else sorted(out, key=lambda item: -item[1])


def every_page(book: CaseBook, query: CaseQuery, limit: int) -> list[tuple[str, int]]:
    """Every row of the list, page after page."""
    rows: list[tuple[str, int]] = []
    after: PageKey | None = None
    for _ in range(CASES + 2):
        page = book.case_page(query, after, limit)
        assert len(page.rows) <= limit
        rows += [(r.ref, r.decision_id) for r in page.rows]
        if page.next is None:
            return rows
        assert len(page.rows) == limit, "a page that is not the last is full"
        after = page.next
    raise AssertionError("the pages never end")


def _nino_of(book: CaseBook, ref: str) -> str:
    return book.conn.execute(
        "SELECT n.nino FROM decisions d JOIN claimants n ON n.case_id = d.case_id WHERE d.ref = ? "
        "AND n.nino IS NOT NULL", (ref,)).fetchone()[0]


texts = st.one_of(st.just(""), st.sampled_from(["SYN", "-0000004", "0000001", "7", "00000070", "QQ700001A",
                                                "qq700001a", "QQ 70 00 01 A", "QQ7000", "X", "syn-0000002"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts, priority=st.sampled_from([None, "urgent", "priority", "routine"]), open_only=st.booleans(),
       limit=st.integers(1, 30))
def test_pages_hold_exactly_each_cases_latest_decision(book_path: Path, text: str, priority: str | None,
                                                       open_only: bool, limit: int) -> None:
    """Law: paging through the list with any page size gives what the plain model gives, in its order,
    each case once (its latest decision), whatever the search and filters."""
    with CaseBook(book_path, create=False) as book:
        query = CaseQuery(text, priority, open_only)
        assert every_page(book, query, limit) == model(book, query)


def test_the_model_is_not_trivial(book_path: Path) -> None:
    """The fixture has what the law needs: re-recorded cases, open and closed referrals, a shared NINO."""
    with CaseBook(book_path, create=False) as book:
        assert len(book.decision_ids()) == CASES + CASES // 7
        assert book.case_count() == CASES
        assert len(model(book, CaseQuery(open_only=True))) >= 3
        assert any(not r.is_open for r in book.referrals())
        assert [ref for ref, _ in model(book, CaseQuery("QQ700001A"))] == ["SYN-00000011", "SYN-00000042"]
        first = book.case_page(CaseQuery(), limit=3).rows
        assert [r.ref for r in first][:1] == ["SYN-00000070"]  # recorded again last, so newest


def test_a_nino_is_matched_whole_never_in_part(book_path: Path) -> None:
    """Typing part of a NINO lists nothing, so the list cannot be used to guess one; the whole NINO, in any
    case and spacing, finds its case."""
    with CaseBook(book_path, create=False) as book:
        nino = _nino_of(book, "SYN-00000005")
        found = {r.ref for r in book.case_page(CaseQuery(nino)).rows}
        assert "SYN-00000005" in found
        spaced = f"{nino[:2]} {nino[2:4]} {nino[4:6]} {nino[6:8]} {nino[8]}".lower()
        assert {r.ref for r in book.case_page(CaseQuery(spaced)).rows} == found
        for part in (nino[:-1], nino[2:], nino[:5]):
            assert book.case_page(CaseQuery(part)).rows == ()


def test_each_row_carries_its_cases_referrals(book_path: Path) -> None:
    """A case's row holds the referrals of every decision of its reference, and counts the open ones."""
    with CaseBook(book_path, create=False) as book:
        rows = every_page(book, CaseQuery(), 100)
        page = book.case_page(CaseQuery(), limit=100)
        assert len(page.rows) == len(rows) == CASES
        ref_of = {r.id: r.ref for r in book.decisions(limit=-1)}
        for row in page.rows:
            want = [r for r in book.referrals() if ref_of[r.decision_id] == row.ref]
            assert list(row.referrals) == want
            assert row.open_referrals == sum(r.is_open for r in want)


def test_pages_use_the_indexes_never_a_full_read(book_path: Path) -> None:
    """Each page query is a keyset search on an index: no OFFSET, no temporary sort of the whole book."""
    with CaseBook(book_path, create=False) as book:
        plans = []
        real = book.conn

        class Spy:
            def execute(self, sql: str, args: tuple = ()):
                if sql.startswith("SELECT d.ref, d.id FROM decisions AS d"):
                    plans.append(" | ".join(r[3] for r in real.execute("EXPLAIN QUERY PLAN " + sql, args)))
                    assert "OFFSET" not in sql
                return real.execute(sql, args)

        from engine.casebook.queries import case_page

        case_page(Spy(), CaseQuery(), PageKey("SYN-00000050", 50), 10)  # type: ignore[arg-type]
        case_page(Spy(), CaseQuery(priority="urgent"), None, 10)  # type: ignore[arg-type]
        case_page(Spy(), CaseQuery("0000004"), PageKey("SYN-00000041", 41), 10)  # type: ignore[arg-type]
        case_page(Spy(), CaseQuery(open_only=True, priority="routine"), None, 10)  # type: ignore[arg-type]
        case_page(Spy(), CaseQuery("qq 70 00 01 a"), None, 10)  # type: ignore[arg-type]
        assert "TEMP B-TREE FOR ORDER BY" not in plans[0] and "decisions_ref_id" in plans[0]
        assert "decisions_priority_id" in plans[1] and "TEMP B-TREE FOR ORDER BY" not in plans[1]
        assert "COVERING INDEX decisions_ref_id" in plans[2] and "TEMP B-TREE FOR ORDER BY" not in plans[2]
        assert "SCAN r USING COVERING INDEX referrals_decision" in plans[3]  # from the referrals, not the book
        assert len(plans) == 5 and "claimants_nino (nino=?)" in plans[4] and "SCAN d" not in plans[4]


def test_verify_knows_the_case_list_indexes(tmp_path: Path, capsys) -> None:
    """The indexes are Pathways' own (not flagged as foreign); one dropped or altered is a schema problem."""
    db = tmp_path / "b.db"
    with CaseBook(db, training=True) as book:
        assert book.verify()[1] == []
        book.conn.execute("DROP INDEX claimants_nino")
        book.conn.execute("DROP INDEX decisions_priority_id")
        book.conn.execute("CREATE INDEX decisions_priority_id ON decisions(priority)")
        problems = [str(p) for p in book.verify()[1]]
    assert "schema: index claimants_nino is missing" in problems, problems
    assert "schema: index decisions_priority_id differs from what Pathways created" in problems, problems
    result = run_main(capsys, "audit", "verify", "--db", str(db))
    assert result.code == 1 and "claimants_nino" in result.out + result.err
    assert set(CASE_LIST_INDEXES) == {"decisions_ref_id", "decisions_priority_id", "claimants_nino"}

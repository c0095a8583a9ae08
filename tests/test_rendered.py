"""Decisions rendered by class (#14): byte for byte what durable_rules decides, on every edition."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.casebook.batch import run_batch
from engine.casebook.book import CaseBook
from engine.casebook.records import Prepared
from engine.casebook.replay import MATCH, replay_many
from engine.intake.bulk import prepared_fields
from engine.intake.generate import generate_cases
from engine.intake.loader import RawCase
from engine.intake.validate import build_case
from engine.model.case import Case, input_values
from engine.model.facts import Unknown
from engine.policy.driver import Engine
from engine.policy.rendered import ClassCache, Rendered
from engine.policy.rulebook import RuleSet
from tests.strategies import cases

CACHED = Engine()
"""One engine whose class cache fills up over the whole module, as a batch worker's does."""
PLAIN = Engine()
"""An engine that only ever decides with durable_rules."""


def _generated(count: int, seed: int) -> list[Case]:
    return [build_case(RawCase(d, "generated", None, lambda _p: None)) for d in generate_cases(count, seed)]


def _rendered_by_class(caseload: list[Case]) -> ClassCache:
    """Render every case of the caseload by class on a fresh engine, each byte for byte what durable_rules decides;
    the class cache that rendered them."""
    engine = Engine()
    for case in caseload:
        assert engine.render(case).text == PLAIN.decide(case).to_json(), case.case
    classes = engine.classes
    assert classes is not None
    return classes


def _same_class(case: Case) -> list[Case]:
    """Other cases of the case's class: another reference, and other ages and dates passing the same tests."""
    rs = CACHED.ruleset_for(case)
    compiled, _handle = CACHED._handle(rs)
    CACHED.render(case)
    classes = CACHED.classes
    assert classes is not None
    truths = classes.truths(compiled, input_values(case))
    out = [attrs.evolve(case, case="OTHER-REF-1")]
    for age in range(16, 100, 7):
        other = attrs.evolve(case, case="OTHER-AGE", answers={**case.answers, "claimant.age": age})
        if classes.truths(compiled, input_values(other)) == truths:
            out.append(other)
    for days in (1, 30, 200):
        other = attrs.evolve(case, case="OTHER-DAY", as_of=case.as_of + dt.timedelta(days=days))
        if CACHED.ruleset_for(other) is rs and classes.truths(compiled, input_values(other)) == truths:
            out.append(other)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(cases(), cases(unknowns=True)))
def test_a_case_rendered_from_its_class_is_what_durable_rules_decides(case: Case) -> None:
    for member in [case, *_same_class(case)]:
        rendered = CACHED.render(member)
        decided = PLAIN.decide(member)
        assert rendered.text == decided.to_json()
        assert Prepared(*prepared_fields(member, rendered)) == Prepared.of(member, decided)
        assert Prepared(*prepared_fields(member, PLAIN.render(member, cache=False))) == Prepared.of(member, decided)


def test_generated_caseloads_of_every_edition_render_byte_for_byte() -> None:
    engine = Engine()
    caseload = _generated(3000, 21)
    editions = set()
    for case in caseload:
        rendered = engine.render(case)
        decided = PLAIN.decide(case)
        editions.add(decided.edition)
        assert rendered.text == decided.to_json(), case.case
    assert editions == {rs.edition.id for rs in PLAIN.book.all_rulesets()}
    classes = engine.classes
    assert classes is not None and classes.hits > len(caseload) // 3  # the cache is used, not bypassed
    assert classes.hits + classes.misses == len(caseload)
    truths = {(engine.ruleset_for(case).digest, classes.truths(engine._handle(engine.ruleset_for(case))[0], input_values(case)))
              for case in caseload}
    # tests only unfired rules' texts read tell no cases apart (#14): 1,649 classes of 2,679 truths, 1,875 before
    assert len(classes) < len(truths) * 0.65


def _caseload(path: Path, count: int, seed: int) -> Path:
    import json

    with path.open("w", encoding="utf-8") as handle:
        for data in generate_cases(count, seed):
            handle.write(json.dumps(data) + "\n")
    return path


def test_no_cache_records_the_same_book_and_replay_checks_every_decision(tmp_path: Path) -> None:
    source = _caseload(tmp_path / "in.jsonl", 1200, 5)
    stored = []
    for cache in (True, False):
        with CaseBook(tmp_path / f"c{cache}.db", training=True) as book:
            run_batch(source, book, "T", 1, cache=cache)
            records = [book.decision_record(i) for i in book.decision_ids()]
            stored.append([(r.ref, r.inputs, r.outcomes, r.priority, r.decision, r.decision_hash)
                           for r in records if r is not None])
    assert stored[0] == stored[1] and len(stored[0]) == 1200
    with CaseBook(tmp_path / "cTrue.db") as book:
        replayer_engine = Engine()
        from engine.casebook.replay import Replayer

        replayer = Replayer(book, replayer_engine)
        assert all(replayer.replay(i).status == MATCH for i in book.decision_ids()[:300])
        assert replayer_engine.classes is None  # replay decided every one with durable_rules
        assert {r.status for r in replay_many(book, book.decision_ids(), workers=1)} == {MATCH}


def test_batch_no_cache_flag(tmp_path: Path, capsys) -> None:
    from tests.helpers import run_main

    source = _caseload(tmp_path / "in.jsonl", 200, 9)
    result = run_main(capsys, "batch", str(source), "--db", str(tmp_path / "n.db"), "--training", "--quiet",
                      "--no-cache", "--workers", "1")
    assert result.code == 0 and "recorded 200" in result.out


def test_the_cache_stays_within_its_limit_and_still_renders_byte_for_byte() -> None:
    engine = Engine()
    engine._classes = ClassCache(limit=50)
    for case in _generated(600, 33):
        assert engine.render(case).text == PLAIN.decide(case).to_json()
        assert len(engine._classes) <= 50
    assert engine._classes.hits > 0


@given(st.text())
def test_a_case_reference_is_written_as_the_standard_library_writes_it(ref: str) -> None:
    import json

    from engine.policy.rendered import _reference

    assert _reference(ref) == json.dumps(ref, ensure_ascii=False, separators=(",", ":"))


def _render_under(engine: Engine, case: Case, ruleset: RuleSet) -> Rendered:
    """`engine.render(case)`, under a given rule set instead of the edition in force."""
    compiled, _handle = engine._handle(ruleset)
    values = input_values(case)
    classes = engine._classes = engine._classes or ClassCache()
    return classes.render(compiled, case.case, values,
                          lambda opened: engine._first(case, ruleset, values, opened))


def test_the_first_case_of_a_class_is_written_from_the_session_and_fills_its_class() -> None:
    """A class's first case is written straight from durable_rules' session (#14); its template then gives the
    rest of the class the decision's bytes."""
    from engine.policy.rendered import First

    engine = Engine()
    case = next(c for c in _generated(60, 4) if PLAIN.decide(c).outcomes)
    rs = engine.ruleset_for(case)
    first = engine._first(case, rs, input_values(case), None)
    assert isinstance(first, First) and first.whole() == PLAIN.decide(case).to_json()
    assert engine.classes is None or len(engine.classes) == 0
    for member in (case, attrs.evolve(case, case="ANOTHER-1"), attrs.evolve(case, case="ANOTHER-2")):
        assert engine.render(member).text == PLAIN.decide(member).to_json()
    assert engine.classes is not None and (engine.classes.misses, engine.classes.hits) == (1, 2)


def test_a_class_whose_decision_shows_a_number_is_rendered_from_the_built_decision() -> None:
    """A rule set showing a float (written differently by the fast encoder) takes the built decision's road, and
    its class is still rendered byte for byte."""
    from engine.model.decision import Decision
    from engine.policy.rulebook import Citation

    engine = Engine()
    case = next(c for c in _generated(60, 4) if PLAIN.decide(c).outcomes)
    ruleset = engine.ruleset_for(case)
    code = PLAIN.decide(case).outcomes[0].rule
    odd = attrs.evolve(ruleset, rules=tuple(
        attrs.evolve(r, sources=(Citation("P1", "A title", 1e-05),)) if r.id == code else r  # type: ignore[arg-type]
        for r in ruleset.rules))
    assert isinstance(engine._first(case, odd, input_values(case), None), Decision)
    for member in (case, attrs.evolve(case, case="ANOTHER-1")):
        text = _render_under(engine, member, odd).text
        assert text == PLAIN.decide(member, odd).to_json() and '"locator":1e-05' in text
    assert engine.classes is not None and engine.classes.hits == 1


def test_a_template_that_differs_from_the_decision_written_whole_is_never_used() -> None:
    """The first templates of a rule set are checked against the decision written whole (#14): one that differs
    gives way to the whole decision, and that rule set's classes are no longer kept."""
    from engine.policy.rendered import First

    engine = Engine()
    case = next(c for c in _generated(60, 4) if PLAIN.decide(c).outcomes)
    rs = engine.ruleset_for(case)
    compiled, _handle = engine._handle(rs)
    values = input_values(case)
    right = engine._first(case, rs, values, None)
    assert isinstance(right, First)
    wrong = First(attrs.evolve(right.template, pieces=(right.template.pieces[0] + " ", *right.template.pieces[1:])),
                  right.whole)
    classes = ClassCache()
    assert classes.render(compiled, case.case, values, lambda _opened: wrong).text == PLAIN.decide(case).to_json()
    for member in (case, attrs.evolve(case, case="ANOTHER-1")):
        member_values = input_values(member)
        rendered = classes.render(compiled, member.case, member_values,
                                  lambda opened, m=member, v=member_values: engine._first(m, rs, v, opened))
        assert rendered.text == PLAIN.decide(member).to_json()
    assert len(classes) == 0 and classes.misses == 3 and classes.hits == 0


def test_an_unknown_answer_that_leaves_nothing_open_is_the_class_of_a_case_without_one() -> None:
    """A decision shows its open outcomes, not whether an answer was unknown: an unknown answer that leaves
    nothing open is kept under the same class as none (#14), and every case still renders byte for byte."""
    caseload = _generated(3000, 21)
    classes = _rendered_by_class(caseload)
    assert all(len(key) == 3 or key[3] for key in classes._templates)
    nothing_open = [case for case in caseload
                    if any(isinstance(v, Unknown) for v in case.answers.values()) and not PLAIN.decide(case).open]
    assert nothing_open  # the generated caseload has such cases, so the law is exercised


def test_templates_of_different_classes_hold_each_piece_of_text_once() -> None:
    """Pieces of decision text recur across classes: the class cache keeps one copy of each (#14), so a batch
    worker's memory grows with the distinct pieces, not with every class's whole decision."""
    from engine.policy import written

    written._JOINED.clear()
    classes = _rendered_by_class(_generated(600, 13))
    pieces = [piece for template in classes._templates.values() if template is not None for piece in template.pieces]
    assert len(classes) > 100
    assert len({id(piece) for piece in pieces}) == len(set(pieces)) < len(pieces) // 5


def test_a_chunk_rendered_in_passes_gives_what_one_case_at_a_time_gives() -> None:
    """A batch worker renders a chunk's cases of one rule set in passes (the known classes, then the new ones in
    order, then every template filled, #14): each case is byte for byte durable_rules' decision, a class new in
    the chunk is decided once however many of its cases the chunk holds, and the class cache ends as it would
    case by case."""
    caseload = _generated(1500, 31)
    caseload += [attrs.evolve(case, case=f"{case.case}-AGAIN") for case in caseload[::3]]  # repeats in one chunk
    in_passes, one_by_one = Engine(), Engine()
    by_ruleset: dict[str, list[Case]] = {}
    for case in caseload:
        by_ruleset.setdefault(in_passes.ruleset_for(case).digest, []).append(case)
    assert len(by_ruleset) > 1
    for chunk in by_ruleset.values():
        rendered = in_passes.render_all(chunk, in_passes.ruleset_for(chunk[0]))
        assert [r.text for r in rendered] == [PLAIN.decide(case).to_json() for case in chunk]
        assert rendered == [one_by_one.render(case) for case in chunk]
    passes, single = in_passes.classes, one_by_one.classes
    assert passes is not None and single is not None
    assert (passes.misses, passes.hits, len(passes)) == (single.misses, single.hits, len(single))
    assert passes.hits > passes.misses > 0

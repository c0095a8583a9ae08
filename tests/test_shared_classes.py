"""Batch workers share the classes they learn (#14): a class one worker decided by durable_rules is filled by the
others as it would be there, byte for byte, instead of being decided again."""

from __future__ import annotations

import pickle

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.intake import bulk
from engine.intake.bulk import decide_task
from engine.intake.generate import generate_cases
from engine.intake.loader import RawCase
from engine.intake.validate import build_case
from engine.model.case import Case
from engine.policy import driver
from engine.policy.driver import Engine
from engine.policy.rendered import ClassCache, Learned
from tests.strategies import cases

PLAIN = Engine()
"""Decides with durable_rules only."""


def _generated(count: int, seed: int) -> list[Case]:
    return [build_case(RawCase(d, "generated", None, lambda _p: None)) for d in generate_cases(count, seed)]


def _learning(caseload: list[Case]) -> tuple[Engine, Learned]:
    """An engine that rendered the caseload while sharing, and what it learned (through pickle, as it travels)."""
    engine = Engine()
    classes = engine.class_cache()
    classes.sharing = True
    for case in caseload:
        engine.render(case)
    learned = classes.learned()
    assert learned is not None
    return engine, pickle.loads(pickle.dumps(learned))


def test_classes_another_worker_learned_render_byte_for_byte_without_durable_rules() -> None:
    caseload = _generated(1500, 41)
    teacher, learned = _learning(caseload)
    taught = teacher.classes
    assert taught is not None and len(taught) > 300
    learner = Engine()
    learner.class_cache().adopt(1, learned)
    for case in caseload:
        assert learner.render(case).text == PLAIN.decide(case).to_json(), case.case
    classes = learner.classes
    assert classes is not None
    assert classes.adopted == len(taught)
    assert classes.misses == 0  # every class of the caseload came from the other worker
    assert classes.hits == len(caseload)


def test_a_new_caseload_after_adopting_needs_fewer_first_decisions_and_still_matches() -> None:
    _teacher, learned = _learning(_generated(1500, 42))
    fresh, helped = Engine(), Engine()
    helped.class_cache().adopt(1, learned)
    for case in _generated(1500, 43):
        decided = PLAIN.decide(case).to_json()
        assert fresh.render(case).text == decided
        assert helped.render(case).text == decided, case.case
    assert fresh.classes is not None and helped.classes is not None
    assert helped.classes.misses < fresh.classes.misses * 0.8


def test_learned_is_what_was_worked_out_since_last_asked_and_nothing_adopted_is_handed_on() -> None:
    teacher, learned = _learning(_generated(400, 44))
    assert learned
    classes = teacher.classes
    assert classes is not None and classes.learned() is None
    learner = Engine()
    learner.class_cache().sharing = True
    learner.class_cache().adopt(1, learned)
    assert learner.class_cache().learned() is None


def test_a_cache_that_is_not_sharing_keeps_nothing_to_hand_on() -> None:
    engine = Engine()
    for case in _generated(300, 45):
        engine.render(case)
    assert engine.classes is not None and len(engine.classes) > 50
    assert engine.classes.learned() is None


def test_adopting_stays_within_the_cache_limit() -> None:
    caseload = _generated(800, 46)
    _teacher, learned = _learning(caseload)
    assert len(learned[2]) > 200
    small = ClassCache(limit=40)
    small.adopt(1, learned)
    assert len(small._offered) <= 40 and len(small._offered_fine) <= 160
    engine = Engine()
    engine._classes = small
    for case in caseload:
        assert engine.render(case).text == PLAIN.decide(case).to_json()
        assert len(small) <= 40


def test_a_class_handed_on_becomes_a_template_only_when_a_case_of_it_comes() -> None:
    """Most classes another worker learns never come to this one: each is kept as handed on, and made a template
    (the work of adopting it) only for the first case of it here."""
    caseload = _generated(1200, 54)
    _teacher, learned = _learning(caseload)
    engine = Engine()
    engine.class_cache().adopt(1, learned)
    assert len(engine.class_cache()) == 0 and engine.class_cache().adopted == 0
    some = caseload[:100]
    for case in some:
        assert engine.render(case).text == PLAIN.decide(case).to_json()
    classes = engine.class_cache()
    assert classes.misses == 0 and 0 < classes.adopted == len(classes) < len(learned[2]) // 3


def test_adopted_classes_hold_each_piece_of_text_once() -> None:
    """What arrives from another worker is fresh text; kept as it is, each adopted class would hold a whole decision's
    text (a worker's memory would grow with every class), so pieces are kept once, as a worker's own are."""
    caseload = _generated(1500, 47)
    _teacher, learned = _learning(caseload)
    engine = Engine()
    learner = engine.class_cache()
    learner.adopt(1, learned)
    for case in caseload:
        engine.render(case)
    assert learner.misses == 0
    pieces = [piece for template in learner._templates.values() if template is not None for piece in template.pieces]
    assert len({id(piece) for piece in pieces}) == len(set(pieces)) < len(pieces) // 5


def test_a_worker_task_adopts_what_other_workers_learned_and_hands_on_its_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The task as batch hands it to a worker process (run here in this process): classes another worker learned
    are adopted before deciding, its own new classes come back, and a worker never re-adopts what it took."""
    monkeypatch.setattr(driver, "_default", Engine())
    monkeypatch.setattr(bulk, "_ADOPTED", {})
    import json

    lines = [json.dumps(d) for d in generate_cases(600, 48)]
    items = [("in.jsonl", n, text) for n, text in enumerate(lines, start=1)]
    _teacher, learned = _learning([build_case(RawCase(json.loads(t), "x", None, lambda _p: None)) for t in lines])
    other = (-1, 1, pickle.dumps(learned))  # another worker's process id: never this one's
    decided, handed = decide_task((items, True, {}, (other,)))
    classes = driver.default_engine().classes
    assert classes is not None and classes.misses == 0 and classes.adopted > 0
    assert handed is None  # nothing new here to hand on
    plain = bulk.decide_chunk(items, False)
    assert decided == plain
    adopted = classes.adopted
    more = [("in.jsonl", n, json.dumps(d)) for n, d in enumerate(generate_cases(300, 49), start=1)]
    decided, handed = decide_task((more, True, {}, (other,)))  # the same share again: not adopted twice
    assert classes.adopted == adopted
    assert decided == bulk.decide_chunk(more, False)
    assert handed is not None and handed[0] != -1 and len(pickle.loads(handed[2])[2]) > 0


def test_a_piece_of_text_is_handed_on_once_and_later_classes_name_it() -> None:
    first, second = _generated(800, 50), _generated(800, 51)
    teacher = Engine()
    classes = teacher.class_cache()
    classes.sharing = True
    for case in first:
        teacher.render(case)
    one = classes.learned()
    for case in second:
        teacher.render(case)
    two = classes.learned()
    assert one is not None and two is not None
    assert two[0] == len(one[1]) and not set(two[1]) & set(one[1])  # numbered on from the first, none again
    learner = Engine()
    learner.class_cache().adopt("w", pickle.loads(pickle.dumps(one)))
    learner.class_cache().adopt("w", pickle.loads(pickle.dumps(two)))
    for case in first + second:
        assert learner.render(case).text == PLAIN.decide(case).to_json(), case.case
    assert learner.classes is not None and learner.classes.misses == 0


def test_once_one_share_of_a_worker_is_missed_nothing_more_of_it_is_adopted() -> None:
    """A share names pieces of text handed on in the shares before it: after a gap they are not known here, so
    the worker's later shares are left, and its cases are decided here as if nothing were shared."""
    first, second = _generated(600, 52), _generated(600, 53)
    teacher = Engine()
    classes = teacher.class_cache()
    classes.sharing = True
    for case in first:
        teacher.render(case)
    classes.learned()  # never reaches the learner
    for case in second:
        teacher.render(case)
    two = classes.learned()
    assert two is not None and two[2]
    learner = Engine()
    learner.class_cache().adopt("w", two)
    assert learner.class_cache().adopted == 0
    for case in second:
        assert learner.render(case).text == PLAIN.decide(case).to_json()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(cases(), cases(unknowns=True)), min_size=2, max_size=12), st.integers(1, 5))
def test_two_workers_sharing_in_turns_render_what_durable_rules_decides(caseload: list[Case], turn: int) -> None:
    """A law: two caches taking turns at a caseload (each case again under another reference, so classes recur),
    each adopting what the other learned in its last turn, render every case byte for byte as durable_rules
    decides it."""
    caseload = caseload + [attrs.evolve(case, case=f"{case.case}-B") for case in caseload]
    workers = [Engine(), Engine()]
    for engine in workers:
        engine.class_cache().sharing = True
    for start in range(0, len(caseload), turn):
        me, other = workers[start // turn % 2], workers[1 - start // turn % 2]
        for case in caseload[start:start + turn]:
            assert me.render(case).text == PLAIN.decide(case).to_json()
        learned = me.class_cache().learned()
        if learned is not None:
            other.class_cache().adopt(id(me), pickle.loads(pickle.dumps(learned)))


def test_a_cache_that_has_numbered_its_most_pieces_hands_nothing_more_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.policy import rendered

    monkeypatch.setattr(rendered, "PIECES_HANDED_ON", 50)
    engine = Engine()
    classes = engine.class_cache()
    classes.sharing = True
    for case in _generated(300, 55):
        engine.render(case)
    first = classes.learned()
    assert first is not None and len(first[1]) > 50
    for case in _generated(300, 56):
        engine.render(case)
    assert classes.learned() is None and classes._learned == []

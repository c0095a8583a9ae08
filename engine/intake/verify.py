"""Prove the policy's invariants over every class of cases, edition by edition (`pathways rules verify`).

For each edition, the classes come from its rules (engine.policy.classes). Each invariant is checked
over every combination of the classes of the input facts that can change it (those behind its
outcome codes, through derived facts), the other facts completed: the full product is far too big,
and facts no rule behind the invariant reads cannot change it. Every combination becomes a real case
built through the case-file validation (engine.intake.classcases); those no valid case can have are
skipped. The reference is the three-valued evaluator, unknown answers included.

The same search holds durable_rules to that evaluator: for each outcome code, every class of the
facts behind it is decided by `Engine.decide` and compared, outcome by outcome and derived fact by
derived fact, with the evaluator on the rules behind those codes.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs

from engine.errors import RuleFileError
from engine.intake.classcases import Realizer
from engine.model.case import Case, input_values
from engine.model.facts import INPUT_FACTS
from engine.policy.classes import Space, edition_space, rule_inputs, rules_behind
from engine.policy.driver import Engine
from engine.policy.explain import evaluate, inputs_behind
from engine.policy.invariants import Invariant
from engine.policy.lint import edition_fact_findings
from engine.policy.rulebook import Book, Rule, RuleSet, read_book

AGREEMENT_ID = "durable-rules-agrees"
"""The id of the built-in check that durable_rules decides every class as the evaluator does."""
WORTH_A_WORKER = 20_000
"""Combinations of classes below which the proof runs in this process (starting workers costs more)."""
AGREEMENT_WORDS = ("durable_rules, which makes every recorded decision, decides every class as the three-valued "
                   "evaluator does: each outcome code and each derived fact.")
"""What the built-in check says."""


@attrs.frozen
class Counterexample:
    """Where an invariant breaks: the edition, what goes wrong, and a case showing it (when one can)."""

    edition: str
    problem: str
    case: Case | None = None


@attrs.frozen
class Verdict:
    """One invariant's result: how many classes were checked, and its counterexamples (none: it holds)."""

    id: str
    words: str
    check: str
    classes: int
    counterexamples: tuple[Counterexample, ...] = ()

    @property
    def holds(self) -> bool:
        """True when no class breaks it."""
        return not self.counterexamples


@attrs.frozen
class Proof:
    """Every verdict, the distinct valid classes checked per edition, and the time it took."""

    verdicts: tuple[Verdict, ...]
    classes: dict[str, int]
    seconds: float

    @property
    def holds(self) -> bool:
        """True when every invariant holds."""
        return all(v.holds for v in self.verdicts)


class _Edition:
    """One edition's classes, the cases made for them, and the count of distinct cases checked."""

    def __init__(self, book: Book, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.space: Space = edition_space(ruleset, book.calendar)
        self.realizer = Realizer(self.space, book.calendar)
        self.seen: set[tuple[Any, ...]] = set()

    def cases(self, names: Iterable[str]) -> Iterator[tuple[Case, dict[str, Any]]]:
        """A valid case, and its answers, for every combination of classes of the named facts."""
        for chosen in self.space.product(names):
            case = self.realizer.case(chosen)
            if case is None:
                continue
            values = input_values(case)
            self.seen.add(tuple(values[name] for name in INPUT_FACTS))
            yield case, values


@attrs.frozen
class _Task:
    """One piece of the proof: an invariant in one edition, or durable_rules on one set of facts."""

    edition: str
    invariant: str
    names: tuple[str, ...] = ()
    weight: int = 1


@attrs.frozen
class _Done:
    """What one task found: classes checked, counterexamples, and the distinct cases it checked."""

    task: _Task
    classes: int
    counterexamples: tuple[Counterexample, ...]
    seen: frozenset[tuple[Any, ...]]


class _Prover:
    """Runs tasks on one rules folder (in this process, or in each worker process)."""

    def __init__(self, book: Book, invariants: tuple[Invariant, ...], engine: Engine | None = None) -> None:
        self.book = book
        self.invariants = {inv.id: inv for inv in invariants}
        self.engine = engine or Engine(book)
        self.editions: dict[str, _Edition] = {}

    def edition(self, edition_id: str) -> _Edition:
        """One edition's classes and case maker (made once per process)."""
        if edition_id not in self.editions:
            self.editions[edition_id] = _Edition(self.book, self.book.ruleset(edition_id))
        return self.editions[edition_id]

    def run(self, task: _Task) -> _Done:
        """Do one task."""
        edition = self.edition(task.edition)
        before = set(edition.seen)
        if task.invariant == AGREEMENT_ID:
            count, found = _agreement_on(edition, self.engine, task.names)
        else:
            invariant = self.invariants[task.invariant]
            check = {"reachable": _reachable, "no_redundant_rule": _not_redundant}.get(invariant.check)
            count, found = check(edition) if check else _class_check(invariant, edition)
        return _Done(task, count, tuple(found), frozenset(edition.seen - before))


_WORKER: _Prover | None = None


def _start_worker(directory: str, invariants: tuple[Invariant, ...]) -> None:
    """Set up a worker process: read the rules folder once."""
    global _WORKER
    _WORKER = _Prover(read_book(Path(directory)), invariants)


def _work(task: _Task) -> _Done:
    """Run a task in a worker process."""
    assert _WORKER is not None
    return _WORKER.run(task)


def prove(book: Book, invariants: tuple[Invariant, ...], engine: Engine | None = None,
          only: frozenset[str] | None = None, editions: frozenset[str] | None = None, workers: int = 1) -> Proof:
    """Check the invariants (and durable_rules against the evaluator) over every class of every edition.

    `only` limits the run to the invariants with those ids (the agreement check's id included),
    `editions` to the editions with those ids. With `workers` > 1 the tasks are spread over that many
    processes, each reading the rules folder itself; the result is the same.
    """
    started = time.perf_counter()
    for ruleset in book.all_rulesets():
        for finding in edition_fact_findings(ruleset):
            raise RuleFileError(str(finding))
    prover = _Prover(book, invariants, engine)
    tasks = _tasks(prover, invariants, only, editions)
    if workers > 1 and sum(task.weight for task in tasks) > WORTH_A_WORKER:
        done = _in_workers(book, invariants, tasks, workers)
    else:
        done = {}
        broken: set[str] = set()
        for task in tasks:  # durable_rules is reported once per edition: stop at its first difference
            skip = task.invariant == AGREEMENT_ID and task.edition in broken
            done[task] = _Done(task, 0, (), frozenset()) if skip else prover.run(task)
            if task.invariant == AGREEMENT_ID and done[task].counterexamples:
                broken.add(task.edition)
    verdicts = []
    wanted = [inv for inv in invariants if only is None or inv.id in only]
    for invariant in wanted:
        mine = [done[t] for t in tasks if t.invariant == invariant.id]
        verdicts.append(Verdict(invariant.id, invariant.words, invariant.check, sum(d.classes for d in mine),
                                tuple(c for d in mine for c in d.counterexamples)))
    if only is None or AGREEMENT_ID in only:
        mine = [done[t] for t in tasks if t.invariant == AGREEMENT_ID]
        first: dict[str, Counterexample] = {}
        for d in mine:
            for example in d.counterexamples:
                first.setdefault(example.edition, example)
        verdicts.append(Verdict(AGREEMENT_ID, AGREEMENT_WORDS, "agreement", sum(d.classes for d in mine),
                                tuple(first.values())))
    seen: dict[str, set[tuple[Any, ...]]] = {}
    for task in tasks:
        seen.setdefault(task.edition, set()).update(done[task].seen)
    classes = {rs.edition.id: len(seen.get(rs.edition.id, ())) for rs in book.all_rulesets()
               if editions is None or rs.edition.id in editions}
    return Proof(tuple(verdicts), classes, time.perf_counter() - started)


def _tasks(prover: _Prover, invariants: tuple[Invariant, ...], only: frozenset[str] | None,
           editions: frozenset[str] | None) -> list[_Task]:
    """Every task of the proof, in report order: each invariant edition by edition, then durable_rules."""
    chosen = [rs for rs in prover.book.all_rulesets() if editions is None or rs.edition.id in editions]
    tasks = [_Task(rs.edition.id, inv.id, weight=prover.edition(rs.edition.id).space.size(inv.facts(rs)))
             for inv in invariants if only is None or inv.id in only for rs in chosen if inv.concerns(rs)]
    if only is None or AGREEMENT_ID in only:
        for rs in chosen:
            space = prover.edition(rs.edition.id).space
            behind = {code: frozenset(inputs_behind(rs, code)) for code in sorted(rs.outcomes)}
            def biggest_first(names: frozenset[str], space: Any = space) -> tuple[int, list[str]]:
                return (space.size(names), sorted(names))

            largest = sorted({s for s in behind.values() if not any(s < t for t in behind.values())},
                             key=biggest_first)
            tasks += [_Task(rs.edition.id, AGREEMENT_ID, tuple(sorted(names)), space.size(names)) for names in largest]
    return tasks


def _in_workers(book: Book, invariants: tuple[Invariant, ...], tasks: list[_Task], workers: int) -> dict[_Task, _Done]:
    """Run the tasks in worker processes (started fresh, so nothing of this process is shared), biggest first."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                                initargs=(str(book.directory), invariants)) as pool:
        futures = {task: pool.submit(_work, task) for task in sorted(tasks, key=lambda t: t.weight, reverse=True)}
        return {task: future.result() for task, future in futures.items()}


def _class_check(invariant: Invariant, edition: _Edition) -> tuple[int, list[Counterexample]]:
    """Every class of the facts the invariant depends on, until the first that breaks it."""
    rs = edition.ruleset
    codes = invariant.codes(rs)
    part = rules_behind(rs, codes)
    count = 0
    for case, values in edition.cases(invariant.facts(rs)):
        count += 1
        problem = invariant.broken(evaluate(part, values), values, codes)
        if problem:
            return count, [Counterexample(rs.edition.id, problem, case)]
    return count, []


def _outcome_rules(ruleset: RuleSet) -> list[Rule]:
    """The rules that conclude an outcome, in file order."""
    return [rule for rule in ruleset.rules if rule.concludes]


def _reachable(edition: _Edition) -> tuple[int, list[Counterexample]]:
    """Each outcome rule of the edition: the first class where it applies (none: it is dead)."""
    rs = edition.ruleset
    count = 0
    dead = []
    for rule in _outcome_rules(rs):
        part = rules_behind(rs, [str(rule.concludes)])
        for _case, values in edition.cases(rule_inputs(rs, rule)):
            count += 1
            if evaluate(part, values).rules.get(rule.id) is True:
                break
        else:
            dead.append(Counterexample(rs.edition.id, f"rule {rule.id} ({rule.concludes}) applies to no case"))
    return count, dead


def _not_redundant(edition: _Edition) -> tuple[int, list[Counterexample]]:
    """Each ordered pair of rules for one code: a class where the first applies and the second does not."""
    rs = edition.ruleset
    count = 0
    redundant = []
    rules = _outcome_rules(rs)
    for rule in rules:
        for other in rules:
            if other.concludes != rule.concludes or other.id == rule.id:
                continue
            part = rules_behind(rs, [str(rule.concludes)])
            witness = None
            for case, values in edition.cases(rule_inputs(rs, rule) | rule_inputs(rs, other)):
                count += 1
                truths = evaluate(part, values).rules
                if truths.get(rule.id) is True:
                    if truths.get(other.id) is not True:
                        break
                    witness = witness or case
            else:
                if witness is not None:
                    redundant.append(Counterexample(
                        rs.edition.id, f"rule {rule.id} adds nothing to {rule.concludes}: wherever it applies, "
                        f"rule {other.id} applies too", witness))
    return count, redundant


def _agreement_on(edition: _Edition, engine: Engine, names: tuple[str, ...]) -> tuple[int, list[Counterexample]]:
    """durable_rules against the evaluator on every class of a set of facts, until the first difference.

    The set is all the facts behind some outcome code; the evaluator works on the rules behind every
    code decided by those facts alone, and the decision is compared on those codes.
    """
    rs = edition.ruleset
    part = rules_behind(rs, [code for code in rs.outcomes if inputs_behind(rs, code) <= set(names)])
    count = 0
    for case, values in edition.cases(names):
        count += 1
        problem = _disagreement(engine, rs, part, case, values)
        if problem:
            return count, [Counterexample(rs.edition.id, problem, case)]
    return count, []


def _disagreement(engine: Engine, rs: RuleSet, part: RuleSet, case: Case, values: dict[str, Any]) -> str | None:
    """Where durable_rules and the evaluator differ on this case, in words (None: they agree)."""
    decision = engine.decide(case, rs)
    ev = evaluate(part, values)
    concluded = set(decision.codes)
    for code, truth in sorted(ev.outcomes.items()):
        if (code in concluded) != (truth is True):
            said = "applies" if code in concluded else "does not apply"
            return f"durable_rules says {code} {said}; the evaluator says it is {_truth_words(truth)}"
    for name, value in sorted(decision.derived.items()):
        if name in ev.derived and ev.derived[name] is not value:
            return f"durable_rules derives {name} = {value}; the evaluator says {_truth_words(ev.derived[name])}"
    return None


def _truth_words(truth: bool | None) -> str:
    """A three-valued truth in words."""
    return "open" if truth is None else "true" if truth else "false"

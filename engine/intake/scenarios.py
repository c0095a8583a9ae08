"""Find and load case files (a file, a folder, or JSON Lines), and check scenario expectations."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from pathlib import Path

import attrs

from engine.errors import InputError
from engine.intake.loader import (
    CASE_SUFFIXES,
    STDIN_SOURCE,
    RawCase,
    is_stdin,
    iter_jsonl,
    iter_stdin,
    read_case_file,
)
from engine.intake.validate import build_case
from engine.model.case import Case
from engine.model.decision import Decision


def case_paths(path: Path) -> list[Path]:
    """Case files under `path` (itself if a file), sorted by name."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in CASE_SUFFIXES and p.is_file())
    return [path]


def iter_cases(path: Path) -> Iterator[Case | InputError]:
    """Every case under `path` (`-`: standard input), or the InputError that refused it; one bad case stops nothing."""
    for _source, item in iter_case_sources(path):
        yield item


def iter_case_sources(path: Path) -> Iterator[tuple[str, Case | InputError]]:
    """Like `iter_cases`, each case (or refusal) with the file it came from (`<stdin>` for standard input)."""
    if is_stdin(path):
        yield from ((STDIN_SOURCE, item) for item in _built(iter_stdin()))
        return
    if not path.exists():
        raise InputError("no such file or folder", str(path))
    for file in case_paths(path):
        if file.suffix.lower() == ".jsonl":
            yield from ((str(file), item) for item in _built(iter_jsonl(file)))
            continue
        try:
            yield str(file), build_case(read_case_file(file))
        except InputError as exc:
            yield str(file), exc


def matches(pattern: str, case: Case, source: str) -> bool:
    """True when `pattern` is in the case reference, file name or title (a glob if it holds * ? or [).

    Case is ignored, as `pytest -k` and `openfisca test -n` users expect of a name filter.
    """
    names = [case.case, Path(source).name, case.title or ""]
    pattern = pattern.casefold()
    if any(ch in pattern for ch in "*?["):
        return any(fnmatch.fnmatchcase(name.casefold(), pattern) for name in names)
    return any(pattern in name.casefold() for name in names)


def _built(items: Iterator[RawCase | InputError]) -> Iterator[Case | InputError]:
    """Each raw case validated into a Case, or the InputError that refused it."""
    for item in items:
        if isinstance(item, InputError):
            yield item
            continue
        try:
            yield build_case(item)
        except InputError as exc:
            yield exc


@attrs.frozen
class Check:
    """A scenario's expectations held against its decision."""

    case: Case
    decision: Decision
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    priority_ok: bool
    open_ok: bool = True

    @property
    def checked(self) -> bool:
        """True when the case has expectations to check."""
        return self.case.expect is not None

    @property
    def passed(self) -> bool:
        """True when every expectation holds."""
        return not self.missing and not self.unexpected and self.priority_ok and self.open_ok


def check_expectations(case: Case, decision: Decision) -> Check:
    """Compare a case's `expect:` block with the decision made for it."""
    exp = case.expect
    got = set(decision.codes)
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    priority_ok = open_ok = True
    if exp is not None:
        if exp.open is not None:
            open_ok = tuple(exp.open) == tuple(o.code for o in decision.open)
        if exp.outcomes is not None:
            missing = tuple(sorted(set(exp.outcomes) - got))
            unexpected = tuple(sorted(got - set(exp.outcomes)))
        if exp.priority is not None:
            priority_ok = exp.priority == decision.priority
    return Check(case, decision, missing, unexpected, priority_ok, open_ok)

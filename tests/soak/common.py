"""Shared pieces of the soak measurements: terminal-safety checks, an in-process CLI runner, books."""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import sys
import unicodedata
from pathlib import Path
from typing import Any

import attrs

from engine.casebook.book import CaseBook
from engine.cli.benchmark import machine as engine_machine
from engine.policy.driver import default_engine

ROOT = Path(__file__).resolve().parents[2]
"""The project folder."""

BIDI = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C))
"""Bidirectional override, embedding, isolate and mark characters (Trojan Source)."""

ESCAPES = ("\x1b", "\x07", "\x9b", "\x9d", "\x90", "\x9e", "\x9f")
"""ESC, BEL and the 8-bit C1 introducers (CSI, OSC, DCS, PM, APC): what drives a terminal."""


def unsafe_chars(text: str, allow: str = "\n") -> list[str]:
    """Characters in `text` that must never reach a terminal: controls, format, bidi, separators."""
    return [ch for ch in text if ch not in allow
            and (ch in BIDI or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))]


def has_escape(text: str) -> bool:
    """True when `text` holds a terminal escape introducer (ESC, BEL, C1 CSI/OSC/...) or a bidi control."""
    return any(ch in ESCAPES or ch in BIDI for ch in text)


class TtyBuffer(io.StringIO):
    """A text buffer that says it is a terminal, so click and rich do not strip escapes for us."""

    def isatty(self) -> bool:
        """Claim to be a terminal."""
        return True


@attrs.frozen
class CliResult:
    """What one in-process `pathways` run printed and how it exited."""

    code: int
    out: str
    err: str

    @property
    def traceback(self) -> bool:
        """True when a Python traceback was printed."""
        return "Traceback" in self.out or "Traceback" in self.err


def run_cli(*args: str) -> CliResult:
    """Run `pathways ARGS` in this process with terminal-like output streams; never raises."""
    from engine.cli import main

    out, err = TtyBuffer(), TtyBuffer()
    code: Any = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        code = 1
    return CliResult(code, out.getvalue(), err.getvalue())


def pathways_argv(*args: str) -> list[str]:
    """The argv that runs `pathways ARGS` in a fresh Python process (this interpreter)."""
    return [sys.executable, "-c", "from engine.cli import main; main()", *args]


def child_env() -> dict[str, str]:
    """An environment for child processes that can import the project."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PATHWAYS_DB", None)
    return env


def machine() -> str:
    """This machine in one line: Python, cores, architecture, OS and SQLite version."""
    return f"{engine_machine()}, SQLite {sqlite3.sqlite_version}"


def filesystem(path: Path) -> str:
    """The filesystem type and mount point holding `path` (from /proc/mounts; 'unknown' elsewhere)."""
    try:
        mounts = [line.split()[:3] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown filesystem"
    resolved = str(path.resolve())
    best = max((m for m in mounts if resolved == m[1] or resolved.startswith(m[1].rstrip("/") + "/")),
               key=lambda m: len(m[1]), default=None)
    return f"{best[2]} at {best[1]}" if best else "unknown filesystem"


def referral_decision(book: CaseBook) -> tuple[int, str]:
    """Record the bundled scenario TRN-0001 and return (decision id, a referral code it calls for)."""
    from engine.intake.loader import read_case_file
    from engine.intake.validate import build_case

    case = build_case(read_case_file(ROOT / "cases" / "001-jsa-heroin-toddlers-nfa.yaml"))
    engine = default_engine()
    ruleset = engine.ruleset_for(case)
    decision = engine.decide(case, ruleset)
    decision_id = book.record(case, decision, ruleset, "SOAK")
    code = next(o.code for o in decision.outcomes if o.kind == "referral")
    return decision_id, code


def file_modes(path: Path) -> dict[str, int]:
    """The permission bits of a case book and its -wal/-shm files, where they exist."""
    out = {}
    for suffix in ("", "-wal", "-shm"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            out[suffix or "db"] = candidate.stat().st_mode & 0o777
    return out

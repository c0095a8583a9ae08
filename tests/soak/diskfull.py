"""Full disks (issue #15): `pathways batch` into a file system too small for the caseload says so, with the true count.

Each trial mounts a tmpfs of a random size (root only; elsewhere a random RLIMIT_FSIZE stands in,
which SQLite meets as a refused write), runs `pathways batch` on a generated caseload into it, and
checks what a user is told against the book: the count said to be written is the count in the book,
in whole chunks; the book passes `PRAGMA integrity_check` and `audit verify`; an export and an
anchor written onto the full disk leave no file behind; nothing printed is an "internal error".
"""

from __future__ import annotations

import contextlib
import random
import re
import resource
import signal
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.soak.common import ROOT, child_env, pathways_argv

SAID = re.compile(r"^pathways: (?:the disk is full|the disk refused a write[^:]*|the file is larger[^:]*): "
                  r"(\d+) decisions were written, the rest were not")


def _can_mount(where: Path) -> bool:
    """True when a tmpfs can be mounted here (root, and the container allows it)."""
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(where)],
                          capture_output=True, check=False)
    if done.returncode == 0:
        subprocess.run(["umount", "-l", str(where)], check=False)
    return done.returncode == 0


def _run(args: list[str], fsize: int | None) -> subprocess.CompletedProcess[str]:
    """Run a pathways command, under a file size limit if given (SIGXFSZ ignored: writes fail instead)."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(pathways_argv(*args), cwd=ROOT, env=child_env(), capture_output=True, text=True,
                          timeout=900, preexec_fn=limit)


def _book_state(db: Path) -> tuple[int, str]:
    """(decisions in the book, integrity_check result), read-only."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return (conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0],
                conn.execute("PRAGMA integrity_check").fetchone()[0])


def full_disks(trials: int, cases: int, seed: int = 15) -> dict[str, Any]:
    """Run `trials` batches into too-small file systems; figures and every broken law's example."""
    rng = random.Random(seed)
    figures: dict[str, Any] = {"trials": 0, "cases": cases, "method": "", "disk_full_reported": 0,
                               "fitted": 0, "count_wrong": 0, "not_whole_chunks": 0, "integrity_failures": 0,
                               "verify_failures": 0, "internal_errors": 0, "files_left": 0, "examples": [],
                               "written": []}
    with tempfile.TemporaryDirectory(prefix="pathways-soak-disk-") as tmp:
        work = Path(tmp)
        caseload = work / "caseload.jsonl"
        subprocess.run(pathways_argv("cases", "generate", str(cases), "--seed", str(seed), "-o", str(caseload)),
                       cwd=ROOT, env=child_env(), check=True, capture_output=True)
        probe = work / "probe"
        probe.mkdir()
        mount = _can_mount(probe)
        figures["method"] = "tmpfs" if mount else "RLIMIT_FSIZE"
        for trial in range(trials):
            disk = work / f"disk{trial}"
            disk.mkdir(mode=0o700)
            megabytes = rng.randint(3, 24)
            fsize = None
            if mount:
                subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0700", "tmpfs", str(disk)],
                               check=True)
            else:
                fsize = megabytes * 1024 * 1024
            try:
                _trial(disk, caseload, fsize, figures)
            finally:
                if mount:
                    subprocess.run(["umount", "-l", str(disk)], check=False)
            figures["trials"] += 1
    return figures


def _trial(disk: Path, caseload: Path, fsize: int | None, figures: dict[str, Any]) -> None:
    """One batch into one small disk, then an export and an anchor onto it; tally what broke."""
    db = disk / "book.db"
    done = _run(["batch", str(caseload), "--db", str(db), "--training", "--workers", "1", "--quiet"], fsize)
    said = SAID.match(done.stderr)
    internal = "internal error" in done.stderr or "Traceback" in done.stderr
    figures["internal_errors"] += internal
    in_book, integrity = _book_state(db)
    if done.returncode == 0:
        figures["fitted"] += 1
    elif said and done.returncode == 2 and len(done.stderr.splitlines()) == 1:
        figures["disk_full_reported"] += 1
        written = int(said.group(1))
        figures["written"].append(written)
        if written != in_book:
            figures["count_wrong"] += 1
            figures["examples"].append(f"said {written}, book holds {in_book}")
        if written % 400:
            figures["not_whole_chunks"] += 1
    else:
        figures["examples"].append(f"exit {done.returncode}: {done.stderr.strip()[:200]}")
        figures["count_wrong"] += 1
    if integrity != "ok":
        figures["integrity_failures"] += 1
    verify = _run(["audit", "verify", "--db", str(db)], fsize)
    if verify.returncode != 0:
        figures["verify_failures"] += 1
        figures["examples"].append(f"verify: {verify.stdout.strip()[:200]} {verify.stderr.strip()[:200]}")
    if done.returncode == 0:
        return
    before = {p.name for p in disk.iterdir()}
    for args in (["export", "--format", "json", "-o", str(disk / "export.json")],
                 ["audit", "anchor", "-o", str(disk / "anchor.json")]):
        _run([*args, "--db", str(db)], fsize)
    left = {p.name for p in disk.iterdir()} - before
    for name in left:  # an export may fit in what the failed batch left free: only a partial one is a failure
        if name == "export.json" and _complete_json(disk / name):
            continue
        if name == "anchor.json" and _complete_json(disk / name):
            continue
        figures["files_left"] += 1
        figures["examples"].append(f"left behind: {name}")


def _complete_json(path: Path) -> bool:
    """True when `path` holds a whole JSON document."""
    import json

    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True

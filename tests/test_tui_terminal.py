"""The outside check, inside the suite: each mode draws in a real 80x24 pseudo-terminal and quits on ctrl+q."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from engine.casebook.book import CaseBook
from tests.conftest import record_scenarios
from tests.helpers import ROOT

EXPECT = {"advise": b"ADVISE", "train": b"TRAINING", "audit": b"AUDIT"}


def plain(out: bytes) -> bytes:
    """The terminal output without its control sequences (a word may be drawn in pieces)."""
    return re.sub(rb"\x1b\[[0-9;?<>=$]*[A-Za-z]", b"", out)


def read_until(fd: int, proc: subprocess.Popen, wanted, limit: float) -> bytes:
    out = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not wanted(plain(out)):
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    return out


@pytest.mark.parametrize("mode", ["advise", "train", "audit"])
def test_each_mode_draws_in_a_real_terminal_and_quits_on_ctrl_q(tmp_path, mode: str) -> None:
    db = tmp_path / "book.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=2)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "PATHWAYS_DB": str(tmp_path / "default.db")}
    env.pop("TEXTUAL", None)
    proc = subprocess.Popen([sys.executable, "-c", "from engine.cli import main; main()", "tui", "--mode", mode,
                             "--db", str(db)], stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
                            start_new_session=True)
    os.close(slave)
    try:
        screen = read_until(master, proc, lambda out: EXPECT[mode] in out and b"palette" in out, 60)
        assert EXPECT[mode] in screen, screen[-1000:]
        os.write(master, b"\x11")  # ctrl+q
        rest = read_until(master, proc, lambda out: proc.poll() is not None, 30)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    text = plain(screen + rest)
    assert code == 0
    assert b"Traceback" not in text and b"Error" not in text


def test_the_app_leaves_when_its_terminal_goes_away_and_keeps_the_answers_as_a_draft(tmp_path) -> None:
    """A closed window or a dropped connection: the app saves the open interview's answers as a draft and exits.

    Started in its own session, as `make run` leaves it, the app gets no hang-up signal: the terminal only stops
    answering (and Textual's input thread would spin on it for ever, holding the case book open)."""
    db = tmp_path / "live.db"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "PATHWAYS_DB": str(tmp_path / "default.db")}
    env.pop("TEXTUAL", None)
    proc = subprocess.Popen([sys.executable, "-c", "from engine.cli import main; main()", "tui", "--db", str(db)],
                            stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, start_new_session=True)
    os.close(slave)
    closed = False
    try:
        assert b"palette" in plain(read_until(master, proc, lambda out: b"ADVISE" in out and b"palette" in out, 60))
        os.write(master, b"n")
        assert b"Case reference" in plain(read_until(master, proc, lambda out: b"Case reference" in out, 30))
        os.write(master, b"TST-0300\r")
        time.sleep(0.5)
        os.write(master, b"\r")
        time.sleep(0.5)
        os.write(master, b"\r")
        assert b"Which benefit" in plain(read_until(master, proc, lambda out: b"Which benefit" in out, 30))
        os.write(master, b"\r")  # the first benefit on the list
        assert b"How old" in plain(read_until(master, proc, lambda out: b"How old" in out, 30))
        os.close(master)
        closed = True
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if not closed:
            os.close(master)
    assert code == 0
    with CaseBook(db) as book:
        (draft,) = book.drafts()
    assert draft.ref == "TST-0300" and len(draft.answers["answers"]) == 1

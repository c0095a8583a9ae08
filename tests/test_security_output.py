"""Nothing a case file holds reaches a real terminal raw (issue #15, finding 2).

Hostile scenario files put OSC 52 (set the clipboard), OSC 0 (set the window title), CSI, 8-bit
C1 controls and bidi overrides in every text a scenario can carry: the title, the reference, the
narrative, `expect.outcomes`, `expect.open`, `expect.priority`, and the file name. Each command
that reads them runs under a pseudo-terminal, and the bytes that arrive there are checked.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import CASES, ROOT

IN_FORCE = CASES / "001-jsa-heroin-toddlers-nfa.yaml"

ATTACKS = (
    "\x1b]52;c;ZWNobyBwd25lZAo=\x07",  # OSC 52: put "echo pwned" on the clipboard
    "\x1b]0;owned\x07",                  # OSC 0: set the window title
    "\x1b]2;owned\x1b\\",                # OSC 2 ended by ST
    "\x1b[2J\x1b[31m",                   # CSI: clear the screen, red
    "\x9b2J\x9d0;owned\x9c",             # the same as 8-bit C1 controls
    "\u202eevil\u202c\u2066x\u2069",     # bidi overrides and isolates
    "\u2028\u2029\u200b\ufeff",          # separators and format characters
)


def _hostile_files(folder: Path) -> int:
    """Write one scenario per attack and place; return how many."""
    base = yaml.safe_load(IN_FORCE.read_text(encoding="utf-8"))
    count = 0
    for n, attack in enumerate(ATTACKS):
        variants = {
            "title": {"title": f"Title {attack}"},
            "narrative": {"narrative": f"Story {attack}"},
            "case": {"case": f"TRN-9{n}{attack}"},
            "outcomes": {"expect": {**base["expect"], "outcomes": ["PARENT_PRIORITY", attack]}},
            "open": {"expect": {**base["expect"], "open": [attack]}},
            "priority": {"expect": {**base["expect"], "priority": attack}},
            "wrong": {"title": f"Wrong {attack}", "expect": {**base["expect"], "outcomes": ["PARENT_PRIORITY"]}},
        }
        for place, change in variants.items():
            data = {**base, **change}
            (folder / f"{n}-{place}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
            count += 1
    named = folder / "name-\x1b]0;owned\x07-\u202e.yaml"
    named.write_text(yaml.safe_dump({**base, "expect": {**base["expect"], "outcomes": ["X"]}}), encoding="utf-8")
    return count + 1


def _run_in_pty(*args: str, limit: float = 240) -> bytes:
    """Run `pathways ARGS` with standard output and error on a pseudo-terminal; every byte that arrived."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", "from engine.cli import main; main()", *args],
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, cwd=ROOT, close_fds=True)
    os.close(slave)
    got = bytearray()
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                got.extend(chunk)
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
        proc.wait(timeout=30)
    return bytes(got)


def _raw_controls(data: bytes) -> list[str]:
    """Escape introducers, C1 controls and bidi/format/separator characters in what the terminal got."""
    import unicodedata

    text = data.decode("utf-8", errors="replace")
    return [f"U+{ord(ch):04X}" for ch in text
            if ch not in "\n\r\t" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")]


def test_hostile_scenario_files_put_no_raw_escape_on_a_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    files = _hostile_files(folder)
    assert files == 7 * len(ATTACKS) + 1
    for args in (("cases", "test", str(folder)), ("cases", "test", str(folder), "--verbose"),
                 ("cases", "test", str(folder), "--json"), ("evaluate", str(folder / "0-title.yaml")),
                 ("evaluate", str(folder / "5-narrative.yaml"), "--trace")):
        arrived = _run_in_pty(*args)
        assert arrived, args
        assert _raw_controls(arrived) == [], args
    # what a user sees still says what happened: refused files are named, the wrong one fails
    arrived = _run_in_pty("cases", "test", str(folder)).decode("utf-8", errors="replace")
    assert "expect.outcomes: must be a list of outcome codes" in arrived
    assert "FAIL" in arrived and "Wrong ?" in arrived


@given(st.text(alphabet=st.characters(codec=None)))
def test_the_output_stream_lets_nothing_through_but_text_and_line_ends(text: str) -> None:
    import io

    from engine.textsafe import CleanStream, is_unsafe

    sink = io.StringIO()
    CleanStream(sink).write(text)
    out = sink.getvalue()
    assert len(out) == len(text)
    for i, ch in enumerate(out):
        if ch == "\r":
            assert out[i + 1:i + 2] == "\n"
        else:
            assert ch in "\n\t" or not is_unsafe(ch)
    safe = "".join(ch for ch in text if ch in "\n\t" or not is_unsafe(ch))
    if safe == text and "\r" not in text:
        assert out == text  # clean text passes untouched

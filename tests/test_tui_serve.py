"""`pathways serve`: the app over textual-serve on loopback, driven over its websocket."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import aiohttp

from engine.casebook.book import CaseBook
from tests.conftest import record_scenarios
from tests.helpers import ROOT, run_main


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0][-2000:]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("pathways serve did not start listening")


async def drive(port: int) -> tuple[str, bool, int]:
    """Load the page, open the app's websocket, wait for the audit screen, press ctrl+q."""
    seen = b""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/") as page:
            status = page.status
        async with session.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") as ws:
            async def read_until(predicate, limit: float) -> bool:
                nonlocal seen
                deadline = time.monotonic() + limit
                while time.monotonic() < deadline:
                    try:
                        msg = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
                    except TimeoutError:
                        return False
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        seen += msg.data
                    elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                        return predicate(True)
                    if predicate(False):
                        return True
                return False

            drawn = await read_until(lambda closed: b"AUDIT" in seen and b"TRN-0001" in seen, 60)
            assert drawn, seen[-500:]
            await ws.send_str(json.dumps(["stdin", "\x11"]))  # ctrl+q
            closed = await read_until(lambda closed: closed, 30)
    return seen.decode("utf-8", "replace"), closed, status


def test_serve_drives_the_app_over_its_websocket(tmp_path) -> None:
    db = tmp_path / "book.db"
    with CaseBook(db, training=True) as book:
        record_scenarios(book, limit=2)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from engine.cli import main; main()", "serve", "--port", str(port),
         "--mode", "audit", "--db", str(db)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PATHWAYS_DB": str(tmp_path / "default.db")})
    try:
        wait_for_port(port, proc)
        screen, closed, status = asyncio.run(asyncio.wait_for(drive(port), 120))
        assert status == 200
        assert "TRN-0001" in screen and "Traceback" not in screen
        assert closed, "ctrl+q ends the app and closes the websocket"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert "Traceback" not in out


def test_serve_refuses_a_public_host_without_the_flag(capsys) -> None:
    result = run_main(capsys, "serve", "--host", "0.0.0.0", "--port", "1")
    assert result.code == 2 and "no authentication" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_loopback_hosts() -> None:
    from tui.cli import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.org")

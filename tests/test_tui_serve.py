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


def launch_token(proc: subprocess.Popen, limit: float = 30.0) -> str:
    """The secret token from the address `pathways serve` prints when it starts."""
    import re
    import select

    deadline = time.monotonic() + limit
    text = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            text += line
            found = re.search(r"\?token=([A-Za-z0-9_-]+)", line)
            if found:
                return found.group(1)
        assert proc.poll() is None, text[-2000:]
    raise AssertionError("no address with a token was printed: " + text[-500:])


async def drive(port: int, token: str) -> tuple[str, bool, int, str]:
    """Load the page, open the app's websocket, wait for the audit screen, press ctrl+q."""
    seen = b""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/?token={token}") as page:
            status = page.status
            html = await page.text()
        async with session.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30&token={token}",
                                      origin=f"http://127.0.0.1:{port}") as ws:
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
            await ws.send_str(json.dumps(["stdin", "\x1b[12~"]))  # F2: advise mode, refused in a locked session
            await asyncio.sleep(1.5)
            before = len(seen)
            await read_until(lambda closed: b"stays in" in seen[before - 200:], 10)
            await ws.send_str(json.dumps(["stdin", "\x11"]))  # ctrl+q
            closed = await read_until(lambda closed: closed, 30)
    return seen.decode("utf-8", "replace"), closed, status, html


async def refused(port: int, token: str) -> list[int]:
    """What a foreign page, a request without the token, and a rebinding Host get."""
    statuses = []
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/") as page:  # no token
            statuses.append(page.status)
        async with session.get(f"http://127.0.0.1:{port}/?token=wrong") as page:
            statuses.append(page.status)
        async with session.get(f"http://127.0.0.1:{port}/?token={token}", headers={"Host": "evil.example"}) as page:
            statuses.append(page.status)
        for url, origin in ((f"http://127.0.0.1:{port}/ws?token={token}", "https://evil.example"),
                            (f"http://127.0.0.1:{port}/ws", f"http://127.0.0.1:{port}")):
            try:
                async with session.ws_connect(url, origin=origin) as ws:
                    msg = await ws.receive(timeout=5)
                    statuses.append(200 if msg.type == aiohttp.WSMsgType.BINARY else 0)
            except aiohttp.WSServerHandshakeError as exc:
                statuses.append(exc.status)
    return statuses


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
        token = launch_token(proc)
        wait_for_port(port, proc)
        assert asyncio.run(asyncio.wait_for(refused(port, token), 60)) == [403, 403, 403, 403, 403]
        screen, closed, status, html = asyncio.run(asyncio.wait_for(drive(port, token), 120))
        assert status == 200
        assert "googleapis" not in html and "https://" not in html.split("<body")[0]
        assert f"token={token}" in html
        assert "TRN-0001" in screen and "Traceback" not in screen
        assert "stays in Audit mode" in screen or "stays in" in screen, "a served audit session cannot open advise"
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
    assert result.code == 2 and "no login" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_loopback_hosts() -> None:
    from tui.cli import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.org")


def test_serve_listens_on_ipv6_loopback(tmp_path) -> None:
    if not socket.has_ipv6:
        import pytest
        pytest.skip("no IPv6 on this machine")
    with socket.socket(socket.AF_INET6) as sock:
        try:
            sock.bind(("::1", 0))
        except OSError:
            import pytest
            pytest.skip("no IPv6 loopback on this machine")
        port = int(sock.getsockname()[1])
    proc = subprocess.Popen(
        [sys.executable, "-c", "from engine.cli import main; main()", "serve", "--host", "::1", "--port", str(port),
         "--mode", "train", "--db", str(tmp_path / "training.db")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PATHWAYS_DB": str(tmp_path / "default.db")})
    try:
        token = launch_token(proc)

        async def fetch() -> tuple[int, int]:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://[::1]:{port}/?token={token}") as page:
                    good = page.status
                async with session.get(f"http://[::1]:{port}/") as page:
                    return good, page.status
        deadline = time.monotonic() + 30
        while True:
            try:
                assert asyncio.run(fetch()) == (200, 403)
                break
            except aiohttp.ClientConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()

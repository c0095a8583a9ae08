"""`pathways serve` made safe to leave running: no other web page can drive the app.

textual-serve alone answers any page in the user's browser (cross-site WebSocket hijacking): a
foreign site could start the app, read the screen and type into it. This server adds, as Jupyter
does, a per-launch secret token in the URL; it checks the Host header (against DNS rebinding) and
the Origin of every WebSocket; it limits concurrent sessions; and its page fetches nothing from the
internet (the font link is removed and a Content-Security-Policy forbids other origins).
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from rich.logging import RichHandler
from textual_serve.server import Server

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
"""Host names a loopback server answers to."""

MAX_SESSIONS = 4
"""Concurrent app sessions (browser tabs) one server runs; more are refused (503)."""

_EXTERNAL_LINK = re.compile(r"<link[^>]*https?://[^>]*>", re.IGNORECASE | re.DOTALL)


def host_port(host: str, port: int) -> str:
    """`host:port` as a Host header carries it (IPv6 literals in brackets)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


class GuardedServer(Server):
    """textual-serve with a secret token, Host and Origin checks, a session limit and no external fetches."""

    def __init__(self, command: str, *, host: str, port: int, public_url: str | None = None,
                 token: str | None = None, max_sessions: int = MAX_SESSIONS) -> None:
        base = public_url.rstrip("/") if public_url else f"http://{host_port(host, port)}"
        super().__init__(command, host=host.strip("[]"), port=port, title="Pathways", public_url=base)
        self.token = token or secrets.token_urlsafe(32)
        self.max_sessions = max_sessions
        self.sessions = 0
        own = urlsplit(base)
        self.allowed_hosts = {own.netloc.lower()}
        self.allowed_origins = {f"{own.scheme}://{own.netloc}".lower()}
        names = LOOPBACK_NAMES if host.strip("[]") in ("127.0.0.1", "localhost", "::1") else (host,)
        for name in names:
            self.allowed_hosts.add(host_port(name, port).lower())
            self.allowed_origins.add(f"http://{host_port(name, port)}".lower())

    @property
    def launch_url(self) -> str:
        """The address to open: the page, with this launch's secret token."""
        return f"{self.public_url}/?token={self.token}"

    def _token_ok(self, request: web.Request) -> bool:
        """True when the request carries this launch's token."""
        given = request.query.get("token", "")
        return hmac.compare_digest(given.encode(), self.token.encode())

    async def _make_app(self) -> web.Application:
        """The aiohttp app with the guard in front of every route."""
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Refuse a foreign Host or Origin, and anything but static files without the token."""
        if request.host.lower() not in self.allowed_hosts:
            return web.Response(status=403, text="forbidden: unknown host\n")
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in self.allowed_origins:
            return web.Response(status=403, text="forbidden: foreign origin\n")
        if not request.path.startswith("/static/") and not self._token_ok(request):
            return web.Response(status=403, text="forbidden: open the address pathways serve printed\n")
        response = await handler(request)
        response.headers["Content-Security-Policy"] = self._policy()
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def _policy(self) -> str:
        """A Content-Security-Policy that lets the page reach only this server."""
        ws = "wss" if self.public_url.startswith("https") else "ws"
        netloc = urlsplit(self.public_url).netloc
        return (f"default-src 'self'; connect-src 'self' {ws}://{netloc}; img-src 'self' data:; "
                "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'")

    async def handle_index(self, request: web.Request) -> web.Response:
        """The page, with the token carried into the WebSocket address and no external links."""
        context = await Server.handle_index.__wrapped__(self, request)  # type: ignore[attr-defined]
        context["app_websocket_url"] += f"?token={self.token}"
        html = aiohttp_jinja2.render_string("app_index.html", request, context)
        return web.Response(text=_EXTERNAL_LINK.sub("", html), content_type="text/html")

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One app session per WebSocket, up to the limit."""
        if self.sessions >= self.max_sessions:
            raise web.HTTPServiceUnavailable(text="too many sessions: close a tab and try again\n")
        self.sessions += 1
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions -= 1

    def initialize_logging(self) -> None:
        """Log requests plainly: no tracebacks with local variables (they could hold case data)."""
        logging.basicConfig(level=logging.INFO, format="%(message)s",
                            handlers=[RichHandler(show_path=False, show_time=False, rich_tracebacks=False,
                                                  console=self.console)])

    async def on_startup(self, app: web.Application) -> None:
        """Say where to open the app (the secret is in the address: share it with no one)."""
        self.console.print(f"Pathways is served at {self.launch_url}", markup=False, highlight=False,
                           soft_wrap=True)  # never wrapped: the address must stay whole to be copied
        self.console.print("Open that address in your browser; without its token nothing is served.",
                           markup=False, highlight=False)

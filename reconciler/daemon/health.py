"""The daemon's HTTP face on ``--listen``: ``/healthz``, ``/readyz`` and ``/metrics``.

``/healthz`` says the process answers; ``/readyz`` says a pass succeeded recently (the caller
decides what recently means); ``/metrics`` is the Prometheus text of the daemon's own registry.
The socket is bound before serving, so a busy port fails the start at once and port 0 yields a
known port. The daemon owns the signals: uvicorn must not install its own handlers.

Nothing here runs passes or reads the state; it serves what it is handed.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.daemon.metrics import CONTENT_TYPE, Metrics
from reconciler.errors import ReconcilerError


@dataclass(frozen=True)
class Address:
    """Where to listen: a host (IPv4, IPv6 or name) and a port (0 picks a free one)."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Address:
        """``HOST:PORT``, ``[IPv6]:PORT`` or ``:PORT`` (every IPv4 interface)."""
        host, sep, port = text.strip().rpartition(":")
        if not sep or not port.isdigit() or int(port) > 65535:
            raise ValueError(f"expected HOST:PORT, got {text!r}")
        host = host.removeprefix("[").removesuffix("]") or "0.0.0.0"
        return cls(host=host, port=int(port))


def bind(address: Address) -> socket.socket:
    """A listening TCP socket, or a ``ReconcilerError`` saying why there cannot be one."""
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address.host, address.port))
        sock.listen(64)
    except OSError as exc:
        sock.close()
        raise ReconcilerError(
            f"cannot listen on {address.host}:{address.port}: {exc.strerror or exc}"
        ) from exc
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def create_app(
    *,
    ready: Callable[[], bool],
    metrics: Metrics,
    problem: Callable[[], str | None] = lambda: None,
) -> FastAPI:
    """The three routes; ``ready`` is asked on every ``/readyz``, and ``problem`` too: what is
    wrong though the daemon may still be ready (a commit held back), shown as ``why``."""
    app = FastAPI(title="reconciler daemon", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        ok = ready()
        why = problem()
        body: dict[str, object] = {"ready": ok} if why is None else {"ready": ok, "why": why}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics")
    async def metrics_text() -> Response:
        return Response(content=metrics.render(), media_type=CONTENT_TYPE)

    return app


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers (SIGTERM belongs to the daemon's stop event) and
    without its tick: uvicorn's loop wakes ten times a second to look for a reason to exit and
    to keep its Date header current; this one sleeps until ``stop`` is set, and ``_dated``
    stamps each response instead (an idle daemon may wake at most twice a second in all)."""

    def __init__(self, config: uvicorn.Config, *, stop: asyncio.Event) -> None:
        super().__init__(config)
        self._stop = stop

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def main_loop(self) -> None:
        await self._stop.wait()


def _dated(app: ASGIApp) -> ASGIApp:
    """``app`` with a ``Date`` header on every response, as HTTP/1.1 asks of a server."""

    async def dated(scope: Scope, receive: Receive, send: Send) -> None:
        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                date = email.utils.formatdate(usegmt=True).encode()
                message = {**message, "headers": [*message.get("headers", ()), (b"date", date)]}
            await send(message)

        await app(scope, receive, stamped)

    return dated


async def serve(app: FastAPI, sock: socket.socket, *, stop: asyncio.Event) -> None:
    """Serve on ``sock`` until ``stop`` is set."""
    server = _Server(
        uvicorn.Config(
            _dated(app),
            date_header=False,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        ),
        stop=stop,
    )
    await server.serve(sockets=[sock])

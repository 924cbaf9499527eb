"""A stand-in for the Agora API on 127.0.0.1 that answers in one hostile way at a time.

``hostile_server(mode)`` runs a raw asyncio TCP server in a thread (port 0) and yields a
``Hostile`` whose ``url`` the CLI or daemon is pointed at, whose ``mode`` a test may change while
it runs (to turn the server honest), and whose ``calls`` count requests by endpoint. HTTP is
written by hand on purpose: trickling headers or a body one byte at a time is what a real HTTP
server library would not let us do. Every trickle stops when the client goes away or the server
closes, so nothing here outlives its test.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

# Between two trickled bytes: far under the client's per-read timeout, so only a total deadline
# can end the call.
TRICKLE_SECONDS = 0.2
TRICKLE_BYTES = 10_000
GIANT_LIST = 5_000
HUGE_BYTES = 1024 * 1024
# 64 KiB each: 1 GiB in all, far past any cap, so only the cap (or the client leaving) ends it.
FLOOD_CHUNKS = 16_384


class Mode(StrEnum):
    SLOW_HEADERS = "slow-headers"
    SLOW_BODY = "slow-body"
    ENDLESS_CURSORS = "endless-cursors"
    GIANT_LIST = "giant-list"
    NON_JSON = "non-json"
    TRUNCATED_JSON = "truncated-json"
    ERROR_BODY_200 = "error-body-200"
    WRONG_TYPES = "wrong-types"
    # Honest lists, but a join's answer trickles: observing ends at once, acting never does.
    SLOW_JOIN = "slow-join"
    # A list page far over the response cap: declared up front, or streamed without end.
    HUGE_PAGE = "huge-page"
    ENDLESS_BODY = "endless-body"
    HONEST = "honest"


class Hostile:
    """What a test sees of the server: where it is, how it answers, what it was asked."""

    def __init__(self, mode: Mode) -> None:
        self.mode = mode
        self.url = ""
        self.calls: Counter[str] = Counter()
        # An HTTP date every answer carries, when a test wants the API's clock to be off.
        self.date: str | None = None
        self.paths: list[str] = []
        self._lock = threading.Lock()

    def count(self, endpoint: str) -> None:
        with self._lock:
            self.calls[endpoint] += 1

    def acting_calls(self) -> int:
        """Calls that would change the fleet: anything but list and query."""
        with self._lock:
            return sum(n for endpoint, n in self.calls.items() if endpoint not in ("list", "query"))


def _endpoint(method: str, path: str) -> str:
    tail = path.split("?", 1)[0].rstrip("/").split("/agents", 1)[-1]
    if method == "POST" and path.split("?", 1)[0].endswith("/join"):
        return "join"
    if tail == "":
        return "list"
    if method == "GET" and tail.count("/") == 1:
        return "query"
    return tail.rsplit("/", 1)[-1] or method.lower()


def _response(
    status: str, body: bytes, *, length: int | None = None, date: str | None = None
) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\nConnection: close\r\n"
    )
    if date is not None:
        head += f"Date: {date}\r\n"
    return head.encode() + b"\r\n" + body


def _page(items: int, cursor: str, *, first: int = 0) -> bytes:
    ids = range(first, first + items)
    listed = [{"agent_id": f"x{i:06d}", "status": "RUNNING", "start_ts": 1} for i in ids]
    return json.dumps(
        {"data": {"count": items, "list": listed}, "meta": {"cursor": cursor, "total": items}}
    ).encode()


class _Server:
    def __init__(self, hostile: Hostile) -> None:
        self.hostile = hostile
        self.cursors = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self.serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        method, path, _ = head.split("\r\n", 1)[0].split(" ", 2)
        length = 0
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        await reader.readexactly(length)
        endpoint = _endpoint(method, path)
        self.hostile.paths.append(path)
        self.hostile.count(endpoint)
        await self.answer(writer, endpoint)

    async def answer(self, writer: asyncio.StreamWriter, endpoint: str) -> None:
        mode = self.hostile.mode
        if mode is Mode.SLOW_HEADERS:
            await self.trickle(writer, b"HTTP/1.1 200 OK\r\n")
        elif mode is Mode.SLOW_BODY:
            writer.write(_response("200 OK", b'{"data": ', length=TRICKLE_BYTES))
            await self.trickle(writer, b"")
        elif mode is Mode.ENDLESS_BODY and endpoint == "list":
            await self.flood(writer)
        elif mode is Mode.SLOW_JOIN and endpoint == "join":
            await self.trickle(writer, b"HTTP/1.1 200 OK\r\n")
        elif endpoint != "list" or mode in (Mode.HONEST, Mode.SLOW_JOIN):
            writer.write(self.honest(endpoint))
        else:
            writer.write(self.broken(mode))
        await writer.drain()

    def honest(self, endpoint: str) -> bytes:
        if endpoint == "list":
            return _response("200 OK", _page(0, ""), date=self.hostile.date)
        body = b'{"detail": "task not found", "reason": "TaskNotFound"}'
        return _response("404 Not Found", body)

    def broken(self, mode: Mode) -> bytes:
        if mode is Mode.ENDLESS_CURSORS:
            self.cursors += 1
            return _response("200 OK", _page(1, f"cursor-{self.cursors}", first=self.cursors))
        bodies = {
            Mode.GIANT_LIST: _page(GIANT_LIST, ""),
            Mode.NON_JSON: b"<html><body>502 Bad Gateway</body></html>",
            Mode.TRUNCATED_JSON: _page(3, "")[:40],
            Mode.ERROR_BODY_200: b'{"detail": "internal error", "reason": "InternalError"}',
            Mode.WRONG_TYPES: b'{"data": {"count": "many", "list": "none"}, "meta": []}',
            Mode.HUGE_PAGE: b'{"data": {"count": 0, "list": []}, "pad": "'
            + b"x" * HUGE_BYTES
            + b'"}',
        }
        return _response("200 OK", bodies[mode])

    async def flood(self, writer: asyncio.StreamWriter) -> None:
        """A 200 with no length whose body never ends, sent as fast as the client reads it."""
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
        writer.write(head.encode() + b'{"data": {"count": 0, "list": []}, "pad": "')
        chunk = b"x" * 65536
        for _ in range(FLOOD_CHUNKS):
            writer.write(chunk)
            await writer.drain()

    async def trickle(self, writer: asyncio.StreamWriter, first: bytes) -> None:
        """Send ``first``, then one byte at a time, until the client hangs up."""
        writer.write(first)
        for _ in range(TRICKLE_BYTES):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(TRICKLE_SECONDS)


@contextmanager
def hostile_server(mode: Mode) -> Iterator[Hostile]:
    """Serve ``mode`` on 127.0.0.1 for the block; the server and its trickles end with it."""
    hostile = Hostile(mode)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    server_box: list[asyncio.Server] = []

    async def start() -> None:
        server = await asyncio.start_server(_Server(hostile).handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        hostile.url = f"http://127.0.0.1:{port}"
        server_box.append(server)
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not started.wait(timeout=10):
        raise RuntimeError("the hostile server did not start")
    try:
        yield hostile
    finally:

        async def stop() -> None:
            server = server_box[0]
            server.close()
            handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            await server.wait_closed()
            await asyncio.sleep(0.01)  # the closed transports' callbacks run on the next turns

        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()

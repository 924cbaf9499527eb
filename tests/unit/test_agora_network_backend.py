"""The asyncio network backend carries HTTP and HTTPS as anyio's did, and fails the same ways.

Each test talks to a real server on 127.0.0.1 (an asyncio server written here, so that it can
misbehave on cue: close an idle connection, say 408 and hang up, never answer, read nothing,
send or take a large body, or serve TLS with a certificate from a test CA).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpcore
import httpx
import pytest
import trustme

from reconciler.agora import network, pools
from reconciler.emulator import EmulatorConfig, running_server

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler, *, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """A server on a free port; every connection it accepted is closed when it stops."""
    accepted: list[asyncio.StreamWriter] = []

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        await handler(reader, writer)

    server = await asyncio.start_server(tracked, "127.0.0.1", 0, ssl=tls)
    try:
        async with server:
            yield server.sockets[0].getsockname()[1]
    finally:
        for writer in accepted:
            writer.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def ok(body: bytes = b"ok") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def client(*, ssl_context: ssl.SSLContext | None = None) -> httpx.AsyncClient:
    """An httpx client whose one pool runs on the backend, as the Agora clients' shards do."""
    transport = httpx.AsyncHTTPTransport()
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context, network_backend=network.AsyncioBackend()
    )
    return httpx.AsyncClient(transport=transport)


async def until(condition: Callable[[], bool], *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.01)


def test_the_agora_clients_shards_use_the_backend() -> None:
    shard = pools._shard(httpx.Limits(max_connections=2))
    assert isinstance(shard._pool, httpcore.AsyncConnectionPool)
    assert isinstance(shard._pool._network_backend, network.AsyncioBackend)


async def test_the_sharded_transport_talks_to_the_emulator() -> None:
    with running_server(EmulatorConfig()) as url:
        transport = pools.ShardedTransport(shards=2, per_shard=2)
        async with httpx.AsyncClient(transport=transport, base_url=url) as http:
            answers = await asyncio.gather(*(http.get("/_emulator/clock") for _ in range(12)))
    assert {answer.status_code for answer in answers} == {200}


async def test_a_kept_alive_connection_is_reused() -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                break
            writer.write(ok())
            await writer.drain()
        writer.close()

    async with serving(handler) as port, client() as http:
        for _ in range(3):
            assert (await http.get(f"http://127.0.0.1:{port}/")).text == "ok"
    assert connections == 1


@pytest.mark.parametrize("parting", [b"", b"HTTP/1.1 408 Request Timeout\r\n\r\n"])
async def test_an_idle_connection_the_server_closed_is_not_reused(parting: bytes) -> None:
    """Closed quietly, or with a 408 first: the next request goes out on a new connection."""
    closed = asyncio.Event()
    served = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        await read_request(reader)
        served += 1
        writer.write(ok(b"answer %d" % served))
        await writer.drain()
        if served == 1:
            writer.write(parting)
            writer.close()
            await writer.wait_closed()
            closed.set()
            return
        writer.close()

    async with serving(handler) as port, client() as http:
        url = f"http://127.0.0.1:{port}/"
        first = await http.get(url)
        assert first.text == "answer 1"
        await closed.wait()
        stream = first.extensions["network_stream"]
        await until(lambda: stream.get_extra_info("is_readable"))
        second = await http.get(url)
    assert (second.status_code, second.text) == (200, "answer 2")


async def test_a_large_body_arrives_whole() -> None:
    body = bytes(range(256)) * 8192  # 2 MiB: past the mark where reading pauses

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(ok(body))
        await writer.drain()
        writer.close()

    async with serving(handler) as port, client() as http:
        assert (await http.get(f"http://127.0.0.1:{port}/")).content == body


async def test_a_large_upload_waits_for_the_server_to_take_it() -> None:
    """More than the socket and the transport buffer hold: the writer pauses until it drains."""
    upload = bytes(range(256)) * (64 * 1024)  # 16 MiB

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_request(reader)
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        received = await reader.readexactly(length)
        writer.write(ok(b"whole" if received == upload else b"garbled"))
        await writer.drain()
        writer.close()

    async with serving(handler) as port, client() as http:
        answer = await http.post(f"http://127.0.0.1:{port}/", content=upload)
    assert answer.text == "whole"


async def test_a_server_that_takes_nothing_times_out_as_a_write_timeout() -> None:
    upload = bytes(64 * 1024 * 1024)  # more than loopback's socket buffers hold

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.Event().wait()  # holds the connection, reading nothing, until torn down

    async with serving(handler) as port, client() as http:
        with pytest.raises(httpx.WriteTimeout):
            await http.post(
                f"http://127.0.0.1:{port}/", content=upload, timeout=httpx.Timeout(5.0, write=0.2)
            )


async def test_a_server_that_never_answers_times_out_as_a_read_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await reader.read()  # until the client gives up and closes

    async with serving(handler) as port, client() as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"http://127.0.0.1:{port}/", timeout=httpx.Timeout(5.0, read=0.2))


async def test_a_connection_dropped_mid_answer_is_a_transport_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()
        writer.transport.abort()

    async with serving(handler) as port, client() as http:
        with pytest.raises(httpx.TransportError):
            await http.get(f"http://127.0.0.1:{port}/")


async def test_a_refused_connection_is_a_connect_error() -> None:
    async with serving(answer_once) as port:
        pass
    async with client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/")


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


def server_context(authority: trustme.CA, *hosts: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*hosts).configure_cert(context)
    return context


async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await read_request(reader)
    except (asyncio.IncompleteReadError, ConnectionError):
        return
    writer.write(ok(b"secure"))
    await writer.drain()
    await reader.read()  # until the client closes
    writer.close()


async def test_https_verifies_the_server_and_carries_the_answer(authority: trustme.CA) -> None:
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    tls = server_context(authority, "localhost")
    async with (
        serving(answer_once, tls=tls) as port,
        client(ssl_context=trusting) as http,
        http.stream("GET", f"https://localhost:{port}/") as answer,
    ):
        assert answer.extensions["network_stream"].get_extra_info("ssl_object") is not None
        await answer.aread()
    assert (answer.status_code, answer.text) == (200, "secure")
    assert answer.extensions["network_stream"].get_extra_info("ssl_object") is None  # closed


async def test_https_refuses_a_certificate_it_does_not_trust(authority: trustme.CA) -> None:
    tls = server_context(authority, "localhost")
    async with serving(answer_once, tls=tls) as port, client(ssl_context=None) as http:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await http.get(f"https://localhost:{port}/")

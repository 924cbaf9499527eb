"""Run the emulator as a real HTTP server: ``serve`` in the foreground, ``running_server`` aside.

Both bind the socket themselves so that port 0 yields a real, known port before uvicorn starts;
``serve`` prints the demo credentials and exactly one ``emulator listening on URL`` line, which
scripts and tests read. Nothing here knows the API: it only hosts ``create_app``.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from reconciler.emulator.app import InjectedDrop, create_app
from reconciler.emulator.config import DEMO_APP_CERTIFICATE, DEMO_CUSTOMER_SECRET, EmulatorConfig

STARTUP_TIMEOUT_SECONDS = 10.0


def serve(config: EmulatorConfig, *, host: str, port: int) -> None:
    """Serve until interrupted; prints where, and with which (demo) credentials."""
    sock = _listening_socket(host, port)
    print("Agora ConvoAI API emulator")
    print(f"  app id:          {config.app_id}")
    print(f"  customer id:     {config.customer_id}")
    print(f"  customer secret: {_shown(config.customer_secret, demo=DEMO_CUSTOMER_SECRET)}")
    print(f"  app certificate: {_shown(config.app_certificate, demo=DEMO_APP_CERTIFICATE)}")
    if (config.customer_secret, config.app_certificate) == (
        DEMO_CUSTOMER_SECRET,
        DEMO_APP_CERTIFICATE,
    ):
        print("To point reconciler and the sample fleet at it:")
        print(
            f"  export AGORA_API_URL={_url(sock)} AGORA_APP_ID={config.app_id} "
            f"AGORA_CUSTOMER_ID={config.customer_id} AGORA_CUSTOMER_SECRET={DEMO_CUSTOMER_SECRET} "
            f"AGORA_APP_CERTIFICATE={DEMO_APP_CERTIFICATE}"
        )
    if config.webhook_url is not None:
        print(f"  webhooks to:     {config.webhook_url}")
    print(f"emulator listening on {_url(sock)}", flush=True)
    _server(config, own_logging=True).run(sockets=[sock])


@contextmanager
def running_server(config: EmulatorConfig | None = None) -> Iterator[str]:
    """Serve on 127.0.0.1 and a free port in a background thread; yields the base URL."""
    sock = _listening_socket("127.0.0.1", 0)
    server = _server(config or EmulatorConfig(), own_logging=False)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="emulator", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.01)
        yield _url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
        sock.close()


class _QuietDrops(logging.Filter):
    """An injected dropped connection is the emulator working as asked: log no traceback for it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InjectedDrop))


def _server(config: EmulatorConfig, *, own_logging: bool) -> uvicorn.Server:
    # Inside someone else's process (tests, benchmarks) uvicorn must not reconfigure logging.
    logging_config = uvicorn.config.LOGGING_CONFIG if own_logging else None
    server_config = uvicorn.Config(
        create_app(config),
        log_config=logging_config,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    uvicorn_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in uvicorn_log.filters):
        uvicorn_log.addFilter(_QuietDrops())
    return uvicorn.Server(server_config)


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP, or asyncio skips TCP_NODELAY on accepted connections and every answer
    # (headers, then body) waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _shown(secret: str, *, demo: str) -> str:
    # The demo values are public and printing them is the point; a secret of the user's is not.
    return secret if secret == demo else "(as given, not shown)"

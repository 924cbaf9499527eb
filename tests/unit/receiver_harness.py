"""A real local HTTP receiver for notification tests: it records every POST and answers as told.

``Receiver`` runs a ``ThreadingHTTPServer`` on 127.0.0.1, port 0, in a thread; ``answers`` is the
status of each successive request (200 once it runs out). Tests wait on ``bodies`` with a bound.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """What arrived (path and JSON body per request), and the statuses still to answer."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [])
        self.requests: list[tuple[str, Any]] = []
        self.url = ""

    @property
    def bodies(self) -> list[Any]:
        return [body for _, body in list(self.requests)]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"null")
                receiver.requests.append((self.path, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        return Handler


@contextmanager
def receiving(answers: list[int] | None = None) -> Iterator[Receiver]:
    """A running receiver for the block."""
    receiver = Receiver(answers)
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

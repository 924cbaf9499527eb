"""Reads one answer with a size cap, so a hostile or broken API cannot fill our memory.

httpx would read a body whole before anyone could count it; here the body is streamed and the
read stops as soon as it passes the cap (or at once, when ``Content-Length`` already says so).
The cap counts decoded bytes, so a small compressed body that inflates past it is stopped too.
The request goes straight to the client's transport: what ``httpx.AsyncClient.send`` adds on
the way (auth flows, redirects, cookies, event hooks, timing) is nothing an Agora call uses, and
cost ~60 µs a request. It only reads; it must not judge what the answer says (``answers`` does)
or resend anything.
"""

from __future__ import annotations

from typing import Final

import httpx

DEFAULT_MAX_RESPONSE_BYTES: Final = 8 * 1024 * 1024
# Headers that describe the body as it came over the wire, not the decoded one kept here.
_WIRE_HEADERS: Final = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class ResponseTooLarge(Exception):
    """The answer passed the cap; ``seen`` is how many bytes were known of it when it stopped."""

    def __init__(self, seen: int) -> None:
        self.seen = seen
        super().__init__(f"{seen} bytes")


async def send_capped(
    transport: httpx.AsyncBaseTransport, request: httpx.Request, *, limit: int
) -> httpx.Response:
    """Send ``request`` and return its answer with the body read, at most ``limit`` bytes of it."""
    response = await transport.handle_async_request(request)
    response.request = request
    try:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(int(declared))
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise ResponseTooLarge(len(body))
    finally:
        await response.aclose()
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in _WIRE_HEADERS
    ]
    return httpx.Response(
        response.status_code, headers=headers, content=bytes(body), request=request
    )

"""The API's clock as a client sees it: how far ours is off, told by the answers' ``Date``.

A client warns once when the two differ by over a minute, and from then on knows the offset
that moves a list window, and the judgement of a token's expiry, onto the API's clock. It only
reads headers; it must not send requests or change our clock.
"""

from __future__ import annotations

import email.utils
import time
from datetime import UTC
from typing import Any, Final

import httpx

# Tokens, the list window and the 72-hour cap are all reckoned on our clock: say when it is off.
CLOCK_SKEW_WARNING_SECONDS: Final = 60.0


class ApiClock:
    """One client's view of the API's clock, checked on the first answer with a ``Date``."""

    def __init__(self, log: Any) -> None:
        self._log = log
        self._checked = False
        # Whole seconds to add to our clock to get the API's, once a Date header told (0 until
        # then); whole, so that a window given in whole seconds stays so on the wire.
        self.offset = 0

    def check(self, response: httpx.Response) -> None:
        """Warn once per client when the API's ``Date`` and our clock differ by over a minute."""
        if self._checked or "Date" not in response.headers:
            return
        self._checked = True
        try:
            server = email.utils.parsedate_to_datetime(response.headers["Date"])
        except (TypeError, ValueError):
            return
        if server.tzinfo is None:
            server = server.replace(tzinfo=UTC)
        skew = time.time() - server.timestamp()
        if abs(skew) > CLOCK_SKEW_WARNING_SECONDS:
            self.offset = -round(skew)
            self._log.warning(
                "clock_skew",
                local_minus_api_s=round(skew),
                hint="list windows and token expiry follow the API's clock",
            )

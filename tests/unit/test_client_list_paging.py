"""list_all: explicit filters on every page, cursors followed to the end, repeats tolerated."""

from __future__ import annotations

import httpx
import pytest

from reconciler import errors
from reconciler.agora import wire
from reconciler.agora.client import AgoraClient, BasicAuth, RetryPolicy

NON_TERMINAL = list(wire.NON_TERMINAL_CODES)


class Pages:
    """A fake list endpoint serving fixed pages keyed by the cursor it is sent."""

    def __init__(self, pages: dict[str | None, tuple[list[str], str]]) -> None:
        self.pages = pages
        self.params: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.params.append(params)
        ids, cursor = self.pages[params.get("cursor")]
        items = [{"agent_id": i, "status": "RUNNING", "start_ts": 1_700_000_000} for i in ids]
        body = {"data": {"count": len(items), "list": items}, "meta": {"cursor": cursor}}
        return httpx.Response(200, json=body)


def client(pages: Pages) -> AgoraClient:
    return AgoraClient(
        app_id="0123456789abcdef0123456789abcdef",
        auth=BasicAuth("cid", "csecret"),
        base_url="https://agora.test",
        retry=RetryPolicy(attempts=1),
        transport=httpx.MockTransport(pages),
    )


async def test_follows_the_cursor_to_the_last_page() -> None:
    """Three pages come back as one list, in order."""
    pages = Pages({None: (["A", "B"], "C"), "C": (["C", "D"], "E"), "E": (["E"], "")})
    async with client(pages) as api:
        items = await api.list_all(states=NON_TERMINAL, from_time=1_699_000_000, page_size=2)
    assert [i.agent_id for i in items] == ["A", "B", "C", "D", "E"]
    assert [p.get("cursor") for p in pages.params] == [None, "C", "E"]


async def test_every_page_sends_explicit_state_from_time_and_the_filters() -> None:
    """The server's defaults (RUNNING only, last 2 h) must never apply by omission."""
    pages = Pages({None: (["A"], "B"), "B": (["B"], "")})
    async with client(pages) as api:
        await api.list_all(
            states=NON_TERMINAL,
            from_time=1_699_000_000.0,
            to_time=1_700_000_000,
            channel="lobby",
            page_size=50,
        )
    for params in pages.params:
        assert params["state"] == "0,1,2,3,5"
        assert params["from_time"] == "1699000000"
        assert params["to_time"] == "1700000000"
        assert params["channel"] == "lobby"
        assert params["limit"] == "50"


async def test_an_item_repeated_across_pages_is_kept_once() -> None:
    """Agents shifting between pages while we read must not appear twice."""
    pages = Pages({None: (["A", "B"], "B"), "B": (["B", "C"], "")})
    async with client(pages) as api:
        items = await api.list_all(states=NON_TERMINAL, from_time=0)
    assert [i.agent_id for i in items] == ["A", "B", "C"]


async def test_a_cursor_that_comes_back_stops_the_listing_with_an_error() -> None:
    """A server looping over cursors would otherwise keep us paging forever."""
    pages = Pages({None: (["A"], "B"), "B": (["B"], "C"), "C": (["C"], "B")})
    async with client(pages) as api:
        with pytest.raises(errors.ApiError, match="twice"):
            await api.list_all(states=NON_TERMINAL, from_time=0)


async def test_an_empty_state_filter_is_refused_before_any_request() -> None:
    """No states would silently mean the server's default, RUNNING only."""
    pages = Pages({None: ([], "")})
    async with client(pages) as api:
        with pytest.raises(ValueError, match="state"):
            await api.list_all(states=[], from_time=0)
    assert pages.params == []

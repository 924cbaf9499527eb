"""list: RUNNING-only and a two-hour window by default, state and channel filters, cursor paging."""

from __future__ import annotations

from reconciler.agora.wire import Endpoint


async def _seed(api, *agents):
    return (await api.control("POST", "agents", json={"agents": list(agents)}))["agent_ids"]


async def _list(api, **params):
    response = await api.call(Endpoint.LIST, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _all_pages(api, **params):
    seen, cursor = [], None
    while True:
        page = await _list(api, **params, **({"cursor": cursor} if cursor else {}))
        seen.extend(item["agent_id"] for item in page["data"]["list"])
        cursor = page["meta"]["cursor"]
        if not cursor:
            return seen


async def test_response_shape_has_only_id_status_and_start(api):
    """Items carry exactly agent_id, status and start_ts; the envelope has data, meta, status."""
    agent_id = await api.start("a")
    body = await _list(api)
    assert body["status"] == "ok"
    assert body["meta"] == {"cursor": "", "total": 1}
    assert body["data"]["count"] == 1
    assert body["data"]["list"] == [
        {"agent_id": agent_id, "status": "RUNNING", "start_ts": int(await api.now())}
    ]


async def test_default_window_hides_agents_older_than_two_hours(api):
    """Without from_time only agents started in the last 7200 s are listed."""
    now = int(await api.now())
    old, recent = await _seed(
        api,
        {"name": "old", "channel": "c1", "start_ts": now - 7201},
        {"name": "recent", "channel": "c2", "start_ts": now - 7000},
    )
    assert [i["agent_id"] for i in (await _list(api))["data"]["list"]] == [recent]
    wide = await _list(api, from_time=now - 3 * 3600)
    assert [i["agent_id"] for i in wide["data"]["list"]] == [old, recent]


async def test_to_time_bounds_the_window(api):
    """to_time excludes agents started after it."""
    now = int(await api.now())
    early, _ = await _seed(
        api,
        {"name": "early", "channel": "c1", "start_ts": now - 600},
        {"name": "late", "channel": "c2", "start_ts": now - 60},
    )
    body = await _list(api, to_time=now - 300)
    assert [i["agent_id"] for i in body["data"]["list"]] == [early]


async def test_default_state_is_running_only(api):
    """STARTING, STOPPING, STOPPED and FAILED agents are invisible without a state filter."""
    ids = await _seed(
        api,
        *(
            {"name": status.lower(), "channel": status, "status": status}
            for status in ("STARTING", "RUNNING", "STOPPING", "STOPPED", "FAILED")
        ),
    )
    assert [i["agent_id"] for i in (await _list(api))["data"]["list"]] == [ids[1]]


async def test_state_filter_takes_a_comma_list_of_codes(api):
    """state=1,3,6 lists exactly the STARTING, STOPPING and FAILED agents."""
    ids = await _seed(
        api,
        *(
            {"name": status.lower(), "channel": status, "status": status}
            for status in ("STARTING", "RUNNING", "STOPPING", "STOPPED", "FAILED")
        ),
    )
    body = await _list(api, state="1,3,6")
    assert sorted(i["agent_id"] for i in body["data"]["list"]) == sorted([ids[0], ids[2], ids[4]])
    assert {i["status"] for i in body["data"]["list"]} == {"STARTING", "STOPPING", "FAILED"}


async def test_channel_filter(api):
    """channel= lists only that channel's agents."""
    lobby = await api.start("a", channel="lobby")
    await api.start("b", channel="hall")
    assert [i["agent_id"] for i in (await _list(api, channel="lobby"))["data"]["list"]] == [lobby]


async def test_pages_follow_the_cursor_in_start_then_id_order(api):
    """45 agents come back 20, 20, 5 with cursors, ordered by (start_ts, agent_id), no repeats."""
    now = int(await api.now())
    ids = await _seed(
        api, *({"name": f"a{n}", "channel": f"c{n}", "start_ts": now - n % 7} for n in range(45))
    )
    first = await _list(api)
    assert first["data"]["count"] == 20
    assert first["meta"]["total"] == 45
    second = await _list(api, cursor=first["meta"]["cursor"])
    assert second["data"]["list"][0]["agent_id"] == first["meta"]["cursor"]
    listed = await _all_pages(api)
    records = await api.agents()
    assert listed == sorted(ids, key=lambda i: (records[i]["start_ts"], i))


async def test_limit_is_capped_at_max_list_limit(api):
    """A limit above max_list_limit returns max_list_limit items."""
    await api.configure(max_list_limit=3)
    await _seed(api, *({"name": f"a{n}", "channel": f"c{n}"} for n in range(5)))
    body = await _list(api, limit=50)
    assert body["data"]["count"] == 3
    assert body["meta"]["total"] == 5


async def test_float_timestamps_are_accepted(api):
    """The SDK may send from_time=1700000000.0; it is read as a number of seconds."""
    agent_id = await api.start("a")
    now = await api.now()
    body = await _list(api, from_time=f"{now - 10:.1f}", to_time=f"{now + 10:.1f}")
    assert [i["agent_id"] for i in body["data"]["list"]] == [agent_id]


async def test_bad_state_and_unknown_cursor_are_400(api):
    """A non-numeric state code and a cursor naming no agent are InvalidFieldValue."""
    for params in ({"state": "RUNNING"}, {"state": "9"}, {"cursor": "NOSUCHAGENT"}):
        response = await api.call(Endpoint.LIST, params=params)
        assert response.status_code == 400
        assert response.json()["reason"] == "InvalidFieldValue"


async def test_ten_thousand_agents_page_through_completely(api):
    """10,000 agents listed 100 per page: every id exactly once, in order."""
    now = int(await api.now())
    ids = await _seed(
        api,
        *({"name": f"a{n}", "channel": "big", "start_ts": now - n // 50} for n in range(10_000)),
    )
    listed = await _all_pages(api, limit=100, from_time=now - 3600)
    assert len(listed) == 10_000
    assert set(listed) == set(ids)

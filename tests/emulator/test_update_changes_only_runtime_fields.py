"""update replaces token, llm.system_messages, llm.params and mllm.params, and ignores the rest."""

from __future__ import annotations

from reconciler.agora.wire import Endpoint


async def test_update_replaces_the_four_runtime_fields_whole(api):
    """token, system_messages and params are replaced (no merge); the reply has id, ts, status."""
    agent_id = await api.start(
        "a",
        llm={"url": "https://llm", "params": {"model": "m1", "max_tokens": 9}},
        mllm={"params": {"voice": "v1", "speed": 1}},
    )
    response = await api.call(
        Endpoint.UPDATE,
        agent_id,
        json={
            "properties": {
                "token": "new-token",
                "llm": {"system_messages": [{"role": "system", "content": "hi"}], "params": {}},
                "mllm": {"params": {"voice": "v2"}},
            }
        },
    )
    assert response.status_code == 200
    assert response.json() == {
        "agent_id": agent_id,
        "create_ts": int(await api.now()),
        "status": "RUNNING",
    }
    properties = (await api.agents())[agent_id]["properties"]
    assert properties["token"] == "new-token"
    assert properties["llm"] == {
        "url": "https://llm",
        "params": {},
        "system_messages": [{"role": "system", "content": "hi"}],
    }
    assert properties["mllm"] == {"params": {"voice": "v2"}}


async def test_update_ignores_fields_that_need_a_restart(api):
    """tts, idle_timeout and llm.url in an update change nothing."""
    agent_id = await api.start("a", idle_timeout=0, llm={"url": "https://llm"}, tts={"vendor": "x"})
    before = (await api.agents())[agent_id]["properties"]
    response = await api.call(
        Endpoint.UPDATE,
        agent_id,
        json={
            "properties": {
                "idle_timeout": 5,
                "tts": {"vendor": "y"},
                "llm": {"url": "https://other"},
            }
        },
    )
    assert response.status_code == 200
    assert (await api.agents())[agent_id]["properties"] == before


async def test_update_on_stopping_agent_is_404(api):
    """Only a RUNNING agent can be updated."""
    agent_id = await api.start("a")
    await api.call(Endpoint.LEAVE, agent_id)
    response = await api.call(Endpoint.UPDATE, agent_id, json={"properties": {"token": "t"}})
    assert response.status_code == 404

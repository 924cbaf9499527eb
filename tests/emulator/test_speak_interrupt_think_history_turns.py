"""speak, interrupt and think answer with the channel and leave traces in history and turns."""

from __future__ import annotations

from reconciler.agora.wire import Endpoint


async def test_speak_answers_and_adds_an_assistant_line_and_a_turn(api):
    """speak returns agent_id, channel, start_ts; history gets the text, turns an api_speak."""
    agent_id = await api.start("a", channel="lobby")
    response = await api.call(Endpoint.SPEAK, agent_id, json={"text": "Welcome!"})
    assert response.status_code == 200
    assert response.json() == {
        "agent_id": agent_id,
        "channel": "lobby",
        "start_ts": int(await api.now()),
    }
    history = (await api.call(Endpoint.HISTORY, agent_id)).json()
    assert history["status"] == "RUNNING"
    assert history["contents"] == [{"role": "assistant", "content": "Welcome!"}]
    turns = (await api.call(Endpoint.TURNS, agent_id)).json()
    assert turns["total_turn_count"] == 1
    assert turns["turns"][0]["start"]["type"] == "api_speak"


async def test_think_adds_an_injected_user_line(api):
    """think's text shows in history as a user line prefixed [think API injected]."""
    agent_id = await api.start("a")
    response = await api.call(Endpoint.THINK, agent_id, json={"text": "Offer a discount"})
    assert response.status_code == 200
    contents = (await api.call(Endpoint.HISTORY, agent_id)).json()["contents"]
    assert contents == [{"role": "user", "content": "[think API injected] Offer a discount"}]


async def test_interrupt_with_empty_json_body_marks_the_turn_interrupted(api):
    """The SDK's interrupt (JSON content type, no body) works and cuts the latest turn."""
    agent_id = await api.start("a", channel="lobby")
    await api.call(Endpoint.SPEAK, agent_id, json={"text": "A long story"})
    response = await api.call(
        Endpoint.INTERRUPT, agent_id, content=b"", headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["channel"] == "lobby"
    end = (await api.call(Endpoint.TURNS, agent_id)).json()["turns"][0]["end"]
    assert end["type"] == "interrupted"
    assert end["metadata"]["caused_by"] == "api_interrupt"


async def test_speak_on_an_mllm_agent_is_400(api):
    """speak is not supported with mllm enabled: 400 InvalidFieldValue."""
    agent_id = await api.start("a", mllm={"enable": True, "vendor": "openai"})
    response = await api.call(Endpoint.SPEAK, agent_id, json={"text": "hi"})
    assert response.status_code == 400
    assert response.json()["reason"] == "InvalidFieldValue"


async def test_speak_text_over_512_bytes_is_400(api):
    """A speak text of 513 bytes is InvalidFieldValue."""
    agent_id = await api.start("a")
    response = await api.call(Endpoint.SPEAK, agent_id, json={"text": "é" * 257})
    assert response.status_code == 400
    assert response.json()["reason"] == "InvalidFieldValue"
    assert response.json()["detail"].startswith("text: must be at most 512 bytes")


async def test_history_is_gone_after_stop_but_turns_remain_for_seven_days(api):
    """After stop, history is 404 while turns still answer, until seven days have passed."""
    agent_id = await api.start("a")
    await api.call(Endpoint.SPEAK, agent_id, json={"text": "bye"})
    await api.call(Endpoint.LEAVE, agent_id)
    await api.advance(1)
    assert (await api.call(Endpoint.HISTORY, agent_id)).status_code == 404
    turns = await api.call(Endpoint.TURNS, agent_id)
    assert turns.status_code == 200
    assert turns.json()["name"] == "a"
    await api.advance(7 * 86400 + 1)
    assert (await api.call(Endpoint.TURNS, agent_id)).status_code == 404


async def test_turns_are_paged_and_page_size_is_checked(api):
    """25 turns at page_size 10 make three pages; page_size 5 is a 400."""
    agent_id = await api.start("a")
    for n in range(25):
        await api.call(Endpoint.SPEAK, agent_id, json={"text": f"line {n}"})
    page = await api.call(Endpoint.TURNS, agent_id, params={"page_index": 3, "page_size": 10})
    body = page.json()
    assert body["pagination"] == {"page_index": 3, "total_pages": 3, "is_last_page": True}
    assert [t["turn_id"] for t in body["turns"]] == [21, 22, 23, 24, 25]
    bad = await api.call(Endpoint.TURNS, agent_id, params={"page_size": 5})
    assert bad.status_code == 400
    assert bad.json()["reason"] == "InvalidFieldValue"


async def test_history_keeps_at_most_max_history_entries(api):
    """History is bounded by llm.max_history, keeping the newest lines."""
    agent_id = await api.start("a", llm={"max_history": 2})
    for text in ("one", "two", "three"):
        await api.call(Endpoint.SPEAK, agent_id, json={"text": text})
    contents = (await api.call(Endpoint.HISTORY, agent_id)).json()["contents"]
    assert [c["content"] for c in contents] == ["two", "three"]


async def test_a_talking_caller_leaves_a_turn_every_five_seconds_while_it_talks(api):
    """The talk control route: turns (and history lines) at their times, none after it ends."""
    agent_id = await api.start("a", channel="lobby")
    start = await api.now()
    await api.control("POST", f"agents/{agent_id}/talk", json={"seconds": 12})
    await api.advance(7)
    turns = (await api.call(Endpoint.TURNS, agent_id)).json()
    assert [t["start"]["start_at"] for t in turns["turns"]] == [
        int(start * 1000),
        int((start + 5) * 1000),
    ]
    assert {t["start"]["type"] for t in turns["turns"]} == {"voice_input"}
    assert len((await api.call(Endpoint.HISTORY, agent_id)).json()["contents"]) == 4
    await api.advance(60)
    assert (await api.call(Endpoint.TURNS, agent_id)).json()["total_turn_count"] == 3


async def test_talk_needs_a_live_agent(api):
    """No live agent with that id: 404."""
    response = await api.client.post("/_emulator/agents/nope/talk", json={"seconds": 5})
    assert response.status_code == 404

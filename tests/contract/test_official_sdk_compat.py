"""The official ``agora-agents`` SDK, unchanged, runs its calls against the emulator as a server.

The SDK is synchronous, so the emulator runs as a real HTTP server in a background thread
(``running_server``) and the SDK is pointed at it the two documented ways: the raw Fern client's
``base_url``, and ``AGORA_AGENTS_API_BASE_URL`` for the pool client. Both auth styles are covered:
Basic customer credentials, and app credentials, where the SDK mints a token per request.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from agora_agent.agentkit import Agent
from agora_agent.agentkit.token import generate_convo_ai_token
from agora_agent.agentkit.vendors.llm import OpenAI
from agora_agent.agentkit.vendors.tts import MicrosoftTTS
from agora_agent.client import Agora as FernAgora
from agora_agent.core.domain import Area
from agora_agent.pool_client import Agora

from reconciler.agora import wire
from reconciler.emulator import (
    DEMO_APP_CERTIFICATE,
    DEMO_APP_ID,
    DEMO_CUSTOMER_ID,
    DEMO_CUSTOMER_SECRET,
    EmulatorConfig,
    running_server,
)

BASIC = "Basic " + base64.b64encode(f"{DEMO_CUSTOMER_ID}:{DEMO_CUSTOMER_SECRET}".encode()).decode()


@pytest.fixture
def server() -> Iterator[str]:
    with running_server(EmulatorConfig()) as url:
        yield url


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """The connection pool handed to the SDK, so that the test can close it (the SDK never does)."""
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def sdk_env(server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Points every pool client created in the test at the emulator, as a user would."""
    monkeypatch.setenv("AGORA_AGENTS_API_BASE_URL", server)
    return server


def control(server: str, method: str, path: str) -> Any:
    response = httpx.request(method, f"{server}/_emulator{path}")
    response.raise_for_status()
    return response.json()


def start_properties(channel: str) -> dict[str, Any]:
    return {
        "channel": channel,
        "token": "007agent-rtc-token",
        "agent_rtc_uid": "1001",
        "remote_rtc_uids": ["2001"],
        "idle_timeout": 0,
        "llm": {"url": "https://llm.test/v1", "api_key": "sk-test", "params": {"model": "m"}},
        "tts": {
            "vendor": "microsoft",
            "params": {"key": "k", "region": "eastus", "voice_name": "v"},
        },
    }


def test_the_raw_client_with_basic_auth_runs_every_call(server: str, http: httpx.Client) -> None:
    """join ×5, list over three pages, query, update, speak, interrupt, history, leave."""
    sdk = FernAgora(
        base_url=server + wire.API_ROOT,
        authorization=BASIC,
        username="",
        password="",
        httpx_client=http,
    )
    agents = sdk.agents
    ids = [
        agents.start(DEMO_APP_ID, name=f"sdk-{n}", properties=start_properties(f"ch{n}")).agent_id
        for n in range(5)
    ]

    pager = agents.list(DEMO_APP_ID, from_time=time.time() - 3600, state="0,1,2", limit=2)
    assert sorted(item.agent_id for item in pager) == sorted(ids)
    assert control(server, "GET", "/counters")["list"] == {"200": 3}

    first = ids[0]
    assert agents.get(DEMO_APP_ID, first).status == "RUNNING"
    updated = agents.update(DEMO_APP_ID, first, properties={"llm": {"params": {"model": "m2"}}})
    assert updated.status == "RUNNING"
    assert agents.speak(DEMO_APP_ID, first, text="Welcome!").channel == "ch0"
    assert agents.interrupt(DEMO_APP_ID, first).agent_id == first
    history = agents.get_history(DEMO_APP_ID, first)
    assert [entry.content for entry in history.contents or []] == ["Welcome!"]
    agents.stop(DEMO_APP_ID, first)
    assert agents.get(DEMO_APP_ID, first).status == "STOPPING"


def test_the_pool_client_follows_the_base_url_variable_with_basic_auth(
    sdk_env: str, http: httpx.Client
) -> None:
    """``Agora(area=...)`` with customer credentials reaches the emulator through the env var."""
    sdk = Agora(
        area=Area.US,
        app_id=DEMO_APP_ID,
        app_certificate=DEMO_APP_CERTIFICATE,
        customer_id=DEMO_CUSTOMER_ID,
        customer_secret=DEMO_CUSTOMER_SECRET,
        httpx_client=http,
    )
    assert sdk.get_current_url() == sdk_env + wire.API_ROOT
    started = sdk.agents.start(DEMO_APP_ID, name="pool-1", properties=start_properties("lobby"))
    sdk.stop_agent(started.agent_id)
    sdk.stop_agent(started.agent_id)  # the SDK treats the second leave's 404 as done
    (record,) = control(sdk_env, "GET", "/agents")["agents"]
    assert (record["name"], record["status"]) == ("pool-1", "STOPPING")


def test_an_agent_session_in_app_credentials_mode_runs_every_call(
    sdk_env: str, http: httpx.Client
) -> None:
    """The agentkit session mints its own tokens; start, say, think, update, history, stop."""
    sdk = Agora(
        area=Area.US,
        app_id=DEMO_APP_ID,
        app_certificate=DEMO_APP_CERTIFICATE,
        httpx_client=http,
    )
    agent = (
        Agent(client=sdk, instructions="You greet visitors.")
        .with_llm(OpenAI(api_key="sk-test", base_url="https://llm.test/v1", model="gpt-4o-mini"))
        .with_tts(MicrosoftTTS(key="k", region="eastus", voice_name="en-US-AndrewNeural"))
    )
    session = agent.create_session(
        channel="lobby", agent_uid="1001", remote_uids=["2001"], idle_timeout=0
    )
    agent_id = session.start()

    rest_token = generate_convo_ai_token(
        app_id=DEMO_APP_ID, app_certificate=DEMO_APP_CERTIFICATE, channel_name="ops", uid=0
    )
    listed = sdk.agents.list(
        DEMO_APP_ID,
        from_time=time.time() - 3600,
        state="0,1,2",
        request_options={"additional_headers": {"Authorization": f"agora token={rest_token}"}},
    )
    assert [item.agent_id for item in listed] == [agent_id]

    assert session.get_info().status == "RUNNING"
    session.update({"llm": {"params": {"model": "gpt-4o"}}})
    session.say("Welcome!")
    session.think("Offer a coffee")
    session.interrupt()
    contents = [entry.content for entry in session.get_history().contents or []]
    assert "Welcome!" in contents
    session.stop()
    assert session.get_info().status == "STOPPING"
    counters = control(sdk_env, "GET", "/counters")
    assert all(set(answers) == {"200"} for answers in counters.values())


def test_the_cn_area_reaches_the_emulated_cn_service(sdk_env: str, http: httpx.Client) -> None:
    """``Area.CN`` appends the ``/cn/`` root, and its agents land in the separate CN service."""
    sdk = Agora(
        area=Area.CN,
        app_id=DEMO_APP_ID,
        app_certificate=DEMO_APP_CERTIFICATE,
        customer_id=DEMO_CUSTOMER_ID,
        customer_secret=DEMO_CUSTOMER_SECRET,
        httpx_client=http,
    )
    assert sdk.get_current_url() == sdk_env + wire.CN_API_ROOT
    sdk.agents.start(DEMO_APP_ID, name="cn-1", properties=start_properties("lobby"))
    (record,) = control(sdk_env, "GET", "/agents")["agents"]
    assert (record["region"], record["name"]) == ("cn", "cn-1")

"""How documents become agents: profiles merge under agents, AgentSets expand, keys sort."""

from __future__ import annotations

import textwrap
from pathlib import Path

from reconciler.manifest import load
from reconciler.manifest.desired import DesiredFleet

PROJECT = """\
apiVersion: reconciler/v1
kind: Project
metadata: {name: shop}
spec:
  appId: ${env:AGORA_APP_ID}
  customerId: ${env:AGORA_CUSTOMER_ID}
  customerSecret: ${file:secrets/customer}
  namePrefix: shop
"""
PROFILE = """\
apiVersion: reconciler/v1
kind: Profile
metadata: {name: voice}
spec:
  properties:
    idle_timeout: 0
    llm:
      url: https://llm.example/v1
      api_key: ${file:keys/llm}
      system_messages: [{role: system, content: from the profile}]
      params: {model: small, temperature: 0.2}
    tts: {vendor: microsoft, params: {key: "${env:TTS_KEY}", region: eastus}}
    asr: {language: en-US}
"""


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def _fleet(root: Path) -> DesiredFleet:
    result = load.load_fleet(root)
    assert [str(d) for d in result.diagnostics] == []
    assert result.fleet is not None
    return result.fleet


def test_profile_maps_merge_lists_replace_and_null_removes(tmp_path: Path) -> None:
    """The agent wins field by field inside maps, replaces lists whole, and null drops a field."""
    _write(tmp_path, "project.yaml", PROJECT)
    _write(tmp_path, "profile.yaml", PROFILE)
    _write(
        tmp_path,
        "agent.yaml",
        """\
        apiVersion: reconciler/v1
        kind: Agent
        metadata: {name: greeter, project: shop}
        spec:
          channel: lobby
          profile: voice
          properties:
            agent_rtc_uid: "1001"
            remote_rtc_uids: ["2001"]
            token: ${env:LOBBY_TOKEN}
            llm:
              system_messages: [{role: system, content: from the agent}]
              params: {model: large}
            asr: null
        """,
    )
    agent = _fleet(tmp_path).agents["shop/greeter"]
    llm = agent.properties["llm"]
    assert llm["url"] == "https://llm.example/v1"
    assert llm["params"] == {"model": "large", "temperature": 0.2}
    assert llm["system_messages"] == [{"role": "system", "content": "from the agent"}]
    assert "asr" not in agent.properties
    assert agent.properties["tts"]["vendor"] == "microsoft"
    assert "token" not in agent.properties
    assert "channel" not in agent.properties
    assert agent.token == "${env:LOBBY_TOKEN}"
    assert (agent.channel, agent.agent_rtc_uid) == ("lobby", "1001")


def test_agent_set_expands_to_one_agent_per_channel(tmp_path: Path) -> None:
    """Members are keyed project/<set>-<channel> and point back at their channel's line."""
    _write(tmp_path, "project.yaml", PROJECT)
    _write(tmp_path, "profile.yaml", PROFILE)
    _write(
        tmp_path,
        "set.yaml",
        """\
        apiVersion: reconciler/v1
        kind: AgentSet
        metadata: {name: assistant, project: shop}
        spec:
          channels:
            - store-1
            - store-2
          template:
            profile: voice
            restartPolicy: Never
            properties: {agent_rtc_uid: "1001", remote_rtc_uids: ["2001"]}
        """,
    )
    fleet = _fleet(tmp_path)
    assert list(fleet.agents) == ["shop/assistant-store-1", "shop/assistant-store-2"]
    second = fleet.agents["shop/assistant-store-2"]
    assert (second.name, second.channel, second.project) == ("assistant-store-2", "store-2", "shop")
    assert second.restart_policy == "Never"
    assert (second.source.file, second.source.line) == (str(tmp_path / "set.yaml"), 7)


def test_file_references_are_made_absolute_from_their_own_file(tmp_path: Path) -> None:
    """A profile's relative ${file:} means its own directory, wherever the agents live."""
    _write(tmp_path, "projects/project.yaml", PROJECT)
    _write(tmp_path, "profiles/profile.yaml", PROFILE)
    _write(
        tmp_path,
        "agents/agent.yaml",
        """\
        apiVersion: reconciler/v1
        kind: Agent
        metadata: {name: greeter, project: shop}
        spec:
          channel: lobby
          profile: voice
          properties: {agent_rtc_uid: "1001", remote_rtc_uids: ["2001"]}
        """,
    )
    fleet = _fleet(tmp_path)
    key = fleet.agents["shop/greeter"].properties["llm"]["api_key"]
    assert key == f"${{file:{(tmp_path / 'profiles/keys/llm').resolve()}}}"
    secret = fleet.projects["shop"].customer_secret
    assert secret == f"${{file:{(tmp_path / 'projects/secrets/customer').resolve()}}}"


def test_agents_iterate_in_key_order_whatever_the_file_order(tmp_path: Path) -> None:
    """Keys sort, so plans built from the fleet are deterministic."""
    _write(tmp_path, "a-project.yaml", PROJECT + "---\n" + PROFILE)
    for name, channel in [("zeta", "z"), ("alpha", "a"), ("mid", "m")]:
        _write(
            tmp_path,
            f"{channel}.yaml",
            f"""\
            apiVersion: reconciler/v1
            kind: Agent
            metadata: {{name: {name}, project: shop}}
            spec:
              channel: {channel}
              profile: voice
              properties: {{agent_rtc_uid: "1001", remote_rtc_uids: ["2001"]}}
            """,
        )
    assert list(_fleet(tmp_path).agents) == ["shop/alpha", "shop/mid", "shop/zeta"]


def test_project_defaults_are_filled(tmp_path: Path) -> None:
    """Quota 20, token lifetime 24 h, and the name prefix as written."""
    _write(tmp_path, "project.yaml", PROJECT)
    project = _fleet(tmp_path).projects["shop"]
    assert project.max_concurrent_agents == 20
    assert project.token_lifetime_seconds == 86_400
    assert project.name_prefix == "shop"
    assert project.region is None
    assert project.base_url is None
    assert project.app_certificate is None


def test_digest_follows_the_bytes_not_the_spelling_of_the_path(tmp_path: Path) -> None:
    """Same files, same digest; one changed byte, another digest; other files do not count."""
    _write(tmp_path, "fleet/project.yaml", PROJECT)
    first = load.load_fleet(tmp_path / "fleet").digest
    assert load.load_fleet(tmp_path / "fleet" / ".." / "fleet").digest == first
    _write(tmp_path, "fleet/README.md", "not a manifest")
    assert load.load_fleet(tmp_path / "fleet").digest == first
    _write(tmp_path, "fleet/project.yaml", PROJECT.replace("shop", "shop2"))
    assert load.load_fleet(tmp_path / "fleet").digest != first

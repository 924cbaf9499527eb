"""Documented join shapes the loader once refused: ``["*"]`` with string uids, numbers under
secret-looking names, and the top-level ``preset`` / ``pipeline_id`` (spec.preset, pipelineId)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from manifest_texts import PROJECT, agent

from reconciler import logs
from reconciler.apply import payloads
from reconciler.manifest import load
from reconciler.manifest.load import LoadResult
from reconciler.plan import diff


def _load(root: Path, *documents: str) -> LoadResult:
    (root / "project.yaml").write_text(PROJECT)
    for index, text in enumerate(documents):
        (root / f"doc{index}.yaml").write_text(textwrap.dedent(text))
    return load.load_fleet(root)


def _messages(result: LoadResult) -> list[str]:
    return [str(d) for d in result.diagnostics]


def test_everyone_with_string_uids_validates(tmp_path: Path) -> None:
    """``remote_rtc_uids: ["*"]`` with ``enable_string_uid: true`` (public samples) is accepted."""
    text = agent(
        """\
        enable_string_uid: true
        llm: {url: "https://llm.example/v1", api_key: "${env:LLM_KEY}"}
        tts: {vendor: microsoft, params: {key: "${env:TTS_KEY}"}}
        """
    )
    text = text.replace('"1001"', "agent-bot").replace('["2001"]', '["*"]')
    result = _load(tmp_path, text)
    assert _messages(result) == []


def test_a_number_under_a_secret_looking_name_is_a_setting(tmp_path: Path) -> None:
    """``llm.params.max_token: 1024`` (Agora's update example) is no literal secret, and stays
    visible in logs and plans; a string under that name still must be a reference."""
    text = agent(
        """\
        llm:
          url: https://llm.example/v1
          api_key: ${env:LLM_KEY}
          params: {model: gpt-4o-mini, max_token: MAX}
        tts: {vendor: microsoft, params: {key: "${env:TTS_KEY}"}}
        """
    )
    assert _messages(_load(tmp_path, text.replace("MAX", "1024"))) == []
    [problem] = _messages(_load(tmp_path, text.replace("MAX", "lots")))
    assert "llm.params.max_token" in problem
    assert "is a secret" in problem
    assert logs.mask_secrets(None, "info", {"params": {"max_token": 1024}}) == {
        "params": {"max_token": 1024}
    }
    [change] = diff.diff({"max_token": 1024}, {"max_token": 2048}, sensitive=frozenset())
    assert not change.sensitive


def test_preset_and_pipeline_id_are_top_level_join_fields(tmp_path: Path) -> None:
    """spec.preset and spec.pipelineId merge like other fields (agent over profile, null removes),
    stand in for llm and tts (no warning) and are sent beside properties, not in them."""
    result = _load(
        tmp_path,
        """\
        apiVersion: reconciler/v1
        kind: Profile
        metadata: {name: managed}
        spec:
          preset: deepgram_nova_3,openai_gpt_4o_mini,minimax_speech_2_6_turbo
          pipelineId: pipe-from-profile
          properties: {remote_rtc_uids: ["2001"]}
        """,
        """\
        apiVersion: reconciler/v1
        kind: Agent
        metadata: {name: lobby, project: shop}
        spec:
          channel: lobby
          profile: managed
          pipelineId: null
          properties: {agent_rtc_uid: "1001"}
        """,
        """\
        apiVersion: reconciler/v1
        kind: AgentSet
        metadata: {name: desk, project: shop}
        spec:
          channels: [one]
          template:
            pipelineId: 9f2c-pipeline
            properties: {agent_rtc_uid: "1002", remote_rtc_uids: ["2002"]}
        """,
    )
    assert _messages(result) == []
    assert result.fleet is not None
    lobby = result.fleet.agents["shop/lobby"]
    desk = result.fleet.agents["shop/desk-one"]
    assert dict(lobby.join_fields) == {
        "preset": "deepgram_nova_3,openai_gpt_4o_mini,minimax_speech_2_6_turbo"
    }
    assert dict(desk.join_fields) == {"pipeline_id": "9f2c-pipeline"}
    body = payloads.join_request(
        desk,
        remote_name="rc-shop--desk-one-g1",
        generation=1,
        token="",
        values=payloads.SecretValues({}),
    ).to_wire()
    assert body["pipeline_id"] == "9f2c-pipeline"
    assert "pipeline_id" not in body["properties"]
    assert "preset" not in body


def test_preset_inside_properties_is_refused_with_where_it_goes(tmp_path: Path) -> None:
    """Inside properties Agora would not read it: the loader says to move it beside properties."""
    result = _load(tmp_path, agent("preset: deepgram_nova_3\n"))
    [problem] = [str(d) for d in result.diagnostics if d.is_error]
    assert "doc0.yaml:9" in problem
    assert "set preset beside properties" in problem

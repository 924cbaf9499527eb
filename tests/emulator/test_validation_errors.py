"""Bad bodies get the API's 400s; what the official SDK sends (nulls, extra fields) is accepted."""

from __future__ import annotations

import pytest

from reconciler.agora.wire import Endpoint


async def _join_raw(api, **kwargs):
    return await api.call(Endpoint.JOIN, **kwargs)


async def test_non_json_body_is_invalid_request_body(api):
    """A body that is not JSON is 400 InvalidRequestBody."""
    response = await _join_raw(
        api, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "InvalidRequestBody"


@pytest.mark.parametrize(
    ("drop", "detail"),
    [
        ("name", "name: Field required"),
        ("properties", "properties: Field required"),
        ("channel", "properties.channel: Field required"),
        ("token", "properties.token: Field required"),
        ("agent_rtc_uid", "properties.agent_rtc_uid: Field required"),
        ("remote_rtc_uids", "properties.remote_rtc_uids: Field required"),
    ],
)
async def test_missing_required_field(api, body, drop, detail):
    """Each required field, when missing, is 400 MissingRequiredField naming it."""
    payload = body("a")
    if drop in payload:
        del payload[drop]
    else:
        del payload["properties"][drop]
    response = await _join_raw(api, json=payload)
    assert response.status_code == 400
    assert response.json() == {"detail": detail, "reason": "MissingRequiredField"}


@pytest.mark.parametrize(
    ("change", "detail_start"),
    [
        ({"agent_rtc_uid": 1001}, "properties.agent_rtc_uid: Input should be a valid string"),
        ({"remote_rtc_uids": "2001"}, "properties.remote_rtc_uids: Input should be a valid list"),
        ({"idle_timeout": 259_201}, "properties.idle_timeout: Input should be less than or equal"),
        ({"channel": "no/slash"}, "properties.channel: may contain only"),
        ({"agent_rtc_uid": "abc"}, "properties.agent_rtc_uid: must be a string of digits"),
        ({"remote_rtc_uids": ["x y"]}, "properties.remote_rtc_uids.0: must be a string of digits"),
        ({"agent_rtc_uid": "*"}, "properties.agent_rtc_uid: must be one uid"),
    ],
)
async def test_invalid_field_value(api, body, change, detail_start):
    """Wrong types, ranges, channel names and uids are 400 InvalidFieldValue naming the field."""
    payload = body("a")
    payload["properties"].update(change)
    response = await _join_raw(api, json=payload)
    assert response.status_code == 400
    assert response.json()["reason"] == "InvalidFieldValue"
    assert response.json()["detail"].startswith(detail_start)


async def test_remote_uids_may_be_everyone(api):
    """``remote_rtc_uids: ["*"]`` listens to every user; only the agent's own uid must be one."""
    response = await api.join("a", remote=("*",))
    assert response.status_code == 200


async def test_string_uids_are_accepted_when_enabled(api):
    """With enable_string_uid, user-account uids are fine."""
    response = await api.join("a", uid="agent-one", remote=("alice",), enable_string_uid=True)
    assert response.status_code == 200


async def test_everyone_with_string_uids_is_accepted(api):
    """``["*"]`` with enable_string_uid (public samples send it; no Agora source forbids it)."""
    response = await api.join("a", uid="agent-one", remote=("*",), enable_string_uid=True)
    assert response.status_code == 200, response.text


async def test_a_pipeline_stands_in_for_llm_and_tts_in_strict_mode(api, body):
    """Agora's pipeline example: top-level pipeline_id, properties without llm or tts."""
    await api.configure(require_llm_and_tts=True)
    with_pipeline = {**body("a"), "pipeline_id": "9f2c4b1e-pipeline"}
    assert (await _join_raw(api, json=with_pipeline)).status_code == 200


async def test_explicit_nulls_and_unknown_fields_are_accepted(api, body):
    """The SDK's "preset": null, "pipeline_id": null and undocumented fields do not break join."""
    payload = body("a", turn_detection={"language": "en-US"}, parameters={"x": 1})
    payload.update({"preset": None, "pipeline_id": None, "future_field": {"a": 1}})
    payload["properties"]["llm"] = {"input_modalities": ["text"], "style": "openai", "url": None}
    response = await _join_raw(api, json=payload)
    assert response.status_code == 200, response.text


async def test_llm_and_tts_are_required_only_in_strict_mode(api, body):
    """require_llm_and_tts refuses a bare join, but not one with a preset."""
    await api.configure(require_llm_and_tts=True)
    response = await api.join("a")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "properties.llm: Field required",
        "reason": "MissingRequiredField",
    }
    with_preset = {**body("a"), "preset": "openai_gpt_4o_mini,openai_tts_1"}
    assert (await _join_raw(api, json=with_preset)).status_code == 200


@pytest.mark.parametrize(
    "stand_in",
    [
        {"mllm": {"enable": True, "vendor": "openai"}},
        {"advanced_features": {"enable_mllm": True}},
    ],
)
async def test_an_mllm_stands_in_for_llm_and_tts_in_strict_mode(api, body, stand_in):
    """require_llm_and_tts accepts a join whose multimodal LLM replaces them (§8.1)."""
    await api.configure(require_llm_and_tts=True)
    assert (await _join_raw(api, json=body("a", **stand_in))).status_code == 200


async def test_body_that_is_not_an_object_is_invalid_request_body(api):
    """A JSON array is not a request body."""
    response = await _join_raw(api, json=[1, 2])
    assert response.status_code == 400
    assert response.json()["reason"] == "InvalidRequestBody"

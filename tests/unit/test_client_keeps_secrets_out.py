"""No secret reaches a repr, an exception message or a log line, even when the server echoes one."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
import structlog
from structlog.testing import capture_logs

from reconciler import errors, logs
from reconciler.agora import wire
from reconciler.agora.client import AgoraClient, BasicAuth, RetryPolicy, TokenAuth
from reconciler.agora.tokens import mint_rtc_token

APP_ID = "0123456789abcdef0123456789abcdef"
CERTIFICATE = "fedcba9876543210fedcba9876543210"
CUSTOMER_SECRET = "cust-secret-value-42"
LLM_KEY = "sk-llm-key-0123456789"
TTS_KEY = "azure-tts-key-987654"


def join_with_keys() -> wire.JoinRequest:
    return wire.JoinRequest.model_validate(
        {
            "name": "lobby-g1",
            "properties": {
                "channel": "lobby",
                "token": "007rtc-token-for-the-agent",
                "agent_rtc_uid": "1001",
                "remote_rtc_uids": ["2001"],
                "llm": {"url": "https://llm.test", "api_key": LLM_KEY},
                "tts": {"vendor": "microsoft", "params": {"key": TTS_KEY}},
            },
        }
    )


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_auth_reprs_show_no_secret() -> None:
    """The customer secret, a static token and the App Certificate never appear in a repr."""
    basic = BasicAuth("cust-id", CUSTOMER_SECRET)
    static = TokenAuth.static("007static-token-value")
    minted = TokenAuth.minted(CERTIFICATE)
    api = AgoraClient(app_id=APP_ID, auth=basic, base_url="https://agora.test")
    text = " ".join(repr(x) for x in (basic, static, minted, api))
    for secret in (CUSTOMER_SECRET, "007static-token-value", CERTIFICATE):
        assert secret not in text
    assert "cust-id" in text


def test_a_minted_tokens_repr_hides_the_token() -> None:
    """MintedToken shows when it expires, not what it is."""
    token = mint_rtc_token(app_id=APP_ID, app_certificate=CERTIFICATE, channel="c", uid="1")
    assert token.value not in repr(token)
    assert str(token.expires_at) in repr(token)


async def test_an_echoed_secret_is_masked_in_the_error_and_in_the_logs() -> None:
    """A server detail quoting the API key, the TTS key or our credentials comes back masked."""
    basic = "Basic " + base64.b64encode(f"cid:{CUSTOMER_SECRET}".encode()).decode()

    def echo(request: httpx.Request) -> httpx.Response:
        detail = f"bad llm.api_key {LLM_KEY}, tts key {TTS_KEY}, auth {basic}, {CUSTOMER_SECRET}"
        return httpx.Response(400, json={"reason": "InvalidFieldValue", "detail": detail})

    api = AgoraClient(
        app_id=APP_ID,
        auth=BasicAuth("cid", CUSTOMER_SECRET),
        base_url="https://agora.test",
        transport=httpx.MockTransport(echo),
    )
    with capture_logs() as captured:
        async with api:
            with pytest.raises(errors.InvalidRequestError) as caught:
                await api.join(join_with_keys())
    everything = str(caught.value) + repr(caught.value) + json.dumps(captured, default=str)
    for secret in (LLM_KEY, TTS_KEY, CUSTOMER_SECRET, basic.split()[1]):
        assert secret not in everything
    assert "bad llm.api_key ***" in str(caught.value)


@pytest.mark.parametrize("as_json", [True, False])
async def test_a_secret_across_the_detail_cut_is_masked_whole(as_json: bool) -> None:
    """A long detail is masked before it is cut short, so no first half of a secret survives."""
    detail = "x" * 290 + CUSTOMER_SECRET + " and then some more text"

    def echo(request: httpx.Request) -> httpx.Response:
        if as_json:
            return httpx.Response(400, json={"reason": "InvalidFieldValue", "detail": detail})
        return httpx.Response(400, text=detail)

    api = AgoraClient(
        app_id=APP_ID,
        auth=BasicAuth("cid", CUSTOMER_SECRET),
        base_url="https://agora.test",
        transport=httpx.MockTransport(echo),
    )
    async with api:
        with pytest.raises(errors.InvalidRequestError) as caught:
            await api.query("A1")
    assert caught.value.detail == "x" * 290 + "*** and t…"
    assert CUSTOMER_SECRET[:4] not in str(caught.value)


async def test_minted_request_tokens_never_reach_errors_or_logs() -> None:
    """With token auth the per-request token stays in the Authorization header only."""
    sent: list[str] = []

    def reject(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["Authorization"])
        return httpx.Response(503, text=f"upstream saw {request.headers['Authorization']}")

    api = AgoraClient(
        app_id=APP_ID,
        auth=TokenAuth.minted(CERTIFICATE),
        base_url="https://agora.test",
        retry=RetryPolicy(attempts=2, sleep=_no_sleep),
        transport=httpx.MockTransport(reject),
    )
    with capture_logs() as captured:
        async with api:
            with pytest.raises(errors.ServerError) as caught:
                await api.query("A1")
    everything = str(caught.value) + json.dumps(captured, default=str)
    assert len(sent) == 2
    for header in sent:
        assert header.startswith("agora token=007")
        assert header.removeprefix("agora token=") not in everything


def test_mask_secrets_masks_secret_keys_at_any_depth_in_any_spelling() -> None:
    """api_key, apiKey, customerSecret, token, nested in dicts and lists, are all masked."""
    event = {
        "event": "manifest_loaded",
        "project": {"customerSecret": "s1", "appCertificate": "s2", "appId": "visible"},
        "agents": [{"llm": {"api_key": "s3", "params": {"model": "gpt"}}}],
        "headers": {"Authorization": "Basic abc"},
        "access_token": "s4",
        "key": None,
        "max_tokens": 1024,
    }
    masked = logs.mask_secrets(None, "info", event)
    assert masked["project"] == {
        "customerSecret": "***",
        "appCertificate": "***",
        "appId": "visible",
    }
    assert masked["agents"] == [{"llm": {"api_key": "***", "params": {"model": "gpt"}}}]
    assert masked["headers"] == {"Authorization": "***"}
    assert masked["access_token"] == "***"
    assert masked["key"] is None
    assert masked["max_tokens"] == 1024


def test_registered_secret_values_are_masked_inside_any_text() -> None:
    """A value registered once is masked wherever it turns up, even inside a message."""
    logs.register_secret("resolved-env-secret-1")
    event = {
        "event": "loaded",
        "note": "value was resolved-env-secret-1!",
        "n": ["resolved-env-secret-1"],
    }
    masked = logs.mask_secrets(None, "info", event)
    assert masked == {"event": "loaded", "note": "value was ***!", "n": ["***"]}


def test_credential_shaped_text_is_masked_without_registration() -> None:
    """Authorization headers and AccessToken2 strings are recognised by their shape."""
    text = (
        "sent agora token=007eJxSomething and Basic Y2lkOnNlYw== and a bare "
        "007eJxTYDC/bJRptlGmomWSFO9cD8 token, but basic plumbing stays"
    )
    assert logs.redact(text) == (
        "sent agora token=*** and Basic *** and a bare *** token, but basic plumbing stays"
    )
    assert logs.redact("header AGORA Token=opaque-credential") == "header AGORA Token=***"


def test_configured_json_logging_writes_masked_lines_to_stderr(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    """The entrypoint's pipeline masks secrets before rendering one JSON object a line."""
    logs.configure_logging(json=True, level="debug")
    structlog.get_logger("t").info("project_loaded", customer_secret="s3cr3t-value", app="A")
    err = capsys.readouterr().err
    line = json.loads(err.strip())
    assert line["event"] == "project_loaded"
    assert line["customer_secret"] == "***"
    assert line["level"] == "info"
    assert "s3cr3t-value" not in err


def test_configured_level_filters_lower_events(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    """At level warning, info events are dropped."""
    logs.configure_logging(json=True, level="warning")
    structlog.get_logger("t").info("quiet")
    structlog.get_logger("t").warning("loud")
    assert [json.loads(x)["event"] for x in capsys.readouterr().err.splitlines()] == ["loud"]


def test_an_unknown_level_is_refused() -> None:
    """A typo in --log-level fails loudly instead of logging everything or nothing."""
    with pytest.raises(ValueError, match="chatty"):
        logs.configure_logging(level="chatty")


async def _no_sleep(_: float) -> None:
    return None


def test_an_events_manifest_key_is_not_masked_but_a_nested_key_is() -> None:
    """``key`` atop an event is the manifest key; inside properties it stays secret."""
    event = logs.mask_secrets(None, "info", {"key": "demo/lobby", "tts": {"key": "s3cr3t-tts"}})
    assert event == {"key": "demo/lobby", "tts": {"key": logs.MASK}}

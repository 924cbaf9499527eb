"""Where the client sends requests and how it authenticates them, including minted RTC tokens."""

from __future__ import annotations

import base64
import time

import httpx
import pytest

from reconciler.agora import wire
from reconciler.agora.client import AgoraClient, Auth, BasicAuth, TokenAuth, base_url_for
from reconciler.agora.tokens import mint_rtc_token

APP_ID = "0123456789abcdef0123456789abcdef"
CERTIFICATE = "fedcba9876543210fedcba9876543210"


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        (None, "https://api.agora.io/api/conversational-ai-agent"),
        ("us", "https://api-us-west-1.agora.io/api/conversational-ai-agent"),
        ("eu", "https://api-eu-west-1.agora.io/api/conversational-ai-agent"),
        ("ap", "https://api-ap-southeast-1.agora.io/api/conversational-ai-agent"),
        ("cn", "https://api-cn-east-1.sd-rtn.com/cn/api/conversational-ai-agent"),
    ],
)
def test_regions_map_to_the_sdks_first_host(region: str | None, expected: str) -> None:
    """Each area uses its first region prefix and first domain suffix, as the SDK does."""
    assert base_url_for(region=region) == expected


@pytest.mark.parametrize(
    ("base_url", "cn", "expected"),
    [
        ("http://127.0.0.1:8080", False, "http://127.0.0.1:8080/api/conversational-ai-agent"),
        ("http://127.0.0.1:8080/", True, "http://127.0.0.1:8080/cn/api/conversational-ai-agent"),
        ("https://proxy.test/api/conversational-ai-agent/", False, None),
        ("https://proxy.test/cn/api/conversational-ai-agent", False, None),
    ],
)
def test_an_explicit_base_url_wins_and_gets_the_api_root_once(
    base_url: str, cn: bool, expected: str | None
) -> None:
    """A bare host gets the root appended (like AGORA_AGENTS_API_BASE_URL); a full root is kept."""
    result = base_url_for(region="eu", base_url=base_url, cn=cn)
    assert result == (expected or base_url.rstrip("/"))


def test_an_unknown_region_is_refused() -> None:
    """A typo in a manifest's region must not silently mean the global host."""
    with pytest.raises(ValueError, match="mars"):
        base_url_for(region="mars")


async def _authorization_sent(auth: Auth, *, join: bool = False) -> str:
    headers: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers["Authorization"])
        return httpx.Response(200, json={"agent_id": "A1", "status": "RUNNING"})

    api = AgoraClient(
        app_id=APP_ID,
        auth=auth,
        base_url="https://agora.test",
        transport=httpx.MockTransport(record),
    )
    async with api:
        if join:
            props = {
                "channel": "lobby",
                "token": "t",
                "agent_rtc_uid": "1001",
                "remote_rtc_uids": [],
            }
            await api.join(wire.JoinRequest.model_validate({"name": "n", "properties": props}))
        else:
            await api.query("A1")
    return headers[0]


async def test_basic_auth_sends_the_base64_pair() -> None:
    """Basic auth is ``Basic base64(customer_id:customer_secret)``."""
    header = await _authorization_sent(BasicAuth("cid", "sec"))
    assert header == "Basic " + base64.b64encode(b"cid:sec").decode()


async def test_a_static_token_is_sent_as_agora_token() -> None:
    """A given token goes out verbatim after ``agora token=``."""
    assert await _authorization_sent(TokenAuth.static("007abc")) == "agora token=007abc"


@pytest.mark.parametrize("join", [False, True])
async def test_minted_auth_sends_a_fresh_access_token2(join: bool) -> None:
    """With an App Certificate each request carries a newly minted 007 token."""
    header = await _authorization_sent(TokenAuth.minted(CERTIFICATE), join=join)
    assert header.startswith("agora token=007eJ")


def test_token_auth_needs_exactly_one_source() -> None:
    """Neither or both of token and certificate is a configuration mistake."""
    with pytest.raises(ValueError, match="exactly one"):
        TokenAuth()
    with pytest.raises(ValueError, match="exactly one"):
        TokenAuth(token="t", app_certificate=CERTIFICATE)


def test_minted_token_expiry_is_the_lifetime_from_now() -> None:
    """``expires_at`` is issue time plus the lifetime, never later than the token's own expiry."""
    before = int(time.time())
    token = mint_rtc_token(
        app_id=APP_ID, app_certificate=CERTIFICATE, channel="lobby", uid="1001", lifetime_s=600
    )
    after = int(time.time())
    assert token.value.startswith("007")
    assert before + 600 <= token.expires_at <= after + 600


def test_token_lifetime_is_capped_at_24_hours() -> None:
    """Agora rejects longer tokens, so a longer request is cut to 86400 s."""
    before = int(time.time())
    token = mint_rtc_token(
        app_id=APP_ID, app_certificate=CERTIFICATE, channel="c", uid="0", lifetime_s=7 * 86400
    )
    assert token.expires_at <= int(time.time()) + 86400
    assert token.expires_at >= before + 86400


@pytest.mark.parametrize("uid", ["alice", "", "-1", "*", "99999999999"])
def test_only_numeric_uids_can_be_minted(uid: str) -> None:
    """The SDK's builder takes an int uid; a string account is refused with a clear message."""
    with pytest.raises(ValueError, match="numeric RTC uid"):
        mint_rtc_token(app_id=APP_ID, app_certificate=CERTIFICATE, channel="c", uid=uid)


def test_a_bad_lifetime_or_credential_is_refused_without_echoing_it() -> None:
    """Zero lifetimes and short certificates fail before signing; the message hides the value."""
    with pytest.raises(ValueError, match="positive"):
        mint_rtc_token(
            app_id=APP_ID, app_certificate=CERTIFICATE, channel="c", uid="1", lifetime_s=0
        )
    with pytest.raises(ValueError, match="32") as caught:
        mint_rtc_token(app_id=APP_ID, app_certificate="short-cert", channel="c", uid="1")
    assert "short-cert" not in str(caught.value)

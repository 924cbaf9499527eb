"""A minted token's expiry is the one written in it, read back the way Agora's servers read it."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from reconciler.agora.tokens import expires_at, mint_rtc_token
from reconciler.emulator import DEMO_APP_CERTIFICATE, DEMO_APP_ID
from reconciler.emulator.auth import parse_access_token


@pytest.mark.parametrize("lifetime", [60, 3600, 86400])
def test_the_expiry_is_the_tokens_issue_time_plus_its_lifetime(lifetime: int) -> None:
    """The emulator's independent parser (the server half) reads the same instant."""
    token = mint_rtc_token(
        app_id=DEMO_APP_ID,
        app_certificate=DEMO_APP_CERTIFICATE,
        channel="lobby",
        uid="1001",
        lifetime_s=lifetime,
    )
    parsed = parse_access_token(token.value)
    assert parsed.expire == lifetime
    assert token.expires_at == expires_at(token.value) == parsed.issue_ts + lifetime


@pytest.mark.parametrize("text", ["", "007", "007not-base64!", "006abc", "007eJwrSS0uAQAEXQHB"])
def test_anything_but_an_access_token_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="AccessToken2"):
        expires_at(text)


def test_minting_does_not_search_for_the_optional_builder_on_every_token() -> None:
    """The SDK tries ``import agora_token_builder`` per token; absent, it is recorded so once."""
    mint_rtc_token(app_id=DEMO_APP_ID, app_certificate=DEMO_APP_CERTIFICATE, channel="c", uid="1")
    if importlib.util.find_spec("agora_token_builder") is None:
        assert "agora_token_builder" in sys.modules
        assert sys.modules["agora_token_builder"] is None

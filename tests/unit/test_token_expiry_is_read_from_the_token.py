"""A minted token's expiry is the one written in it, read back the way Agora's servers read it."""

from __future__ import annotations

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

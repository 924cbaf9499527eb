"""A minted token's expiry is the one written in it, read back the way Agora's servers read it."""

from __future__ import annotations

import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.agora import tokens
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


def test_the_builder_is_the_sdks_own_module_loaded_without_its_package() -> None:
    """The signing code is the SDK's file, as shipped; minting does not build the whole SDK."""
    package = importlib.util.find_spec("agora_agent")
    assert package is not None
    assert package.submodule_search_locations
    shipped = Path(package.submodule_search_locations[0], "agentkit", "token.py")
    assert Path(inspect.getsourcefile(tokens._sdk_builder()) or "") == shipped
    minted = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from reconciler.agora.tokens import mint_rtc_token; "
            f"mint_rtc_token(app_id={DEMO_APP_ID!r}, app_certificate={DEMO_APP_CERTIFICATE!r}, "
            "channel='c', uid='1'); print('agora_agent' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert minted.stdout.strip() == "False"


def test_where_the_module_cannot_be_loaded_alone_the_sdk_is_imported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def cannot() -> None:
        raise ImportError("moved")

    monkeypatch.setattr(tokens, "_standalone_builder", cannot)
    tokens._sdk_builder.cache_clear()
    try:
        token = mint_rtc_token(
            app_id=DEMO_APP_ID, app_certificate=DEMO_APP_CERTIFICATE, channel="c", uid="1"
        )
        assert parse_access_token(token.value).expire > 0
        assert tokens._sdk_builder().__module__ == "agora_agent.agentkit.token"
    finally:
        tokens._sdk_builder.cache_clear()

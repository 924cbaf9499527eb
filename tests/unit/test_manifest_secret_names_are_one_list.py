"""The loader and the log masking agree on which field names hold secrets, in any spelling."""

from __future__ import annotations

import pytest

from reconciler import logs
from reconciler.manifest import secrets

# The names each side knew before the two lists became one; neither may forget any.
MANIFEST_NAMES = (
    "api_key",
    "key",
    "token",
    "secret",
    "password",
    "authorization",
    "credentials",
    "customersecret",
    "customer_secret",
    "appcertificate",
    "app_certificate",
    "access_key",
    "secret_key",
    "access_key_id",
    "secret_access_key",
    "aws_access_key_id",
    "aws_secret_access_key",
    "api_subscription_key",
    "adc_credentials_string",
    "encryption_key",
    "encryption_salt",
    "agora_token",
    "openai_api_key",
    "webhook_secret",
    "db_password",
    "refresh_token",
    "aws_secret_key",
)
LOG_NAMES = (
    "accessKey",
    "apiKey",
    "appCertificate",
    "Authorization",
    "certificate",
    "clientSecret",
    "credentials",
    "customerSecret",
    "encryptionKey",
    "encryptionSalt",
    "privateKey",
    "secretKey",
    "access_token",
    "x-api-key",
    "X-Api-Key",
    "private_key",
)


@pytest.mark.parametrize("name", MANIFEST_NAMES + LOG_NAMES)
def test_every_known_secret_name_is_secret_to_the_loader_and_to_the_logs(name: str) -> None:
    """A name either list knew is rejected as a literal by the loader and masked in logs."""
    assert secrets.is_secret_name(name)
    assert [loc for loc, _ in secrets.scan({"params": {name: "literal"}}).secret_fields] == [
        ("params", name)
    ]
    assert logs.mask_secrets(None, "info", {"params": {name: "literal"}}) == {
        "params": {name: logs.MASK}
    }
    assert logs.secret_values({"params": {name: "literal-value"}}) == {"literal-value"}


@pytest.mark.parametrize("name", ["max_tokens", "vendor", "region", "keywords", "url", "model"])
def test_ordinary_names_stay_visible(name: str) -> None:
    """Folding spellings together does not make ordinary settings secret."""
    assert not secrets.is_secret_name(name)
    assert logs.mask_secrets(None, "info", {"params": {name: "v"}}) == {"params": {name: "v"}}

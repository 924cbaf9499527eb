"""Each project's client: the base URL it uses and the credentials it resolves."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from reconciler.manifest.fields import Region
from reconciler.manifest.secrets import SecretUnavailableError
from reconciler.reconcile import connect

casekit = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).parents[1] / "cases" / "casekit.py"), run_name="casekit")
)


def test_api_url_flag_wins_over_environment() -> None:
    """``--api-url`` beats ``AGORA_API_URL``, which beats nothing."""
    environ = {"AGORA_API_URL": "http://env:1"}
    assert connect.api_url_override("http://flag:2", environ=environ) == "http://flag:2"
    assert connect.api_url_override(None, environ=environ) == "http://env:1"
    assert connect.api_url_override(None, environ={}) is None


@pytest.mark.parametrize(
    ("overrides", "api_url", "expected"),
    [
        ({}, None, "https://api.agora.io/api/conversational-ai-agent"),
        ({"region": Region.EU}, None, "https://api-eu-west-1.agora.io/api/conversational-ai-agent"),
        (
            {"base_url": "https://proxy.example"},
            None,
            "https://proxy.example/api/conversational-ai-agent",
        ),
        (
            {"region": Region.US},
            "http://127.0.0.1:9",
            "http://127.0.0.1:9/api/conversational-ai-agent",
        ),
        (
            {"region": Region.CN},
            "http://127.0.0.1:9",
            "http://127.0.0.1:9/cn/api/conversational-ai-agent",
        ),
    ],
)
def test_base_url_per_project(
    overrides: dict[str, object], api_url: str | None, expected: str
) -> None:
    """The override replaces every project's address, keeping the CN service's own root."""
    assert connect.base_url(casekit.project("prod", **overrides), api_url=api_url) == expected


def test_credentials_resolve_references_and_hide_secrets() -> None:
    """References resolve from the environment; the repr shows neither secret."""
    project = casekit.project("prod", app_id="${env:APP}", app_certificate="${env:CERT}")
    environ = {"APP": "a" * 32, "AGORA_CUSTOMER_SECRET": "s3cr3t-value", "CERT": "c3rt-value"}
    credentials = connect.resolve_credentials(project, environ=environ)
    assert credentials.app_id == "a" * 32
    assert credentials.customer_secret == "s3cr3t-value"
    assert credentials.app_certificate == "c3rt-value"
    assert "s3cr3t" not in repr(credentials)
    assert "c3rt" not in repr(credentials)


def test_missing_secret_names_the_variable() -> None:
    """A reference whose variable is unset is one clear error naming it."""
    with pytest.raises(SecretUnavailableError, match="AGORA_CUSTOMER_SECRET is not set"):
        connect.resolve_credentials(casekit.project("prod"), environ={})

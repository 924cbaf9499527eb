"""``ReferenceIndex.locate``: an unresolvable reference is reported where it is written — in the
agent's own document when it is written there, else where the profile writes the same field."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.apply.payloads import SecretValues
from reconciler.daemon import ncs
from reconciler.manifest import load, secrets

FLEET = """\
apiVersion: reconciler/v1
kind: Project
metadata: {name: demo}
spec: {appId: "${env:APP_ID}", customerId: "${env:CID}", customerSecret: "${env:SECRET}"}
---
apiVersion: reconciler/v1
kind: Profile
metadata: {name: base}
spec:
  properties:
    llm: {url: "https://llm.example/v1", api_key: "${env:LLM_KEY}"}
    tts: {vendor: microsoft, params: {key: "${env:TTS_KEY}", region: eastus, voice_name: a}}
---
apiVersion: reconciler/v1
kind: Agent
metadata: {name: plain, project: demo}
spec: {profile: base, channel: room-a, properties: {agent_rtc_uid: "1", remote_rtc_uids: ["2"]}}
---
apiVersion: reconciler/v1
kind: Agent
metadata: {name: own, project: demo}
spec:
  profile: base
  channel: room-b
  properties:
    agent_rtc_uid: "1"
    remote_rtc_uids: ["2"]
    tts: {params: {key: "${env:TTS_KEY}"}}
"""


def _fail(tmp_path: Path, agent: str) -> str:
    (tmp_path / "fleet.yaml").write_text(FLEET)
    loaded = load.load_fleet(tmp_path / "fleet.yaml")
    assert loaded.fleet is not None, loaded.diagnostics
    desired = loaded.fleet.agents[f"demo/{agent}"]
    values = SecretValues({"LLM_KEY": "k" * 8}, references=loaded.fleet.references)
    with pytest.raises(secrets.SecretUnavailableError) as raised:
        values.deep(desired.properties, where=desired.source, at="spec.properties")
    return str(raised.value)


def test_an_inherited_reference_is_named_in_the_profile(tmp_path: Path) -> None:
    message = _fail(tmp_path, "plain")
    assert message.startswith(f"{tmp_path / 'fleet.yaml'}:12:")
    assert " spec.properties.tts.params.key: environment variable TTS_KEY is not set" in message


def test_a_reference_the_agent_writes_is_named_in_the_agent(tmp_path: Path) -> None:
    message = _fail(tmp_path, "own")
    assert message.startswith(f"{tmp_path / 'fleet.yaml'}:28:")
    assert " spec.properties.tts.params.key: " in message


def test_the_ncs_receiver_names_the_notification_secret_where_it_is_written(
    tmp_path: Path,
) -> None:
    """The daemon's webhook receiver reports ``spec.notificationSecret`` at its own column."""
    project = FLEET.split("---")[0].replace(
        'customerSecret: "${env:SECRET}"}',
        'customerSecret: "${env:SECRET}",\n  notificationSecret: "${env:NCS_SECRET}"}',
    )
    (tmp_path / "fleet.yaml").write_text(project)
    loaded = load.load_fleet(tmp_path / "fleet.yaml")
    assert loaded.fleet is not None, loaded.diagnostics
    secret_of = ncs.FleetSecrets(lambda: loaded.fleet, environ={})
    with pytest.raises(secrets.SecretUnavailableError) as raised:
        secret_of("demo")
    assert str(raised.value) == (
        f"{tmp_path / 'fleet.yaml'}:5:23 spec.notificationSecret: "
        "environment variable NCS_SECRET is not set"
    )

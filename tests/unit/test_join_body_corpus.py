"""Real join bodies (tests/corpus/join_bodies: Agora's docs, the official SDK, public samples)
validate as Agent manifests with no diagnostic at all, and reach the emulator's join unchanged.

Each body becomes one Agent: its channel goes to ``spec.channel``, ``preset`` and
``pipeline_id`` to ``spec.preset`` / ``spec.pipelineId``, the rest of ``properties`` as written,
with every secret string (``token`` included) behind an ``${env:...}`` reference to its value.
After ``reconciler apply`` the emulator must have received exactly the body, but for the name
the reconciler gives its agents, for the labels it adds (the manifest key and generation; the
body's own labels merge in), and for explicit nulls, which a manifest cannot carry (null removes
a field when profiles merge) and which Agora reads as absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from apply_harness import ENV, World

from reconciler.apply import payloads
from reconciler.emulator import EmulatorConfig
from reconciler.manifest import load
from reconciler.secret_fields import holds_secret

CORPUS = Path(__file__).parents[1] / "corpus" / "join_bodies"
BODIES = sorted(CORPUS.glob("*.yaml"))
PROJECT = {
    "apiVersion": "reconciler/v1",
    "kind": "Project",
    "metadata": {"name": "corpus"},
    "spec": {
        "appId": "${env:AGORA_APP_ID}",
        "customerId": "${env:AGORA_CUSTOMER_ID}",
        "customerSecret": "${env:AGORA_CUSTOMER_SECRET}",
        "maxConcurrentAgents": 100,
        "strictProperties": True,
    },
}


def _by_reference(value: Any, secrets: dict[str, str]) -> Any:
    """The value with every secret string replaced by a reference to a new variable holding it."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(item, str) and holds_secret(key, item) and item:
                name = f"CORPUS_SECRET_{len(secrets)}"
                secrets[name] = item
                out[key] = f"${{env:{name}}}"
            else:
                out[key] = _by_reference(item, secrets)
        return out
    if isinstance(value, list):
        return [_by_reference(item, secrets) for item in value]
    return value


def _agent(path: Path, secrets: dict[str, str]) -> dict[str, Any]:
    body = yaml.safe_load(path.read_text())
    properties = _by_reference(dict(body["properties"]), secrets)
    spec: dict[str, Any] = {"channel": properties.pop("channel")}
    if body.get("preset") is not None:
        spec["preset"] = body["preset"]
    if body.get("pipeline_id") is not None:
        spec["pipelineId"] = body["pipeline_id"]
    spec["properties"] = properties
    return {
        "apiVersion": "reconciler/v1",
        "kind": "Agent",
        "metadata": {"name": path.stem, "project": "corpus"},
        "spec": spec,
    }


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _write(root: Path) -> dict[str, str]:
    secrets: dict[str, str] = {}
    documents = [PROJECT, *(_agent(path, secrets) for path in BODIES)]
    fleet = root / "fleet"
    fleet.mkdir()
    (fleet / "corpus.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return secrets


def test_the_corpus_is_broad() -> None:
    """Bodies from the docs, from the SDK's builders and from samples, each naming its source."""
    assert len(BODIES) >= 18
    assert {path.stem.split("-")[0] for path in BODIES} == {"docs", "sdk", "samples"}
    for path in BODIES:
        assert path.read_text().startswith("# Source: "), path.name


def test_every_body_validates_without_a_diagnostic(tmp_path: Path) -> None:
    """No error and no warning, under --strict, with every reference resolving."""
    secrets = _write(tmp_path)
    result = load.load_fleet(tmp_path / "fleet", environ={**ENV, **secrets}, strict=True)
    assert [str(d) for d in result.diagnostics] == []
    assert result.fleet is not None
    assert len(result.fleet.agents) == len(BODIES)


async def test_every_body_reaches_the_emulator_unchanged(tmp_path: Path) -> None:
    """After one apply the emulator (strict about llm/tts) holds each body as written."""
    secrets = _write(tmp_path)
    world = World(
        tmp_path,
        config=EmulatorConfig(quota=100, stopping_seconds=0, require_llm_and_tts=True),
    )
    world.environ.update(secrets)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    received = {
        join["body"]["properties"]["channel"]: join["body"]
        for join in (await world.control("GET", "/joins"))["joins"]
    }
    assert len(received) == len(BODIES)
    lineage = world.snapshot().lineage
    for path in BODIES:
        body = yaml.safe_load(path.read_text())
        got = dict(received[body["properties"]["channel"]])
        assert got.pop("name").startswith(f"rc-corpus--{path.stem}-g")
        body.pop("name")
        labels = dict(got["properties"].pop("labels"))
        assert labels.pop(payloads.KEY_LABEL) == f"corpus/{path.stem}"
        assert labels.pop(payloads.GENERATION_LABEL) == "1"
        assert labels.pop(payloads.FLEET_LABEL) == lineage
        if labels:
            got["properties"]["labels"] = labels
        assert got == _without_nulls(body), path.name

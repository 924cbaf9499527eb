"""``reconciler plan`` end to end: the real CLI against the emulator served on 127.0.0.1.

It checks the sample fleet's plan in all three formats, the exit codes, that plan never joins,
updates or leaves (the emulator's counters), that a missing state is not created, and that no
output carries a secret value.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler import reconcile
from reconciler.emulator import (
    DEMO_APP_CERTIFICATE,
    DEMO_APP_ID,
    DEMO_CUSTOMER_ID,
    DEMO_CUSTOMER_SECRET,
    EmulatorConfig,
    running_server,
)
from reconciler.manifest import load
from reconciler.plan import diff
from reconciler.reconcile import planfile
from reconciler.state import AgentRecord, open_state

FLEET = Path(__file__).parents[2] / "fleet"
SECRETS = {
    "AGORA_CUSTOMER_SECRET": DEMO_CUSTOMER_SECRET,
    "AGORA_APP_CERTIFICATE": DEMO_APP_CERTIFICATE,
    "OPENAI_API_KEY": "sk-e2e-openai-value-41c7",
    "AZURE_TTS_KEY": "azure-e2e-tts-value-93d2",
}
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("AGORA_")},
    **SECRETS,
    "AGORA_APP_ID": DEMO_APP_ID,
    "AGORA_CUSTOMER_ID": DEMO_CUSTOMER_ID,
    "NO_COLOR": "1",
}


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    with running_server(EmulatorConfig(frozen_clock=True)) as url:
        yield url


@pytest.fixture(autouse=True)
def _fresh_emulator(api_url: str) -> None:
    httpx.post(f"{api_url}/_emulator/reset").raise_for_status()


def _plan(*args: str, api_url: str, state: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reconciler",
            "plan",
            *args,
            "--api-url",
            api_url,
            "--state",
            str(state),
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    for secret in SECRETS.values():
        assert secret not in done.stdout
        assert secret not in done.stderr
    assert "Traceback" not in done.stderr
    return done


def _counters(api_url: str) -> dict[str, dict[str, int]]:
    counters: dict[str, dict[str, int]] = httpx.get(f"{api_url}/_emulator/counters").json()
    return counters


def test_sample_fleet_plans_five_creates_in_every_format(api_url: str, tmp_path: Path) -> None:
    """Text, JSON and Markdown agree on five creates; exit 2 with --detailed-exitcode, else 0."""
    state = tmp_path / "state.db"
    text = _plan(str(FLEET), "--detailed-exitcode", api_url=api_url, state=state)
    assert text.returncode == 2, text.stderr
    assert "Plan: 5 to create, 0 to update, 0 to replace, 0 to delete." in text.stdout
    assert "+ demo/help-desk" in text.stdout
    assert "llm.api_key: (sensitive)" in text.stdout
    document = json.loads(_plan(str(FLEET), "-o", "json", api_url=api_url, state=state).stdout)
    assert document["summary"]["create"] == 5
    assert sorted(c["key"] for c in document["changes"]) == [
        "demo/help-desk",
        "demo/lobby-concierge",
        "demo/store-assistant-store-001",
        "demo/store-assistant-store-002",
        "demo/store-assistant-store-003",
    ]
    markdown = _plan(str(FLEET), "-o", "markdown", api_url=api_url, state=state)
    assert markdown.returncode == 0
    assert "**Plan: 5 to create, 0 to update, 0 to replace, 0 to delete.**" in markdown.stdout
    assert all(f"{c['key']} will be created" in markdown.stdout for c in document["changes"])
    assert not state.exists()
    counters = _counters(api_url)
    assert set(counters) == {"list"}


def test_fleet_in_sync_has_no_changes_and_a_saved_plan(api_url: str, tmp_path: Path) -> None:
    """Every agent live and recorded: no changes, exit 0, and the saved plan pins its sources."""
    state = tmp_path / "state.db"
    _sync(api_url=api_url, state=state)
    out = tmp_path / "plan.json"
    done = _plan(str(FLEET), "--detailed-exitcode", "--out", str(out), api_url=api_url, state=state)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "No changes. The fleet matches the manifests.\n"
    saved = planfile.load_planfile(out)
    assert saved.plan.changes == ()
    assert saved.serial == 1
    assert saved.manifests_digest == load.load_fleet(FLEET).digest
    assert set(_counters(api_url)) == {"list"}


def test_quota_refusal_exits_3(api_url: str, tmp_path: Path) -> None:
    """Sixteen unmanaged agents leave room for four of five more under the quota of 20: the
    fifth waits for quota (priorities: the last key), exit 3."""
    seeds = [{"name": f"other-{i}", "channel": f"x{i}"} for i in range(16)]
    httpx.post(f"{api_url}/_emulator/agents", json={"agents": seeds}).raise_for_status()
    done = _plan(str(FLEET), api_url=api_url, state=tmp_path / "state.db")
    assert done.returncode == 3
    assert "error: 1 agent(s) wait for quota (maxConcurrentAgents of demo)" in done.stderr
    assert "Plan: 4 to create" in done.stdout
    assert "[unmanaged] demo: agent" in done.stdout


def test_errors_exit_1_with_one_clear_line(api_url: str, tmp_path: Path) -> None:
    """Invalid manifests print their diagnostics; an unreachable API prints one error line."""
    broken = tmp_path / "fleet"
    broken.mkdir()
    (broken / "agent.yaml").write_text("apiVersion: reconciler/v1\nkind: Agent\nmetadata: {}\n")
    invalid = _plan(str(broken), api_url=api_url, state=tmp_path / "state.db")
    assert invalid.returncode == 1
    assert "agent.yaml" in invalid.stderr
    assert "nothing was planned" in invalid.stderr
    assert _counters(api_url) == {}
    unreachable = _plan(str(FLEET), api_url="http://127.0.0.1:9", state=tmp_path / "state.db")
    assert unreachable.returncode == 1
    assert unreachable.stderr.strip().splitlines()[-1].startswith("error: ")


def test_unwritable_out_path_is_one_error_line(api_url: str, tmp_path: Path) -> None:
    """``--out`` under a plain file: one ``error:`` line naming the path, exit 1, nothing saved."""
    blocker = tmp_path / "some-file"
    blocker.write_text("not a directory\n")
    out = blocker / "plan.json"
    done = _plan(str(FLEET), "--out", str(out), api_url=api_url, state=tmp_path / "state.db")
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: plan file {out} cannot be written: File exists ({blocker})"]
    assert blocker.read_text() == "not a directory\n"


def _sync(*, api_url: str, state: Path) -> None:
    """Make the emulator run the sample fleet and the state record it, as an apply would."""
    fleet = load.load_fleet(FLEET).fleet
    assert fleet is not None
    now = float(httpx.get(f"{api_url}/_emulator/clock").json()["now"])
    seeds = [
        {
            "name": f"rc-{agent.key.replace('/', '--')}-g1",
            "channel": agent.channel,
            "agent_rtc_uid": agent.agent_rtc_uid,
        }
        for agent in fleet.agents.values()
    ]
    ids = httpx.post(f"{api_url}/_emulator/agents", json={"agents": seeds}).json()["agent_ids"]
    with open_state(state) as store:
        fingerprints = reconcile.fingerprint_secrets(fleet, environ=ENV, key=store.secret_key())
        records = []
        for agent, agent_id, seed in zip(fleet.agents.values(), ids, seeds, strict=True):
            view = diff.desired_view(agent, fingerprints=fingerprints)
            records.append(
                AgentRecord(
                    key=agent.key,
                    project=agent.project,
                    remote_name=seed["name"],
                    generation=1,
                    agent_id=agent_id,
                    channel=agent.channel,
                    agent_rtc_uid=agent.agent_rtc_uid,
                    applied_properties=diff.applied_properties(view, protect=agent.protect),
                    spec_hash=diff.spec_hash(view),
                    token_expires_at=now + 86_400,
                    created_at=now,
                    updated_at=now,
                )
            )
        store.put_records(records)


def test_json_plans_are_byte_identical_with_or_without_a_state(
    api_url: str, tmp_path: Path
) -> None:
    """Equal inputs give equal JSON, even before the first apply made a state (and its key)."""
    first = _plan(str(FLEET), "-o", "json", api_url=api_url, state=tmp_path / "none.db")
    second = _plan(str(FLEET), "-o", "json", api_url=api_url, state=tmp_path / "none.db")
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout


@pytest.mark.parametrize("mistake", [("--otput", "json"), ("-o", "yaml"), ("--bogus",)])
def test_a_usage_error_exits_1_never_the_changes_code(
    api_url: str, tmp_path: Path, mistake: tuple[str, ...]
) -> None:
    """A typo must not read as "changes present" (2) in CI: usage errors exit 1, as Terraform's."""
    done = _plan(
        str(FLEET), "--detailed-exitcode", *mistake, api_url=api_url, state=tmp_path / "s.db"
    )
    assert done.returncode == 1, done.stderr
    assert "Usage: reconciler plan" in done.stderr

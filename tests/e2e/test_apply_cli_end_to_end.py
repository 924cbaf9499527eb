"""``reconciler apply`` as a user runs it: the sample fleet converges and the next plan is empty."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from apply_e2e_harness import cli, harness

from reconciler.emulator import EmulatorConfig, running_server

SAMPLE_FLEET = Path(__file__).parents[2] / "fleet"


@pytest.fixture
def url() -> Iterator[str]:
    with running_server(EmulatorConfig(stopping_seconds=0)) as base_url:
        yield base_url


async def test_the_sample_fleet_converges_and_the_next_plan_is_empty(
    tmp_path: Path, url: str
) -> None:
    """Apply the sample fleet with --auto-approve, then plan: no changes, one agent per entry."""
    shutil.copytree(SAMPLE_FLEET, tmp_path / "fleet")
    applied = cli("apply", "fleet", "--auto-approve", "--state", "state.db", url=url, cwd=tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Apply complete: 5 created." in applied.stdout
    assert "Traceback" not in applied.stderr
    planned = cli(
        "plan", "fleet", "--detailed-exitcode", "--state", "state.db", url=url, cwd=tmp_path
    )
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout
    world = harness.World(tmp_path, base_url=url)
    assert len(await world.live()) == 5


async def test_state_recover_and_import_from_the_command_line(tmp_path: Path, url: str) -> None:
    """After the state is deleted, ``state recover`` adopts the fleet and says what; an agent
    started by hand joins an entry through ``import``; then the plan is empty."""
    harness.write_fleet(tmp_path / "fleet", {"a": harness.agent("room-a")})
    state = ("--state", "state.db")
    assert cli("apply", "fleet", "--auto-approve", *state, url=url, cwd=tmp_path).returncode == 0
    (tmp_path / "state.db").unlink()
    recovered = cli("state", "recover", "fleet", *state, url=url, cwd=tmp_path)
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert recovered.stdout.startswith("+ demo/a: rc-demo--a-g1-")
    assert recovered.stdout.endswith("1 adopted.\n")
    harness.write_fleet(
        tmp_path / "fleet", {"a": harness.agent("room-a"), "b": harness.agent("room-b")}
    )
    world = harness.World(tmp_path, base_url=url)
    seeded = await world.control(
        "POST", "/agents", {"agents": [{"name": "x", "channel": "room-b"}]}
    )
    [agent_id] = seeded["agent_ids"]
    imported = cli("import", "demo/b", agent_id, "--fleet", "fleet", *state, url=url, cwd=tmp_path)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert imported.stdout == f"+ demo/b: x ({agent_id})\n1 adopted.\n"
    planned = cli("plan", "fleet", "--detailed-exitcode", *state, url=url, cwd=tmp_path)
    assert planned.returncode == 0, planned.stdout + planned.stderr

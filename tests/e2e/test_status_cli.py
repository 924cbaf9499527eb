"""``reconciler status`` as a user runs it, on the sample fleet served by a real emulator."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apply_e2e_harness import cli

from reconciler.emulator import EmulatorConfig, running_server

SAMPLE_FLEET = Path(__file__).parents[2] / "fleet"
KEYS = [
    "demo/help-desk",
    "demo/lobby-concierge",
    "demo/store-assistant-store-001",
    "demo/store-assistant-store-002",
    "demo/store-assistant-store-003",
]


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The sample fleet applied once; yields the emulator's URL and the working directory."""
    workdir = tmp_path_factory.mktemp("status")
    shutil.copytree(SAMPLE_FLEET, workdir / "fleet")
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        done = cli("apply", "--auto-approve", "--state", "state.db", url=url, cwd=workdir)
        assert done.returncode == 0, done.stdout + done.stderr
        yield url, workdir


def test_status_prints_one_row_per_agent(applied: tuple[str, Path]) -> None:
    """Header, five rows in sync and RUNNING, then the summary; exit 0, nothing on stderr."""
    url, workdir = applied
    done = cli("status", "-o", "wide", "--state", "state.db", url=url, cwd=workdir)
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["KEY", "CHANNEL", "REMOTE"]
    narrow = cli("status", "--state", "state.db", url=url, cwd=workdir)
    assert narrow.stdout.splitlines()[0].split()[:3] == ["KEY", "CHANNEL", "STATUS"]
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 100
    rows = lines[1:6]
    assert [row.split()[0] for row in rows] == KEYS
    assert all("RUNNING" in row and "in sync" in row for row in rows)
    assert lines[-1] == "5 agents: 5 in sync."


def test_status_json_is_machine_readable_and_status_only_reads(applied: tuple[str, Path]) -> None:
    """``-o json`` parses as it stands; the emulator's counters grow by list and query only."""
    url, workdir = applied
    before = httpx.get(f"{url}/_emulator/counters").json()
    done = cli("status", "fleet", "-o", "json", "--state", "state.db", url=url, cwd=workdir)
    assert done.returncode == 0, done.stderr
    after = httpx.get(f"{url}/_emulator/counters").json()
    document = json.loads(done.stdout)
    assert [agent["key"] for agent in document["agents"]] == KEYS
    assert {agent["drift"] for agent in document["agents"]} == {"in sync"}
    assert document["summary"]["in sync"] == 5
    grown = {endpoint for endpoint in after if after[endpoint] != before.get(endpoint)}
    assert "list" in grown
    assert grown <= {"list", "query"}

"""A shared PostgreSQL state through the CLI: apply writes it, a plan anywhere else reads it."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from apply_e2e_harness import cli

from reconciler.emulator import EmulatorConfig, running_server

SAMPLE_FLEET = Path(__file__).parents[2] / "fleet"


@pytest.fixture
def url() -> Iterator[str]:
    with running_server(EmulatorConfig(stopping_seconds=0)) as base_url:
        yield base_url


def test_apply_and_plan_share_one_state_through_reconciler_state(
    tmp_path: Path, url: str, postgres_url: str
) -> None:
    """RECONCILER_STATE selects the shared state: a plan from another directory sees the apply;
    another schema of the same database holds none of its records, so its fresh state finds the
    live agents by their names and would adopt them, never join twins."""
    shared = f"{postgres_url}?schema=fleet_{uuid.uuid4().hex[:12]}"
    applier, reviewer = tmp_path / "ci-apply", tmp_path / "pull-request"
    for workdir in (applier, reviewer):
        shutil.copytree(SAMPLE_FLEET, workdir / "fleet")
    env = {"RECONCILER_STATE": shared}
    applied = cli("apply", "fleet", "--auto-approve", url=url, cwd=applier, extra_env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Apply complete: 5 created." in applied.stdout
    assert not (applier / ".reconciler").exists()
    planned = cli("plan", "fleet", "--detailed-exitcode", url=url, cwd=reviewer, extra_env=env)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout
    other = f"{postgres_url}?schema=fleet_{uuid.uuid4().hex[:12]}"
    elsewhere = cli("plan", "fleet", "--state", other, url=url, cwd=reviewer, extra_env=env)
    assert elsewhere.returncode == 0, elsewhere.stdout + elsewhere.stderr
    assert "0 to create" in elsewhere.stdout
    assert "5 to adopt" in elsewhere.stdout


def test_state_migrate_moves_a_file_state_to_postgresql(
    tmp_path: Path, url: str, postgres_url: str
) -> None:
    """The fleet applied with the SQLite file, migrated: a plan on the shared state has nothing
    to do (same records, same fingerprint key), and migrating again is refused without --force."""
    shutil.copytree(SAMPLE_FLEET, tmp_path / "fleet")
    applied = cli("apply", "fleet", "--auto-approve", url=url, cwd=tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    shared = f"{postgres_url}?schema=moved_{uuid.uuid4().hex[:12]}"
    moved = cli("state", "migrate", "--to", shared, url=url, cwd=tmp_path)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "5 records, 0 intents in flight" in moved.stdout
    planned = cli("plan", "fleet", "--state", shared, "--detailed-exitcode", url=url, cwd=tmp_path)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout
    again = cli("state", "migrate", "--to", shared, url=url, cwd=tmp_path)
    assert again.returncode == 1
    assert "already holds 5 records" in again.stderr
    assert "Traceback" not in again.stderr

"""One plan pass in-process: it reads manifests, state and the API, and changes none of them."""

from __future__ import annotations

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
    create_app,
)
from reconciler.plan import Action, SafetyLimits
from reconciler.state import open_state

FLEET = Path(__file__).parents[2] / "fleet"
URL = "http://emulator.test"
ENVIRON = {
    "AGORA_APP_ID": DEMO_APP_ID,
    "AGORA_CUSTOMER_ID": DEMO_CUSTOMER_ID,
    "AGORA_CUSTOMER_SECRET": DEMO_CUSTOMER_SECRET,
    "AGORA_APP_CERTIFICATE": DEMO_APP_CERTIFICATE,
    "OPENAI_API_KEY": "sk-unit",
    "AZURE_TTS_KEY": "tts-unit",
}


@pytest.fixture
def transport() -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(EmulatorConfig(frozen_clock=True)))


async def _pass(
    path: Path, *, state: Path, transport: httpx.ASGITransport
) -> reconcile.LoadFailed | reconcile.Planned:
    return await reconcile.plan_pass(
        path,
        state_path=state,
        api_url=URL,
        environ=ENVIRON,
        limits=SafetyLimits(),
        transport=transport,
        clock=lambda: 1_700_000_000.0,
    )


async def _counters(transport: httpx.ASGITransport) -> dict[str, dict[str, int]]:
    async with httpx.AsyncClient(transport=transport, base_url=URL) as http:
        counters: dict[str, dict[str, int]] = (await http.get("/_emulator/counters")).json()
    return counters


async def test_missing_state_is_read_as_empty_and_not_created(
    tmp_path: Path, transport: httpx.ASGITransport
) -> None:
    """Without a state file, every desired agent is a create and no file or lock is left."""
    state = tmp_path / "nested" / "state.db"
    outcome = await _pass(FLEET, state=state, transport=transport)
    assert isinstance(outcome, reconcile.Planned)
    assert {c.action for c in outcome.plan.changes} == {Action.CREATE}
    assert outcome.planfile.lineage is None
    assert not (tmp_path / "nested").exists()
    assert set(await _counters(transport)) == {"list"}


async def test_plan_reads_a_held_state_and_leaves_it_unchanged(
    tmp_path: Path, transport: httpx.ASGITransport
) -> None:
    """Plan works while another reconciler holds the lock, and never bumps the serial."""
    state = tmp_path / "state.db"
    with open_state(state) as store:
        lineage, serial = store.snapshot().lineage, store.snapshot().serial
        outcome = await _pass(FLEET, state=state, transport=transport)
        assert isinstance(outcome, reconcile.Planned)
        assert (outcome.planfile.lineage, outcome.planfile.serial) == (lineage, serial)
        assert store.snapshot().serial == serial


async def test_invalid_manifests_stop_before_any_call(
    tmp_path: Path, transport: httpx.ASGITransport
) -> None:
    """A fleet with load errors is never observed or planned, so it can never delete."""
    (tmp_path / "bad.yaml").write_text("apiVersion: reconciler/v1\nkind: Nope\n")
    outcome = await _pass(tmp_path, state=tmp_path / "state.db", transport=transport)
    assert isinstance(outcome, reconcile.LoadFailed)
    assert outcome.diagnostics
    assert await _counters(transport) == {}

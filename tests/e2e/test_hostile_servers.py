"""Against a hostile API (trickled headers or body, endless cursors, giant or malformed lists),
``plan`` and ``apply`` end with one clear error: no traceback, no hang, and nothing acted on.

The server is real (127.0.0.1, hand-written HTTP, see ``hostile_server``); the passes run
in-process for speed, and ``plan`` once as the CLI, to see the one line a user gets. Every case
is bounded: the API deadline is 1 s, and nothing waits longer than a bound far above it (never
an assertion on how long it took).
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from apply_e2e_harness import cli, harness
from hostile_server import Hostile, Mode, hostile_server
from structlog.testing import capture_logs

from reconciler import observe, plan, reconcile
from reconciler.errors import PassDeadlineError, ReconcilerError

DEADLINE = {"RECONCILER_API_DEADLINE": "1s"}
BOUND_SECONDS = 60.0
CONTRACT = "list HTTP 200: response does not match the API contract"
CASES = {
    Mode.SLOW_HEADERS: "list: no complete answer within the 1 s deadline",
    Mode.SLOW_BODY: "list: no complete answer within the 1 s deadline",
    Mode.ENDLESS_CURSORS: "list: project demo: no last page after 3 pages (3 agents so far)",
    Mode.GIANT_LIST: "list: project demo: 5000 agents listed, more than the 200 expected",
    Mode.NON_JSON: f"{CONTRACT}: body: Invalid JSON",
    Mode.TRUNCATED_JSON: f"{CONTRACT}: body: Invalid JSON",
    Mode.ERROR_BODY_200: f"{CONTRACT}: data: Field required",
    Mode.WRONG_TYPES: f"{CONTRACT}: data.count: Input should be a valid integer",
}


async def _plan(tmp_path: Path, server: Hostile, **environ: str) -> reconcile.Planned:
    """One plan of ``tmp_path/fleet`` against ``server``, bounded far above any deadline."""
    async with asyncio.timeout(BOUND_SECONDS):
        outcome = await reconcile.plan_pass(
            tmp_path / "fleet",
            state_path=tmp_path / "state.db",
            api_url=server.url,
            environ={**harness.ENV, **environ},
            limits=plan.SafetyLimits(),
        )
    assert isinstance(outcome, reconcile.Planned)
    return outcome


def _no_secret(text: str) -> None:
    for secret in harness.SECRETS.values():
        assert secret not in text


@pytest.mark.parametrize("mode", list(CASES), ids=str)
async def test_plan_against_a_hostile_api_fails_with_a_clear_error(
    tmp_path: Path, mode: Mode
) -> None:
    """Each hostile answer ends the plan with an error saying what was wrong; nothing acts."""
    harness.write_fleet(tmp_path / "fleet", {"a": harness.agent("ch-a")})
    with hostile_server(mode) as server:
        with pytest.raises(ReconcilerError) as raised:
            await _plan(tmp_path, server, **DEADLINE)
        assert server.acting_calls() == 0
        if mode is Mode.ENDLESS_CURSORS:
            # Quota 20 × 10 allows 200 agents: two pages of 100 and one of slack.
            assert server.calls["list"] == 3
    assert CASES[mode] in str(raised.value)
    _no_secret(str(raised.value))


def test_plan_cli_against_a_slow_loris_exits_1_with_one_line(tmp_path: Path) -> None:
    """The CLI turns the deadline into one line on stderr and exit 1, without a traceback."""
    harness.write_fleet(tmp_path / "fleet", {"a": harness.agent("ch-a")})
    with hostile_server(Mode.SLOW_HEADERS) as server:
        result = cli("plan", "fleet", url=server.url, cwd=tmp_path, extra_env=DEADLINE)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr == f"error: {CASES[Mode.SLOW_HEADERS]}\n"


@pytest.mark.parametrize(
    "mode", [Mode.SLOW_BODY, Mode.ENDLESS_CURSORS, Mode.GIANT_LIST, Mode.WRONG_TYPES], ids=str
)
async def test_apply_against_a_hostile_api_deletes_nothing(tmp_path: Path, mode: Mode) -> None:
    """A state owns two agents and the manifests dropped one: against a hostile API the pass
    fails before it acts, so the dropped agent is not left and the state is unchanged."""
    agents = {"a": harness.agent("ch-a"), "b": harness.agent("ch-b")}
    harness.write_fleet(tmp_path / "fleet", agents)
    emulated = harness.World(tmp_path)
    assert (await emulated.apply()).code == 0
    before = emulated.snapshot()
    harness.write_fleet(tmp_path / "fleet", {"a": agents["a"]})
    with hostile_server(mode) as server:
        hostile = harness.World(tmp_path, base_url=server.url)
        hostile.environ.update(DEADLINE)
        with pytest.raises(ReconcilerError) as raised:
            async with asyncio.timeout(BOUND_SECONDS):
                await hostile.apply()
        assert server.acting_calls() == 0, server.calls
    assert CASES[mode] in str(raised.value)
    assert emulated.snapshot().records == before.records
    assert len(await emulated.live()) == 2


@pytest.mark.parametrize(("offset", "warned"), [(-3 * 3600, True), (30, False)])
async def test_a_clock_off_by_more_than_a_minute_is_warned_about(
    tmp_path: Path, offset: float, warned: bool
) -> None:
    """The API's ``Date`` three hours behind ours: one warning with the skew (and the list sent
    again on the API's clock); 30 s behind: neither."""
    harness.write_fleet(tmp_path / "fleet", {})
    with hostile_server(Mode.HONEST) as server:
        server.date = email.utils.formatdate(time.time() + offset, usegmt=True)
        with capture_logs() as logs:
            await _plan(tmp_path, server)
    skews = [e for e in logs if e["event"] == "clock_skew"]
    assert len(skews) == int(warned)
    assert server.calls["list"] == (2 if warned else 1)  # listed again on the API's clock
    if warned:
        assert abs(skews[0]["local_minus_api_s"] - 3 * 3600) < 120


async def test_a_local_clock_hours_ahead_lists_on_the_apis_clock(tmp_path: Path) -> None:
    """Our clock 80 h ahead would put the whole window after every agent's start: the list is
    sent again with the window moved onto the API's clock, as its Date header tells it."""
    harness.write_fleet(tmp_path / "fleet", {})
    api_now = time.time() - 80 * 3600
    with hostile_server(Mode.HONEST) as server:
        server.date = email.utils.formatdate(api_now, usegmt=True)
        await _plan(tmp_path, server)
        sent = [parse_qs(urlsplit(path).query)["from_time"][0] for path in server.paths]
    first, again = (float(value) for value in sent)
    assert abs((first - again) - 80 * 3600) < 120
    assert abs(again - (api_now - observe.LIST_WINDOW_SECONDS)) < 120


PASS_DEADLINE = {"RECONCILER_PASS_DEADLINE": "1s"}
PASS_DEADLINE_ERROR = "the pass ran past its 1 s deadline (RECONCILER_PASS_DEADLINE)"


async def test_apply_stuck_in_a_join_stops_at_its_pass_deadline(tmp_path: Path) -> None:
    """Observing is quick but the join's answer never ends (under a 30 s API deadline): the
    pass deadline stops ``apply``, and the join's intent, written before the call, is kept for
    the next pass to resolve."""
    harness.write_fleet(tmp_path / "fleet", {"a": harness.agent("ch-a")})
    with hostile_server(Mode.SLOW_JOIN) as server:
        world = harness.World(tmp_path, base_url=server.url)
        world.environ.update(PASS_DEADLINE)
        with pytest.raises(PassDeadlineError, match=re.escape(PASS_DEADLINE_ERROR)):
            async with asyncio.timeout(BOUND_SECONDS):
                await world.apply()
        assert server.calls["join"] == 1
    [intent] = world.snapshot().intents
    assert intent.key == "demo/a"


def test_apply_cli_past_its_pass_deadline_exits_1_with_one_line(tmp_path: Path) -> None:
    harness.write_fleet(tmp_path / "fleet", {"a": harness.agent("ch-a")})
    with hostile_server(Mode.SLOW_JOIN) as server:
        result = cli(
            "apply",
            "fleet",
            "--auto-approve",
            url=server.url,
            cwd=tmp_path,
            extra_env=PASS_DEADLINE,
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith(f"error: {PASS_DEADLINE_ERROR} and was stopped")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("mode", [Mode.HUGE_PAGE, Mode.ENDLESS_BODY], ids=str)
async def test_a_page_over_the_response_cap_is_refused_naming_project_and_url(
    tmp_path: Path, mode: Mode
) -> None:
    """A 1 MiB page (declared) or an endless one (no length) against a 64 KiB cap: the read
    stops at the cap, long before the 60 s API deadline, with an error naming the project and
    the URL; the list is not resent and nothing acts."""
    harness.write_fleet(tmp_path / "fleet", {"a": harness.agent("ch-a")})
    with hostile_server(mode) as server:
        with pytest.raises(ReconcilerError) as raised:
            await _plan(
                tmp_path,
                server,
                RECONCILER_MAX_RESPONSE_BYTES="65536",
                RECONCILER_API_DEADLINE="60s",
            )
        assert server.calls["list"] == 1
        assert server.acting_calls() == 0
    message = str(raised.value)
    host = urlsplit(server.url).netloc
    assert f"list: project demo: GET http://{host}/api/conversational-ai-agent/v2/" in message
    assert "more than the 65536 allowed (RECONCILER_MAX_RESPONSE_BYTES)" in message
    _no_secret(message)

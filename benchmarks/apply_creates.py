"""Benchmark: N creates through ``reconciler apply`` against the floor and against a fair peer.

Ours is the CLI itself (``reconciler apply --auto-approve``, called in this process through the
typer app, so argument parsing, its default burst, token minting and the default log level are
all the real ones; its output goes to a file, as in CI; its manifests are written before the
clock starts, as a user's are). The peer is what a careful user of the official SDK would write:
``agora_agent.AsyncAgora`` with the same concurrency, a token bucket of the same rate and burst,
and a token minted per agent. Both create the same N agents on the same emulator, which runs in
its own process with latency L on every call; the emulator is reset between runs, and one small
untimed run of each side goes first (lazy imports). Each side runs with the garbage collector its
own process would have: ours as the ``reconciler`` entry point sets it (``reconciler.heap``), the
peer's script with Python's defaults. The floor is what latency, concurrency and the rate limit
allow: max(N·L/C, (N−B)/R + L), B being the bucket's burst (the last call the bucket lets go
still takes L to return).
Beside wall times it prints this process's CPU per create (user + system), which a shared
machine disturbs less. It is run at R = 500/s and with no rate limit, each figure ``--runs``
times, ours and the peer alternating. Figures are printed, never asserted.

    python benchmarks/apply_creates.py [--agents 1000] [--latency-ms 50] [--concurrency 50]
                                       [--rate 500] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from harness import (
    SHARED_MACHINE_NOTE,
    emulator_process,
    floor_seconds,
    fresh_emulator,
    running,
    spread,
    summary,
    table,
)

from reconciler.apply.ratelimit import burst_for
from reconciler.cli.app import app
from reconciler.emulator import (
    DEMO_APP_CERTIFICATE,
    DEMO_APP_ID,
    DEMO_CUSTOMER_ID,
    DEMO_CUSTOMER_SECRET,
)
from reconciler.heap import tune_collector

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the SDK's pydantic-v1-style models warn under pydantic 2
    from agora_agent.agentkit.token import generate_convo_ai_token
    from agora_agent.agents.types.start_agents_request_properties import (
        StartAgentsRequestProperties,
    )
    from agora_agent.client import AsyncAgora
    from agora_agent.types.llm import Llm
    from agora_agent.types.llm_params import LlmParams
    from agora_agent.types.microsoft_tts_params import MicrosoftTtsParams
    from agora_agent.types.tts import Tts_Microsoft

ENV = {
    "AGORA_APP_ID": DEMO_APP_ID,
    "AGORA_APP_CERTIFICATE": DEMO_APP_CERTIFICATE,
    "AGORA_CUSTOMER_ID": DEMO_CUSTOMER_ID,
    "AGORA_CUSTOMER_SECRET": DEMO_CUSTOMER_SECRET,
    "BENCH_LLM_KEY": "bench-llm-key",
    "BENCH_TTS_KEY": "bench-tts-key",
}
LLM = {"url": "https://llm.example/v1/chat/completions", "params": {"model": "gpt-4o-mini"}}
TTS_PARAMS = {"region": "eastus", "voice_name": "en-US-AndrewMultilingualNeural"}
AGENT_UID = "1001"
UNLIMITED = 1_000_000.0  # calls per second: no bucket ever waits
TOKEN_LIFETIME_S = 86_400


def _channel(index: int) -> str:
    return f"bench-{index:05d}"


def write_fleet(directory: Path, agents: int, *, certificate: bool = True) -> None:
    """One Project (with an App Certificate, so tokens are minted) and one AgentSet."""
    spec = {
        "appId": "${env:AGORA_APP_ID}",
        "customerId": "${env:AGORA_CUSTOMER_ID}",
        "customerSecret": "${env:AGORA_CUSTOMER_SECRET}",
        "maxConcurrentAgents": agents,
    }
    if certificate:
        spec["appCertificate"] = "${env:AGORA_APP_CERTIFICATE}"
    project = {
        "apiVersion": "reconciler/v1",
        "kind": "Project",
        "metadata": {"name": "bench"},
        "spec": spec,
    }
    template = {
        "agent_rtc_uid": AGENT_UID,
        "remote_rtc_uids": ["2001"],
        "idle_timeout": 0,
        "llm": {**LLM, "api_key": "${env:BENCH_LLM_KEY}"},
        "tts": {"vendor": "microsoft", "params": {**TTS_PARAMS, "key": "${env:BENCH_TTS_KEY}"}},
    }
    agent_set = {
        "apiVersion": "reconciler/v1",
        "kind": "AgentSet",
        "metadata": {"name": "bench", "project": "bench"},
        "spec": {
            "channels": [_channel(i) for i in range(agents)],
            "template": {"properties": template},
        },
    }
    directory.mkdir(parents=True)
    (directory / "fleet.yaml").write_text(yaml.safe_dump_all([project, agent_set]))


@dataclass(frozen=True)
class Setting:
    """One configuration both sides run with."""

    agents: int
    latency_ms: int
    concurrency: int
    rate: float

    @property
    def burst(self) -> int:
        return burst_for(self.rate)

    @property
    def floor(self) -> float:
        return floor_seconds(
            calls=self.agents,
            per_bucket=self.agents,
            latency_s=self.latency_ms / 1000,
            concurrency=self.concurrency,
            rate=self.rate,
            burst=self.burst,
        )

    @property
    def label(self) -> str:
        return "no limit" if self.rate >= UNLIMITED else f"R = {self.rate:g}/s"


def _expect_running(url: str, setting: Setting, who: str) -> None:
    live = running(url)
    if live != setting.agents:
        raise SystemExit(f"{who} left {live} agents running, expected {setting.agents}")


def run_ours(url: str, setting: Setting, *, fleet: Path, state: Path) -> None:
    """``reconciler apply`` with the CLI's own code path, on the manifests under ``fleet``."""
    os.environ.update(ENV)
    arguments = [
        *("apply", str(fleet), "--auto-approve", "--api-url", url),
        *("--state", str(state), "--concurrency", str(setting.concurrency)),
        *("--rate-limit", repr(setting.rate)),
    ]
    log = state.with_name("output.log")
    with (
        log.open("w") as output,
        contextlib.redirect_stdout(output),
        contextlib.redirect_stderr(output),
        collector_as_the_cli_sets_it(),
    ):
        code = app(arguments, standalone_mode=False)
    if code not in (0, None):
        raise SystemExit(f"apply failed (exit {code}):\n{log.read_text()[-2000:]}")


@contextlib.contextmanager
def collector_as_the_cli_sets_it() -> Iterator[None]:
    """The garbage collector as ``reconciler``'s entry point sets it, then Python's defaults
    again: ours runs in this process, but the peer's script would run in one of its own."""
    defaults = gc.get_threshold()
    tune_collector()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*defaults)


class _Bucket:
    """The peer's limiter: ``rate`` calls a second after a burst of ``burst``, in arrival order."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate, self._burst = rate, burst
        self._tokens, self._stamp = float(burst), time.monotonic()

    async def take(self) -> None:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        self._tokens -= 1
        if self._tokens < 0:
            await asyncio.sleep(-self._tokens / self._rate)


async def _peer_creates(url: str, setting: Setting) -> None:
    pair = f"{DEMO_CUSTOMER_ID}:{DEMO_CUSTOMER_SECRET}".encode()
    client = AsyncAgora(
        base_url=url + "/api/conversational-ai-agent",
        authorization="Basic " + base64.b64encode(pair).decode(),
        username=DEMO_CUSTOMER_ID,
        password=DEMO_CUSTOMER_SECRET,
    )
    gate = asyncio.Semaphore(setting.concurrency)
    bucket = _Bucket(setting.rate, setting.burst) if setting.rate < UNLIMITED else None

    async def create(index: int) -> None:
        async with gate:
            if bucket is not None:
                await bucket.take()
            token = generate_convo_ai_token(
                app_id=DEMO_APP_ID,
                app_certificate=DEMO_APP_CERTIFICATE,
                channel_name=_channel(index),
                uid=int(AGENT_UID),
                token_expire=TOKEN_LIFETIME_S,
            )
            properties = StartAgentsRequestProperties(
                channel=_channel(index),
                token=token,
                agent_rtc_uid=AGENT_UID,
                remote_rtc_uids=["2001"],
                idle_timeout=0,
                llm=Llm(
                    url=LLM["url"],
                    api_key=ENV["BENCH_LLM_KEY"],
                    params=LlmParams(model="gpt-4o-mini"),
                ),
                tts=Tts_Microsoft(
                    params=MicrosoftTtsParams(key=ENV["BENCH_TTS_KEY"], **TTS_PARAMS)
                ),
            )
            await client.agents.start(DEMO_APP_ID, name=f"sdk-{index:05d}", properties=properties)

    await asyncio.gather(*(create(i) for i in range(setting.agents)))


def run_peer(url: str, setting: Setting) -> None:
    """The same creates through the official SDK's async client."""
    asyncio.run(_peer_creates(url, setting))


@dataclass(frozen=True)
class Timed:
    """One run: wall seconds, and this process's CPU milliseconds per create."""

    wall: float
    cpu_ms: float


def timed(run: Callable[[], None], url: str, setting: Setting, *, who: str) -> Timed:
    fresh_emulator(url, latency_ms=setting.latency_ms)
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    _expect_running(url, setting, who)
    return Timed(wall=wall, cpu_ms=cpu * 1000 / setting.agents)


def timed_ours(url: str, setting: Setting) -> Timed:
    """``reconciler apply`` on manifests written before the clock starts, as a user's are."""
    with tempfile.TemporaryDirectory() as scratch:
        fleet, state = Path(scratch) / "fleet", Path(scratch) / "state.db"
        write_fleet(fleet, setting.agents)
        return timed(
            lambda: run_ours(url, setting, fleet=fleet, state=state), url, setting, who="ours"
        )


def timed_peer(url: str, setting: Setting) -> Timed:
    return timed(lambda: run_peer(url, setting), url, setting, who="the SDK peer")


def measure(url: str, setting: Setting, *, runs: int, peer: bool = True) -> list[str]:
    """One row of the summary: ours, the peer, and the ratios of each run's pair."""
    ours: list[Timed] = []
    peers: list[Timed] = []
    for _ in range(runs):
        ours.append(timed_ours(url, setting))
        if peer:
            peers.append(timed_peer(url, setting))
    floor = setting.floor
    mine = [
        setting.label,
        f"{floor:.2f}",
        spread([o.wall for o in ours]),
        spread([o.wall / floor for o in ours]),
    ]
    if not peer:
        return [*mine, "-", "-", "-", spread([o.cpu_ms for o in ours], digits=1), "-"]
    return [
        *mine,
        spread([p.wall for p in peers]),
        spread([p.wall / floor for p in peers]),
        spread([p.wall / o.wall for o, p in zip(ours, peers, strict=True)]),
        spread([o.cpu_ms for o in ours], digits=1),
        spread([p.cpu_ms for p in peers], digits=1),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=500.0, help="calls per second per project")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ours-only", action="store_true", help="skip the SDK peer")
    args = parser.parse_args()
    rows = [
        [
            *("setting", "floor s", "ours s", "ours/floor", "SDK peer s", "peer/floor"),
            *("peer/ours", "ours CPU ms", "peer CPU ms"),
        ]
    ]
    with emulator_process(quota=args.agents + 10) as url:
        # Untimed: pays the imports both sides make lazily on their first call, once.
        warm_up = Setting(min(args.agents, 20), args.latency_ms, args.concurrency, UNLIMITED)
        timed_ours(url, warm_up)
        if not args.ours_only:
            timed_peer(url, warm_up)
        for rate in (args.rate, UNLIMITED):
            setting = Setting(args.agents, args.latency_ms, args.concurrency, rate)
            rows.append(measure(url, setting, runs=args.runs, peer=not args.ours_only))
    print(
        f"apply: {args.agents} creates, L = {args.latency_ms} ms, C = {args.concurrency}, "
        f"burst B = {burst_for(args.rate)} at R = {args.rate:g}/s; "
        f"median [min–max] of {args.runs} runs"
    )
    print(table(rows))
    print(SHARED_MACHINE_NOTE)
    figures = {}
    for row in rows[1:]:
        figures[f"{row[0]}: ours/floor"] = row[3]
        figures[f"{row[0]}: peer/ours"] = row[6]
        figures[f"{row[0]}: ours CPU ms/create"] = row[7]
    summary(f"apply_creates (N = {args.agents})", figures)


if __name__ == "__main__":
    main()

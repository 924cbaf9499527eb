"""Benchmark: N creates through ``reconciler apply`` against the emulator, latency on every call.

Prints the wall time of the apply, the floor max(N·L/C, N/R) that latency L, concurrency C and a
rate limit of R calls per second allow, and their ratio; then the same N creates made by a plain
sequential loop over the official ``agora-agents`` SDK, and apply's speed-up over it. The
emulator runs in its own process, its quota raised to fit N. Figures are printed, never asserted.

    python benchmarks/apply_creates.py [--agents 1000] [--latency-ms 50] [--concurrency 50]
                                       [--rate 500] [--skip-sdk]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from reconciler import logs
from reconciler.apply.ratelimit import RateLimit
from reconciler.apply.steps import ApplySettings
from reconciler.emulator import DEMO_APP_ID, DEMO_CUSTOMER_ID, DEMO_CUSTOMER_SECRET
from reconciler.reconcile import apply_pass

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the SDK's pydantic-v1-style models warn under pydantic 2
    from agora_agent.agents.types.start_agents_request_properties import (
        StartAgentsRequestProperties,
    )
    from agora_agent.client import Agora
    from agora_agent.types.llm import Llm
    from agora_agent.types.llm_params import LlmParams
    from agora_agent.types.microsoft_tts_params import MicrosoftTtsParams
    from agora_agent.types.tts import Tts_Microsoft

ENV = {
    "AGORA_APP_ID": DEMO_APP_ID,
    "AGORA_CUSTOMER_ID": DEMO_CUSTOMER_ID,
    "AGORA_CUSTOMER_SECRET": DEMO_CUSTOMER_SECRET,
    "BENCH_LLM_KEY": "bench-llm-key",
    "BENCH_TTS_KEY": "bench-tts-key",
}
LLM = {"url": "https://llm.example/v1/chat/completions", "params": {"model": "gpt-4o-mini"}}
TTS_PARAMS = {"region": "eastus", "voice_name": "en-US-AndrewMultilingualNeural"}


def _channel(index: int) -> str:
    return f"bench-{index:05d}"


def write_fleet(directory: Path, agents: int) -> None:
    """One Project and one AgentSet of ``agents`` channels, without an App Certificate."""
    project = {
        "apiVersion": "reconciler/v1",
        "kind": "Project",
        "metadata": {"name": "bench"},
        "spec": {
            "appId": "${env:AGORA_APP_ID}",
            "customerId": "${env:AGORA_CUSTOMER_ID}",
            "customerSecret": "${env:AGORA_CUSTOMER_SECRET}",
            "maxConcurrentAgents": agents,
        },
    }
    template = {
        "agent_rtc_uid": "1001",
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


async def _control(url: str, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.request(method, "/_emulator" + path, json=body)
        response.raise_for_status()
        return response.json()


async def _live_count(url: str) -> int:
    agents = (await _control(url, "GET", "/agents"))["agents"]
    return sum(1 for a in agents if a["status"] == "RUNNING")


def run_apply(url: str, *, agents: int, latency_ms: int, concurrency: int, rate: float) -> float:
    """Apply N creates with the CLI's code path; returns the wall time in seconds."""
    asyncio.run(_control(url, "POST", "/faults", {"latency_ms": latency_ms}))
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        write_fleet(root / "fleet", agents)
        settings = ApplySettings(
            concurrency=concurrency,
            rate_limit=RateLimit(per_second=rate, burst=max(1, concurrency)),
        )
        out = io.StringIO()
        started = time.perf_counter()
        code = asyncio.run(
            apply_pass.apply_command(
                root / "fleet",
                manifests=root / "fleet",
                options=apply_pass.ApplyOptions(auto_approve=True, settings=settings),
                state_path=root / "state.db",
                api_url=url,
                environ={**os.environ, **ENV},
                streams=apply_pass.Streams(stdin=io.StringIO(), stdout=out, stderr=io.StringIO()),
            )
        )
        wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"apply failed (exit {code}):\n{out.getvalue()[-2000:]}")
    live = asyncio.run(_live_count(url))
    if live != agents:
        raise SystemExit(f"apply left {live} agents running, expected {agents}")
    return wall


def run_sdk_loop(url: str, *, agents: int, latency_ms: int) -> float:
    """The same creates, one after another, through the official SDK; returns the wall time."""
    asyncio.run(_control(url, "POST", "/reset"))
    asyncio.run(_control(url, "POST", "/faults", {"latency_ms": latency_ms}))
    pair = f"{DEMO_CUSTOMER_ID}:{DEMO_CUSTOMER_SECRET}".encode()
    client = Agora(
        base_url=url + "/api/conversational-ai-agent",
        authorization="Basic " + base64.b64encode(pair).decode(),
        username=DEMO_CUSTOMER_ID,
        password=DEMO_CUSTOMER_SECRET,
    )
    started = time.perf_counter()
    for index in range(agents):
        properties = StartAgentsRequestProperties(
            channel=_channel(index),
            token="",
            agent_rtc_uid="1001",
            remote_rtc_uids=["2001"],
            idle_timeout=0,
            llm=Llm(
                url=LLM["url"], api_key=ENV["BENCH_LLM_KEY"], params=LlmParams(model="gpt-4o-mini")
            ),
            tts=Tts_Microsoft(params=MicrosoftTtsParams(key=ENV["BENCH_TTS_KEY"], **TTS_PARAMS)),
        )
        client.agents.start(DEMO_APP_ID, name=f"sdk-{index:05d}-g1", properties=properties)
    wall = time.perf_counter() - started
    live = asyncio.run(_live_count(url))
    if live != agents:
        raise SystemExit(f"the SDK loop left {live} agents running, expected {agents}")
    return wall


@contextmanager
def emulator_process(*, quota: int) -> Iterator[str]:
    """The emulator in its own process, so that its work does not share our interpreter's GIL."""
    command = [sys.executable, "-m", "reconciler", "emulator", "--port", "0", "--quota", str(quota)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith("emulator listening on "):
                    yield line.removeprefix("emulator listening on ").strip()
                    return
            raise SystemExit("the emulator did not start")
        finally:
            process.terminate()
            process.communicate(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=500.0, help="calls per second per project")
    parser.add_argument("--skip-sdk", action="store_true", help="skip the sequential SDK loop")
    args = parser.parse_args()
    logs.configure_logging(level="warning")
    n, latency = args.agents, args.latency_ms / 1000
    with emulator_process(quota=n + 10) as url:
        wall = run_apply(
            url,
            agents=n,
            latency_ms=args.latency_ms,
            concurrency=args.concurrency,
            rate=args.rate,
        )
        floor = max(n * latency / args.concurrency, n / args.rate)
        print(
            f"apply: {n} creates, latency {args.latency_ms} ms per call, concurrency "
            f"{args.concurrency}, rate limit {args.rate:g}/s"
        )
        print(f"  wall time           {wall:8.2f} s")
        print(f"  floor max(N·L/C, N/R) {floor:6.2f} s")
        print(f"  wall / floor        {wall / floor:8.2f}")
        if args.skip_sdk:
            return
        sdk = run_sdk_loop(url, agents=n, latency_ms=args.latency_ms)
        print(f"official SDK, sequential loop: {n} creates")
        print(f"  wall time           {sdk:8.2f} s")
        print(f"  apply speed-up      {sdk / wall:8.1f}x")


if __name__ == "__main__":
    main()

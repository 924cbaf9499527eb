"""Benchmark: observe and plan a fleet of 10,000 agents whose state is in sync with the emulator.

Prints list calls and query calls (from the emulator's counters), the planner's CPU seconds
(``time.process_time`` around ``make_plan``, with the garbage collector set as the ``reconciler``
entry point sets it) and this process's peak RSS. Targets: ⌈N/page⌉ list calls, no query, under
0.5 s of planner CPU, under 200 MB. It prints figures and asserts nothing about time. The
emulator runs as its own process, so its memory is not counted.

Then the whole ``reconciler plan`` process on the same number of agents in sync (made by
``reconciler apply`` from YAML manifests): its wall time, CPU (user + system) and peak RSS, beside
those of a bare interpreter start-up and of one that imports the stack alone
(``harness.STACK_IMPORTS``, what any process on it pays before its own code), each median
[min–max] of ``--runs``.

    .venv/bin/python benchmarks/observe_and_plan.py [--agents N] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import resource
import sys
import tempfile
import time
from pathlib import Path
from types import MappingProxyType

import httpx
from apply_creates import ENV, UNLIMITED, Setting, run_ours, write_fleet
from harness import (
    SHARED_MACHINE_NOTE,
    Usage,
    child_usage,
    emulator_process,
    fresh_emulator,
    reconciler_command,
    spread,
    stack_imports_command,
    summary,
)

from reconciler import logs, naming, observe, plan
from reconciler.agora.client import AgoraClient, BasicAuth
from reconciler.emulator import DEMO_APP_ID, DEMO_CUSTOMER_ID, DEMO_CUSTOMER_SECRET
from reconciler.heap import tune_collector
from reconciler.manifest.desired import DesiredAgent, DesiredFleet, ProjectSpec
from reconciler.manifest.diagnostics import SourceLocation
from reconciler.manifest.fields import RestartPolicy
from reconciler.plan import diff
from reconciler.reconcile.connect import ReadOnlyAgents
from reconciler.state import AgentRecord, StateSnapshot

SOURCE = SourceLocation(file="fleet/bench.yaml", line=1)
SEED_BATCH = 1_000
FINGERPRINTS = {"${env:OPENAI_API_KEY}": "0123456789abcdef", "${env:TTS_KEY}": "fedcba9876543210"}


def desired_fleet(count: int) -> DesiredFleet:
    project = ProjectSpec(
        name="bench",
        app_id=DEMO_APP_ID,
        customer_id=DEMO_CUSTOMER_ID,
        customer_secret="${env:AGORA_CUSTOMER_SECRET}",
        app_certificate=None,
        region=None,
        base_url=None,
        max_concurrent_agents=count,
        name_prefix="rc",
        token_lifetime_seconds=86_400,
        source=SOURCE,
    )
    agents = {}
    for index in range(count):
        key = f"bench/agent-{index:05d}"
        agents[key] = DesiredAgent(
            key=key,
            project="bench",
            name=f"agent-{index:05d}",
            channel=f"room-{index:05d}",
            agent_rtc_uid="1001",
            properties=MappingProxyType(
                {
                    "agent_rtc_uid": "1001",
                    "remote_rtc_uids": ["2001"],
                    "idle_timeout": 0,
                    "llm": {
                        "url": "https://api.openai.com/v1/chat/completions",
                        "api_key": "${env:OPENAI_API_KEY}",
                        "params": {"model": "gpt-4o-mini"},
                        "system_messages": [
                            {"role": "system", "content": f"You are agent {index}."}
                        ],
                    },
                    "tts": {
                        "vendor": "microsoft",
                        "params": {"key": "${env:TTS_KEY}", "voice_name": "x"},
                    },
                    "asr": {"language": "en-US"},
                }
            ),
            token=None,
            restart_policy=RestartPolicy.ALWAYS,
            protect=False,
            archive_history=None,
            source=SOURCE,
        )
    return DesiredFleet(
        projects=MappingProxyType({"bench": project}), agents=MappingProxyType(agents)
    )


def seed_and_record(url: str, fleet: DesiredFleet) -> StateSnapshot:
    """Plant every agent in the emulator and build the state that records them, in sync."""
    agents = list(fleet.agents.values())
    records = {}
    with httpx.Client(base_url=url, timeout=120) as http:
        now = float(http.get("/_emulator/clock").json()["now"])
        for start in range(0, len(agents), SEED_BATCH):
            batch = agents[start : start + SEED_BATCH]
            seeds = [
                {
                    "name": naming.remote_name(prefix="rc", key=a.key, generation=1),
                    "channel": a.channel,
                    "agent_rtc_uid": a.agent_rtc_uid,
                    "properties": {"idle_timeout": 0},
                }
                for a in batch
            ]
            ids = http.post("/_emulator/agents", json={"agents": seeds}).json()["agent_ids"]
            for agent, agent_id in zip(batch, ids, strict=True):
                view = diff.desired_view(agent, fingerprints=FINGERPRINTS)
                records[agent.key] = AgentRecord(
                    key=agent.key,
                    project=agent.project,
                    remote_name=naming.remote_name(prefix="rc", key=agent.key, generation=1),
                    generation=1,
                    agent_id=agent_id,
                    channel=agent.channel,
                    agent_rtc_uid=agent.agent_rtc_uid,
                    applied_properties=diff.applied_properties(view, protect=False),
                    spec_hash=diff.spec_hash(view),
                    token_expires_at=None,
                    created_at=now,
                    updated_at=now,
                )
    return StateSnapshot(
        lineage="bench",
        serial=1,
        records=MappingProxyType(dict(sorted(records.items()))),
        intents=(),
    )


async def observe_all(url: str, state: StateSnapshot, now: float) -> observe.ObservedFleet:
    auth = BasicAuth(customer_id=DEMO_CUSTOMER_ID, customer_secret=DEMO_CUSTOMER_SECRET)
    client = AgoraClient(app_id=DEMO_APP_ID, auth=auth, base_url=url, timeout=60)
    async with client:
        target = observe.Target(project="bench", reader=ReadOnlyAgents(client), prefix="rc")
        return await observe.observe_fleet([target], state=state, now=now)


def plan_in_sync_command(url: str) -> list[str]:
    """``reconciler plan`` of ``fleet`` against ``state.db`` (in the child's working directory),
    exiting non-zero unless the fleet is in sync."""
    return reconciler_command(
        *("plan", "fleet", "--state", "state.db", "--api-url", url, "--detailed-exitcode")
    )


def whole_plan_process(count: int, *, runs: int) -> dict[str, str]:
    """``reconciler plan --detailed-exitcode`` on ``count`` agents in sync, as a user runs it."""
    with tempfile.TemporaryDirectory() as scratch, emulator_process(quota=count + 10) as url:
        root = Path(scratch)
        write_fleet(root / "fleet", count, certificate=False)
        fresh_emulator(url, latency_ms=0)
        setting = Setting(count, 0, 50, UNLIMITED)
        run_ours(url, setting, fleet=root / "fleet", state=root / "state.db")
        plan = plan_in_sync_command(url)
        commands = {
            "plan": plan,
            "bare": [sys.executable, "-c", "pass"],
            "stack": stack_imports_command(),
        }
        figures: dict[str, list[Usage]] = {name: [] for name in commands}
        child_usage(plan, cwd=root, env=ENV)  # writes the bytecode; not counted
        for _ in range(runs):
            for name, command in commands.items():
                figures[name].append(child_usage(command, cwd=root, env=ENV))
    print(f"reconciler plan, whole process, {count} agents in sync (median [min–max] of {runs})")
    labels = {"plan": "reconciler plan", "bare": "python -c pass", "stack": "the stack's imports"}
    for name, label in labels.items():
        walls, cpus, rss = zip(*figures[name], strict=True)
        peak = f"{max(rss):.0f} MB"
        print(f"  {label:19} wall {spread(walls)} s  CPU {spread(cpus)} s  peak RSS {peak}")
    extra = [p.cpu - b.cpu for p, b in zip(figures["plan"], figures["bare"], strict=True)]
    print(f"  CPU beyond the interpreter's start-up: {spread(extra)} s (target ≤ 0.5 s)")
    stack = [s.cpu - b.cpu for s, b in zip(figures["stack"], figures["bare"], strict=True)]
    print(f"  of which any process on this stack pays before its own code: {spread(stack)} s")
    print(SHARED_MACHINE_NOTE)
    plan_rss = max(p.peak_mb for p in figures["plan"])
    return {
        "plan process CPU beyond start-up s": spread(extra),
        "stack imports CPU beyond start-up s": spread(stack),
        "plan process peak RSS MB": f"{plan_rss:.0f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    count = args.agents
    tune_collector()  # as the ``reconciler`` entry point does before any command
    logs.configure_logging(level="warning")
    fleet = desired_fleet(count)
    with emulator_process(quota=count) as url:
        state = seed_and_record(url, fleet)
        before = httpx.get(f"{url}/_emulator/counters").json()
        now = time.time()
        started = time.perf_counter()
        observed = asyncio.run(observe_all(url, state, now))
        observe_seconds = time.perf_counter() - started
        counters = httpx.get(f"{url}/_emulator/counters").json()
    cpu = time.process_time()
    made = plan.make_plan(
        fleet, observed, state, now=now, policy=plan.PlanPolicy(), fingerprints=FINGERPRINTS
    )
    planner_cpu = time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lists = sum(counters.get("list", {}).values()) - sum(before.get("list", {}).values())
    queries = sum(counters.get("query", {}).values()) - sum(before.get("query", {}).values())
    page = observe.LIST_PAGE_SIZE
    print(f"agents:             {count}")
    print(f"list calls:         {lists} (target {math.ceil(count / page)} = ⌈N/{page}⌉)")
    print(f"query calls:        {queries} (target 0)")
    print(f"observe wall time:  {observe_seconds:.2f} s")
    print(f"planner CPU:        {planner_cpu:.3f} s (target < 0.5 s)")
    print(f"peak RSS:           {peak_mb:.0f} MB (target < 200 MB)")
    print(f"plan:               {len(made.changes)} changes, {len(made.reports)} reports")
    print()
    process = whole_plan_process(count, runs=args.runs)
    planner = {"planner CPU s": f"{planner_cpu:.3f}", "list calls": str(lists)}
    summary(f"observe_and_plan (N = {count})", {**planner, **process})


if __name__ == "__main__":
    main()

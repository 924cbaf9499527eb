"""``reconciler speak|think|interrupt|history`` as a user runs them against a real emulator."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apply_e2e_harness import cli

from reconciler.emulator import EmulatorConfig, running_server
from reconciler.state import open_state

SAMPLE_FLEET = Path(__file__).parents[2] / "fleet"


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The sample fleet applied once; yields the emulator's URL and the working directory."""
    workdir = tmp_path_factory.mktemp("operator")
    shutil.copytree(SAMPLE_FLEET, workdir / "fleet")
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        done = cli("apply", "--auto-approve", "--state", "state.db", url=url, cwd=workdir)
        assert done.returncode == 0, done.stdout + done.stderr
        yield url, workdir


def _run(applied: tuple[str, Path], *args: str) -> tuple[int, str, str]:
    url, workdir = applied
    done = cli(*args, "--state", "state.db", url=url, cwd=workdir)
    return done.returncode, done.stdout, done.stderr


def test_speak_think_interrupt_then_history(applied: tuple[str, Path]) -> None:
    """Each command says what it reached; history then shows what was said and thought."""
    for args in (
        ("speak", "lobby-concierge", "Welcome!", "--priority", "append", "--no-interruptable"),
        ("think", "demo/lobby-concierge", "Where is the lift?"),
        ("interrupt", "lobby-concierge"),
    ):
        code, out, err = _run(applied, *args)
        assert (code, err) == (0, ""), err
        assert out.startswith(f"{args[0]}: sent to demo/lobby-concierge (agent ")
        assert out.endswith(", channel lobby)\n")
    code, out, err = _run(applied, "history", "lobby-concierge")
    assert code == 0, err
    assert out.splitlines()[1:] == [
        "assistant: Welcome!",
        "user: [think API injected] Where is the lift?",
    ]
    code, out, err = _run(applied, "history", "lobby-concierge", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["contents"][0] == {"role": "assistant", "content": "Welcome!"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("speak", "lobby-concierg", "Hi"),
            "error: no agent 'lobby-concierg' in the manifests or the state; "
            "did you mean demo/lobby-concierge?",
        ),
        (
            ("speak", "help-desk", "x" * 513),
            "error: text is 513 bytes; speak takes at most 512 bytes (UTF-8)",
        ),
        (
            ("history", "nobody-at-all"),
            "error: no agent 'nobody-at-all' in the manifests or the state",
        ),
    ],
    ids=["unknown-name", "text-too-long", "no-suggestion"],
)
def test_a_refusal_is_one_line_and_exit_1(
    applied: tuple[str, Path], args: tuple[str, ...], message: str
) -> None:
    """One ``error:`` line on stderr, nothing on stdout, exit 1, no traceback."""
    assert _run(applied, *args) == (1, "", message + "\n")


def test_an_agent_that_failed_is_not_running(applied: tuple[str, Path]) -> None:
    """After the emulator fails the agent, speak exits 1 and says which agent and why."""
    url, workdir = applied
    with open_state(workdir / "state.db") as store:
        agent_id = store.snapshot().records["demo/store-assistant-store-003"].agent_id
    failed = httpx.post(f"{url}/_emulator/agents/{agent_id}/fail", json={"message": "LLM crashed"})
    failed.raise_for_status()
    code, out, err = _run(applied, "speak", "store-assistant-store-003", "Hello")
    assert (code, out) == (1, "")
    assert err == (
        f"error: demo/store-assistant-store-003 is not running: its agent {agent_id} is FAILED\n"
    )

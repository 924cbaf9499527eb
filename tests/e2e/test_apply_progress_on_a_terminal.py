"""``reconciler apply`` on a pseudo-terminal draws a live progress display instead of log lines;
without a terminal (or with ``--no-color``) it writes one plain line per change and outcome."""

from __future__ import annotations

import os
import pty
import re
import subprocess
from pathlib import Path

from apply_e2e_harness import RECONCILER, cli, harness

from reconciler.emulator import EmulatorConfig, running_server

AGENTS = 3
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _on_a_terminal(*args: str, url: str, cwd: Path) -> tuple[int, str]:
    """Run ``reconciler ARGS`` with stdout and stderr on a pseudo-terminal; all it drew."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    env.update({**harness.ENV, "AGORA_API_URL": url, "TERM": "xterm", "COLUMNS": "100"})
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(RECONCILER), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    drawn = bytearray()
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        drawn.extend(chunk)
    os.close(leader)
    return process.wait(timeout=60), drawn.decode("utf-8", errors="replace")


def _plain(drawn: str) -> str:
    """What a terminal shows, colour and cursor codes removed."""
    return ANSI.sub("", drawn)


def test_a_terminal_gets_a_live_display_not_log_lines(tmp_path: Path) -> None:
    harness.write_fleet(
        tmp_path / "fleet", {f"a{i}": harness.agent(f"room-{i}") for i in range(AGENTS)}
    )
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        code, drawn = _on_a_terminal(
            "apply", "fleet", "--auto-approve", "--state", "state.db", url=url, cwd=tmp_path
        )
    assert code == 0, drawn
    drawn = _plain(drawn)
    assert f"Applied {AGENTS} changes: {AGENTS} done" in drawn
    assert "create       done     3/3 done" in drawn
    assert "apply_attempt" not in drawn
    assert "apply_outcome" not in drawn
    assert ": started" not in drawn  # the plain lines are for logs, not terminals
    assert f"Apply complete: {AGENTS} created." in drawn


def test_no_terminal_gets_plain_lines(tmp_path: Path) -> None:
    """One line as each change starts and ends; the log events go to --log-file."""
    harness.write_fleet(
        tmp_path / "fleet", {f"a{i}": harness.agent(f"room-{i}") for i in range(AGENTS)}
    )
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        done = cli(
            "apply", "fleet", "--auto-approve", "--state", "state.db", "--log-file", "apply.log",
            url=url, cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert sum(1 for line in lines if line.endswith(": started")) == AGENTS
    finished = [line for line in lines if ": done in " in line]
    assert len(finished) == AGENTS
    assert finished[-1].endswith(f"[{AGENTS}/{AGENTS}]")
    assert "Applying" not in done.stdout
    logged = (tmp_path / "apply.log").read_text()
    assert logged.count('"event": "apply_outcome"') == AGENTS
    assert "apply_attempt" not in done.stderr


def test_no_color_turns_the_live_display_off(tmp_path: Path) -> None:
    harness.write_fleet(tmp_path / "fleet", {"a": harness.agent("room-a")})
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        code, drawn = _on_a_terminal(
            "apply", "fleet", "--auto-approve", "--no-color", "--state", "state.db",
            url=url, cwd=tmp_path,
        )  # fmt: skip
    assert code == 0, drawn
    assert "Applying" not in drawn
    assert "\x1b[3" not in drawn  # no colour codes
    assert "demo/a: create" in drawn
    assert ": started" in drawn

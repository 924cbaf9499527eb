"""The image's contract, checked without an engine by parsing the Dockerfile.

Multi-stage on a pinned slim base, a non-root numeric user, tini as PID 1 in front of
``reconciler``, ``run /fleet`` by default, a health check that really probes ``/healthz`` (its
command is run here against a local server), and nothing secret in the image or its context.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
HEALTH_URL = "http://127.0.0.1:9090/healthz"


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form instruction; a shell-form one fails the test."""
        words: Any = json.loads(self.arguments)
        assert isinstance(words, list), f"{self.keyword} must be in exec form (a JSON array)"
        return [str(word) for word in words]


def _instructions(text: str) -> list[Instruction]:
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, arguments = stripped.partition(" ")
            found.append(Instruction(keyword=keyword.upper(), arguments=arguments.strip()))
    return found


DOCKERFILE = _instructions((ROOT / "Dockerfile").read_text())


def _final_stage() -> list[Instruction]:
    last_from = max(i for i, inst in enumerate(DOCKERFILE) if inst.keyword == "FROM")
    return DOCKERFILE[last_from:]


def _last(keyword: str) -> Instruction:
    return [inst for inst in _final_stage() if inst.keyword == keyword][-1]


def test_two_stages_on_a_pinned_slim_base() -> None:
    """A build stage and a runtime stage, both on one slim Python base pinned by version tag."""
    stages = [inst.arguments.split() for inst in DOCKERFILE if inst.keyword == "FROM"]
    assert len(stages) == 2
    args = dict(
        inst.arguments.split("=", 1)
        for inst in DOCKERFILE
        if inst.keyword == "ARG" and "=" in inst.arguments
    )
    images = {args.get(words[0].strip("${}"), words[0]) for words in stages}
    (image,) = images
    assert re.fullmatch(r"python:3\.\d+(\.\d+)?-slim-\w+", image), image
    build_name = stages[0][-1]
    assert any(
        inst.keyword == "COPY" and inst.arguments.startswith(f"--from={build_name} ")
        for inst in _final_stage()
    )


def test_runs_as_a_non_root_numeric_user() -> None:
    """The final USER is a numeric uid other than 0, so runAsNonRoot can check it."""
    user = _last("USER").arguments.split(":")[0]
    assert user.isdigit()
    assert int(user) != 0


def test_tini_is_pid_1_in_front_of_reconciler() -> None:
    """Exec-form entrypoint: tini, then reconciler; tini comes from Debian's package."""
    assert _last("ENTRYPOINT").exec_form() == ["/usr/bin/tini", "--", "reconciler"]
    installs = [inst.arguments for inst in _final_stage() if inst.keyword == "RUN"]
    assert any(re.search(r"apt-get install\b.*\btini\b", run) for run in installs)


def test_default_command_runs_the_daemon_on_fleet() -> None:
    """With no arguments the container runs ``reconciler run /fleet``."""
    assert _last("CMD").exec_form() == ["run", "/fleet"]


def test_no_secret_is_baked_in() -> None:
    """No ENV or ARG names a credential, and the build context admits only the package sources."""
    secretish = re.compile(r"SECRET|TOKEN|PASSWORD|CERTIFICATE|API_KEY|CUSTOMER", re.IGNORECASE)
    for inst in DOCKERFILE:
        if inst.keyword in ("ENV", "ARG"):
            assert not secretish.search(inst.arguments), inst
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    rules = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    assert rules[0] == "*"
    admitted = {rule[1:] for rule in rules if rule.startswith("!")}
    assert admitted == {"pyproject.toml", "README.md", "reconciler/"}


def _probe() -> list[str]:
    """The health check's command, as exec form after HEALTHCHECK's options."""
    arguments = _last("HEALTHCHECK").arguments
    head, _, command = arguments.partition("CMD ")
    assert all(option.startswith("--") for option in head.split())
    return Instruction(keyword="CMD", arguments=command).exec_form()


def test_health_check_probes_healthz_on_the_daemon_port() -> None:
    """The probe runs Python (slim has no curl) against the daemon's /healthz."""
    probe = _probe()
    assert probe[0] == "python"
    assert HEALTH_URL in " ".join(probe)


@pytest.fixture
def health_server() -> Iterator[tuple[str, list[int]]]:
    """A local /healthz whose status the test sets; yields its URL and the status holder."""
    status = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status[0] if self.path == "/healthz" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/healthz", status
    finally:
        server.shutdown()
        server.server_close()


def _run_probe(url: str) -> int:
    command = [sys.executable, *(word.replace(HEALTH_URL, url) for word in _probe()[1:])]
    return subprocess.run(command, capture_output=True, timeout=30, check=False).returncode


def test_health_check_passes_only_when_healthz_answers_ok(
    health_server: tuple[str, list[int]],
) -> None:
    """Run the probe itself: 0 on 200, non-zero on 503 and when nothing listens."""
    url, status = health_server
    assert _run_probe(url) == 0
    status[0] = 503
    assert _run_probe(url) != 0
    assert _run_probe("http://127.0.0.1:9/healthz") != 0

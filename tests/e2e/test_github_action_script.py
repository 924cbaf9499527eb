"""The GitHub Action's script end to end: the real CLI against the emulator on 127.0.0.1.

``GITHUB_STEP_SUMMARY`` and ``GITHUB_OUTPUT`` point at temporary files, as on a runner. Without a
token nothing is posted; with one, the comment goes to a fake GitHub REST API served here, so the
test can check that a second run edits the first run's comment instead of adding another.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.emulator import (
    DEMO_APP_CERTIFICATE,
    DEMO_APP_ID,
    DEMO_CUSTOMER_ID,
    DEMO_CUSTOMER_SECRET,
    EmulatorConfig,
    running_server,
)

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "scripts" / "github_action.py"
FLEET = ROOT / "fleet"
TOKEN = "ghs_fake-token-for-the-test-0042"
SECRETS = {
    "AGORA_CUSTOMER_SECRET": DEMO_CUSTOMER_SECRET,
    "AGORA_APP_CERTIFICATE": DEMO_APP_CERTIFICATE,
    "OPENAI_API_KEY": "sk-action-openai-value-77aa",
    "AZURE_TTS_KEY": "azure-action-tts-value-31bb",
}
CREDENTIALS = {**SECRETS, "AGORA_APP_ID": DEMO_APP_ID, "AGORA_CUSTOMER_ID": DEMO_CUSTOMER_ID}
FIVE_CREATES = "**Plan: 5 to create, 0 to update, 0 to replace, 0 to delete.**"


@dataclass(frozen=True)
class Run:
    """One run of the script: its exit status, streams, job summary and step outputs."""

    returncode: int
    stdout: str
    stderr: str
    summary: str
    outputs: dict[str, str]


@dataclass
class FakeGitHub:
    """Issue comments of one pull request, as GitHub's REST API keeps them."""

    url: str = ""
    comments: dict[int, str] = field(default_factory=dict)
    authorizations: set[str] = field(default_factory=set)
    next_id: int = 1000

    def add(self, body: str) -> int:
        self.next_id += 1
        self.comments[self.next_id] = body
        return self.next_id


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    with running_server(EmulatorConfig(frozen_clock=True)) as url:
        yield url


@pytest.fixture(autouse=True)
def _fresh_emulator(api_url: str) -> None:
    httpx.post(f"{api_url}/_emulator/reset").raise_for_status()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def _run_script(*args: str, tmp_path: Path, env: dict[str, str]) -> Run:
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs.txt"
    summary.write_text("")
    outputs.write_text("")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AGORA_", "GITHUB_"))}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env={
            **base,
            **env,
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(outputs),
        },
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    run = Run(
        returncode=done.returncode,
        stdout=done.stdout,
        stderr=done.stderr,
        summary=summary.read_text(),
        outputs=dict(line.split("=", 1) for line in outputs.read_text().splitlines()),
    )
    for secret in [*SECRETS.values(), TOKEN]:
        assert secret not in run.stdout + run.stderr + run.summary
    return run


def _plan_args(api_url: str, tmp_path: Path, *extra: str) -> list[str]:
    """Plan the sample fleet by the relative path a workflow would give, against the emulator."""
    return [
        "--path",
        "fleet",
        "--api-url",
        api_url,
        "--state",
        str(tmp_path / "state.db"),
        *extra,
    ]


def test_plan_goes_to_the_summary_and_counts_to_the_outputs(api_url: str, tmp_path: Path) -> None:
    """Five creates: the Markdown plan in the summary; every declared output, with its counts."""
    plan_file = tmp_path / "plan.json"
    run = _run_script(
        *_plan_args(api_url, tmp_path, "--plan-file", str(plan_file)),
        tmp_path=tmp_path,
        env=CREDENTIALS,
    )
    assert run.returncode == 0, run.stderr
    assert run.summary.startswith("### Reconciler plan\n")
    assert FIVE_CREATES in run.summary
    assert "demo/lobby-concierge will be created" in run.summary
    assert run.outputs == {
        "exit_code": "2",
        "to_create": "5",
        "to_update": "0",
        "to_replace": "0",
        "to_delete": "0",
        "to_stop": "0",
        "to_recreate": "0",
        "to_renew_token": "0",
        "to_adopt": "0",
        "to_move": "0",
        "has_changes": "true",
        "plan_file": str(plan_file),
    }
    assert set(run.outputs) == set(yaml.safe_load((ROOT / "action.yml").read_text())["outputs"])
    assert json.loads(plan_file.read_text())["plan"]["summary"]["create"] == 5
    assert "::notice::" in run.stdout
    assert not (tmp_path / "state.db").exists()


def test_refused_plan_fails_the_step_but_keeps_its_counts(api_url: str, tmp_path: Path) -> None:
    """Over the quota: exit code 3 in the outputs, the counts, the caution, and no plan file."""
    seeds = [{"name": f"other-{i}", "channel": f"x{i}"} for i in range(16)]
    httpx.post(f"{api_url}/_emulator/agents", json={"agents": seeds}).raise_for_status()
    plan_file = tmp_path / "plan.json"
    run = _run_script(
        *_plan_args(api_url, tmp_path, "--plan-file", str(plan_file)),
        tmp_path=tmp_path,
        env=CREDENTIALS,
    )
    assert run.returncode == 1
    assert run.outputs["exit_code"] == "3"
    # 16 seeded + 5 creates > 20: the quota holds back the one create that does not fit, and
    # the counts are of the changes that would run.
    assert run.outputs["to_create"] == "4"
    assert run.outputs["has_changes"] == "true"
    assert "plan_file" not in run.outputs
    assert "> [!CAUTION]" in run.summary
    assert not plan_file.exists()


def test_invalid_manifests_annotate_and_plan_nothing(api_url: str, tmp_path: Path) -> None:
    """Broken manifests: GitHub error annotations, exit code 1, no counts, no API call."""
    broken = tmp_path / "fleet"
    broken.mkdir()
    (broken / "agent.yaml").write_text("apiVersion: reconciler/v1\nkind: Agent\nmetadata: {}\n")
    run = _run_script(
        "--path", str(broken), "--api-url", api_url, tmp_path=tmp_path, env=CREDENTIALS
    )
    assert run.returncode == 1
    assert re.search(r"^::error file=.*agent\.yaml", run.stdout, flags=re.MULTILINE)
    assert run.outputs == {"exit_code": "1"}
    assert "The manifests are invalid" in run.summary
    assert httpx.get(f"{api_url}/_emulator/counters").json() == {}


def test_validate_only_needs_no_credentials(api_url: str, tmp_path: Path) -> None:
    """With planning off (fork pull requests) the script validates offline and succeeds."""
    run = _run_script(
        "--path", str(FLEET), "--plan", "false", "--comment", "false", tmp_path=tmp_path, env={}
    )
    assert run.returncode == 0, run.stderr
    assert run.outputs == {"exit_code": "0"}
    assert "The manifests are valid." in run.summary
    assert httpx.get(f"{api_url}/_emulator/counters").json() == {}


def test_second_run_edits_its_own_comment(api_url: str, tmp_path: Path, github: FakeGitHub) -> None:
    """One comment per path: edited on the next run; a stale part goes; others' stay untouched."""
    for index in range(120):
        github.add(f"a reviewer's comment {index}")
    stale = github.add("<!-- reconciler-plan path=fleet part=2 -->\nold second part")
    other_path = github.add("<!-- reconciler-plan path=staging part=1 -->\nanother fleet")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    env = {
        **CREDENTIALS,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": "octo/fleet-repo",
        "GITHUB_API_URL": github.url,
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_RUN_ID": "99",
    }
    args = _plan_args(api_url, tmp_path)
    first = _run_script(*args, tmp_path=tmp_path, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    ours = [cid for cid, body in github.comments.items() if "path=fleet " in body]
    assert len(ours) == 1
    assert stale not in github.comments
    assert other_path in github.comments
    body = github.comments[ours[0]]
    assert body.startswith("<!-- reconciler-plan path=fleet part=1 -->\n### Reconciler plan")
    assert FIVE_CREATES in body
    assert "(https://github.example/octo/fleet-repo/actions/runs/99)" in body
    second = _run_script(*args, tmp_path=tmp_path, env=env)
    assert second.returncode == 0
    assert [cid for cid, body in github.comments.items() if "path=fleet " in body] == ours
    assert len(github.comments) == 122
    assert github.authorizations == {f"Bearer {TOKEN}"}
    assert not any(
        secret in body for secret in SECRETS.values() for body in github.comments.values()
    )


def _handler_for(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    """The few issue-comment routes the script uses, with 100-per-page paging and Link headers."""
    prefix = "/repos/octo/fleet-repo/issues"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

        def do_GET(self) -> None:
            fake.authorizations.add(self.headers.get("Authorization", ""))
            found = re.search(r"[?&]page=(\d+)", self.path)
            page = int(found.group(1)) if found else 1
            items = sorted(fake.comments.items())
            chunk = [
                {"id": cid, "body": body} for cid, body in items[(page - 1) * 100 : page * 100]
            ]
            headers = {}
            if page * 100 < len(items):
                following = f"{fake.url}{prefix}/7/comments?per_page=100&page={page + 1}"
                headers["Link"] = f'<{following}>; rel="next"'
            self._reply(200, chunk, headers=headers)

        def do_POST(self) -> None:
            fake.authorizations.add(self.headers.get("Authorization", ""))
            assert self.path == f"{prefix}/7/comments"
            comment_id = fake.add(self._body()["body"])
            self._reply(201, {"id": comment_id})

        def do_PATCH(self) -> None:
            fake.authorizations.add(self.headers.get("Authorization", ""))
            comment_id = int(self.path.rsplit("/", 1)[1])
            fake.comments[comment_id] = self._body()["body"]
            self._reply(200, {"id": comment_id})

        def do_DELETE(self) -> None:
            fake.authorizations.add(self.headers.get("Authorization", ""))
            del fake.comments[int(self.path.rsplit("/", 1)[1])]
            self._reply(204, None)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length", "0"))
            data: dict[str, Any] = json.loads(self.rfile.read(length))
            return data

        def _reply(
            self, status: int, payload: Any, *, headers: dict[str, str] | None = None
        ) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler

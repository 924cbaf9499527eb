"""Fixtures every test directory may use: a real PostgreSQL server on loopback, for the session.

The shared state backend is tested against the real thing, never a stand-in: Debian's
``postgresql`` binaries (``scripts/ensure_postgres.sh`` installs them for ``make test``) run a
throw-away cluster made by ``initdb`` in a temporary directory, on a free loopback port with its
socket in that directory too, and stopped at the end. initdb refuses to run as root, so as root
the cluster belongs to the ``postgres`` user. Without the binaries the tests that need the
server fail loudly; they never skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SERVER_USER = "postgres"
_PORT_ATTEMPTS = 5


def _server_binaries() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``: the newest Debian version, else PATH."""
    installed = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda found: int(found.parts[-3]) if found.parts[-3].isdigit() else 0,
    )
    if installed:
        return installed[-1].parent
    on_path = shutil.which("initdb")
    if on_path is None:
        pytest.fail(
            "PostgreSQL server binaries (initdb, pg_ctl) are missing: "
            "run scripts/ensure_postgres.sh (make test does)",
            pytrace=False,
        )
    return Path(on_path).resolve().parent


def _as_server_user() -> list[str]:
    """How to run a server command: as ``postgres`` when we are root, else as ourselves."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        pytest.fail("running as root needs runuser to start PostgreSQL as postgres", pytrace=False)
    return ["runuser", "-u", _SERVER_USER, "--"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql://`` URL of a fresh superuser on a throw-away cluster, for the whole session."""
    binaries = _server_binaries()
    prefix = _as_server_user()
    home = Path(tempfile.mkdtemp(prefix="reconciler-pg-"))
    if prefix:
        shutil.chown(home, user=_SERVER_USER)
    data, log = home / "data", home / "server.log"
    made = _run(
        [
            *prefix,
            str(binaries / "initdb"),
            "--pgdata",
            str(data),
            "--username",
            "reconciler",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ]
    )
    if made.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
        pytest.fail(f"initdb failed:\n{made.stdout}{made.stderr}", pytrace=False)
    port = 0
    try:
        for _ in range(_PORT_ATTEMPTS):
            port = _free_port()
            settings = (
                f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={home} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c shared_buffers=16MB -c max_connections=60"
            )
            pg_ctl = [*prefix, str(binaries / "pg_ctl"), "--pgdata", str(data), "--log", str(log)]
            started = _run([*pg_ctl, "--wait", "--timeout", "60", "--options", settings, "start"])
            if started.returncode == 0:
                break
        else:
            server_log = log.read_text(errors="replace") if log.exists() else ""
            pytest.fail(
                f"PostgreSQL did not start:\n{started.stdout}{started.stderr}{server_log}",
                pytrace=False,
            )
        yield f"postgresql://reconciler@127.0.0.1:{port}/postgres"
    finally:
        _run([*prefix, str(binaries / "pg_ctl"), "--pgdata", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(home, ignore_errors=True)

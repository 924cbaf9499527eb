"""The Kubernetes example in ``deploy/kubernetes/`` is checked offline against the real CLI.

Every container argument parses as ``reconciler run`` parses it (click's own parser, so an
option that does not exist or lacks its value fails here), every ``RECONCILER_*`` variable is one
the code reads, every file an argument names lies in a mounted Secret or ConfigMap holding that
key, the probes and the metrics annotation point at the ``--listen`` port, and the SQLite variant
is one replica that never overlaps itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from reconciler import daemon
from reconciler.cli import app
from reconciler.daemon import health

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "deploy" / "kubernetes"
DEPLOYMENTS = ("sqlite.yaml", "postgresql.yaml")
_VARIABLE = re.compile(r"RECONCILER_[A-Z0-9_]+")


def _documents(name: str) -> list[dict[str, Any]]:
    with (EXAMPLE / name).open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def _deployment(name: str) -> dict[str, Any]:
    (found,) = [doc for doc in _documents(name) if doc["kind"] == "Deployment"]
    return found


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def _run_command() -> Any:
    """``reconciler run`` as typer builds it (a click command; typer vendors its own click)."""
    return typer.main.get_command(app).commands["run"]  # type: ignore[attr-defined]


def _parsed(args: list[str]) -> dict[str, Any]:
    """``args`` as ``reconciler run``'s own parser reads them: an unknown option, a flag given a
    value or an option without one raises here (files are not opened: they live in the pod)."""
    command = _run_command()
    context = command.make_context("run", [])
    values, rest, _ = command.make_parser(context).parse_args(list(args))
    assert rest == [], f"positional arguments with --git: {rest}"
    return dict(values)


def _known_variables() -> set[str]:
    """Every ``RECONCILER_*`` name the package reads: option variables and literals in code."""
    known = {
        envvar
        for param in _run_command().params
        for envvar in ([param.envvar] if isinstance(param.envvar, str) else param.envvar or [])
    }
    for source in (ROOT / "reconciler").rglob("*.py"):
        known.update(_VARIABLE.findall(source.read_text(encoding="utf-8")))
    return known


def _variables(container: dict[str, Any]) -> Iterator[str]:
    for variable in container.get("env", []):
        yield variable["name"]
    for secret in _documents("secrets.example.yaml"):
        yield from secret.get("stringData", {})


@pytest.mark.parametrize("name", DEPLOYMENTS)
def test_the_container_args_are_what_reconciler_run_accepts(name: str) -> None:
    container = _container(_deployment(name))
    args = container["args"]
    assert args[0] == "run"
    values = _parsed(args[1:])
    assert values["git"].startswith("https://")
    for duration in ("interval", "git_interval", "lease_ttl"):
        if duration in values:
            daemon.parse_duration(values[duration])
    assert health.Address.parse(values["listen"]).host == "0.0.0.0"  # reachable by the kubelet
    unknown = {v for v in _variables(container) if v.startswith("RECONCILER_")} - _known_variables()
    assert not unknown, f"variables reconciler never reads: {sorted(unknown)}"


@pytest.mark.parametrize("name", DEPLOYMENTS)
def test_probes_and_metrics_point_at_the_listen_port(name: str) -> None:
    deployment = _deployment(name)
    container = _container(deployment)
    port = int(_parsed(container["args"][1:])["listen"].rpartition(":")[2])
    (declared,) = container["ports"]
    assert declared["containerPort"] == port
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": declared["name"]}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": declared["name"]}
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)
    assert annotations["prometheus.io/path"] == "/metrics"
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 10001  # the image's numeric user
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("name", DEPLOYMENTS)
def test_every_file_an_argument_names_is_mounted_with_that_key(name: str) -> None:
    """``--git-token-file=/etc/...`` lies in a mounted Secret (or ConfigMap) of the example
    that holds that key; credentials come from Secrets the example defines."""
    deployment = _deployment(name)
    container = _container(deployment)
    pod = deployment["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    defined = {doc["metadata"]["name"]: doc for doc in _documents("secrets.example.yaml")}
    files = [arg.partition("=")[2] for arg in container["args"] if "=/etc/" in arg]
    assert files, "the example mounts the git token"
    for path in files:
        (mount,) = [m for m in container["volumeMounts"] if path.startswith(m["mountPath"] + "/")]
        volume = volumes[mount["name"]]
        holder = volume.get("secret", {}).get("secretName") or volume["configMap"]["name"]
        held = defined[holder]
        key = path.removeprefix(mount["mountPath"] + "/")
        assert key in {**held.get("stringData", {}), **held.get("data", {})}
    for source in container["envFrom"]:
        assert source["secretRef"]["name"] in defined


def test_sqlite_is_one_replica_that_never_overlaps_on_its_volume() -> None:
    """The state file is under an exclusive lock: a second pod, or a rolling update's surge,
    could not open it."""
    deployment = _deployment("sqlite.yaml")
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    container = _container(deployment)
    state = _parsed(container["args"][1:])["state"]
    (mount,) = [m for m in container["volumeMounts"] if state.startswith(m["mountPath"] + "/")]
    volume = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}[mount["name"]]
    claim = volume["persistentVolumeClaim"]["claimName"]
    (pvc,) = [d for d in _documents("sqlite.yaml") if d["kind"] == "PersistentVolumeClaim"]
    assert pvc["metadata"]["name"] == claim
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]


def test_postgresql_takes_its_state_url_from_a_secret() -> None:
    deployment = _deployment("postgresql.yaml")
    assert deployment["spec"]["replicas"] == 1  # no standby replicas in this release
    container = _container(deployment)
    assert "state" not in _parsed(container["args"][1:])
    (state,) = [v for v in container["env"] if v["name"] == "RECONCILER_STATE"]
    assert "secretKeyRef" in state["valueFrom"]


def test_the_readme_links_the_example() -> None:
    assert "](deploy/kubernetes/)" in (ROOT / "README.md").read_text(encoding="utf-8")

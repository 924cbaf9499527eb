"""What the end-to-end apply tests share: the unit tests' ``World``, and the CLI as a subprocess.

The unit harness is loaded by path (test directories are not packages), so both suites build
fleets and read the emulator the same way; here ``World`` talks to a real emulator server.
"""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from reconciler import reconcile


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


harness: Any = sys.modules.get("apply_harness") or _load(
    "apply_harness", Path(__file__).parents[1] / "unit" / "apply_harness.py"
)
RECONCILER = Path(sys.executable).with_name("reconciler")


async def save_plan(world: Any, out: Path, *, allow_mass_delete: bool = False) -> tuple[int, str]:
    """``reconciler plan --out OUT`` of ``world``'s manifests, in-process: exit code, stderr."""
    stderr = io.StringIO()
    code = await reconcile.plan_command(
        world.fleet,
        output="text",
        out=out,
        detailed_exitcode=False,
        api_url=world.base_url,
        state_path=world.state_path,
        allow_mass_delete=allow_mass_delete,
        environ=world.environ,
        stdout=io.StringIO(),
        stderr=stderr,
    )
    return code, stderr.getvalue()


def cli(
    *args: str, url: str, cwd: Path, stdin: str = "", extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``reconciler ARGS`` against the emulator at ``url``, without a terminal."""
    env = {**os.environ, **harness.ENV, "AGORA_API_URL": url, **(extra_env or {})}
    return subprocess.run(
        [str(RECONCILER), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

"""docs/cli/ (one page per command) and docs/emulator.md are what the code generates now.

A command, an option, an example or a control route changed without regenerating the pages
fails here, naming the command that rewrites them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_pages_are_fresh(capsys: pytest.CaptureFixture[str]) -> None:
    code = _script().main(["--check"])
    assert code == 0, capsys.readouterr().err


def test_every_command_has_a_page_and_every_control_route_a_section() -> None:
    from reconciler.cli.helptext import EXAMPLES
    from reconciler.emulator.control import router

    pages = {path.name for path in (ROOT / "docs" / "cli").glob("*.md")}
    assert {name.replace(" ", "-") + ".md" for name in EXAMPLES} <= pages
    emulator = (ROOT / "docs" / "emulator.md").read_text()
    for route in router.routes:
        for method in route.methods:  # type: ignore[attr-defined]
            assert f"{method} {route.path}" in emulator  # type: ignore[attr-defined]


def test_a_stale_page_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script()
    for path, text in script.wanted().items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    (tmp_path / "docs" / "cli" / "plan.md").write_text("old\n")
    monkeypatch.setattr(script, "ROOT", tmp_path)
    assert script.main(["--check"]) == 1
    assert "stale: docs/cli/plan.md" in capsys.readouterr().err

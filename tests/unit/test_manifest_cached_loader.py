"""The daemon's loader parses the manifests again only when something it read changed."""

from __future__ import annotations

from pathlib import Path

from reconciler.manifest import load

PROJECT = """\
apiVersion: reconciler/v1
kind: Project
metadata: {name: demo}
spec:
  appId: ${env:AGORA_APP_ID}
  customerId: ${env:AGORA_CUSTOMER_ID}
  customerSecret: ${env:AGORA_CUSTOMER_SECRET}
"""


def _write(root: Path, text: str = PROJECT) -> None:
    root.mkdir(exist_ok=True)
    (root / "project.yaml").write_text(text)


def test_unchanged_manifests_give_back_the_last_result(tmp_path: Path) -> None:
    _write(tmp_path / "fleet")
    loader = load.CachedLoader()
    first = loader.load(tmp_path / "fleet")
    assert first.fleet is not None
    assert loader.load(tmp_path / "fleet") is first
    assert first == load.load_fleet(tmp_path / "fleet")


def test_changed_bytes_or_files_are_parsed_again(tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    _write(root)
    loader = load.CachedLoader()
    first = loader.load(root)
    _write(root, PROJECT.replace("name: demo", "name: other"))
    changed = loader.load(root)
    assert changed is not first
    assert changed.fleet is not None
    assert set(changed.fleet.projects) == {"other"}
    (root / "broken.yaml").write_text("kind: [")
    broken = loader.load(root)
    assert broken.fleet is None
    assert broken == load.load_fleet(root)
    (root / "broken.yaml").unlink()
    assert loader.load(root) == changed

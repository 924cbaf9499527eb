"""``Moved`` documents: valid renames reach the fleet; wrong ones are errors at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from manifest_texts import PROJECT, agent

from reconciler.manifest import load

HEAD = "apiVersion: reconciler/v1\nkind: Moved\nmetadata: {name: renames}\nspec:\n  moved:\n"


def _load(root: Path, moves: str) -> load.LoadResult:
    (root / "project.yaml").write_text(PROJECT)
    (root / "agent.yaml").write_text(agent())
    (root / "moved.yaml").write_text(HEAD + moves)
    return load.load_fleet(root)


def test_a_rename_of_an_agent_and_of_a_project_reach_the_fleet(tmp_path: Path) -> None:
    result = _load(
        tmp_path,
        "    - {from: shop/front-desk, to: shop/lobby}\n    - {from: store, to: shop}\n",
    )
    assert [str(d) for d in result.diagnostics if d.is_error] == []
    assert result.fleet is not None
    moves = [(m.from_key, m.to_key, m.of_project) for m in result.fleet.moves]
    assert moves == [("shop/front-desk", "shop/lobby", False), ("store", "shop", True)]
    assert str(result.fleet.moves[0].source) == f"{tmp_path / 'moved.yaml'}:6:14"


@pytest.mark.parametrize(
    ("moves", "where", "message"),
    [
        (
            "    - {from: shop/gone, to: shop/nowhere}\n",
            "6:29 spec.moved[0].to",
            "moves to agent shop/nowhere, which no manifest declares",
        ),
        (
            "    - {from: shop/lobby, to: shop/lobby}\n",
            "6:30 spec.moved[0].to",
            "moves shop/lobby to itself",
        ),
        (
            "    - {from: store, to: shop/lobby}\n",
            "6:25 spec.moved[0].to",
            "moves project store to agent key shop/lobby: move a key",
        ),
        (
            "    - {from: shop/lobby, to: shop}\n",
            "6:30 spec.moved[0].to",
            "moves agent key shop/lobby to project shop",
        ),
        (
            "    - {from: shop, to: shop/lobby}\n",
            "6:24 spec.moved[0].to",
            "moves project shop to agent key shop/lobby",
        ),
        (
            "    - {from: shop/a, to: shop/lobby}\n    - {from: shop/a, to: shop/lobby}\n",
            "7:14 spec.moved[1].from",
            "shop/a is already moved at",
        ),
        (
            "    - {from: shop/a, to: shop/lobby}\n    - {from: shop/b, to: shop/lobby}\n",
            "7:26 spec.moved[1].to",
            "shop/a already moves to shop/lobby at",
        ),
        (
            "    - {from: shop/a, to: shop/b}\n    - {from: shop/b, to: shop/lobby}\n",
            "6:26 spec.moved[0].to",
            "shop/b moves again, to shop/lobby at",
        ),
    ],
    ids=[
        "unknown-to",
        "to-itself",
        "project-to-key",
        "key-to-project",
        "project-to-key-2",
        "same-from",
        "same-to",
        "chain",
    ],
)
def test_a_wrong_move_is_an_error_at_its_line(
    tmp_path: Path, moves: str, where: str, message: str
) -> None:
    result = _load(tmp_path, moves)
    assert result.fleet is None
    errors = [str(d) for d in result.diagnostics if d.is_error]
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{tmp_path / 'moved.yaml'}:{where}"), errors[0]
    assert message in errors[0]


def test_a_move_from_a_key_still_declared_is_an_error(tmp_path: Path) -> None:
    """Renaming something the manifests still want would take its record away from it."""
    hall = agent().replace("name: lobby", "name: hall").replace("channel: lobby", "channel: hall")
    (tmp_path / "second.yaml").write_text(hall)
    result = _load(tmp_path, "    - {from: shop/hall, to: shop/lobby}\n")
    errors = [str(d) for d in result.diagnostics if d.is_error]
    assert len(errors) == 1, errors
    assert "spec.moved[0].from" in errors[0]
    assert "agent shop/hall is still declared" in errors[0]

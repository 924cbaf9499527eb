"""docs/pictures/plan.svg and status.svg are what the CLI prints today, drawn by the script.

The script starts its own emulator, applies a copy of the sample fleet, edits it and records
``plan`` and ``status`` on a pretend terminal; a change to either output (or to the sample fleet)
without redrawing the pictures fails here, naming the command that redraws them."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "scripts" / "render_pictures.py"
PICTURES = ROOT / "docs" / "pictures"


def test_the_committed_pictures_are_what_the_cli_prints_now() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_pictures_are_svg_in_colour_with_their_command_as_title() -> None:
    for name, command, shown in [
        ("plan.svg", "reconciler plan fleet/", "Plan:&#160;1&#160;to&#160;create"),
        ("status.svg", "reconciler status fleet/", "to&#160;update"),
    ]:
        svg = (PICTURES / name).read_text(encoding="utf-8")
        root = ElementTree.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert command.replace(" ", "&#160;") in svg
        assert shown in svg
        assert "#98a84b" in svg  # green: the colours of a terminal, not plain text

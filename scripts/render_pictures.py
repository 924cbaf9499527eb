"""Draw docs/pictures/plan.svg and status.svg from what the CLI really prints on a terminal.

    python scripts/render_pictures.py           # redraw the pictures
    python scripts/render_pictures.py --check   # exit 1, naming them, if any picture is stale

It starts the built-in emulator on 127.0.0.1 and a free port, copies the sample fleet (fleet/)
into a temporary directory with a fresh state, applies it, then edits the copy as a person would
(a longer lobby prompt, store-003 swapped for store-004) and runs ``reconciler plan`` and
``reconciler status`` through the CLI's own command, in this process, with a standard output
that says it is a terminal: colours included, exactly as a user sees them. rich's recording
console (``DEFAULT_WIDTH`` columns, a fixed title) turns that output into SVG.

The pictures are the same on every run: names and digests follow from the manifests, and
``_steady`` pins the rest. The emulator draws agent ids at random, so each id becomes one drawn
from a seeded generator, the same id everywhere it appears; the values that move with the clock
(status's AGE and TOKEN EXPIRES, which depend on the seconds between apply and status) become
what a status right after apply shows. Every replacement keeps the value's width, so the layout
is the one the user saw. A rich upgrade that draws SVG differently makes ``--check`` fail: run
the script again.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.text import Text

from reconciler.cli.helptext import command
from reconciler.emulator import config
from reconciler.emulator.server import running_server
from reconciler.emulator.store import ID_ALPHABET, ID_LENGTH

ROOT: Final = Path(__file__).resolve().parents[1]
PICTURES: Final = Path("docs/pictures")
DEFAULT_WIDTH: Final = 100
REGENERATE: Final = "python scripts/render_pictures.py"

# The emulator never calls the LLM or TTS vendors: these placeholders only fill the references.
_ENVIRON: Final = {
    "AGORA_APP_ID": config.DEMO_APP_ID,
    "AGORA_CUSTOMER_ID": config.DEMO_CUSTOMER_ID,
    "AGORA_CUSTOMER_SECRET": config.DEMO_CUSTOMER_SECRET,
    "AGORA_APP_CERTIFICATE": config.DEMO_APP_CERTIFICATE,
    "OPENAI_API_KEY": "demo-openai-key-not-used",
    "AZURE_TTS_KEY": "demo-azure-tts-key-not-used",
}
# Would take the colours away, or make the output differ from a plain terminal's; and every
# variable of reconciler's own (RECONCILER_*, AGORA_*), so that only the manifests decide.
_UNSET: Final = ("NO_COLOR", "CI", "TERM")
_UNSET_PREFIXES: Final = ("RECONCILER_", "AGORA_")

_LOBBY_PROMPT: Final = "content: You greet visitors in the lobby and tell them where to go."
_LONGER_PROMPT: Final = """content: |-
            You greet visitors in the lobby and tell them where to go.
            Keep each answer to one or two sentences.
            When you cannot help, offer to call a person from the front desk."""

# Status cells that move with the seconds between apply and status: the token's remaining
# lifetime (24h tokens) and the agent's age. Pinned to what a status right after apply shows.
_TOKEN_EXPIRES: Final = re.compile(r"in 23h 5\dm")
_AGE: Final = re.compile(r"(?<=  )\d+[sm]$", re.MULTILINE)
_AGENT_ID: Final = re.compile(rf"\b[{ID_ALPHABET}]{{{ID_LENGTH}}}\b")
_ID_SEED: Final = 18


class _Terminal(io.StringIO):
    """A standard output that answers "yes" to ``isatty``, so the CLI colours what it prints."""

    def isatty(self) -> bool:
        return True


def pictures() -> dict[Path, str]:
    """Every picture, by its path in the repository, with the SVG it must hold."""
    with _scratch() as fleet, running_server() as url, _environ(url):
        state = str(fleet.parent / "state.db")
        _run(["apply", str(fleet), "--state", state, "--auto-approve", "--log-level", "error"])
        _edit(fleet)
        plan = _run(["plan", "fleet/", "--state", state], cwd=fleet.parent, terminal=True)
        status = _run(["status", "fleet/", "--state", state], cwd=fleet.parent, terminal=True)
    plan, status = _steady([plan, status])
    return {
        PICTURES / "plan.svg": _svg(plan, title="reconciler plan fleet/"),
        PICTURES / "status.svg": _svg(status, title="reconciler status fleet/"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    drawn = pictures()
    stale = [path for path, svg in drawn.items() if _read(ROOT / path) != svg]
    if args.check:
        for path in stale:
            print(f"stale: {path} (run `{REGENERATE}`)", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        (ROOT / path).parent.mkdir(parents=True, exist_ok=True)
        (ROOT / path).write_text(drawn[path], encoding="utf-8")
        print(f"wrote {path}")
    return 0


@contextmanager
def _scratch() -> Iterator[Path]:
    """A copy of the sample fleet in a temporary directory (its state file goes beside it)."""
    with tempfile.TemporaryDirectory(prefix="reconciler-pictures-") as directory:
        fleet = Path(directory) / "fleet"
        shutil.copytree(ROOT / "fleet", fleet)
        yield fleet


@contextmanager
def _environ(url: str) -> Iterator[None]:
    """The emulator's address and demo credentials for the CLI, the caller's environment after."""
    saved = dict(os.environ)
    for name in [n for n in os.environ if n in _UNSET or n.startswith(_UNSET_PREFIXES)]:
        del os.environ[name]
    os.environ.update(_ENVIRON, AGORA_API_URL=url)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _edit(fleet: Path) -> None:
    """What a person changes next: a multi-line lobby prompt, and store-004 instead of 003."""
    agents = fleet / "agents.yaml"
    text = agents.read_text(encoding="utf-8")
    assert _LOBBY_PROMPT in text, "the sample fleet's lobby prompt changed: update this script"
    agents.write_text(text.replace(_LOBBY_PROMPT, _LONGER_PROMPT), encoding="utf-8")
    store = fleet / "store.yaml"
    text = store.read_text(encoding="utf-8")
    assert "store-003]" in text, "the sample fleet's store channels changed: update this script"
    store.write_text(text.replace("store-003]", "store-004]"), encoding="utf-8")


def _run(args: list[str], *, cwd: Path | None = None, terminal: bool = False) -> str:
    """One CLI command in this process; what it wrote on standard output and standard error,
    interleaved as a terminal shows them (exit 0 required)."""
    out = _Terminal() if terminal else io.StringIO()
    saved_stdout, saved_stderr, saved_cwd = sys.stdout, sys.stderr, Path.cwd()
    sys.stdout = sys.stderr = out
    try:
        if cwd is not None:
            os.chdir(cwd)
        code = command().main(args, prog_name="reconciler", standalone_mode=False)
    finally:
        sys.stdout, sys.stderr = saved_stdout, saved_stderr
        os.chdir(saved_cwd)
    if code not in (None, 0):
        raise SystemExit(f"reconciler {' '.join(args)} exited {code}:\n{out.getvalue()}")
    return out.getvalue()


def _steady(outputs: list[str]) -> list[str]:
    """The outputs with every agent id, age and token lifetime pinned (see the module's doc)."""
    ids = random.Random(_ID_SEED)
    pinned: dict[str, str] = {}

    def agent_id(match: re.Match[str]) -> str:
        if match.group() not in pinned:
            pinned[match.group()] = "".join(ids.choices(ID_ALPHABET, k=ID_LENGTH))
        return pinned[match.group()]

    return [
        _AGE.sub("0s", _TOKEN_EXPIRES.sub("in 23h 59m", _AGENT_ID.sub(agent_id, output)))
        for output in outputs
    ]


def _svg(output: str, *, title: str) -> str:
    """The output as a terminal of ``DEFAULT_WIDTH`` columns shows it: long lines cut at the
    edge and continued on the next line, colours from its ANSI codes."""
    console = Console(
        record=True,
        width=DEFAULT_WIDTH,
        file=io.StringIO(),
        force_terminal=True,
        color_system="standard",
        highlight=False,
    )
    for line in Text.from_ansi(output.rstrip("\n")).split("\n", allow_blank=True):
        cuts = range(DEFAULT_WIDTH, len(line), DEFAULT_WIDTH)
        for row in line.divide(cuts) if cuts else [line]:
            console.print(row, no_wrap=True, crop=True)
    return console.export_svg(title=title)


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


if __name__ == "__main__":
    sys.exit(main())

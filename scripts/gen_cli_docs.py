"""Write docs/cli/ (one page per command) and docs/emulator.md from the code itself.

    python scripts/gen_cli_docs.py           # rewrite the pages
    python scripts/gen_cli_docs.py --check   # exit 1, naming them, if any page is stale

The pages are made by ``reconciler.cli.reference`` (from the CLI's own help) and
``reconciler.emulator.docs`` (from the emulator's FastAPI routes); tests run the same check, so a
command or a control route changed without its page fails the build.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reconciler.cli import reference
from reconciler.emulator import docs

ROOT = Path(__file__).resolve().parents[1]


def wanted() -> dict[Path, str]:
    """Every generated file, by its path in the repository, with the text it must hold."""
    found = {reference.DOCS_DIR / name: text for name, text in reference.pages().items()}
    found[docs.DOCS_PAGE] = docs.render()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    pages = wanted()
    stale = [p for p, text in pages.items() if _read(ROOT / p) != text]
    orphans = sorted(
        p.relative_to(ROOT)
        for p in (ROOT / reference.DOCS_DIR).glob("*.md")
        if p.relative_to(ROOT) not in pages
    )
    if args.check:
        for path in [*stale, *orphans]:
            print(f"stale: {path} (run `{reference.REGENERATE}`)", file=sys.stderr)
        return 1 if stale or orphans else 0
    for path in stale:
        (ROOT / path).parent.mkdir(parents=True, exist_ok=True)
        (ROOT / path).write_text(pages[path], encoding="utf-8")
        print(f"wrote {path}")
    for path in orphans:
        (ROOT / path).unlink()
        print(f"removed {path}")
    return 0


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


if __name__ == "__main__":
    sys.exit(main())

"""The Markdown plan parses as the renderer meant it: details closed, fences closed, tables whole.

Each comment is parsed with markdown-it-py (CommonMark plus tables, as GitHub reads it). The only
HTML in a comment must be the renderer's own ``<details>``/``<summary>`` blocks, properly nested,
so that no value from a manifest or from the live API can open, close or inject one.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from reconciler import render

CASES_DIR = Path(__file__).parents[1] / "cases"
casekit = SimpleNamespace(**runpy.run_path(str(CASES_DIR / "casekit.py"), run_name="casekit"))
ALLOWED_TAGS = re.compile(r"</?details>|</?summary>")
HOSTILE = "``` </details><script>alert(1)</script> | a | b |\n|---|\n~~~ ````"


def _comments(case: dict[str, Any]) -> list[str]:
    inputs = casekit.build(case)
    plan = inputs.plan()
    return render.render_markdown(plan, refusals=inputs.refusals(plan))


def _golden(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = yaml.safe_load(path.read_text())
    return case


def _long_case() -> dict[str, Any]:
    """Enough long changes to split across comments, with fences inside the values."""
    prompt = "Answer in ```code``` blocks when asked. " * 40
    return {
        "projects": {"prod": {"max_concurrent_agents": 10_000}},
        "desired": [
            {
                "key": f"prod/agent-{index:04d}",
                "properties": {"llm": {"system_messages": [{"role": "system", "content": prompt}]}},
            }
            for index in range(120)
        ],
    }


def _hostile_case() -> dict[str, Any]:
    """Markup in every place a value can reach: a manifest field, a live agent's name, a reason."""
    return {
        "projects": {"prod": {}},
        "allow_mass_delete": True,
        "desired": [
            {"key": "prod/lobby", "properties": {"llm": {"params": {"note": HOSTILE}}}},
            {"key": "prod/hall", "properties": {"tts": {"vendor": HOSTILE}}},
        ],
        "state": {
            "records": [
                {"key": "prod/lobby", "applied": {"llm": {"params": {"note": "old"}}}},
                {"key": "prod/hall", "applied": {"tts": {"vendor": "microsoft"}}},
            ]
        },
        "observed": {
            "prod": {
                "live": [
                    {"agent_id": "A-lobby"},
                    {"agent_id": "A-hall"},
                    {"agent_id": "X9", "name": HOSTILE.replace("\n", " ")},
                ]
            }
        },
    }


def _assert_valid(comment: str) -> None:
    tokens = MarkdownIt("commonmark").enable("table").parse(comment)
    lines = comment.splitlines()
    _assert_only_own_html_nested(tokens)
    _assert_fences_closed(tokens, lines=lines)
    _assert_tables_whole(tokens, lines=lines)
    assert tokens[0].type == "heading_open", "each comment opens with its title"


def _assert_summary_first(comment: str) -> None:
    tokens = MarkdownIt("commonmark").parse(comment)
    opening = next(i for i, t in enumerate(tokens) if t.type == "paragraph_open")
    inline = tokens[opening + 1].children
    assert inline is not None
    kinds = [token.type for token in inline if token.type != "text" or token.content]
    assert kinds[0] == "strong_open", "the summary comes first, in bold"
    assert kinds[-1] == "strong_close", "the summary comes first, in bold"


def _assert_only_own_html_nested(tokens: list[Token]) -> None:
    """The renderer's tags stand as blocks of their own; HTML inside a line is never ours."""
    depth = 0
    for token in _flat(tokens):
        assert token.type != "html_inline", f"HTML inside a line: {token.content!r}"
        if token.type != "html_block":
            continue
        for tag in re.findall(r"<[^>]*>", token.content):
            assert ALLOWED_TAGS.fullmatch(tag), f"foreign HTML in the plan: {tag!r}"
            if tag == "<details>":
                depth += 1
            elif tag == "</details>":
                depth -= 1
                assert depth >= 0, "a </details> closes nothing"
    assert depth == 0, "a <details> is never closed"


def _assert_fences_closed(tokens: list[Token], *, lines: list[str]) -> None:
    for token in tokens:
        if token.type != "fence":
            continue
        assert token.map is not None
        start, end = token.map
        closing = lines[end - 1].strip() if end - 1 > start else ""
        assert closing == token.markup, f"the fence opened on line {start + 1} is never closed"


def _assert_tables_whole(tokens: list[Token], *, lines: list[str]) -> None:
    """Every source row of a table has the header's cells (the parser would hide extra ones)."""
    for token in tokens:
        if token.type == "table_open":
            assert token.map is not None
            rows = [_cells(line) for line in lines[token.map[0] : token.map[1]]]
            assert all(len(row) == len(rows[0]) for row in rows), f"a ragged table: {rows}"
        elif token.type == "inline" and token.content.lstrip().startswith("|"):
            pytest.fail(f"a broken table renders as text: {token.content[:60]!r}")


def _cells(line: str) -> list[str]:
    return re.split(r"(?<!\\)\|", line.strip().removeprefix("|").removesuffix("|"))


def _flat(tokens: list[Token]) -> list[Token]:
    return [t for token in tokens for t in [token, *_flat(token.children or [])]]


@pytest.mark.parametrize("path", sorted(CASES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_golden_plan_renders_valid_markdown(path: Path) -> None:
    """Every action, report and refusal of the golden cases parses with its blocks closed."""
    comments = _comments(_golden(path))
    _assert_summary_first(comments[0])
    for comment in comments:
        _assert_valid(comment)


def test_a_plan_split_across_comments_is_valid_in_each() -> None:
    """Each part of a long plan stands alone: its details and fences close inside it."""
    comments = _comments(_long_case())
    assert len(comments) > 1
    for comment in comments:
        _assert_valid(comment)


def test_markup_in_values_cannot_break_out() -> None:
    """A value holding fences, pipes and tags stays text: it cannot close or inject a block."""
    for comment in _comments(_hostile_case()):
        _assert_valid(comment)

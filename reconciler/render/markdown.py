"""The plan as Markdown for a pull-request comment: summary first, details collapsed.

GitHub caps a comment at 65,536 characters, so the plan comes back as a list of comments, each
under ``COMMENT_LIMIT``: the first holds the summary, the warning about agents that will leave
and any refusal; changes follow in ``<details>`` blocks, one per action, continued in the next
comment when one would not fit. Pure: it returns strings and posts nothing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Final

from reconciler.plan import Action, Change, Plan
from reconciler.render import common, fleet_lines

COMMENT_LIMIT: Final = 65_000
_TITLE: Final = "### Reconciler plan"
# Room for a part's title line and the fences and tags around a details block.
_OVERHEAD: Final = 400
_TRUNCATED: Final = "… (cut: this change is too long for one comment; see `reconciler plan`)"


def render_markdown(
    plan: Plan, *, refusals: Sequence[str] = (), limit: int = COMMENT_LIMIT
) -> list[str]:
    """One or more comments, each at most ``limit`` characters, in reading order."""
    head = _head(plan, refusals=refusals)
    blocks = [block for action in Action for block in _details(plan, action, limit=limit)]
    comments: list[list[str]] = [[head]]
    size = len(head)
    for block in blocks:
        if size + len(block) + _OVERHEAD > limit:
            comments.append([])
            size = 0
        comments[-1].append(block)
        size += len(block) + 2
    if len(comments) == 1:
        return ["\n\n".join([_TITLE, *comments[0]]) + "\n"]
    total = len(comments)
    return [
        "\n\n".join([f"{_TITLE} (part {index} of {total})", *parts]) + "\n"
        for index, parts in enumerate(comments, start=1)
    ]


def _head(plan: Plan, *, refusals: Sequence[str]) -> str:
    parts = [f"**{common.empty_headline(plan) if plan.is_empty else common.summary(plan)}**"]
    leaving = [change for change in plan.changes if change.leaves_live]
    if leaving:
        lines = ["> [!WARNING]", f"> {len(leaving)} running agent(s) will leave:"]
        lines.extend(
            f"> - {_code(c.key)} ({c.action}; agent {_code(str(c.agent_id))}): {_text(c.reason)}"
            for c in leaving
        )
        parts.append("\n".join(lines))
    if refusals:
        lines = ["> [!CAUTION]", f"> {common.HELD_BACK}"]
        lines.extend(f"> - {_text(refusal)}" for refusal in refusals)
        parts.append("\n".join(lines))
    if fleet_lines.shows_fleet(plan):
        for title, group in fleet_lines.sections(plan):
            if title == fleet_lines.WAITING_TITLE:
                # Not all of the manifests will run: as loud as a refusal.
                lines = ["> [!CAUTION]", f"> {_text(title)}", *(f"> - {_text(g)}" for g in group)]
            else:
                lines = [f"**{_text(title)}**", "", *(f"- {_text(line)}" for line in group)]
            parts.append("\n".join(lines))
    if plan.reports:
        lines = [
            f"<details><summary>Left as they are ({len(plan.reports)})</summary>",
            "",
            *(f"- {_text(common.report_line(report))}" for report in plan.reports),
            "",
            "</details>",
        ]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _details(plan: Plan, action: Action, *, limit: int) -> list[str]:
    """The changes of one action as details blocks, split so that each fits in a comment."""
    changes = [change for change in plan.changes if change.action is action]
    if not changes:
        return []
    budget = limit - _OVERHEAD * 2
    groups: list[list[str]] = [[]]
    size = 0
    for change in changes:
        text = _change_text(change)
        if len(text) > budget:
            text = text[: budget - len(_TRUNCATED)] + _TRUNCATED
        if groups[-1] and size + len(text) > budget:
            groups.append([])
            size = 0
        groups[-1].append(text)
        size += len(text) + 1
    title = html.escape(f"{common.SYMBOLS[action]} {common.LEGEND[action]} ({len(changes)})")
    blocks = []
    for index, group in enumerate(groups):
        more = " (continued)" if index else ""
        body = "\n".join(group)
        fence = _fence(body)
        blocks.append(
            f"<details><summary>{title}{more}</summary>\n\n{fence}diff\n{body}\n{fence}\n\n"
            "</details>"
        )
    return blocks


_MARKDOWN_SPECIALS: Final = re.compile(r"([\\`*_\[\]|~])")


def _text(value: str) -> str:
    """Plain text in Markdown: no tag, entity, emphasis, link or table cell can come of it.

    Reasons, refusals and report lines quote names from manifests and from the live API, so a
    name like ``</details>`` must stay a name.
    """
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(value, quote=False))


def _code(value: str) -> str:
    """A code span that a backtick inside the value cannot close."""
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    return f"{ticks} {value} {ticks}" if "`" in value else f"{ticks}{value}{ticks}"


def _fence(body: str) -> str:
    """A code fence longer than any run of backticks inside, so a value cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def _change_text(change: Change) -> str:
    """A change in ``diff`` syntax, so GitHub colours additions and removals."""
    lines = [f"{common.SYMBOLS[change.action]} {common.heading(change)}"]
    lines.extend(f"    {label}: {text}" for label, text in common.identity(change))
    for field in change.fields:
        line = common.field_line(field, action=change.action)
        suffix = "  # forces replacement" if line.forces_replacement else ""
        shown = common.line_diff_of(field)
        if shown is not None:
            lines.append(f"!   {line.path}:{suffix}")
            lines.extend(f"{row[:1] or ' '}       {row[1:]}" for row in shown)
        elif line.kind == "change" and not field.sensitive:
            before, after = common.value(field.before), common.value(field.after)
            lines.append(f"-   {line.path}: {before}{suffix}")
            lines.append(f"+   {line.path}: {after}{suffix}")
        else:
            symbol = {"add": "+", "remove": "-", "change": "!"}[line.kind]
            lines.append(f"{symbol}   {line.path}: {line.text}{suffix}")
    return "\n".join(lines) + "\n"

"""Keep one plan comment per manifest path on a pull request: edit it in place, never pile up.

Each comment opens with a hidden marker naming the manifest path and its part number, so the next
run finds its own comments among everyone else's, edits them, posts the parts that are new and
deletes the parts a shorter plan no longer needs. It speaks only GitHub's REST API (issue
comments) with the token it is handed; it must not decide what a comment says, nor log the token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx

_MARKER_PREFIX: Final = "<!-- reconciler-plan"
_API_VERSION: Final = "2022-11-28"
_TIMEOUT_SECONDS: Final = 30.0


@dataclass(frozen=True)
class PullRequest:
    """Where the comments go: a repository (``owner/name``) and a pull-request number."""

    repository: str
    number: int


def pull_request_from_env(environ: Mapping[str, str]) -> PullRequest | None:
    """The pull request this workflow run is about, from the event GitHub wrote; None if none."""
    event_path = environ.get("GITHUB_EVENT_PATH")
    repository = environ.get("GITHUB_REPOSITORY")
    if not event_path or not repository:
        return None
    event: dict[str, Any] = json.loads(Path(event_path).read_text(encoding="utf-8"))
    pull_request = event.get("pull_request")
    if not isinstance(pull_request, dict):
        return None
    return PullRequest(repository=repository, number=int(pull_request["number"]))


def marker(key: str, *, part: int) -> str:
    """The first line of part ``part`` (from 1) of the comment for manifest path ``key``."""
    return f"{_marker_head(key)}{part} -->"


def _marker_head(key: str) -> str:
    """The marker up to its part number; the path is tamed so it cannot end the HTML comment."""
    safe_key = re.sub(r"[^\w./-]", "_", key)
    return f"{_MARKER_PREFIX} path={safe_key} part="


def github_client(*, token: str, api_url: str) -> httpx.Client:
    """A client for GitHub's REST API; the caller closes it."""
    return httpx.Client(
        base_url=api_url,
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": _API_VERSION,
            "User-Agent": "reconciler-github-action",
        },
        timeout=_TIMEOUT_SECONDS,
    )


def upsert_comments(
    client: httpx.Client, pull_request: PullRequest, *, key: str, bodies: Sequence[str]
) -> list[int]:
    """Make the pull request show ``bodies`` as the plan comments for ``key``; their ids, in order.

    Raises ``httpx.HTTPStatusError`` when GitHub refuses, e.g. 403 for a fork's read-only token.
    """
    issue = f"/repos/{pull_request.repository}/issues"
    earlier = _own_comments(client, issue=f"{issue}/{pull_request.number}", key=key)
    reusable: dict[int, int] = {}
    for part, earlier_id in earlier:
        reusable.setdefault(part, earlier_id)
    ids = []
    for part, body in enumerate(bodies, start=1):
        text = f"{marker(key, part=part)}\n{body}"
        comment_id = reusable.get(part)
        if comment_id is None:
            response = client.post(f"{issue}/{pull_request.number}/comments", json={"body": text})
        else:
            response = client.patch(f"{issue}/comments/{comment_id}", json={"body": text})
        response.raise_for_status()
        ids.append(int(response.json()["id"]))
    for _, stale_id in earlier:
        if stale_id not in ids:
            client.delete(f"{issue}/comments/{stale_id}").raise_for_status()
    return ids


def _own_comments(client: httpx.Client, *, issue: str, key: str) -> list[tuple[int, int]]:
    """(part number, comment id) of this key's earlier comments, oldest first, from every page."""
    pattern = re.compile(re.escape(_marker_head(key)) + r"(\d+) -->")
    found: list[tuple[int, int]] = []
    url: str | None = f"{issue}/comments?per_page=100"
    while url is not None:
        response = client.get(url)
        response.raise_for_status()
        for comment in response.json():
            match = pattern.match(comment.get("body") or "")
            if match:
                found.append((int(match.group(1)), int(comment["id"])))
        url = response.links.get("next", {}).get("url")
    return found

"""What the GitHub Action runs: validate, plan, and put the plan where a reviewer looks.

It runs the ``reconciler`` CLI (``validate -o github`` for annotations, ``plan -o markdown``) and
moves what it prints into the job summary, the step outputs (the counts) and one pull-request
comment. What a plan holds and how it reads is the CLI's business, never this script's; it never
applies anything, and it hands the GitHub token to nothing but the comment call.

Exit status: 0 when the plan was made (with or without changes), 1 when the manifests are
invalid, the plan failed, or a safety rule refused it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import github_comment
import httpx

from reconciler.plan import Action
from reconciler.reconcile.planfile import load_planfile
from reconciler.reconcile.planning import COMMENT_BREAK, EXIT_CHANGES, EXIT_REFUSED

_TOKEN_ENV: Final = "GITHUB_TOKEN"


@dataclass(frozen=True)
class Outcome:
    """What one run found: the CLI's exit code, the plan's counts and the comment bodies."""

    exit_code: int
    counts: Mapping[Action, int] | None
    comments: tuple[str, ...]
    summary: str
    plan_file: Path | None = None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the action once; the exit status fails the step only when nothing usable was planned."""
    args = _parser().parse_args(argv)
    environ = dict(os.environ)
    token = environ.pop(_TOKEN_ENV, "")
    outcome = _run(args, environ=environ)
    _append(environ.get("GITHUB_STEP_SUMMARY"), outcome.summary)
    _append(environ.get("GITHUB_OUTPUT"), _outputs(outcome))
    if args.comment and outcome.comments:
        _comment(outcome, key=str(args.path), token=token, environ=environ)
    return 0 if outcome.exit_code in (0, EXIT_CHANGES) else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=Path("fleet"), help="Manifest directory.")
    parser.add_argument("--plan", type=_boolean, default=True, help="Plan after validating.")
    parser.add_argument("--comment", type=_boolean, default=True, help="Comment on the PR.")
    parser.add_argument("--api-url", default="", help="Base URL for every project.")
    parser.add_argument("--state", default="", help="State file the plan reads.")
    parser.add_argument("--allow-mass-delete", type=_boolean, default=False)
    parser.add_argument("--plan-file", type=Path, help="Where to save the plan for `apply`.")
    return parser


def _boolean(text: str) -> bool:
    """Action inputs are strings; only 'true' and 'false' are accepted, so a typo is loud."""
    if text not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected 'true' or 'false', got {text!r}")
    return text == "true"


def _run(args: argparse.Namespace, *, environ: Mapping[str, str]) -> Outcome:
    validated = _reconciler(["validate", str(args.path), "-o", "github"], environ=environ)
    sys.stdout.write(validated.stdout)
    if validated.returncode != 0:
        message = "The manifests are invalid: see the annotations on the changed files."
        return _failed(validated.returncode, message=message, environ=environ)
    if not args.plan:
        summary = "### Reconciler validate\n\nThe manifests are valid.\n"
        return Outcome(exit_code=0, counts=None, comments=(), summary=summary)
    flags = [str(args.path), "--detailed-exitcode", *_plan_flags(args)]
    with tempfile.TemporaryDirectory() as scratch:
        plan_file = args.plan_file or Path(scratch) / "plan.json"
        planned = _reconciler(
            ["plan", *flags, "-o", "markdown", "--out", str(plan_file)], environ=environ
        )
        code = planned.returncode
        if code == EXIT_REFUSED:
            counts = _refused_counts(flags, environ=environ)
            # The CLI saves a plan that holds changes back; the step fails on one, and hands
            # out no plan file to apply.
            plan_file.unlink(missing_ok=True)
        elif code in (0, EXIT_CHANGES):
            counts = load_planfile(plan_file).plan.counts()
        else:
            return _failed(code, message="The plan failed: see the job log.", environ=environ)
    parts = tuple(part for part in planned.stdout.split(COMMENT_BREAK) if part)
    footer = _footer(environ)
    saved = code != EXIT_REFUSED and args.plan_file is not None
    return Outcome(
        exit_code=code,
        counts=counts,
        comments=tuple(part + footer for part in parts),
        summary="\n".join(parts),
        plan_file=args.plan_file if saved else None,
    )


def _plan_flags(args: argparse.Namespace) -> list[str]:
    flags = []
    if args.api_url:
        flags += ["--api-url", args.api_url]
    if args.state:
        flags += ["--state", args.state]
    if args.allow_mass_delete:
        flags.append("--allow-mass-delete")
    return flags


def _refused_counts(flags: list[str], *, environ: Mapping[str, str]) -> Mapping[Action, int] | None:
    """A refused plan is not saved, so its counts come from the JSON view of a second plan."""
    done = _reconciler(["plan", *flags, "-o", "json"], environ=environ)
    if done.returncode not in (0, EXIT_CHANGES, EXIT_REFUSED):
        return None
    summary: dict[str, int] = json.loads(done.stdout)["summary"]
    return {action: int(summary.get(str(action), 0)) for action in Action}


def _failed(code: int, *, message: str, environ: Mapping[str, str]) -> Outcome:
    text = f"### Reconciler plan\n\n**{message}**\n"
    return Outcome(exit_code=code, counts=None, comments=(text + _footer(environ),), summary=text)


def _footer(environ: Mapping[str, str]) -> str:
    """A link to the run, so a reviewer can tell which push a comment describes."""
    server, repository, run = (
        environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if not (server and repository and run):
        return ""
    return f"\n<sub>[workflow run]({server}/{repository}/actions/runs/{run})</sub>\n"


def _reconciler(
    arguments: list[str], *, environ: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in this interpreter; its stderr (diagnostics, logs) goes to the job log."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *arguments],
        env={**environ, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )


def _outputs(outcome: Outcome) -> str:
    lines = [f"exit_code={outcome.exit_code}"]
    if outcome.counts is not None:
        lines.extend(
            f"to_{action.replace('-', '_')}={count}" for action, count in outcome.counts.items()
        )
        lines.append(f"has_changes={'true' if any(outcome.counts.values()) else 'false'}")
    if outcome.plan_file is not None:
        lines.append(f"plan_file={outcome.plan_file}")
    return "\n".join(lines) + "\n"


def _append(path: str | None, text: str) -> None:
    """Append to a file GitHub gave us; outside Actions there is none, and nothing is written."""
    if path:
        with Path(path).open("a", encoding="utf-8") as out:
            out.write(text)


def _comment(outcome: Outcome, *, key: str, token: str, environ: Mapping[str, str]) -> None:
    """Post or edit the plan comment; a refusal (a fork's read-only token) is a warning only."""
    pull_request = github_comment.pull_request_from_env(environ)
    if pull_request is None or not token:
        print("::notice::no pull request or no token: the plan is in the job summary only")
        return
    api_url = environ.get("GITHUB_API_URL", "https://api.github.com")
    try:
        with github_comment.github_client(token=token, api_url=api_url) as client:
            github_comment.upsert_comments(client, pull_request, key=key, bodies=outcome.comments)
    except httpx.HTTPError as exc:
        print(f"::warning::the plan comment was not posted: {exc}")


if __name__ == "__main__":
    sys.exit(main())

"""Notifications reach a real local HTTP receiver: JSON or Slack bodies, only the kinds a target
asked for, retried after 5xx, given up on after a 4xx, and never quoting a target's URL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from daemon_harness import until
from receiver_harness import receiving
from structlog.testing import capture_logs

from reconciler.notify import Event, EventKind, Notifier, Target, TargetKind, parse_target

EVENT = Event(
    kind=EventKind.PASS_FAILED,
    summary="list answered 503",
    at=1_700_000_000.0,
    revision="0123456789abcdef0123456789abcdef01234567",
    projects=("demo",),
    agents=("demo/a",),
    details={"refusals": ["one", "two"]},
)


@asynccontextmanager
async def delivering(notifier: Notifier) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(notifier.run(stop=stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def no_sleep(seconds: float) -> None:
    del seconds
    await asyncio.sleep(0)


async def test_json_and_slack_targets_get_their_bodies_and_only_their_kinds() -> None:
    """A JSON target gets the whole event; a Slack one a text; a filtered one only its kinds."""
    with receiving() as json_receiver, receiving() as slack_receiver:
        targets = [
            parse_target(json_receiver.url + "/hook"),
            parse_target("slack+" + slack_receiver.url + "/services/T/B/X#events=pass_failed"),
        ]
        notifier = Notifier(targets, sleep=no_sleep)
        async with delivering(notifier):
            notifier.send(EVENT)
            notifier.send(Event(kind=EventKind.PASS_RECOVERED, summary="ok again", at=1.0))
            await until(lambda: len(json_receiver.bodies) == 2 and len(slack_receiver.bodies) == 1)
    first = json_receiver.bodies[0]
    assert first["event"] == "pass_failed"
    assert (first["revision"], first["projects"], first["agents"]) == (
        EVENT.revision,
        ["demo"],
        ["demo/a"],
    )
    assert first["details"] == {"refusals": ["one", "two"]}
    assert json_receiver.bodies[1]["event"] == "pass_recovered"
    text = slack_receiver.bodies[0]["text"]
    assert "pass failed" in text
    assert "list answered 503" in text
    assert "`0123456789ab`" in text
    assert "• two" in text


async def test_server_errors_are_retried_and_client_errors_are_not() -> None:
    """503 then 200 delivers on the second attempt; a 400 is given up on at once."""
    with receiving([503, 200]) as flaky, receiving([400]) as refusing:
        notifier = Notifier([parse_target(flaky.url), parse_target(refusing.url)], sleep=no_sleep)
        with capture_logs() as events:
            async with delivering(notifier):
                notifier.send(EVENT)
                await until(lambda: len(flaky.requests) == 2 and len(refusing.requests) == 1)
                await until(lambda: any(e["event"] == "notification_sent" for e in events))
                await until(lambda: any(e.get("giving_up") for e in events))
    failed = [e for e in events if e["event"] == "notification_failed"]
    assert sorted((e["error"], e["giving_up"]) for e in failed) == [
        ("HTTP 400", True),
        ("HTTP 503", False),
    ]
    assert len(refusing.requests) == 1


async def test_a_dead_receiver_is_given_up_on_without_blocking_the_sender() -> None:
    """Connection refused on every attempt: logged, given up, and ``send`` returned at once."""
    with receiving() as receiver:
        dead = receiver.url
    notifier = Notifier([parse_target(dead + "/secret-path-token")], delays=(0.0, 0.0))
    with capture_logs() as events:
        async with delivering(notifier):
            notifier.send(EVENT)
            await until(lambda: any(e.get("giving_up") for e in events))
    attempts = [e for e in events if e["event"] == "notification_failed"]
    assert len(attempts) == 3
    assert all("secret-path-token" not in str(e) for e in events)


def test_targets_parse_and_never_show_their_url() -> None:
    """Slack is recognised by host or prefix; a bad target's error does not quote it."""
    slack = parse_target("https://hooks.slack.com/services/T0/B0/XXXX")
    assert slack.style is TargetKind.SLACK
    assert slack.shown == "https://hooks.slack.com/…"
    assert "XXXX" not in repr(slack)
    assert parse_target("https://example.com/h").style is TargetKind.JSON
    chosen = parse_target("https://example.com/h#events=quota_reached,revision_applied")
    assert chosen.events == {EventKind.QUOTA_REACHED, EventKind.REVISION_APPLIED}
    assert not chosen.wants(EventKind.PASS_FAILED)
    with pytest.raises(ValueError, match="http:// or https://") as raised:
        parse_target("ftp://user:hunter2@example.com/x")
    assert "hunter2" not in str(raised.value)
    with pytest.raises(ValueError, match="unknown event kind"):
        parse_target("https://example.com/h#events=nope")
    assert Target(url="https://x.example/abc").wants(EventKind.PASS_FAILED)

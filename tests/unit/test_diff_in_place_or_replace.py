"""Field diffs: which fields ``update`` changes in place, which force a replacement, and masking."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from reconciler.plan import diff

casekit = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).parents[1] / "cases" / "casekit.py"), run_name="casekit")
)


@pytest.mark.parametrize(
    ("path", "in_place"),
    [
        ("llm.params", True),
        ("llm.params.model", True),
        ("llm.system_messages", True),
        ("mllm.params.voice", True),
        ("token", True),
        ("llm.url", False),
        ("llm.api_key", False),
        ("llm.paramsx", False),
        ("tts.vendor", False),
        ("channel", False),
        ("agent_rtc_uid", False),
        ("idle_timeout", False),
    ],
)
def test_only_the_four_update_fields_are_in_place(path: str, in_place: bool) -> None:
    """token, llm.system_messages, llm.params and mllm.params update in place; nothing else."""
    assert diff.is_in_place(path) is in_place


def test_dicts_are_walked_and_lists_compared_whole() -> None:
    """A nested change names its leaf, a differing list is one change, absent sides are marked."""
    before = {"tts": {"vendor": "microsoft", "params": {"voice": "a"}}, "uids": ["1", "2"]}
    after = {"tts": {"vendor": "microsoft", "params": {"voice": "b", "speed": 1}}, "uids": ["1"]}
    changes = diff.diff(before, after, sensitive=frozenset())
    assert [(d.path, d.before, d.after) for d in changes] == [
        ("tts.params.speed", diff.ABSENT, 1),
        ("tts.params.voice", "a", "b"),
        ("uids", ["1", "2"], ["1"]),
    ]
    assert diff.forcing_fields(changes) == ("tts.params.speed", "tts.params.voice", "uids")


def test_desired_view_holds_fingerprints_not_references() -> None:
    """Secret references are replaced by their fingerprints and marked sensitive by path."""
    agent = casekit.agent(
        "prod/lobby",
        properties={"llm": {"api_key": "${env:K}", "url": "https://x"}},
        token="${env:T}",
    )
    view = diff.desired_view(agent, fingerprints={"${env:K}": "1" * 16, "${env:T}": "2" * 16})
    assert view.properties["llm"]["api_key"] == "1" * 16
    assert view.properties["token"] == "2" * 16
    assert view.properties["channel"] == "lobby"
    assert view.sensitive == frozenset({"llm.api_key", "token"})


def test_a_removed_secret_field_stays_masked() -> None:
    """A secret the manifests dropped is still sensitive, known by its field name."""
    (change,) = diff.diff({"llm": {"api_key": "f" * 16}}, {"llm": {}}, sensitive=frozenset())
    assert change.sensitive
    assert change.after is diff.ABSENT


def test_update_carries_whole_fields_with_references() -> None:
    """An update sends the complete llm.params, references unresolved, and empties a dropped one."""
    agent = casekit.agent(
        "prod/lobby",
        properties={
            "llm": {"params": {"model": "gpt-4o", "max_tokens": 9, "key": "${env:K}"}},
        },
    )
    recorded = {
        "llm": {"params": {"model": "gpt-4o-mini", "max_tokens": 9}},
        "mllm": {"params": {}},
    }
    view = diff.desired_view(agent, fingerprints={"${env:K}": "3" * 16})
    changes = diff.diff(
        {**recorded, "mllm": {"params": {"a": 1}}}, view.properties, sensitive=view.sensitive
    )
    update = diff.in_place_update(agent, changes)
    assert update["llm.params"] == {"model": "gpt-4o", "max_tokens": 9, "key": "${env:K}"}
    assert update["mllm.params"] == {}
    assert "token" not in update


def test_switching_to_minted_token_updates_token_to_none() -> None:
    """Dropping a static token means the reconciler mints one: the update says token None."""
    agent = casekit.agent("prod/lobby")
    changes = diff.diff({"token": "4" * 16}, {}, sensitive=frozenset())
    assert diff.in_place_update(agent, changes) == {"token": None}


def test_applied_properties_round_trip_to_the_same_view() -> None:
    """What apply stores, read back through a record, diffs empty against the desired view."""
    agent = casekit.agent("prod/lobby", protect=True, properties={"tts": {"vendor": "x"}})
    view = diff.desired_view(agent, fingerprints={})
    rec = casekit.record("prod/lobby", like=agent, fingerprints={})
    assert diff.diff(diff.recorded_view(rec), view.properties, sensitive=view.sensitive) == ()
    assert diff.recorded_protect(rec) is True
    assert diff.METADATA_KEY in diff.applied_properties(view, protect=True)
    assert diff.spec_hash(view) == diff.spec_hash(diff.desired_view(agent, fingerprints={}))


def test_a_views_leaves_are_those_of_a_diff_and_keep_each_scalars_type() -> None:
    """``Views.leaves`` shares the leaves of equal scalars between agents, yet ``1``, ``1.0``
    and ``True`` (equal in Python) each stay their own, and a secret scalar stays masked."""
    views = diff.Views({"${env:K}": "4" * 16})
    values = (1, 1.0, True, 1)
    agents = [
        casekit.agent(f"prod/a{i}", properties={"idle_timeout": v, "api_key": "${env:K}"})
        for i, v in enumerate(values)
    ]
    found = [views.leaves(views.of(agent)) for agent in agents]
    for agent, leaves in zip(agents, found, strict=True):
        view = views.of(agent)
        assert leaves == diff.diff({}, view.properties, sensitive=view.sensitive)
    shown = [next(d.after for d in leaves if d.path == "idle_timeout") for leaves in found]
    assert [type(v) for v in shown] == [int, float, bool, int]
    assert all(next(d for d in leaves if d.path == "api_key").sensitive for leaves in found)

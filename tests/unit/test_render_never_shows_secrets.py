"""Every view of a plan (text, JSON, Markdown, saved plan file) is free of secret values."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

from reconciler import reconcile, render
from reconciler.manifest import secrets
from reconciler.reconcile import planfile

casekit = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).parents[1] / "cases" / "casekit.py"), run_name="casekit")
)

KEY = b"k" * 32
NEW = {
    "OPENAI_API_KEY": "sk-live-NEW-openai-7f3a9",
    "TTS_KEY": "tts-NEW-secret-55e1",
    "LOBBY_TOKEN": "007eJNEWlobbytokenvalue",
}
OLD = {
    "OPENAI_API_KEY": "sk-live-OLD-openai-0c1d2",
    "TTS_KEY": "tts-OLD-secret-9b8a",
    "LOBBY_TOKEN": "007eJOLDlobbytokenvalue",
}


def _case() -> dict[str, object]:
    secret_props = {
        "llm": {"api_key": "${env:OPENAI_API_KEY}", "url": "https://llm.example/v1"},
        "tts": {"vendor": "microsoft", "params": {"key": "${env:TTS_KEY}"}},
    }
    old = {name: secrets.fingerprint(value, key=KEY) for name, value in OLD.items()}
    return {
        "projects": {"prod": {}},
        "allow_mass_delete": True,
        "desired": [
            {"key": "prod/new", "properties": secret_props},
            {"key": "prod/lobby", "token": "${env:LOBBY_TOKEN}"},
            {"key": "prod/hall", "properties": secret_props},
        ],
        "state": {
            "records": [
                {"key": "prod/lobby", "applied": {"token": old["LOBBY_TOKEN"]}},
                {
                    "key": "prod/hall",
                    "applied": {
                        "llm": {"api_key": old["OPENAI_API_KEY"]},
                        "tts": {"params": {"key": old["TTS_KEY"]}},
                    },
                },
                {"key": "prod/old", "applied": {"llm": {"api_key": old["OPENAI_API_KEY"]}}},
            ]
        },
        "observed": {
            "prod": {
                "live": [{"agent_id": "A-lobby"}, {"agent_id": "A-hall"}, {"agent_id": "A-old"}]
            }
        },
    }


def test_no_view_contains_a_secret_value() -> None:
    """Create, update, replace and delete of secret-bearing agents render without any value."""
    case = _case()
    fleet = casekit.build(case).desired
    case["secrets"] = reconcile.fingerprint_secrets(fleet, environ=NEW, key=KEY)
    inputs = casekit.build(case)
    plan = inputs.plan()
    assert {str(c.action) for c in plan.changes} == {"create", "update", "replace", "delete"}
    saved = planfile.PlanFile(
        plan=plan, lineage="l", serial=1, observed_fingerprint="o", manifests_digest="d"
    )
    views = [
        render.render_text(plan),
        render.render_text(plan, color=True),
        render.render_json(plan),
        *render.render_markdown(plan),
        *render.render_markdown(plan, limit=2_000),
        planfile.dumps(saved),
    ]
    for view in views:
        for value in (*NEW.values(), *OLD.values()):
            assert value not in view
    text = views[0]
    new_fp = secrets.fingerprint(NEW["LOBBY_TOKEN"], key=KEY)[:8]
    old_fp = secrets.fingerprint(OLD["LOBBY_TOKEN"], key=KEY)[:8]
    assert f"token: (sensitive, changed: {old_fp} -> {new_fp})" in text
    assert "llm.api_key: (sensitive)" in text

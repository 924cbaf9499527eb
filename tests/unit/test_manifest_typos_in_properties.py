"""A misspelt property name is pointed out (file:line, "did you mean"), and --strict fails on it.

Unknown names stay allowed, since Agora keeps adding fields: they are warnings, unless
``validate --strict`` or a Project's ``strictProperties`` asks for errors.
"""

from __future__ import annotations

from pathlib import Path

from manifest_texts import PROJECT, agent
from typer.testing import CliRunner

from reconciler.agora import fields, wire
from reconciler.cli import app
from reconciler.manifest import load

AGENT = agent(
    """\
    llm: {url: "https://llm.example/v1", api_key: "${env:LLM_KEY}"}
    tts:
      vendr: microsoft
      params: {key: "${env:TTS_KEY}"}
    ttss: {vendor: microsoft}
    my_own_extension: {a: 1}
    """
)


def _write(root: Path, project: str = PROJECT) -> Path:
    (root / "project.yaml").write_text(project)
    (root / "agent.yaml").write_text(AGENT)
    return root


def _validate(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["validate", *args], env={}, catch_exceptions=False)
    return result.exit_code, result.output.splitlines()


def test_typos_are_warnings_with_file_line_and_a_suggestion(tmp_path: Path) -> None:
    """``tts.vendr`` and ``ttss`` each name the closest documented field; validation passes."""
    root = _write(tmp_path)
    code, lines = _validate(str(root))
    agent = root / "agent.yaml"
    assert code == 0
    assert lines == [
        f"{agent}:11:7 warning spec.properties.tts.vendr: is not a field Agora documents in tts "
        "— did you mean vendor? (it is sent as written)",
        f"{agent}:13:5 warning spec.properties.ttss: is not a field Agora documents in "
        "properties — did you mean tts? (it is sent as written)",
        f"{agent}:14:5 warning spec.properties.my_own_extension: is not a field Agora "
        "documents in properties (it is sent as written)",
        f"{root}: valid — 1 project, 1 agent (3 warnings)",
    ]


def test_strict_makes_them_errors(tmp_path: Path) -> None:
    """``validate --strict`` fails on the same findings, for CI."""
    root = _write(tmp_path)
    code, lines = _validate("--strict", str(root))
    assert code == 1
    assert [line.split(" ", 2)[1] for line in lines[:-1]] == ["error"] * 3
    assert lines[-1] == f"{root}: 3 errors, 0 warnings"


PROFILE_SET = """\
apiVersion: reconciler/v1
kind: Profile
metadata: {name: voice}
spec:
  properties: {asr: {langauge: en-US}}
---
apiVersion: reconciler/v1
kind: AgentSet
metadata: {name: desk, project: shop}
spec:
  channels: [one]
  template:
    profile: voice
    properties: {agent_rtc_uid: "1002", remote_rtc_uids: ["2002"], idle_timout: 0}
"""


def test_a_project_can_ask_for_strictness(tmp_path: Path) -> None:
    """``strictProperties: true`` makes its agents' typos errors, and every profile's."""
    root = _write(tmp_path, PROJECT + "  strictProperties: true\n")
    (root / "more.yaml").write_text(PROFILE_SET)
    result = load.load_fleet(root)
    assert result.fleet is None
    assert [(d.path, d.line, d.field) for d in result.errors] == [
        (str(root / "agent.yaml"), 11, "spec.properties.tts.vendr"),
        (str(root / "agent.yaml"), 13, "spec.properties.ttss"),
        (str(root / "agent.yaml"), 14, "spec.properties.my_own_extension"),
        (str(root / "more.yaml"), 5, "spec.properties.asr.langauge"),
        (str(root / "more.yaml"), 14, "spec.template.properties.idle_timout"),
    ]
    assert "did you mean idle_timeout?" in result.errors[-1].message


def test_the_table_knows_every_field_the_wire_models_type() -> None:
    """The wire models and the table of documented names do not drift apart."""
    assert set(wire.JoinProperties.model_fields) <= fields.PROPERTIES
    assert set(wire.JoinRequest.model_fields) == fields.JOIN_BODY
    for level, model in (("llm", wire.LlmConfig), ("tts", wire.TtsConfig), ("asr", wire.AsrConfig)):
        assert set(model.model_fields) <= fields.NESTED[level]

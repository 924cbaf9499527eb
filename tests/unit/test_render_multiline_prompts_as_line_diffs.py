"""A prompt edit reads as a line diff in the text and Markdown plans, not as one JSON line."""

from __future__ import annotations

from reconciler import render
from reconciler.plan import Action, Change, Plan
from reconciler.plan.diff import FieldDiff

BEFORE = [{"role": "system", "content": "You greet visitors.\nBe brief.\nSpeak English."}]
AFTER = [{"role": "system", "content": "You greet visitors warmly.\nBe brief.\nSpeak English."}]


def _plan(before: object, after: object, *, sensitive: bool = False) -> Plan:
    field = FieldDiff(
        path="llm.system_messages", before=before, after=after, sensitive=sensitive, in_place=True
    )
    change = Change(
        action=Action.UPDATE,
        key="demo/lobby",
        project="demo",
        reason="in-place: llm.system_messages",
        remote_name="rc-demo--lobby-g1",
        generation=1,
        agent_id="A1",
        fields=(field,),
    )
    return Plan(changes=(change,))


def test_text_plan_shows_the_changed_lines_of_a_prompt() -> None:
    """Only the edited line is marked; its neighbours stay as context."""
    text = render.render_text(_plan(BEFORE, AFTER))
    assert "      ~ llm.system_messages:\n" in text
    assert "          -     You greet visitors.\n" in text
    assert "          +     You greet visitors warmly.\n" in text
    assert "                Be brief.\n" in text
    assert "\\n" not in text


def test_markdown_plan_shows_the_same_lines_in_diff_syntax() -> None:
    """GitHub colours each changed line of the prompt."""
    markdown = "".join(render.render_markdown(_plan(BEFORE, AFTER)))
    assert "\n!   llm.system_messages:\n" in markdown
    assert "\n-           You greet visitors.\n" in markdown
    assert "\n+           You greet visitors warmly.\n" in markdown


def test_one_line_values_keep_the_arrow() -> None:
    """Without a multi-line string, ``before -> after`` on one line still reads best."""
    text = render.render_text(_plan([{"content": "a"}], [{"content": "b"}]))
    assert 'llm.system_messages: [{"content": "a"}] -> [{"content": "b"}]' in text


def test_a_sensitive_field_never_becomes_a_line_diff() -> None:
    """Masking comes first: a sensitive multi-line value shows no line of it."""
    text = render.render_text(_plan("line one\nline two", "line one\nline 2", sensitive=True))
    assert "line" not in text.split("llm.system_messages:", 1)[1].split("\n", 1)[0]
    assert "line two" not in text

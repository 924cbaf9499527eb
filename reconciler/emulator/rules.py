"""The API's request rules that the wire models cannot express on their own.

Uid formats against ``enable_string_uid``, the optional llm/tts requirement, the list ``state``
filter and update's replace-whole semantics. Pure functions of a request: no state, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from reconciler.agora import wire
from reconciler.agora.wire import AgentStatus, Reason
from reconciler.emulator.failure import ApiFailure, invalid


def check_uids(props: wire.JoinProperties) -> None:
    """Uids are strings on the wire, but their form depends on ``enable_string_uid`` (§11)."""
    string_uid = bool(props.enable_string_uid)
    problem = wire.uid_problem(props.agent_rtc_uid, string_uid=string_uid)
    if problem:
        raise invalid("properties.agent_rtc_uid", problem)
    for index, uid in enumerate(props.remote_rtc_uids):
        problem = wire.uid_problem(uid, string_uid=string_uid, wildcard=True)
        if problem:
            raise invalid(f"properties.remote_rtc_uids.{index}", problem)


# Objects Agora types as maps, where an explicit null is not a valid value (api-notes.md). Other
# nulls pass: the SDK sends "preset": null and "pipeline_id": null and Agora takes them.
_NOT_NULL: Final = (("labels",), ("mllm", "params"))


def check_not_null(properties: Mapping[str, Any]) -> None:
    """``labels: null`` and ``mllm.params: null`` are 400s: a map is expected there."""
    for path in _NOT_NULL:
        parent: Any = properties
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent, Mapping) else None
        if isinstance(parent, Mapping) and path[-1] in parent and parent[path[-1]] is None:
            raise invalid(
                "properties." + ".".join(path), "Input should be a valid dictionary, not null"
            )


def check_llm_and_tts(request: wire.JoinRequest, *, properties: Mapping[str, Any]) -> None:
    """llm and tts are required unless a preset, a pipeline or an mllm stands in for them (§8.1).

    ``properties`` are the request's properties as sent, which the caller has already dumped.
    """
    if request.preset or request.pipeline_id or wire.mllm_enabled(properties):
        return
    props = request.properties
    for name, value in (("llm", props.llm), ("tts", props.tts)):
        if value is None:
            raise ApiFailure(
                status=400,
                reason=Reason.MISSING_REQUIRED_FIELD,
                detail=f"properties.{name}: Field required",
            )


def parse_states(state: str | None) -> frozenset[AgentStatus]:
    """The list filter: numeric codes, comma-separated since v2.8; RUNNING only when absent."""
    if state is None:
        return frozenset({AgentStatus.RUNNING})
    try:
        codes = [wire.StatusCode(int(part)) for part in state.split(",")]
    except ValueError as exc:
        raise invalid("state", f"expected comma-separated status codes 0-6, got {state!r}") from exc
    return frozenset(AgentStatus[code.name] for code in codes)


def replaced(
    current: Any, change: wire.LlmUpdate | wire.MllmUpdate, fields: tuple[str, ...]
) -> dict[str, Any]:
    """The config with each given field replaced whole (§7.3: no merging)."""
    merged = dict(current) if isinstance(current, dict) else {}
    for name in fields:
        value = getattr(change, name)
        if value is not None:
            merged[name] = value
    return merged

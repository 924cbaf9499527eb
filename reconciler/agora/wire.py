"""The Agora ConvoAI REST API v2 contract: paths, request and response bodies, statuses, reasons.

The client and the emulator both import this module and nothing else of each other, so the two
cannot drift apart. It holds shapes and the API's own rules (channel names, uids, limits), never
behaviour: no HTTP, no clock, no I/O.

Responses tolerate unknown fields (the API keeps growing); requests serialise only the fields
that were set (``to_wire``), so an absent optional field is never sent as ``null``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

API_ROOT: Final = "/api/conversational-ai-agent"
CN_API_ROOT: Final = "/cn/api/conversational-ai-agent"
PROJECT_PREFIX: Final = "/v2/projects/{app_id}"

IDLE_TIMEOUT_MAX: Final = 259_200
LIFETIME_CAP_SECONDS: Final = 72 * 3600
TOKEN_MAX_LIFETIME_SECONDS: Final = 86_400
SPEAK_TEXT_MAX_BYTES: Final = 512
CHANNEL_NAME_MAX_BYTES: Final = 63
STRING_UID_MAX_BYTES: Final = 255
INT_UID_MAX: Final = 2**32 - 1
LIST_DEFAULT_WINDOW_SECONDS: Final = 7200
LIST_DEFAULT_LIMIT: Final = 20
TURNS_PAGE_SIZE_RANGE: Final = (10, 200)
DEFAULT_CONCURRENCY_QUOTA: Final = 20

_CHANNEL_CHARS = re.compile(r"[A-Za-z0-9 !#$%&()+\-:;<=.>?@\[\]^_{}|~,]+")


class Endpoint(StrEnum):
    """The ten agent endpoints, named as metrics and logs name them."""

    JOIN = "join"
    LEAVE = "leave"
    UPDATE = "update"
    QUERY = "query"
    LIST = "list"
    SPEAK = "speak"
    INTERRUPT = "interrupt"
    THINK = "think"
    HISTORY = "history"
    TURNS = "turns"


# Method and path of each endpoint, relative to ``{root}/v2/projects/{app_id}``.
ROUTES: Final[dict[Endpoint, tuple[Literal["GET", "POST"], str]]] = {
    Endpoint.JOIN: ("POST", "/join"),
    Endpoint.LEAVE: ("POST", "/agents/{agent_id}/leave"),
    Endpoint.UPDATE: ("POST", "/agents/{agent_id}/update"),
    Endpoint.QUERY: ("GET", "/agents/{agent_id}"),
    Endpoint.LIST: ("GET", "/agents"),
    Endpoint.SPEAK: ("POST", "/agents/{agent_id}/speak"),
    Endpoint.INTERRUPT: ("POST", "/agents/{agent_id}/interrupt"),
    Endpoint.THINK: ("POST", "/agents/{agent_id}/think"),
    Endpoint.HISTORY: ("GET", "/agents/{agent_id}/history"),
    Endpoint.TURNS: ("GET", "/agents/{agent_id}/turns"),
}


def endpoint_path(endpoint: Endpoint, *, app_id: str, agent_id: str | None = None) -> str:
    """The path of an endpoint below the API root, e.g. ``/v2/projects/APP/agents/A1/leave``."""
    _, template = ROUTES[endpoint]
    if "{agent_id}" in template and not agent_id:
        raise ValueError(f"{endpoint} needs an agent_id")
    return PROJECT_PREFIX.format(app_id=app_id) + template.format(agent_id=agent_id)


class AgentStatus(StrEnum):
    """Status names as responses carry them."""

    IDLE = "IDLE"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    RECOVERING = "RECOVERING"
    FAILED = "FAILED"


class StatusCode(IntEnum):
    """Numeric codes, used only by the list endpoint's ``state`` filter."""

    IDLE = 0
    STARTING = 1
    RUNNING = 2
    STOPPING = 3
    STOPPED = 4
    RECOVERING = 5
    FAILED = 6


TERMINAL_STATUSES: Final = frozenset({AgentStatus.STOPPED, AgentStatus.FAILED})
NON_TERMINAL_CODES: Final = (
    StatusCode.IDLE,
    StatusCode.STARTING,
    StatusCode.RUNNING,
    StatusCode.STOPPING,
    StatusCode.RECOVERING,
)


def is_terminal(status: str) -> bool:
    """Only STOPPED and FAILED are final; an unknown status is taken as still alive (§17 #8)."""
    return status in TERMINAL_STATUSES


def encode_states(codes: tuple[StatusCode, ...] | list[StatusCode]) -> str:
    """The list filter's comma-separated form, e.g. ``0,1,2,3,5``."""
    return ",".join(str(int(c)) for c in codes)


class Reason(StrEnum):
    """The documented ``reason`` values of error bodies (an unknown one is handled by status)."""

    INVALID_REQUEST_BODY = "InvalidRequestBody"
    MISSING_REQUIRED_FIELD = "MissingRequiredField"
    INVALID_FIELD_VALUE = "InvalidFieldValue"
    INVALID_REQUEST = "InvalidRequest"
    SERVICE_NOT_ENABLED = "ServiceNotEnabled"
    ACCOUNT_SUSPENDED = "AccountSuspended"
    INVALID_PERMISSION = "InvalidPermission"
    TASK_NOT_FOUND = "TaskNotFound"
    TASK_CONFLICT = "TaskConflict"
    RESOURCE_QUOTA_LIMIT_EXCEEDED = "ResourceQuotaLimitExceeded"
    CONCURRENCY_LIMIT_EXCEEDED = "ConcurrencyLimitExceeded"
    INTERNAL_ERROR = "InternalError"
    NOT_IMPLEMENTED = "NotImplemented"
    SERVICE_UNAVAILABLE = "ServiceUnavailable"
    RESOURCE_ALLOCATION_FAILED = "ResourceAllocationFailed"
    TASK_OPERATION_TIMEOUT = "TaskOperationTimeout"


# --- the API's own rules, shared by the emulator (400s) and the manifest loader (diagnostics) ---


def channel_name_problem(channel: str) -> str | None:
    """Why a channel name breaks Agora's RTC rule (§11), or None when it is fine."""
    if not channel:
        return "must not be empty"
    if len(channel.encode()) > CHANNEL_NAME_MAX_BYTES:
        return f"must be shorter than 64 bytes (got {len(channel.encode())})"
    if not _CHANNEL_CHARS.fullmatch(channel):
        return (
            "may contain only letters, digits, space and "
            "! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ,"
        )
    return None


def uid_problem(uid: str, *, string_uid: bool, wildcard: bool = False) -> str | None:
    """Why a uid breaks the API's rule (§11), or None when it is fine.

    ``wildcard`` lets ``"*"`` (everyone) through, as only ``remote_rtc_uids`` may hold it; it
    means everyone with string accounts too (§18: nothing in Agora's docs forbids it, and public
    samples send ``["*"]`` with ``enable_string_uid: true``).
    """
    if uid == "*":
        return None if wildcard else "must be one uid; only remote_rtc_uids may use * (everyone)"
    if string_uid:
        if not uid or len(uid.encode()) > STRING_UID_MAX_BYTES or not _CHANNEL_CHARS.fullmatch(uid):
            return "must be a user account of 1 to 255 bytes in the channel-name character set"
        return None
    if not uid.isdigit() or not uid.isascii():
        return "must be a string of digits (set enable_string_uid for string accounts)"
    if int(uid) > INT_UID_MAX:
        return f"must be at most {INT_UID_MAX}"
    return None


def mllm_enabled(properties: Mapping[str, Any]) -> bool:
    """Whether join properties ask for a multimodal LLM instead of asr + llm + tts (§8.5); such an
    agent cannot be told to speak (§7.6)."""
    mllm = properties.get("mllm")
    features = properties.get("advanced_features")
    return bool(
        (isinstance(mllm, Mapping) and mllm.get("enable") is True)
        or (isinstance(features, Mapping) and features.get("enable_mllm") is True)
    )


# --- bodies ---


class _Response(BaseModel):
    """Responses accept unknown fields: new server fields must not break old clients."""

    model_config = ConfigDict(extra="allow", frozen=True)


class _Request(BaseModel):
    """Requests keep unknown fields (the SDK sends some) and send only the fields that were set."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class LlmConfig(_Request):
    url: StrictStr | None = None
    api_key: StrictStr | None = None
    vendor: StrictStr | None = None
    style: StrictStr | None = None
    system_messages: list[dict[str, Any]] | None = None
    params: dict[str, Any] | None = None
    max_history: Annotated[int, Field(ge=1, le=1024)] | None = None
    greeting_message: StrictStr | None = None
    failure_message: StrictStr | None = None


class TtsConfig(_Request):
    vendor: StrictStr | None = None
    params: dict[str, Any] | None = None


class AsrConfig(_Request):
    vendor: StrictStr | None = None
    language: StrictStr | None = None
    params: dict[str, Any] | None = None


class MllmConfig(_Request):
    enable: StrictBool | None = None
    vendor: StrictStr | None = None
    url: StrictStr | None = None
    api_key: StrictStr | None = None
    params: dict[str, Any] | None = None


class JoinProperties(_Request):
    channel: StrictStr
    token: StrictStr
    agent_rtc_uid: StrictStr
    remote_rtc_uids: list[StrictStr]
    enable_string_uid: StrictBool | None = None
    idle_timeout: Annotated[int, Field(ge=0, le=IDLE_TIMEOUT_MAX)] | None = None
    llm: LlmConfig | None = None
    tts: TtsConfig | None = None
    asr: AsrConfig | None = None
    mllm: MllmConfig | None = None
    labels: dict[str, str] | None = None

    @field_validator("channel")
    @classmethod
    def _channel_rule(cls, value: str) -> str:
        problem = channel_name_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class JoinRequest(_Request):
    name: StrictStr
    properties: JoinProperties
    preset: StrictStr | None = None
    pipeline_id: StrictStr | None = None


class AgentStateResponse(_Response):
    """The answer of join and update."""

    agent_id: str
    create_ts: int | None = None
    status: str


class LlmUpdate(_Request):
    system_messages: list[dict[str, Any]] | None = None
    params: dict[str, Any] | None = None


class MllmUpdate(_Request):
    params: dict[str, Any] | None = None


class UpdateProperties(_Request):
    token: StrictStr | None = None
    llm: LlmUpdate | None = None
    mllm: MllmUpdate | None = None


class UpdateRequest(_Request):
    """Every field is optional, ``properties`` included (docs ``update``, §18)."""

    properties: UpdateProperties | None = None


class QueryResponse(_Response):
    agent_id: str
    status: str
    start_ts: int | None = None
    stop_ts: int | None = None
    message: str | None = None
    name: str | None = None


class ListItem(_Response):
    agent_id: str
    status: str
    start_ts: int


class ListData(_Response):
    count: int
    list: tuple[ListItem, ...] = ()


class ListMeta(_Response):
    cursor: str = ""
    total: int = 0


class ListResponse(_Response):
    data: ListData
    meta: ListMeta = ListMeta()
    status: str = "ok"


class ListQuery(_Request):
    """Query parameters of list; the reconciler always sets ``state`` and ``from_time``."""

    channel: StrictStr | None = None
    from_time: float | None = None
    to_time: float | None = None
    state: StrictStr | None = None
    limit: Annotated[int, Field(ge=1)] | None = None
    cursor: StrictStr | None = None

    def to_params(self) -> dict[str, str]:
        return {k: _param(v) for k, v in self.to_wire().items() if v is not None}


def _param(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class SpeakPriority(StrEnum):
    INTERRUPT = "INTERRUPT"
    APPEND = "APPEND"
    IGNORE = "IGNORE"


class SpeakRequest(_Request):
    text: StrictStr
    priority: SpeakPriority | None = None
    interruptable: StrictBool | None = None

    @field_validator("text")
    @classmethod
    def _text_size(cls, value: str) -> str:
        size = len(value.encode())
        if size > SPEAK_TEXT_MAX_BYTES:
            raise ValueError(f"must be at most {SPEAK_TEXT_MAX_BYTES} bytes (got {size})")
        return value


# The values Agora's think reference lists (§18); the SDK's types also allow "append", which the
# docs do not document, so neither the client nor the emulator takes it.
ListeningAction = Literal["inject", "interrupt", "ignore"]
ThinkAction = Literal["interrupt", "ignore"]


class ThinkRequest(_Request):
    text: StrictStr
    on_listening_action: ListeningAction | None = None
    on_thinking_action: ThinkAction | None = None
    on_speaking_action: ThinkAction | None = None
    interruptable: StrictBool | None = None
    metadata: dict[str, str] | None = None


class ChannelActionResponse(_Response):
    """The answer of speak, interrupt and think."""

    agent_id: str
    channel: str
    start_ts: int


class HistoryEntry(_Response):
    role: str
    content: str
    speech_start_ms: int | None = None
    speech_end_ms: int | None = None


class HistoryResponse(_Response):
    agent_id: str
    start_ts: int | None = None
    status: str
    contents: tuple[HistoryEntry, ...] = ()


class TurnsQuery(_Request):
    page_index: Annotated[int, Field(ge=1)] | None = None
    page_size: (
        Annotated[int, Field(ge=TURNS_PAGE_SIZE_RANGE[0], le=TURNS_PAGE_SIZE_RANGE[1])] | None
    ) = None

    def to_params(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.to_wire().items() if v is not None}


class TurnEdge(_Response):
    type: str | None = None
    start_at: int | None = None
    end_at: int | None = None
    metadata: dict[str, Any] = {}


class TurnMetrics(_Response):
    e2e_latency_ms: int | None = None
    segmented_latency_ms: tuple[dict[str, Any], ...] = ()


class Turn(_Response):
    turn_id: int
    agent_id: str | None = None
    channel: str | None = None
    start: TurnEdge | None = None
    end: TurnEdge | None = None
    metrics: TurnMetrics | None = None


class Pagination(_Response):
    page_index: int
    total_pages: int
    is_last_page: bool


class TurnsResponse(_Response):
    agent_id: str
    name: str | None = None
    channel: str | None = None
    total_turn_count: int = 0
    pagination: Pagination | None = None
    turns: tuple[Turn, ...] = ()


class ErrorBody(_Response):
    """``{"detail", "reason"}``; both optional, and a 409 may one day carry the holder's id."""

    detail: str | None = None
    reason: str | None = None

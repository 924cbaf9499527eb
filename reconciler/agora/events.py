"""The wire contract of Agora's Notification Center (NCS) events for Conversational AI agents.

Agora POSTs one JSON notice per event, ``{noticeId, productId: 17, eventType, notifyMs, sid,
payload}``, signed over the raw body: ``Agora-Signature`` is the lower-case hex HMAC-SHA1 and
``Agora-Signature-V2`` the lower-case hex HMAC-SHA256, keyed with the secret the Console shows
for the project's notifications (API notes §18). The emulator signs and sends these models, the
daemon verifies and reads them, so both sides share one definition, as ``wire`` is for REST.

Payload models are lenient (unknown fields kept, most fields optional and loosely typed): Agora
adds fields and documents few types, and a 102 must not go unheeded over the type of a field
nobody reads. Pure: values, parsing and HMAC only.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import IntEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reconciler.agora import wire

PRODUCT_ID: Final = 17
SIGNATURE_HEADER: Final = "Agora-Signature"
SIGNATURE_V2_HEADER: Final = "Agora-Signature-V2"


class EventType(IntEnum):
    """The ConvoAI event types (``eventType``); 201/202 (telephony) are not ours."""

    AGENT_JOINED = 101
    AGENT_LEFT = 102
    HISTORY = 103
    TOKEN_EXPIRING = 104
    AGENT_ERROR = 110
    AGENT_METRICS = 111
    TURNS = 112


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class Notice(_Lenient):
    """The envelope of every NCS event; ``payload`` is read by ``read_payload``."""

    notice_id: str = Field(alias="noticeId", min_length=1)
    product_id: int = Field(alias="productId")
    event_type: int = Field(alias="eventType")
    notify_ms: int = Field(alias="notifyMs")
    sid: str = ""
    payload: dict[str, Any] = {}

    def to_body(self) -> bytes:
        """The JSON body as sent (camelCase keys); the signature covers exactly these bytes."""
        return self.model_dump_json(by_alias=True).encode()


class AgentPayload(_Lenient):
    """What every agent event carries: which agent, its name and channel, the join's labels."""

    agent_id: str = Field(min_length=1)
    name: str = ""
    channel: str = ""
    labels: dict[str, Any] = {}


class AgentJoined(AgentPayload):
    start_ts: float | None = None


class AgentLeft(AgentPayload):
    """102: the agent stopped (``STOPPED``) or failed (``FAILED``), and why (``message``)."""

    start_ts: float | None = None
    stop_ts: float | None = None
    status: str | int = ""
    message: str = ""


class HistoryAfterStop(AgentPayload):
    """103: the short-term history the agent held when it stopped (REST cannot fetch it now)."""

    start_ts: float | None = None
    stop_ts: float | None = None
    contents: tuple[wire.HistoryEntry, ...] = ()


class TokenExpiring(AgentPayload):
    """104: the agent's RTC token is about to expire; the agent keeps running until it does."""

    message: str = ""


class ErrorItem(_Lenient):
    module: str = ""
    turn_id: int | None = None
    code: int | str = ""
    message: str = ""


class AgentErrors(AgentPayload):
    """110: errors of the agent's modules (asr, llm, tts, ...)."""

    turn_id: int | None = None
    errors: tuple[ErrorItem, ...] = ()


class TurnMetric(_Lenient):
    """One turn's latencies, in milliseconds, as Agora reports them."""

    turn_id: int | None = None
    asr_ttlw: float | None = None
    llm_ttfb: float | None = None
    llm_ttfs: float | None = None
    tts_ttfb: float | None = None


LATENCY_STAGES: Final = ("asr_ttlw", "llm_ttfb", "llm_ttfs", "tts_ttfb")


class AgentMetrics(AgentPayload):
    """111: per-turn latencies."""

    metrics: tuple[TurnMetric, ...] = ()


class TurnsAfterSession(AgentPayload):
    """112: the session's turns after it ended (their shape differs from REST ``turns``)."""

    total_turn_count: int | None = None
    is_truncated: bool = False
    turns: tuple[dict[str, Any], ...] = ()


PAYLOADS: Final[dict[EventType, type[AgentPayload]]] = {
    EventType.AGENT_JOINED: AgentJoined,
    EventType.AGENT_LEFT: AgentLeft,
    EventType.HISTORY: HistoryAfterStop,
    EventType.TOKEN_EXPIRING: TokenExpiring,
    EventType.AGENT_ERROR: AgentErrors,
    EventType.AGENT_METRICS: AgentMetrics,
    EventType.TURNS: TurnsAfterSession,
}


def read_payload(notice: Notice) -> AgentPayload | None:
    """The typed payload of a ConvoAI agent event; None for other products, types or shapes."""
    if notice.product_id != PRODUCT_ID:
        return None
    try:
        model = PAYLOADS[EventType(notice.event_type)]
    except ValueError:
        return None
    try:
        return model.model_validate(notice.payload)
    except ValidationError:
        return None


def signatures(body: bytes, *, secret: str) -> dict[str, str]:
    """Both signature headers Agora sends with ``body``."""
    key = secret.encode()
    return {
        SIGNATURE_HEADER: hmac.new(key, body, hashlib.sha1).hexdigest(),
        SIGNATURE_V2_HEADER: hmac.new(key, body, hashlib.sha256).hexdigest(),
    }


def verify(body: bytes, *, secret: str, v2: str | None, v1: str | None) -> bool:
    """Whether ``body`` carries a valid signature: V2 when given, else the SHA1 one.

    Compared in constant time; a request with neither header is refused.
    """
    expected = signatures(body, secret=secret)
    given, header = (v2, SIGNATURE_V2_HEADER) if v2 is not None else (v1, SIGNATURE_HEADER)
    if given is None:
        return False
    # Bytes, since compare_digest refuses str with characters beyond ASCII.
    return hmac.compare_digest(
        given.strip().lower().encode(errors="replace"), expected[header].encode()
    )

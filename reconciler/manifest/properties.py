"""Agora's join ``properties`` as manifests hold them: verbatim and snake_case, open to fields the
API adds later, with the fields we know typed so that common mistakes are caught offline.

The typed fields reuse the wire contract's models and add only what manifests need on top: secret
fields must hold references, never values. This module knows one ``properties`` object; merging
profiles under agents is merge.py's business.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from reconciler.agora import wire
from reconciler.manifest import secrets

# Agora's own secret fields may also be empty (llm.api_key defaults to "").
OptionalSecret = Annotated[
    str | None,
    Field(
        description="A reference such as ${env:NAME} or ${file:PATH}; never the secret itself.",
        json_schema_extra={"pattern": f"^$|{secrets.REFERENCE_PATTERN}"},
    ),
]


class _Open(BaseModel):
    """Agora's fields: snake_case as the API spells them, strict where known, open elsewhere."""

    model_config = ConfigDict(strict=True, frozen=True, extra="allow")


class LlmProperties(wire.LlmConfig):
    """Agora's ``llm`` object: the fields the wire contract knows are checked, others pass."""

    model_config = ConfigDict(strict=True)

    api_key: OptionalSecret = None


class AsrProperties(wire.AsrConfig):
    """Agora's ``asr`` object: the fields the wire contract knows are checked, others pass."""

    model_config = ConfigDict(strict=True)


class TtsProperties(wire.TtsConfig):
    """Agora's ``tts`` object: the fields the wire contract knows are checked, others pass."""

    model_config = ConfigDict(strict=True)


class MllmProperties(wire.MllmConfig):
    """Agora's ``mllm`` object: the fields the wire contract knows are checked, others pass."""

    model_config = ConfigDict(strict=True)

    api_key: OptionalSecret = None


class Properties(_Open):
    """Agora's join ``properties``, verbatim and snake_case: examples from Agora's docs paste in.

    Fields not listed here pass to Agora unchanged, since the API keeps growing. ``channel`` is
    not written here: it comes from the spec. Every field is optional because a Profile and an
    agent may each hold part of them; the merged whole must have ``agent_rtc_uid`` and
    ``remote_rtc_uids``. Agora's ``update`` changes only ``token``, ``llm.system_messages``,
    ``llm.params`` and ``mllm.params`` in place; any other change replaces the agent.
    """

    model_config = ConfigDict(json_schema_extra={"not": {"required": ["channel"]}})

    token: OptionalSecret = Field(
        default=None,
        description=(
            "The agent's RTC token. Leave it out: the reconciler mints one per agent from the "
            "project's appCertificate and renews it before it expires. Set it, as a reference, "
            "only to join with a fixed token, which is never renewed."
        ),
    )
    agent_rtc_uid: str | None = Field(
        default=None,
        description=(
            'The agent\'s uid in the channel, always a string: digits up to 4294967295 ("0" '
            "lets Agora pick one), or an account with enable_string_uid. Required here or in "
            "the profile; unique in its channel."
        ),
    )
    remote_rtc_uids: Annotated[list[str], Field(min_length=1)] | None = Field(
        default=None,
        description=(
            'The users the agent listens to, as strings (Agora supports one today); ["*"] is '
            "everyone, including other agents, so idle_timeout never fires. Required here or "
            "in the profile."
        ),
    )
    enable_string_uid: bool | None = Field(
        default=None,
        description=(
            "Take the uids as string accounts (up to 255 bytes) rather than numbers; "
            "Agora's default is false."
        ),
    )
    idle_timeout: Annotated[int, Field(ge=0, le=wire.IDLE_TIMEOUT_MAX)] | None = Field(
        default=None,
        description=(
            "Seconds with none of remote_rtc_uids in the channel before the agent leaves; 0 "
            "never (Agora still stops every agent at 72 hours). Agora's default is 30."
        ),
    )
    llm: LlmProperties | None = Field(
        default=None,
        description=(
            "The chat-completions LLM, as Agora documents it: url, api_key (a reference), "
            "system_messages, params, greeting_message, ... Needed with tts unless mllm, preset or "
            "pipelineId stands in."
        ),
    )
    asr: AsrProperties | None = Field(
        default=None,
        description=(
            "Speech recognition: vendor, language, params (keys as references). Agora's "
            "default is vendor ares, language en-US."
        ),
    )
    tts: TtsProperties | None = Field(
        default=None,
        description="Text to speech: vendor and params (keys as references), as Agora documents.",
    )
    mllm: MllmProperties | None = Field(
        default=None,
        description=(
            "A multimodal realtime model instead of asr, llm and tts: enable, vendor, url, "
            "api_key (a reference), params."
        ),
    )
    labels: dict[str, str] | None = Field(
        default=None,
        description="Your own string pairs; Agora echoes them in webhook events, nowhere else.",
    )
    geofence: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Where Agora may run the agent: area (GLOBAL, NORTH_AMERICA, EUROPE, ASIA, INDIA, "
            "JAPAN) and, with GLOBAL, exclude_area."
        ),
    )
    advanced_features: dict[str, Any] | None = Field(
        default=None,
        description="Agora's switches such as enable_rtm, enable_sal and enable_tools (all off).",
    )
    turn_detection: dict[str, Any] | None = Field(
        default=None,
        description="How Agora tells when the user starts and stops speaking: mode and config.",
    )
    interruption: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Whether and how the user can cut the agent off: enable, mode (start_of_speech or "
            "keywords), keywords_config."
        ),
    )
    parameters: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Further behaviour: silence_config, farewell_config, data_channel, audio_scenario, "
            "opt_out, ..."
        ),
    )
    avatar: dict[str, Any] | None = Field(
        default=None,
        description="A video avatar: enable, vendor, params (its own uid; its token a reference).",
    )
    sal: dict[str, Any] | None = Field(
        default=None,
        description="Selective attention locking on one speaker: sal_mode, sample_urls.",
    )
    rtc: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Media encryption: encryption_mode, and encryption_key and encryption_salt as "
            "references."
        ),
    )
    filler_words: dict[str, Any] | None = Field(
        default=None,
        description="What the agent says while it waits for the LLM: enable, trigger, content.",
    )

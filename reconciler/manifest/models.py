"""The four document kinds of ``apiVersion: reconciler/v1``: Project, Profile, Agent and AgentSet.

Each model says what one document may hold, field by field; how documents relate (references,
merging, uniqueness, uid clashes, quotas) is assemble.py's business, not this module's. Our own
fields are strict: unknown ones are errors and nothing is coerced (``"20"`` is not a number,
``1001`` is not a string). ``properties`` is Agora's join ``properties`` object verbatim, so it
stays open to fields the API adds later, but the fields we know are typed, reusing the wire
contract's models and the API's own rules rather than restating them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from reconciler.agora import wire
from reconciler.manifest import secrets

API_VERSION: Final = "reconciler/v1"
NAME_PATTERN: Final = r"^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$"
NAME_PREFIX_PATTERN: Final = r"^[a-z][a-z0-9]{0,15}$"
DEFAULT_NAME_PREFIX: Final = "rc"
_APP_ID_HEX_CHARS: Final = 32


class RestartPolicy(StrEnum):
    """What to do when an agent stops on its own (idle timeout, the 72-hour cap, a failure)."""

    ALWAYS = "Always"
    ON_FAILURE = "OnFailure"
    NEVER = "Never"


class Region(StrEnum):
    """Agora's regional API hosts; with neither region nor baseUrl the global host is used."""

    US = "us"
    EU = "eu"
    AP = "ap"
    CN = "cn"


def _check_name(value: str) -> str:
    if not re.fullmatch(NAME_PATTERN, value):
        raise ValueError(
            "must be 1 to 63 letters, digits, '-' or '_', "
            "starting and ending with a letter or digit"
        )
    return value


def _check_channel(value: str) -> str:
    problem = wire.channel_name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _check_prefix(value: str) -> str:
    if not re.fullmatch(NAME_PREFIX_PATTERN, value):
        raise ValueError("must be 1 to 16 lowercase letters and digits, starting with a letter")
    return value


def _check_app_id(value: str) -> str:
    if secrets.is_reference(value):
        return value
    if len(value) != _APP_ID_HEX_CHARS or not all(c in "0123456789abcdefABCDEF" for c in value):
        raise ValueError(
            "must be the 32 hexadecimal characters of an App ID, or a reference such as "
            "${env:AGORA_APP_ID}"
        )
    return value


def _check_base_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


Name = Annotated[
    str,
    AfterValidator(_check_name),
    Field(json_schema_extra={"pattern": NAME_PATTERN}),
]
Channel = Annotated[
    str,
    AfterValidator(_check_channel),
    Field(json_schema_extra={"minLength": 1, "maxLength": wire.CHANNEL_NAME_MAX_BYTES}),
]
SecretReference = Annotated[
    str,
    Field(
        description="A reference such as ${env:NAME} or ${file:PATH}; never the secret itself.",
        json_schema_extra={"pattern": secrets.REFERENCE_PATTERN},
    ),
]
# Agora's own secret fields may also be empty (llm.api_key defaults to "").
OptionalSecret = Annotated[
    str | None,
    Field(
        description="A reference such as ${env:NAME} or ${file:PATH}; never the secret itself.",
        json_schema_extra={"pattern": f"^$|{secrets.REFERENCE_PATTERN}"},
    ),
]


class _Own(BaseModel):
    """Our fields: camelCase like Kubernetes, strict, closed."""

    model_config = ConfigDict(
        strict=True, frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=False
    )


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
    """Agora's join ``properties``, verbatim and snake_case, except ``channel`` (from the spec).

    Every field is optional because a Profile and an agent may each hold part of them; the merged
    whole must have ``agent_rtc_uid`` and ``remote_rtc_uids``.
    """

    model_config = ConfigDict(json_schema_extra={"not": {"required": ["channel"]}})

    token: OptionalSecret = None
    agent_rtc_uid: str | None = None
    remote_rtc_uids: Annotated[list[str], Field(min_length=1)] | None = None
    enable_string_uid: bool | None = None
    idle_timeout: Annotated[int, Field(ge=0, le=wire.IDLE_TIMEOUT_MAX)] | None = None
    llm: LlmProperties | None = None
    asr: AsrProperties | None = None
    tts: TtsProperties | None = None
    mllm: MllmProperties | None = None
    labels: dict[str, str] | None = None
    geofence: dict[str, Any] | None = None
    advanced_features: dict[str, Any] | None = None
    turn_detection: dict[str, Any] | None = None
    interruption: dict[str, Any] | None = None
    parameters: dict[str, Any] | None = None
    avatar: dict[str, Any] | None = None
    sal: dict[str, Any] | None = None
    rtc: dict[str, Any] | None = None
    filler_words: dict[str, Any] | None = None


class Metadata(_Own):
    name: Name


class AgentMetadata(_Own):
    name: Name
    project: Name


class ProjectSettings(_Own):
    """One Agora project (App ID) and how to reach it."""

    model_config = ConfigDict(json_schema_extra={"not": {"required": ["region", "baseUrl"]}})

    app_id: Annotated[
        str,
        AfterValidator(_check_app_id),
        Field(json_schema_extra={"pattern": f"^[0-9a-fA-F]{{32}}$|{secrets.REFERENCE_PATTERN}"}),
    ]
    customer_id: Annotated[str, Field(min_length=1)]
    customer_secret: Annotated[SecretReference, Field(min_length=1)]
    app_certificate: SecretReference | None = Field(
        default=None, description="Enables minting and renewing RTC tokens for the agents."
    )
    region: Annotated[Region, Field(strict=False)] | None = None
    base_url: Annotated[str, AfterValidator(_check_base_url)] | None = None
    max_concurrent_agents: Annotated[int, Field(ge=1)] = wire.DEFAULT_CONCURRENCY_QUOTA
    name_prefix: Annotated[str, AfterValidator(_check_prefix)] = Field(
        default=DEFAULT_NAME_PREFIX, json_schema_extra={"pattern": NAME_PREFIX_PATTERN}
    )
    token_lifetime_seconds: Annotated[int, Field(ge=60, le=wire.TOKEN_MAX_LIFETIME_SECONDS)] = (
        wire.TOKEN_MAX_LIFETIME_SECONDS
    )

    @model_validator(mode="after")
    def _one_address(self) -> ProjectSettings:
        if self.region is not None and self.base_url is not None:
            raise ValueError("set region or baseUrl, not both")
        return self


class ProfileSettings(_Own):
    properties: Properties = Field(default_factory=Properties)


class AgentTemplate(_Own):
    """Everything about an agent except its channel; an AgentSet stamps it onto each channel."""

    profile: Name | None = None
    restart_policy: Annotated[RestartPolicy, Field(strict=False)] = RestartPolicy.ALWAYS
    protect: bool = Field(default=False, description="Refuse plans that delete or replace it.")
    archive_history: str | None = None
    properties: Properties = Field(default_factory=Properties)


class AgentSettings(AgentTemplate):
    channel: Channel


class AgentSetSettings(_Own):
    channels: Annotated[list[Channel], Field(min_length=1, json_schema_extra={"uniqueItems": True})]
    template: AgentTemplate


class _Document(_Own):
    api_version: Literal["reconciler/v1"]


class Project(_Document):
    kind: Literal["Project"]
    metadata: Metadata
    spec: ProjectSettings


class Profile(_Document):
    """Shared defaults, deep-merged under the properties of the agents that name it."""

    kind: Literal["Profile"]
    metadata: Metadata
    spec: ProfileSettings = Field(default_factory=ProfileSettings)


class Agent(_Document):
    kind: Literal["Agent"]
    metadata: AgentMetadata
    spec: AgentSettings


class AgentSet(_Document):
    """One agent per channel from a template; members are named ``<set>-<channel>``."""

    kind: Literal["AgentSet"]
    metadata: AgentMetadata
    spec: AgentSetSettings


Manifest = Annotated[Project | Profile | Agent | AgentSet, Field(discriminator="kind")]
KINDS: Final[dict[str, type[Project | Profile | Agent | AgentSet]]] = {
    "Project": Project,
    "Profile": Profile,
    "Agent": Agent,
    "AgentSet": AgentSet,
}

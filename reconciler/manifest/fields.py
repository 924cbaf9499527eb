"""The field types the manifest kinds share: names, channels, secret references, the enums, and
the strict camelCase base every one of our models derives from.

Each type checks one value on its own and says so in the JSON Schema; it never looks at another
field or another document (that is models.py and assemble.py). Changing a type here changes the
committed schema and the README reference, so regenerate both.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from reconciler.agora import wire
from reconciler.manifest import secrets

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


def check_prefix(value: str) -> str:
    """A Project's namePrefix, the start of every agent name it gives Agora."""
    if not re.fullmatch(NAME_PREFIX_PATTERN, value):
        raise ValueError("must be 1 to 16 lowercase letters and digits, starting with a letter")
    return value


def check_app_id(value: str) -> str:
    """An App ID as Agora writes it, or a reference that resolves to one later."""
    if secrets.is_reference(value):
        return value
    if len(value) != _APP_ID_HEX_CHARS or not all(c in "0123456789abcdefABCDEF" for c in value):
        raise ValueError(
            "must be the 32 hexadecimal characters of an App ID, or a reference such as "
            "${env:AGORA_APP_ID}"
        )
    return value


def check_base_url(value: str) -> str:
    """A Project's baseUrl, which must name its scheme."""
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


class OwnModel(BaseModel):
    """Our fields: camelCase like Kubernetes, strict, closed."""

    model_config = ConfigDict(
        strict=True, frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=False
    )

"""Which field names carry a secret: one list for the loader, the planner, the views and the logs.

A leaf with no imports of ours, so that the log masking (which every layer uses, the Agora client
included) and the manifest loader share the list without depending on each other.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Final

# One list for the loader's literal-secret check, fingerprints, plan masking and log masking.
# Names are compared folded (lowercased, "_" and "-" dropped), so api_key, apiKey, API-Key and
# x-api-key all match whichever spelling the manifest, the API or a vendor uses.
_SECRET_NAMES: Final = frozenset(
    {
        "accesskey",
        "accesskeyid",
        "adccredentialsstring",
        "apisubscriptionkey",
        "appcertificate",
        "authorization",
        "awsaccesskeyid",
        "awssecretaccesskey",
        "certificate",
        "credentials",
        "encryptionkey",
        "encryptionsalt",
        "key",
        "secretaccesskey",
    }
)
# Names such as api_key, customerSecret, agora_token, db_password or private_key.
_SECRET_SUFFIXES: Final = ("apikey", "password", "privatekey", "secret", "secretkey", "token")


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a field of this name carries a secret, whatever object it sits in or its spelling.

    Cached: a fleet asks about the same few dozen names for every field of every agent.
    """
    folded = name.lower().replace("_", "").replace("-", "")
    return folded in _SECRET_NAMES or folded.endswith(_SECRET_SUFFIXES)


def holds_secret(name: str, value: object) -> bool:
    """Whether a field holds a secret: its name is a secret one and its value could be one.

    Detection by name applies to text (and to the mappings and lists that hold text): a number
    or a boolean is never a secret, so ``llm.params.max_token: 1024`` is a setting like any other.
    """
    return is_secret_name(name) and not isinstance(value, int | float | bool)


def is_secret_path(path: str | Sequence[str | int]) -> bool:
    """Whether the field at a dotted path (``llm.api_key``) or a path tuple carries a secret.

    A field inside a secret one (``credentials.user``) is secret too: ``scan`` reports the whole
    of a secret field as one secret, so its parts are never shown either.
    """
    parts: Sequence[str | int] = path.split(".") if isinstance(path, str) else path
    return any(is_secret_name(part.split("[", 1)[0]) for part in parts if isinstance(part, str))

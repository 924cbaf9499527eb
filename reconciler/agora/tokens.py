"""Mints Agora RTC tokens (AccessToken2, RTC + RTM) through the official SDK's builder.

The same token serves two purposes: an agent's ``properties.token`` for joining its channel, and
the ``Authorization: agora token=`` credential of REST calls. Signing is delegated to
``agora_agent.agentkit.token.generate_convo_ai_token`` on purpose: a hand-rolled AccessToken2 is
one more thing that can silently drift from what Agora's servers verify. This module must not
implement any part of the token format, and must never log or print a token. It only reads back
the two numbers a token carries about time (``expires_at``), since the SDK has no parser: the
expiry that counts is the one Agora will read, not the one we meant to write.
"""

from __future__ import annotations

import base64
import binascii
import functools
import importlib.util
import struct
import sys
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.agora import wire

_SERVICE_RTC = 1  # the service whose privileges bound an agent's join
_OPTIONAL_BUILDER = "agora_token_builder"
_SDK_PACKAGE = "agora_agent"
_TOKEN_MODULE = ("agentkit", "token.py")


@dataclass(frozen=True)
class MintedToken:
    """A token and the Unix second at which it stops being valid; the repr hides the token."""

    value: str = field(repr=False)
    expires_at: int


def mint_rtc_token(
    *,
    app_id: str,
    app_certificate: str,
    channel: str,
    uid: str,
    lifetime_s: int = wire.TOKEN_MAX_LIFETIME_SECONDS,
) -> MintedToken:
    """Mint a token for ``uid`` in ``channel`` valid for ``lifetime_s`` (capped at Agora's 24 h).

    ``uid`` must be a numeric RTC uid (``"0"`` means any uid): the SDK's ConvoAI builder has no
    string-account variant, so a string account raises ``ValueError``, as do credentials that are
    not 32 characters long and a lifetime that is not positive.

    The SDK reads the clock itself, so there is no ``now`` to inject; ``expires_at`` is read back
    from the signed token, so it is exactly the expiry Agora will see.
    """
    if lifetime_s <= 0:
        raise ValueError(f"token lifetime must be positive (got {lifetime_s} s)")
    if wire.uid_problem(uid, string_uid=False):
        raise ValueError(
            f"cannot mint a token for uid {uid!r}: it must be a numeric RTC uid "
            f"(0 to {wire.INT_UID_MAX}); string accounts are not supported"
        )
    lifetime = min(lifetime_s, wire.TOKEN_MAX_LIFETIME_SECONDS)
    value = _sdk_builder()(
        app_id=app_id,
        app_certificate=app_certificate,
        channel_name=channel,
        uid=int(uid),
        token_expire=lifetime,
    )
    return MintedToken(value=value, expires_at=expires_at(value))


@functools.cache
def _sdk_builder() -> Callable[..., str]:
    """The SDK's ConvoAI token builder, loaded on first use.

    The builder's module needs only the standard library, but importing it through its package
    runs ``agora_agent/__init__``, which builds the whole SDK (hundreds of pydantic models:
    0.7 s of CPU, and pydantic-v1-style configs that warn under pydantic 2). So the module file
    is loaded on its own, as the SDK ships it; should a later SDK make that fail, the package
    import is the way back.
    """
    # The builder first tries ``import agora_token_builder`` (an older third-party package) on
    # every token; where it is not installed, each try searches sys.path again. Recording its
    # absence once makes each later try fail at once, down the same path.
    if importlib.util.find_spec(_OPTIONAL_BUILDER) is None:
        sys.modules.setdefault(_OPTIONAL_BUILDER, None)  # type: ignore[arg-type]
    try:
        return _standalone_builder()
    except Exception:  # any failure means: load it the way the SDK documents
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from agora_agent.agentkit.token import generate_convo_ai_token
        return generate_convo_ai_token


def _standalone_builder() -> Callable[..., str]:
    package = importlib.util.find_spec(_SDK_PACKAGE)
    if package is None or not package.submodule_search_locations:
        raise ImportError(f"{_SDK_PACKAGE} is not installed")
    path = Path(package.submodule_search_locations[0], *_TOKEN_MODULE)
    spec = importlib.util.spec_from_file_location(f"_reconciler_{_SDK_PACKAGE}_token", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    builder: Callable[..., str] = module.generate_convo_ai_token
    return builder


def expires_at(token: str) -> int:
    """The Unix second an AccessToken2 stops being valid, read from the token itself.

    That is its issue time plus the shorter of its own expire and its RTC privileges' (all
    relative seconds). Raises ``ValueError`` for anything that is not a ``007`` token.
    """
    try:
        packed = zlib.decompress(base64.b64decode(token.removeprefix("007"), validate=True))
        (signature_length,) = struct.unpack_from("<H", packed, 0)
        offset = 2 + signature_length
        (app_id_length,) = struct.unpack_from("<H", packed, offset)
        offset += 2 + app_id_length
        issue_ts, expire, _salt, services = struct.unpack_from("<IIIH", packed, offset)
        offset += 14
        lifetimes = [expire]
        if services and struct.unpack_from("<H", packed, offset)[0] == _SERVICE_RTC:
            (count,) = struct.unpack_from("<H", packed, offset + 2)
            lifetimes += [
                struct.unpack_from("<I", packed, offset + 6 + 6 * i)[0] for i in range(count)
            ]
    except (binascii.Error, zlib.error, struct.error) as exc:
        raise ValueError("not an AccessToken2") from exc
    if not token.startswith("007"):
        raise ValueError("not an AccessToken2 (no 007 prefix)")
    return int(issue_ts) + min(int(x) for x in lifetimes)

"""Who may call the emulated API: Basic customer credentials or an ``agora token=`` AccessToken2.

The token check is the server half of §12: unpack the 007 token, recompute its HMAC with the
configured certificate and check its expiry against the emulator clock. A join's token must also
be scoped to the join's channel and agent uid (Agora's authentication page, §18); other calls do
not look at the token's channel or uid (the SDK stops agents with a token for channel "stop"), nor
at its services (§17 #16). Nothing here mints tokens (the official SDK does that) and no failure
message ever repeats a credential.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import zlib
from dataclasses import dataclass

from reconciler.agora.wire import Reason
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.failure import ApiFailure

TOKEN_VERSION = "007"
SERVICE_RTC = 1
SERVICE_RTM = 2
SERVICE_CONVOAI = 9


class TokenFormatError(ValueError):
    """The string is not a well-formed AccessToken2."""


@dataclass(frozen=True)
class TokenService:
    """One service of a token; ``channel`` is set for RTC, ``account`` for RTC and RTM."""

    type: int
    privileges: tuple[tuple[int, int], ...]
    channel: str | None = None
    account: str | None = None


@dataclass(frozen=True)
class AccessToken:
    """A parsed AccessToken2; ``signing_info`` is the exact byte string the signature covers."""

    app_id: str
    issue_ts: int
    expire: int
    salt: int
    services: tuple[TokenService, ...]
    signature: bytes
    signing_info: bytes

    @property
    def expires_at(self) -> int:
        return self.issue_ts + self.expire

    def signed_with(self, certificate: str) -> bool:
        """Whether the signature was made with this certificate (§12.4: timestamp and salt key)."""
        key = hmac.new(_u32(self.issue_ts), certificate.encode(), hashlib.sha256).digest()
        key = hmac.new(_u32(self.salt), key, hashlib.sha256).digest()
        expected = hmac.new(key, self.signing_info, hashlib.sha256).digest()
        return hmac.compare_digest(expected, self.signature)


def parse_access_token(token: str) -> AccessToken:
    """Unpack a ``007`` token without judging it; raises TokenFormatError when it is not one."""
    if not token.startswith(TOKEN_VERSION):
        raise TokenFormatError("not an AccessToken2 (no 007 prefix)")
    try:
        packed = zlib.decompress(base64.b64decode(token[len(TOKEN_VERSION) :], validate=True))
    except (binascii.Error, zlib.error) as exc:
        raise TokenFormatError("token body is not base64 of zlib data") from exc
    outer = _Reader(packed)
    signature = outer.string()
    signing_info = outer.rest()
    info = _Reader(signing_info)
    app_id = info.string().decode(errors="replace")
    issue_ts, expire, salt = info.u32(), info.u32(), info.u32()
    services = tuple(_read_service(info) for _ in range(info.u16()))
    info.finish()
    return AccessToken(
        app_id=app_id,
        issue_ts=issue_ts,
        expire=expire,
        salt=salt,
        services=services,
        signature=signature,
        signing_info=signing_info,
    )


def authenticate(
    header: str | None, *, app_id: str, config: EmulatorConfig, now: float
) -> AccessToken | None:
    """Raise the 401 or 403 the real API would give this Authorization header for ``app_id``;
    return the token it carried, if it was an ``agora token=`` one."""
    scheme, _, credentials = (header or "").strip().partition(" ")
    credentials = credentials.strip()
    token: AccessToken | None = None
    if scheme.lower() == "basic":
        if not _basic_matches(credentials, config=config):
            raise _unauthorized("invalid customer id or customer secret")
    elif scheme.lower() == "agora" and credentials[:6].lower() == "token=":
        try:
            token = parse_access_token(credentials[6:])
        except TokenFormatError as exc:
            raise _unauthorized(f"malformed token: {exc}") from exc
        if token.app_id != app_id:
            raise _unauthorized("token was issued for another app id")
    else:
        raise _unauthorized("expected 'Basic ...' or 'agora token=...' credentials")
    if app_id != config.app_id and app_id not in config.more_app_ids:
        raise ApiFailure(
            status=403,
            reason=Reason.SERVICE_NOT_ENABLED,
            detail=f"Conversational AI is not enabled for app id {app_id}",
        )
    if token is not None:
        if not token.signed_with(config.app_certificate):
            raise _unauthorized("token signature does not match the app certificate")
        if token.expires_at <= now:
            raise _unauthorized("token has expired")
    return token


# A token for uid 0 (account "") is valid for any uid in its channel, as in RTC.
_ANY_ACCOUNT = frozenset({"", "0"})


def check_join_scope(token: AccessToken | None, *, channel: str, uid: str) -> None:
    """A join authorised by a token needs one scoped to its channel and agent uid (§18)."""
    if token is None:
        return
    rtc = [service for service in token.services if service.type == SERVICE_RTC]
    if not rtc:
        raise _unauthorized("token has no RTC service for the join's channel")
    if not any(
        service.channel == channel and (service.account in _ANY_ACCOUNT or service.account == uid)
        for service in rtc
    ):
        raise _unauthorized("token was issued for another channel or uid than the join's")


def _basic_matches(credentials: str, *, config: EmulatorConfig) -> bool:
    try:
        given = base64.b64decode(credentials, validate=True)
    except binascii.Error:
        return False
    expected = f"{config.customer_id}:{config.customer_secret}".encode()
    return hmac.compare_digest(given, expected)


def _unauthorized(why: str) -> ApiFailure:
    # The docs name no reason for 401 (§17 #20); InvalidPermission is the closest documented one.
    return ApiFailure(
        status=401, reason=Reason.INVALID_PERMISSION, detail=f"authentication failed: {why}"
    )


def _read_service(reader: _Reader) -> TokenService:
    kind = reader.u16()
    privileges = tuple((reader.u16(), reader.u32()) for _ in range(reader.u16()))
    if kind == SERVICE_RTC:
        channel = reader.string().decode(errors="replace")
        account = reader.string().decode(errors="replace")
        return TokenService(type=kind, privileges=privileges, channel=channel, account=account)
    if kind == SERVICE_RTM:
        account = reader.string().decode(errors="replace")
        return TokenService(type=kind, privileges=privileges, account=account)
    if kind == SERVICE_CONVOAI:
        return TokenService(type=kind, privileges=privileges)
    raise TokenFormatError(f"unknown service type {kind}")


def _u32(value: int) -> bytes:
    return struct.pack("<I", value)


class _Reader:
    """Little-endian cursor over packed token bytes (§12.2)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def u16(self) -> int:
        return int(self._unpack("<H", 2))

    def u32(self) -> int:
        return int(self._unpack("<I", 4))

    def string(self) -> bytes:
        size = self.u16()
        if self._at + size > len(self._data):
            raise TokenFormatError("token is truncated")
        self._at += size
        return self._data[self._at - size : self._at]

    def rest(self) -> bytes:
        return self._data[self._at :]

    def finish(self) -> None:
        if self._at != len(self._data):
            raise TokenFormatError("token has trailing bytes")

    def _unpack(self, fmt: str, size: int) -> int:
        try:
            (value,) = struct.unpack_from(fmt, self._data, self._at)
        except struct.error as exc:
            raise TokenFormatError("token is truncated") from exc
        self._at += size
        return int(value)

"""How the client proves who it is: Basic auth, or ``agora token=`` tokens (API notes §3).

Both kinds build the ``Authorization`` header for a request's scope and say which values must be
masked should a server ever echo them. Their reprs show no secret. Minting goes through
``tokens`` (the official SDK); this module must not sign anything itself.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from reconciler.agora import tokens


@dataclass(frozen=True)
class BasicAuth:
    """Customer ID and secret from Agora Console; the repr hides the secret."""

    customer_id: str
    customer_secret: str = field(repr=False)

    def authorization(self, *, app_id: str, channel: str, uid: str) -> str:
        """The header value; Basic auth is the same whatever the request's scope."""
        del app_id, channel, uid
        pair = f"{self.customer_id}:{self.customer_secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def secrets(self) -> tuple[str, ...]:
        """Values to mask should a server ever echo them."""
        return (self.customer_secret,)


@dataclass(frozen=True)
class TokenAuth:
    """``agora token=`` auth: a fixed token, or one minted per request from the App Certificate.

    Build it with ``TokenAuth.static(token)`` or ``TokenAuth.minted(app_certificate)``; the repr
    shows neither.
    """

    token: str | None = field(default=None, repr=False)
    app_certificate: str | None = field(default=None, repr=False)
    lifetime_s: int = 3600

    def __post_init__(self) -> None:
        if (self.token is None) == (self.app_certificate is None):
            raise ValueError("TokenAuth needs exactly one of token and app_certificate")

    @classmethod
    def static(cls, token: str) -> TokenAuth:
        return cls(token=token)

    @classmethod
    def minted(cls, app_certificate: str, *, lifetime_s: int = 3600) -> TokenAuth:
        return cls(app_certificate=app_certificate, lifetime_s=lifetime_s)

    def authorization(self, *, app_id: str, channel: str, uid: str) -> str:
        """The header value; a minted token is scoped to the request's channel and uid."""
        if self.token is not None:
            return f"agora token={self.token}"
        assert self.app_certificate is not None  # guaranteed by __post_init__
        minted = tokens.mint_rtc_token(
            app_id=app_id,
            app_certificate=self.app_certificate,
            channel=channel,
            uid=uid,
            lifetime_s=self.lifetime_s,
        )
        return f"agora token={minted.value}"

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.token, self.app_certificate) if s is not None)


Auth = BasicAuth | TokenAuth

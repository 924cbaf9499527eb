"""Which RTC token each agent joins its channel with, and when that token runs out.

A token the manifest gives (a secret reference) always wins, and is never renewed by us. Else, a
Project with an ``appCertificate`` has each agent's token minted for its channel and uid, living
the project's ``tokenLifetimeSeconds`` (at most Agora's 24 h); the expiry goes into the state so the
planner can renew it in time. Else the agent joins with an empty token, which a project without
App Certificate accepts. Minting goes through ``agora/tokens.py`` only. A token value never leaves
the returned value: it is not logged, stored or shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.agora import tokens, wire
from reconciler.apply.payloads import SecretValues
from reconciler.errors import ManifestError
from reconciler.manifest.desired import DesiredAgent, ProjectSpec


@dataclass(frozen=True)
class AgentToken:
    """A token to send and its expiry in Unix seconds, None when we do not renew it."""

    value: str = field(repr=False)
    expires_at: float | None


def token_for(
    agent: DesiredAgent, *, project: ProjectSpec, app_id: str, values: SecretValues
) -> AgentToken:
    """The token ``agent`` should join (or be renewed) with, following the rules above."""
    if agent.token is not None:
        fixed = values.text(agent.token, where=agent.source, at="spec.properties.token")
        return AgentToken(value=fixed, expires_at=None)
    if project.app_certificate is None:
        return AgentToken(value="", expires_at=None)
    certificate = values.text(
        project.app_certificate, where=project.source, at="spec.appCertificate"
    )
    try:
        minted = tokens.mint_rtc_token(
            app_id=app_id,
            app_certificate=certificate,
            channel=agent.channel,
            uid=agent.agent_rtc_uid,
            lifetime_s=project.token_lifetime_seconds,
        )
    except ValueError as exc:
        # The only two causes: a uid that is not numeric, or credentials of the wrong length.
        uid_at_fault = wire.uid_problem(agent.agent_rtc_uid, string_uid=False) is not None
        where, at = (
            (agent.source, "spec.properties.agent_rtc_uid")
            if uid_at_fault
            else (project.source, "spec.appCertificate")
        )
        raise ManifestError(
            path=where.file,
            line=where.line,
            field=at,
            message=f"cannot mint the RTC token of {agent.key}: {exc}",
        ) from None
    return AgentToken(value=minted.value, expires_at=float(minted.expires_at))

"""The bodies apply sends: join and update requests built from a desired agent, secrets resolved.

This is the only place where secret references in agent properties become values, and only at
apply time (design §2): each value is registered with the log masking as it is read, and goes
straight into a wire request. A body the wire contract refuses, or a reference that cannot be
resolved, is a ``ManifestError`` that points at the manifest, naming fields but never values.
This module must not call the API, mint tokens or touch the state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import ValidationError

from reconciler import logs
from reconciler.agora import wire
from reconciler.errors import ManifestError
from reconciler.manifest import reference_sites, secrets
from reconciler.manifest.desired import DesiredAgent
from reconciler.manifest.diagnostics import SourceLocation
from reconciler.manifest.reference_sites import ReferenceIndex

_Body = TypeVar("_Body", wire.JoinRequest, wire.UpdateRequest)
# The join labels that tie an agent (and every Notification Center event about it) to its entry.
KEY_LABEL: Final = "reconciler_key"
GENERATION_LABEL: Final = "reconciler_generation"
# The state's lineage: tells apart the agents (and events) of two fleets sharing one App ID.
FLEET_LABEL: Final = "reconciler_fleet"
_REFERENCE: Final = re.compile(secrets.REFERENCE_PATTERN)


class SecretValues:
    """Resolves each reference once per pass against an environment, and masks every value.

    Each distinct reference is read once (a file once, however many agents use it) and its value
    registered with the log masking on its own, so ``Bearer ${env:T}`` masks the token wherever
    it appears, not only inside that one string. The loader made every ``${file:...}`` path
    absolute, so no base directory is needed. Values stay in memory only as long as this object,
    and its repr shows none. A reference that cannot be resolved is reported where it is written
    (``references``: a profile's line, not the agent's), when the index knows it.
    """

    def __init__(
        self, environ: Mapping[str, str], *, references: ReferenceIndex = reference_sites.EMPTY
    ) -> None:
        self._environ = environ
        self._references = references
        self._values: dict[secrets.SecretRef, str] = {}

    def __repr__(self) -> str:
        return "SecretValues()"

    def text(self, value: str, *, where: SourceLocation | None, at: str | None) -> str:
        """``value`` with its references replaced by their values (a literal comes back as is).

        ``where`` and ``at`` (a dotted field path) only make an error point at the manifest.
        """
        if not secrets.is_reference(value):
            return value

        def substitute(match: re.Match[str]) -> str:
            [ref] = secrets.find_references(match.group(0))
            return self._value(ref, where=where, at=at)

        return _REFERENCE.sub(substitute, value)

    def _value(
        self, ref: secrets.SecretRef, *, where: SourceLocation | None, at: str | None
    ) -> str:
        resolved = self._values.get(ref)
        if resolved is None:
            try:
                resolved = secrets.resolve(
                    ref, environ=self._environ, base_dir=Path.cwd(), where=where, field=at
                )
            except secrets.SecretUnavailableError as exc:
                site = self._references.locate(str(ref), near=where, at=at)
                if site is None:
                    raise
                raise exc.at(site.where, site.field) from None
            logs.register_secret(resolved)
            self._values[ref] = resolved
        return resolved

    def deep(self, value: Any, *, where: SourceLocation | None, at: str) -> Any:
        """A JSON-like value with every reference inside it resolved."""
        if isinstance(value, str):
            return self.text(value, where=where, at=at)
        if isinstance(value, Mapping):
            return {
                key: self.deep(item, where=where, at=f"{at}.{key}") for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.deep(item, where=where, at=at) for item in value]
        return value


def join_request(
    agent: DesiredAgent,
    *,
    remote_name: str,
    generation: int,
    token: str,
    values: SecretValues,
    fleet_id: str | None = None,
) -> wire.JoinRequest:
    """The join body: the agent's merged properties plus the channel and token apply fills in,
    and the top-level join fields (``preset``, ``pipeline_id``) the agent sets.

    ``labels`` (which Agora echoes only in its events) gain the manifest key and generation, and
    ``fleet_id`` (the state's lineage) when known; the user's own labels merge in, ours winning a
    clash, as a controller's labels do in Kubernetes.
    """
    properties = values.deep(agent.properties, where=agent.source, at="spec.properties")
    properties.update(channel=agent.channel, agent_rtc_uid=agent.agent_rtc_uid, token=token)
    declared = properties.get("labels")
    properties["labels"] = {
        **(declared if isinstance(declared, Mapping) else {}),
        KEY_LABEL: agent.key,
        GENERATION_LABEL: str(generation),
        **({} if fleet_id is None else {FLEET_LABEL: fleet_id}),
    }
    body = {"name": remote_name, **agent.join_fields, "properties": properties}
    return _validated(wire.JoinRequest, body, agent)


def update_request(
    agent: DesiredAgent, *, fields: Mapping[str, Any], token: str | None, values: SecretValues
) -> wire.UpdateRequest:
    """The update body for the in-place ``fields`` (dotted path to whole new value) and a token.

    Each field goes whole, as Agora replaces it whole (API notes §7.3).
    """
    properties: dict[str, Any] = {}
    for path, value in fields.items():
        if path == "token":
            continue
        resolved = values.deep(value, where=agent.source, at=f"spec.properties.{path}")
        head, _, leaf = path.partition(".")
        properties.setdefault(head, {})[leaf] = resolved
    if token is not None:
        properties["token"] = token
    return _validated(wire.UpdateRequest, {"properties": properties}, agent)


def _validated(model: type[_Body], body: dict[str, Any], agent: DesiredAgent) -> _Body:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ManifestError(
            path=agent.source.file,
            line=agent.source.line,
            field=f"spec.{where}" if where.startswith("properties") else where or None,
            message=f"{agent.key} cannot be sent to Agora: {first['msg']}",
        ) from None

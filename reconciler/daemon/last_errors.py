"""The last error Agora reported for each of our agents (event 110), for ``status`` to show.

Why in memory, served over HTTP, rather than in the state: the daemon hears events between
passes, and on a shared state only the lease holder may write, only inside its pass (writing
outside one would race the holder's fenced writes). An error is news about a running agent, not
something the next pass needs to act correctly, so it does not belong in the state at all: the
daemon keeps the latest per manifest key (bounded) and serves them at ``GET /agents/errors``;
``reconciler status --daemon URL`` fetches them with ``fetch`` and shows each beside its agent.
A restarted daemon starts with none, as ``kubectl`` events age out.

The one module of the daemon that speaks HTTP as a client (to a daemon, never to Agora): the
import contract names it as the exception.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any, Final

import httpx
from fastapi import APIRouter

from reconciler import logs
from reconciler.errors import ReconcilerError
from reconciler.plan.status import AgentError

PATH: Final = "/agents/errors"
# More keys than any fleet we run; the oldest are forgotten first.
REMEMBERED: Final = 4096
FETCH_TIMEOUT_SECONDS: Final = 5.0
_MESSAGE_MAX: Final = 500


class DaemonUnreachableError(ReconcilerError):
    """The daemon's last errors could not be read (down, wrong URL, not a reconciler)."""


class LastErrors:
    """The latest ``AgentError`` per manifest key, the oldest key forgotten past ``remember``."""

    def __init__(self, *, remember: int = REMEMBERED) -> None:
        self._by_key: OrderedDict[str, AgentError] = OrderedDict()
        self._remember = remember

    def record(self, error: AgentError) -> None:
        """Keep ``error`` unless a later one is held for its key; its message is masked."""
        held = self._by_key.get(error.key)
        if held is not None and held.at > error.at:
            return
        masked = logs.redact(error.message)[:_MESSAGE_MAX]
        self._by_key[error.key] = dataclasses.replace(error, message=masked)
        self._by_key.move_to_end(error.key)
        while len(self._by_key) > self._remember:
            self._by_key.popitem(last=False)

    def all(self) -> tuple[AgentError, ...]:
        return tuple(self._by_key[key] for key in sorted(self._by_key))


def router(errors: LastErrors) -> APIRouter:
    """``GET /agents/errors``: ``{"errors": [{key, project, agent_id, module, code, message,
    at}]}``, by key."""
    routes = APIRouter()

    @routes.get(PATH)
    async def last_errors() -> dict[str, Any]:
        return {"errors": [dataclasses.asdict(error) for error in errors.all()]}

    return routes


def fetch(base_url: str, *, transport: httpx.BaseTransport | None = None) -> tuple[AgentError, ...]:
    """The last errors a daemon serves at ``base_url`` (its ``--listen`` address)."""
    url = base_url.rstrip("/") + PATH
    try:
        with httpx.Client(timeout=FETCH_TIMEOUT_SECONDS, transport=transport) as http:
            response = http.get(url)
            response.raise_for_status()
            document = response.json()
        return tuple(AgentError(**_typed(item)) for item in document["errors"])
    except httpx.HTTPError as exc:
        raise DaemonUnreachableError(f"cannot read the daemon's errors at {url}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise DaemonUnreachableError(
            f"{url} did not answer as a reconciler daemon does ({type(exc).__name__})"
        ) from None


def _typed(item: Any) -> dict[str, Any]:
    """One served error, its fields checked for type (a stranger's JSON is refused whole)."""
    if not isinstance(item, dict):
        raise TypeError("not an object")
    fields = {name: item[name] for name in ("key", "project", "agent_id", "module", "code")}
    if not all(isinstance(value, str) for value in fields.values()):
        raise TypeError("a text field is not text")
    message, at = item["message"], item["at"]
    if not isinstance(message, str) or not isinstance(at, int | float):
        raise TypeError("message or at of the wrong type")
    return {**fields, "message": message, "at": float(at)}

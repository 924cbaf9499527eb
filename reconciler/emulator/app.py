"""The emulated API over HTTP: the real paths, auth, body parsing and the exact error bodies.

Every call goes through one pipeline: let the fault plan strike (latency, an error or a dropped
connection, before or after the action), authenticate, rate-limit, parse the body with the wire
request models, hand it to the store, and count the answer. Validation errors become the API's 400s
(``MissingRequiredField``, ``InvalidFieldValue``, ``InvalidRequestBody``). No agent rule lives here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from reconciler.agora import wire
from reconciler.agora.wire import Endpoint, Reason
from reconciler.emulator import control
from reconciler.emulator.auth import authenticate, check_join_scope
from reconciler.emulator.backend import Emulator, Region
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.failure import ApiFailure, reason_for
from reconciler.emulator.faults import FaultSpec
from reconciler.emulator.store import AgentStore

Model = TypeVar("Model", bound=BaseModel)
Action = Callable[[AgentStore, str, str, Request], Awaitable[BaseModel | None]]

ROOTS: dict[Region, str] = {"global": wire.API_ROOT, "cn": wire.CN_API_ROOT}


def create_app(config: EmulatorConfig | None = None) -> FastAPI:
    """An ASGI app serving the API under both roots, plus the ``/_emulator`` control routes."""
    # No redirect to or from a trailing slash: Agora's paths have none and are case-sensitive,
    # so ``/join/`` is a 404 here rather than a 307 a client might silently follow.
    app = FastAPI(
        title="Agora ConvoAI API emulator", docs_url=None, redoc_url=None, redirect_slashes=False
    )
    app.state.emulator = Emulator(config or EmulatorConfig())
    for region, root in ROOTS.items():
        for endpoint, (method, template) in wire.ROUTES.items():
            app.add_api_route(
                root + wire.PROJECT_PREFIX + template,
                _route(endpoint, region=region),
                methods=[method],
                name=f"{region}-{endpoint.value}",
            )
    app.include_router(control.router)
    return app


class InjectedDrop(httpx.RemoteProtocolError):
    """What a dropped-connection fault raises: a real RemoteProtocolError, recognisably ours."""


class DroppedConnection(Response):
    """Starts an answer, then fails, so the client sees a broken connection, never a status.

    Under uvicorn the exception after ``http.response.start`` makes it close the socket mid-answer;
    in-process, ``httpx.ASGITransport`` re-raises it, and RemoteProtocolError is exactly what the
    client would get from a real server hanging up.
    """

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        raise InjectedDrop("emulator dropped the connection (injected fault)")


def _route(endpoint: Endpoint, *, region: Region) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        emulator: Emulator = request.app.state.emulator
        emulator.webhooks.ensure_running()
        strike = emulator.faults.draw(endpoint)
        if strike.latency_seconds:
            await asyncio.sleep(strike.latency_seconds)
        fault = strike.outcome
        if fault is not None and fault.when == "before":
            response = _fault_response(fault)
        else:
            response = await _answer(request, emulator, endpoint=endpoint, region=region)
            if fault is not None:
                response = _fault_response(fault)
        dropped = isinstance(response, DroppedConnection)
        emulator.counters.record(endpoint, "dropped" if dropped else response.status_code)
        return response

    return handle


async def _answer(
    request: Request, emulator: Emulator, *, endpoint: Endpoint, region: Region
) -> Response:
    app_id = request.path_params["app_id"]
    try:
        request.state.token = authenticate(
            request.headers.get("authorization"),
            app_id=app_id,
            config=emulator.config,
            now=emulator.clock.now(),
        )
        emulator.take_rate_token()
        store = emulator.stores[region]
        result = await ACTIONS[endpoint](
            store, app_id, request.path_params.get("agent_id", ""), request
        )
    except ApiFailure as failure:
        return _error_response(failure)
    body = {} if result is None else result.model_dump(mode="json", exclude_none=True)
    return JSONResponse(body)


def _error_response(failure: ApiFailure) -> JSONResponse:
    """The API's error body, ``{"detail", "reason"}`` (plus any extra), with Retry-After if due."""
    body = wire.ErrorBody(detail=failure.detail, reason=failure.reason, **failure.extra)
    headers = {}
    if failure.retry_after is not None:
        headers["Retry-After"] = _seconds(failure.retry_after)
    return JSONResponse(body.model_dump(mode="json"), status_code=failure.status, headers=headers)


def _fault_response(fault: FaultSpec) -> Response:
    if fault.drop_connection or fault.status is None:
        return DroppedConnection()
    return _error_response(
        ApiFailure(
            status=fault.status,
            reason=fault.reason or reason_for(fault.status),
            detail=fault.detail or f"injected fault: HTTP {fault.status}",
            retry_after=fault.retry_after,
        )
    )


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --- parsing ---


async def _body(request: Request, model: type[Model]) -> Model:
    return _validated(model, await _json_object(request))


async def _json_object(request: Request, *, empty_ok: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if empty_ok and not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ApiFailure(
            status=400,
            reason=Reason.INVALID_REQUEST_BODY,
            detail="request body is not valid JSON",
        ) from exc
    if not isinstance(data, dict):
        raise ApiFailure(
            status=400,
            reason=Reason.INVALID_REQUEST_BODY,
            detail="request body must be a JSON object",
        )
    return data


def _params(request: Request, model: type[Model]) -> Model:
    return _validated(model, dict(request.query_params))


def _validated(model: type[Model], data: dict[str, Any]) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        missing = errors[0]["type"] == "missing"
        raise ApiFailure(
            status=400,
            reason=Reason.MISSING_REQUIRED_FIELD if missing else Reason.INVALID_FIELD_VALUE,
            detail="; ".join(_describe(error["loc"], error["msg"]) for error in errors),
        ) from exc


def _describe(loc: tuple[int | str, ...], message: str) -> str:
    message = message.removeprefix("Value error, ")
    return f"{'.'.join(str(part) for part in loc)}: {message}" if loc else message


# --- the ten endpoints ---


async def _join(store: AgentStore, app_id: str, _: str, request: Request) -> BaseModel:
    raw = await _json_object(request)
    body = _validated(wire.JoinRequest, raw)
    props = body.properties
    check_join_scope(request.state.token, channel=props.channel, uid=props.agent_rtc_uid)
    answer = store.join(app_id, body)
    emulator: Emulator = request.app.state.emulator
    emulator.record_join(region=store.region, app_id=app_id, agent_id=answer.agent_id, body=raw)
    return answer


async def _leave(store: AgentStore, app_id: str, agent_id: str, _: Request) -> None:
    store.leave(app_id, agent_id)


async def _update(store: AgentStore, app_id: str, agent_id: str, request: Request) -> BaseModel:
    return store.update(app_id, agent_id, await _body(request, wire.UpdateRequest))


async def _query(store: AgentStore, app_id: str, agent_id: str, _: Request) -> BaseModel:
    return store.query(app_id, agent_id)


async def _list(store: AgentStore, app_id: str, _: str, request: Request) -> BaseModel:
    return store.list_agents(app_id, _params(request, wire.ListQuery))


async def _speak(store: AgentStore, app_id: str, agent_id: str, request: Request) -> BaseModel:
    return store.speak(app_id, agent_id, await _body(request, wire.SpeakRequest))


async def _interrupt(store: AgentStore, app_id: str, agent_id: str, request: Request) -> BaseModel:
    # The SDK sends no body (Content-Length 0, JSON content type); the docs sample sends {}.
    await _json_object(request, empty_ok=True)
    return store.interrupt(app_id, agent_id)


async def _think(store: AgentStore, app_id: str, agent_id: str, request: Request) -> BaseModel:
    return store.think(app_id, agent_id, await _body(request, wire.ThinkRequest))


async def _history(store: AgentStore, app_id: str, agent_id: str, _: Request) -> BaseModel:
    return store.history(app_id, agent_id)


async def _turns(store: AgentStore, app_id: str, agent_id: str, request: Request) -> BaseModel:
    return store.turns(app_id, agent_id, _params(request, wire.TurnsQuery))


ACTIONS: dict[Endpoint, Action] = {
    Endpoint.JOIN: _join,
    Endpoint.LEAVE: _leave,
    Endpoint.UPDATE: _update,
    Endpoint.QUERY: _query,
    Endpoint.LIST: _list,
    Endpoint.SPEAK: _speak,
    Endpoint.INTERRUPT: _interrupt,
    Endpoint.THINK: _think,
    Endpoint.HISTORY: _history,
    Endpoint.TURNS: _turns,
}

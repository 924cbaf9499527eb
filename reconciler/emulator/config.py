"""How an emulator instance behaves: credentials, limits, switches for undocumented behaviour.

Each switch picks one side of an open question in the API notes (§17), so tests can pin the
reconciler against both readings. Only values live here, no behaviour. The demo credentials are
published on purpose: they are printed at start-up and let ``make demo`` run with no setup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from reconciler.agora import wire

DEMO_APP_ID: Final = "0de70a9e1c0de000000000000000a9e1"
DEMO_APP_CERTIFICATE: Final = "c0de0000000000000000000000000ce7"
DEMO_CUSTOMER_ID: Final = "demo-customer-id"
DEMO_CUSTOMER_SECRET: Final = "demo-customer-secret"

JoinStatus = Literal["RUNNING", "STARTING"]


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything an emulator needs to start; every field has the default a demo wants."""

    app_id: str = DEMO_APP_ID
    # More App IDs of the same account, served beside ``app_id`` with its credentials and
    # certificate: Agora's Customer ID and secret belong to the account, not to one project.
    more_app_ids: tuple[str, ...] = ()
    customer_id: str = DEMO_CUSTOMER_ID
    customer_secret: str = field(default=DEMO_CUSTOMER_SECRET, repr=False)
    app_certificate: str = field(default=DEMO_APP_CERTIFICATE, repr=False)
    quota: int = wire.DEFAULT_CONCURRENCY_QUOTA
    # §17 #2: by default a name is free again once its agent is terminal; strict never frees it.
    strict_names: bool = False
    # §17 #18: join answers RUNNING (docs example) or STARTING, flipping after starting_seconds.
    join_status: JoinStatus = "RUNNING"
    starting_seconds: float = 1.0
    stopping_seconds: float = 1.0
    # §17 #9: how long query still answers for a stopped agent.
    query_retention_seconds: float = 24 * 3600
    # §17 #3: whether a name conflict's 409 body carries the holder's ``agent_id``.
    conflict_body_includes_agent_id: bool = False
    # §15: reject a join without llm and tts unless preset, pipeline_id or mllm stands in.
    require_llm_and_tts: bool = False
    # §17 #13: the idle timer runs from join when the remote user never came.
    idle_timer_without_user: bool = True
    # Agora documents no maximum for list's ``limit`` (§7.5), so none by default; a number caps
    # each page, to pin a client against a server that pages smaller than asked.
    max_list_limit: int | None = None
    # §17 #14: a token bucket over all API calls, answering 429 with Retry-After when empty.
    rate_limit_per_second: float | None = None
    # A frozen clock moves only through ``/_emulator/clock``; otherwise it follows real time.
    frozen_clock: bool = False
    clock_start: float | None = None
    # Notification Center: where signed events go (none: not sent), and Agora-like retries.
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_retries: int = 3
    webhook_retry_seconds: float = 1.0

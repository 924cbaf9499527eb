"""A faithful local emulator of the Agora ConvoAI REST API v2, in-process (ASGI) or as a server.

Same paths, auth, bodies, statuses and error bodies as the real API (per the shared API notes),
a virtual clock, and ``/_emulator`` control routes for seeding, user presence and faults. It
imports nothing of reconciler but the wire contract, and nothing but the CLI imports it.
"""

from reconciler.emulator.app import create_app
from reconciler.emulator.config import (
    DEMO_APP_CERTIFICATE,
    DEMO_APP_ID,
    DEMO_CUSTOMER_ID,
    DEMO_CUSTOMER_SECRET,
    EmulatorConfig,
)
from reconciler.emulator.server import running_server, serve

__all__ = [
    "DEMO_APP_CERTIFICATE",
    "DEMO_APP_ID",
    "DEMO_CUSTOMER_ID",
    "DEMO_CUSTOMER_SECRET",
    "EmulatorConfig",
    "create_app",
    "running_server",
    "serve",
]

"""The command line: typer wiring only, one module per command group; no logic lives here.

``app`` holds the typer application and the entry point; ``fleet``, ``operator``, ``state``
and ``meta`` register their commands on it when imported. Only the entry points
(``reconciler``, ``python -m reconciler``) import this package; it may import every stage, and
no stage may import it.
"""

from reconciler.cli import fleet, meta, operator, state
from reconciler.cli.app import app, main

__all__ = ["app", "fleet", "main", "meta", "operator", "state"]

"""The long-lived controller (``reconciler run``): when to pass, and what the world sees of it.

``service`` is the process: its endpoints and its terms of leading (one at a time on a shared
state); ``controller`` runs single-flight passes for a term; ``triggers`` wake it (file
changes, resync, renewal deadlines); ``flap`` holds back agents that keep failing; ``health``
serves ``/healthz``, ``/readyz`` and ``/metrics``; ``metrics`` names the Prometheus series. The
pass itself is ``reconcile.apply_pass``: nothing here plans, applies or speaks to Agora. Only
the CLI imports this package.
"""

from reconciler.daemon.controller import Choose, Daemon, DaemonSettings, parse_duration, pass_runner
from reconciler.daemon.service import run_daemon

__all__ = ["Choose", "Daemon", "DaemonSettings", "parse_duration", "pass_runner", "run_daemon"]

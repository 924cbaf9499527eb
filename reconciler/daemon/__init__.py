"""The long-lived controller (``reconciler run``): when to pass, and what the world sees of it.

``controller`` runs single-flight passes and owns the lifecycle; ``process`` wires it to the real
state, clients and signals (``run_daemon``); ``endpoints`` is what the process keeps for its whole
life (HTTP, inbox, notifier) while ``replicas`` runs one ``Daemon`` per term of holding the state,
standing by between terms on a shared state; ``triggers`` wake it (file changes, resync, renewal
deadlines, signals); ``sourcing`` keeps the fleet in force from a local directory or a git source;
``webhooks`` lets a signed push fetch at once; ``flap`` holds back agents that keep failing;
``alerts`` decides what is worth a notification; ``health`` serves ``/healthz``, ``/readyz`` and
``/metrics``; ``metrics`` names the Prometheus series. The pass itself is
``reconcile.apply_pass``: nothing here plans, applies or speaks to Agora. Only the CLI imports this
package.
"""

from reconciler.clock import parse_duration
from reconciler.daemon.controller import Choose, Daemon, DaemonSettings
from reconciler.daemon.process import pass_runner, run_daemon

__all__ = ["Choose", "Daemon", "DaemonSettings", "parse_duration", "pass_runner", "run_daemon"]

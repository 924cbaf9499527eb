"""One pass, the edge shell around the pure stages: load → observe → plan → check → apply.

``planning`` runs a pass as far as the plan (``reconciler plan``, and the read-only commands);
``apply_pass`` runs the pass that acts, shared by ``reconciler apply`` and the daemon;
``connect`` opens each project's client; ``planfile`` saves and checks plans. It wires the
stages together and owns the state's lock while acting; it must not import ``daemon`` or
``cli``, and speaks to Agora only through ``agora``.
"""

from reconciler.reconcile.planning import (
    COMMENT_BREAK,
    EXIT_CHANGES,
    EXIT_REFUSED,
    PLAN_FORMATS,
    LoadFailed,
    Planned,
    color_wanted,
    fingerprint_secrets,
    held_back_message,
    observe_all,
    observe_and_plan,
    plan_command,
    plan_pass,
    waiting_message,
)

__all__ = [
    "COMMENT_BREAK",
    "EXIT_CHANGES",
    "EXIT_REFUSED",
    "PLAN_FORMATS",
    "LoadFailed",
    "Planned",
    "color_wanted",
    "fingerprint_secrets",
    "held_back_message",
    "observe_all",
    "observe_and_plan",
    "plan_command",
    "plan_pass",
    "waiting_message",
]

"""The apply stage: execute a plan against Agora and the state, safely, and report what happened.

``engine`` runs the plan's changes in order under bounded concurrency; ``joins`` and ``leaves``
are the two crash-safe calls, behind the ``intents`` ledger; ``steps`` gives each change its
context and log events; ``readiness`` polls an agent between calls; ``ratelimit`` gates every call
per project; ``payloads`` and ``rtc_tokens`` build what a join sends; ``archive`` saves a
transcript before a leave; ``report`` says what happened. It executes a plan it is handed: it must
not load manifests, observe the fleet or plan, and must not import ``reconcile``, ``daemon`` or
``cli``. It re-exports nothing, so that a pure reader of ``report`` does not load the engine.
"""

"""A deterministic stream of state mutations, run until killed, for the crash-safety test.

Mutation ``n`` depends only on ``n``, so the state after ``serial`` commits is known exactly: the
test replays the same stream on a memory store and compares. Run as a script, it opens the state
named on the command line, prints ``ready``, then applies mutations from the state's own serial
onwards, printing each new serial once it is committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reconciler.state import AgentRecord, Intent, IntentAction, StateStore, open_state

_SLOTS = 40
_STEPS_PER_CYCLE = 6


def _key(slot: int) -> str:
    return f"fleet/agent-{slot % _SLOTS:02d}"


def _record(*, n: int, slot: int) -> AgentRecord:
    """A record whose every field carries ``n``, with enough bulk to widen the write window."""
    return AgentRecord(
        key=_key(slot),
        project="fleet",
        remote_name=f"rc-{_key(slot).replace('/', '-')}-g{n}",
        generation=n,
        agent_id=f"agent-id-{n}",
        channel=f"channel-{slot % _SLOTS}",
        agent_rtc_uid=str(1000 + slot % _SLOTS),
        applied_properties={
            "n": n,
            "llm": {"params": {"model": f"model-{n}"}, "api_key": f"hmac:{n:08x}"},
            "system_messages": [{"role": "system", "content": f"turn {n} " * 200}],
        },
        spec_hash=f"sha256:{n:064x}",
        token_expires_at=float(n) + 86_400.0,
        created_at=float(n),
        updated_at=float(n) + 0.5,
        git_revision=f"rev-{n}",
        status_hint="RUNNING",
    )


def _intent(*, n: int, slot: int, action: IntentAction, intent_id: str) -> Intent:
    return Intent(
        id=intent_id,
        key=_key(slot),
        project="fleet",
        action=action,
        remote_name=f"rc-{_key(slot).replace('/', '-')}-g{n}",
        agent_id=None if action is IntentAction.JOIN else f"agent-id-{n}",
        channel=f"channel-{slot % _SLOTS}",
        created_at=float(n),
        payload={"n": n, "note": "x" * 500},
    )


def apply_mutation(store: StateStore, n: int) -> None:
    """Apply mutation ``n``: a join and a leave through intents, a batch, and plain puts."""
    cycle, step = divmod(n, _STEPS_PER_CYCLE)
    if step == 0:
        store.record_intent(
            _intent(n=n, slot=cycle, action=IntentAction.JOIN, intent_id=f"join-{cycle}")
        )
    elif step == 1:
        store.resolve_intent(f"join-{cycle}", put=_record(n=n, slot=cycle))
    elif step == 2:
        store.put_records([_record(n=n, slot=cycle + offset) for offset in (1, 2, 3)])
    elif step == 3:
        store.record_intent(
            _intent(n=n, slot=cycle + 1, action=IntentAction.LEAVE, intent_id=f"leave-{cycle}")
        )
    elif step == 4:
        store.resolve_intent(f"leave-{cycle}", delete_key=_key(cycle + 1))
    else:
        store.put_record(_record(n=n, slot=cycle))


def main(path: Path) -> None:
    """Mutate the state forever; the test ends this process with SIGKILL."""
    with open_state(path) as store:
        serial = store.snapshot().serial
        print("ready", flush=True)
        while True:
            apply_mutation(store, serial)
            serial += 1
            print(serial, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))

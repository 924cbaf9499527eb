#!/usr/bin/env bash
# `make demo`: the main job end to end against the built-in emulator, with nothing to configure.
# Starts the emulator on a free port, exports its demo credentials, then runs validate, plan,
# apply and status on the sample fleet, fails one agent and heals it, plans again (no changes),
# and stops the emulator.
# The state lives in a temporary directory, so every demo starts from an empty fleet.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

scratch=$(mktemp -d)
log="$scratch/emulator.log"
state="$scratch/state.db"
"$BIN/reconciler" emulator --port 0 >"$log" 2>&1 &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; rm -rf "$scratch"' EXIT

url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^emulator listening on \(http:\/\/[^ ]*\)$/\1/p' "$log" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$emulator_pid" 2>/dev/null || { cat "$log"; echo "the emulator did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$log"; echo "the emulator did not report its address" >&2; exit 1; }

# The emulator prints an `export` line with its (public, demo-only) credentials and address.
eval "$(sed -n 's/^  export /export /p' "$log" | head -n 1)"
# The emulator never calls the LLM or TTS vendors; these placeholders only fill the references.
export OPENAI_API_KEY="demo-openai-key-not-used"
export AZURE_TTS_KEY="demo-azure-tts-key-not-used"

step() {
  echo
  echo "────────────────────────────────────────────────────────────────────────────"
  echo "\$ $*"
  echo
}

echo "Emulator of the Agora ConvoAI API running at $url"

step reconciler validate fleet/
"$BIN/reconciler" validate fleet/

step reconciler plan fleet/
"$BIN/reconciler" plan fleet/ --state "$state"

step reconciler apply fleet/ --auto-approve
"$BIN/reconciler" apply fleet/ --auto-approve --state "$state" --log-level warning

step reconciler status fleet/
"$BIN/reconciler" status fleet/ --state "$state"

# Healing: the emulator fails one agent, as an LLM outage would; the plan re-creates it.
lobby=$("$BIN/reconciler" status fleet/ --state "$state" -o json | "$BIN/python" -c \
  'import json, sys; print(next(a["agent_id"] for a in json.load(sys.stdin)["agents"] if a["key"] == "demo/lobby-concierge"))')
"$BIN/python" -c 'import sys, httpx; httpx.post(f"{sys.argv[1]}/_emulator/agents/{sys.argv[2]}/fail", json={"message": "LLM connection lost"}).raise_for_status()' "$url" "$lobby"
echo
echo "(the emulator just failed demo/lobby-concierge's agent $lobby: \"LLM connection lost\")"

step reconciler plan fleet/
"$BIN/reconciler" plan fleet/ --state "$state"

step reconciler apply fleet/ --auto-approve
"$BIN/reconciler" apply fleet/ --auto-approve --state "$state" --log-level warning

step reconciler plan fleet/
"$BIN/reconciler" plan fleet/ --state "$state"

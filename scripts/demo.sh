#!/usr/bin/env bash
# `make demo`: start the built-in emulator on a free port, run the main job against it, stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

log=$(mktemp)
"$BIN/reconciler" emulator --port 0 >"$log" 2>&1 &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; rm -f "$log"' EXIT

url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^emulator listening on \(http:\/\/[^ ]*\)$/\1/p' "$log" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$emulator_pid" 2>/dev/null || { cat "$log"; echo "the emulator did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$log"; echo "the emulator did not report its address" >&2; exit 1; }
echo "Emulator of the Agora ConvoAI API running at $url"
echo

export AGORA_API_URL="$url"
"$BIN/python" scripts/demo_round.py

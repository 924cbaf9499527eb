#!/usr/bin/env bash
# The PostgreSQL state tests start a throw-away server of their own from Debian's binaries
# (tests/conftest.py); install them when missing. Idempotent: does nothing when initdb is there.
set -euo pipefail
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null; then
    exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
echo "installing PostgreSQL (Debian's postgresql package) for the state tests" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null

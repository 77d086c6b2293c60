#!/usr/bin/env bash
# The demo: three Codex threads running turns at once on one client, from C.
# Offline by default: the pinned codex runtime and the mock model on loopback.
# CODEX_DEMO_REAL=1 uses your own codex (CODEX_BIN, else `codex` on PATH, else the pinned one)
# with your own configuration and model instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
demo="$root/build/concurrent_turns"
if [ "${CODEX_DEMO_REAL:-0}" = "1" ]; then
  if [ -z "${CODEX_BIN:-}" ]; then
    CODEX_BIN=$(command -v codex || "$root/scripts/install-runtime.sh")
  fi
  export CODEX_BIN
  echo "demo: your codex ($CODEX_BIN) with your configuration and model"
  exec "$demo"
fi
exec "$root/scripts/run-offline.sh" "$root/examples/demo_script.json" "$demo"

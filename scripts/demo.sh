#!/usr/bin/env bash
# The demo: three Codex threads running turns at once on one client, from C.
# Offline by default: the pinned codex runtime and the mock model on loopback.
# CODEX_DEMO_REAL=1 uses your own codex (CODEX_BIN, else `codex` on PATH, else the pinned one)
# with your own configuration and model instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
demo="$root/build/concurrent_turns"
codex=$("$root/scripts/install-runtime.sh")
runtime=$(dirname "$(dirname "$codex")")

if [ "${CODEX_DEMO_REAL:-0}" = "1" ]; then
  if [ -z "${CODEX_BIN:-}" ]; then
    CODEX_BIN=$(command -v codex || echo "$codex")
  fi
  export CODEX_BIN
  echo "demo: your codex ($CODEX_BIN) with your configuration and model"
  exec "$demo"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/codex-demo.XXXXXX")
mock_pid=
cleanup() {
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/tmp" "$work/workspace"
# The mock model exits by itself when this script's pipe to it closes.
exec 3> >(exec python3 "$root/tools/mock_model/mock_model.py" --script "$root/examples/demo_script.json" \
  --write-codex-home "$work/home" --exit-on-stdin-eof --idle-exit 300 > "$work/port")
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
mock_pid=$(pgrep -f "mock_model.py --script $root/examples/demo_script.json --write-codex-home $work/home" || true)
echo "demo: codex $("$codex" --version 2>/dev/null | awk '{print $2}' || true) (pinned runtime), mock model on 127.0.0.1:$(cat "$work/port")"

export CODEX_BIN="$codex"
export CODEX_HOME="$work/home" TMPDIR="$work/tmp" RUST_LOG=warn CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG=1
export PATH="$runtime/codex-path:$runtime/codex-resources:$PATH"
unset OPENAI_API_KEY
cd "$work/workspace"
"$demo"

#!/usr/bin/env bash
# Runs a command against the pinned codex runtime and the mock model, offline:
#   scripts/run-offline.sh SCRIPT.json COMMAND [ARGS...]
# The command gets CODEX_BIN, a fresh CODEX_HOME pointing at the mock, and its own TMPDIR and
# working directory; everything is removed afterwards. Its exit status is returned.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
script=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
codex=$("$root/scripts/install-runtime.sh")
runtime=$(dirname "$(dirname "$codex")")

work=$(mktemp -d "${TMPDIR:-/tmp}/codex-offline.XXXXXX")
trap 'exec 3>&-; rm -rf "$work"' EXIT
mkdir -p "$work/tmp" "$work/workspace"
# The mock model exits by itself when this script's pipe to it (fd 3) closes.
exec 3> >(exec python3 "$root/tools/mock_model/mock_model.py" --script "$script" \
  --write-codex-home "$work/home" --exit-on-stdin-eof --idle-exit 300 > "$work/port")
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { echo "the mock model did not start" >&2; exit 1; }
echo "offline: codex $("$codex" --version 2>/dev/null | awk '{print $2}') (pinned runtime), mock model on 127.0.0.1:$(cat "$work/port")" >&2

export CODEX_BIN="$codex"
export CODEX_HOME="$work/home" TMPDIR="$work/tmp" RUST_LOG=warn CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG=1
export PATH="$runtime/codex-path:$runtime/codex-resources:$PATH"
unset OPENAI_API_KEY
cd "$work/workspace"
status=0
"$@" || status=$?
exit $status

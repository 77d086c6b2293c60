#!/usr/bin/env bash
# Runs COMMAND while a real codex app-server listens on ws://127.0.0.1 with a capability token:
#   scripts/run-offline.sh SCRIPT.json scripts/with-ws-server.sh COMMAND [ARGS...]
# The server is $CODEX_BIN (run-offline.sh sets it, with CODEX_HOME); COMMAND gets CODEX_URL and
# CODEX_AUTH_TOKEN. The server is stopped when COMMAND ends; COMMAND's status is returned.
set -euo pipefail
dir=$(mktemp -d "${TMPDIR:-/tmp}/ws-server.XXXXXX")
token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '%s' "$token" > "$dir/token"
"$CODEX_BIN" app-server --listen ws://127.0.0.1:0 --ws-auth capability-token \
  --ws-token-file "$dir/token" 2> "$dir/stderr" < /dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
url=
for _ in $(seq 600); do
  url=$(sed -n 's/.*listening on: \(ws:[^ ]*\).*/\1/p' "$dir/stderr" | head -1)
  [ -n "$url" ] && break
  kill -0 $server 2>/dev/null || break
  sleep 0.05
done
[ -n "$url" ] || { echo "the app-server did not say where it listens:" >&2; cat "$dir/stderr" >&2; exit 1; }
export CODEX_URL=$url CODEX_AUTH_TOKEN=$token
status=0
"$@" || status=$?
exit $status

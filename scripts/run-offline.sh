#!/usr/bin/env bash
# Runs a command against the pinned codex runtime and the mock model, offline:
#   scripts/run-offline.sh [--windows] SCRIPT.json COMMAND [ARGS...]
# CODEX_TEST_BIN=PATH runs another codex binary instead of the pinned one (a runtime laid out
# as scripts/install-runtime.sh VERSION installs it; `make test-compat`).
# The command gets CODEX_BIN, a fresh CODEX_HOME pointing at the mock, and its own TMPDIR and
# working directory; everything is removed afterwards. Its exit status is returned.
# --windows: COMMAND is a Windows program run under wine with the pinned Windows codex.exe
# (paths given to it as Windows paths); the mock model stays on this machine's loopback. The
# test-only ProcessPrng shim (build/windows/bcryptprimitives.dll, see tests/windows/) is put
# beside codex.exe and COMMAND.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
windows=0
if [ "${1:-}" = --windows ]; then windows=1; shift; fi
script=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
if [ $windows = 1 ]; then
  codex=$("$root/scripts/install-runtime.sh" windows)
  shim="$root/build/windows/bcryptprimitives.dll"
  [ -f "$shim" ] || { echo "$shim is missing (make windows-shim)" >&2; exit 1; }
  program=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  cp -f "$shim" "$(dirname "$codex")/"
  [ "$(dirname "$program")" -ef "$(dirname "$shim")" ] || cp -f "$shim" "$(dirname "$program")/"
  shift
  set -- wine "$program" "$@"
  export WINEDEBUG=${WINEDEBUG:--all}
else
  codex=${CODEX_TEST_BIN:-$("$root/scripts/install-runtime.sh")}
fi
runtime=$(dirname "$(dirname "$codex")")

work=$(mktemp -d "${TMPDIR:-/tmp}/codex-offline.XXXXXX")
trap 'exec 3>&-; rm -rf "$work"' EXIT
mkdir -p "$work/tmp" "$work/workspace"
# The mock model exits by itself when this script's pipe to it (fd 3) closes.
exec 3> >(exec python3 "$root/tools/mock_model/mock_model.py" --script "$script" \
  --write-codex-home "$work/home" --exit-on-stdin-eof --idle-exit 300 > "$work/port")
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { echo "the mock model did not start" >&2; exit 1; }
echo "offline: $(basename "$(dirname "$runtime")") ($([ $windows = 1 ] && echo codex.exe || "$codex" --version)), mock model on 127.0.0.1:$(cat "$work/port")" >&2

export CODEX_BIN="$codex"
export CODEX_HOME="$work/home" TMPDIR="$work/tmp" RUST_LOG=warn CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG=1
if [ $windows = 1 ]; then
  CODEX_BIN=$(winepath -w "$codex" 2>/dev/null)
  CODEX_HOME=$(winepath -w "$work/home" 2>/dev/null)
fi
export PATH="$runtime/codex-path:$runtime/codex-resources:$PATH"
unset OPENAI_API_KEY
cd "$work/workspace"
status=0
"$@" || status=$?
exit $status

#!/usr/bin/env bash
# The flood benchmark over each transport in one run, side by side:
#   bench/transports.sh BENCH_EVENTS FAKE_SERVER WS_FLOOD_SERVER
# For 1, 10 and 100 concurrent turns (1,000,000 deltas in all per run): stdio (the scripted
# fake spawned as the app-server), ws:// on 127.0.0.1 and unix:// (bench/ws_flood_server.rs,
# started here, serving one client). Prints each run, then events/s with ratios to stdio.
set -euo pipefail
bench=$1 fake=$2 server=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/codex-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

rate() { sed -n 's/.*events\/s=\([0-9]*\).*/\1/p' <<<"$1"; }

# remote LISTEN TURNS DELTAS: starts the flood server, runs the benchmark against it.
remote() {
  : >"$tmp/url"
  "$server" "$1" "$2" "$3" >"$tmp/url" &
  local pid=$! url=""
  for _ in $(seq 500); do
    url=$(head -n1 "$tmp/url")
    [ -n "$url" ] && break
    sleep 0.02
  done
  [ -n "$url" ] || { echo "the flood server did not start" >&2; kill "$pid"; return 1; }
  "$bench" flood poll "$url" "$2" "$3"
  wait "$pid"
}

declare -A result
for n in 1 10 100; do
  d=$((1000000 / n))
  out=$("$bench" flood poll "$fake" "$n" "$d"); echo "stdio    $out"; result[stdio,$n]=$(rate "$out")
  out=$(remote "ws://127.0.0.1:0" "$n" "$d"); echo "ws://    $out"; result[ws,$n]=$(rate "$out")
  out=$(remote "unix://$tmp/flood.sock" "$n" "$d"); echo "unix://  $out"; result[unix,$n]=$(rate "$out")
done

echo
echo "events/s by transport (1,000,000 deltas per run; ratio to stdio in brackets)"
printf '%-6s %12s %22s %22s\n' turns stdio ws:// unix://
for n in 1 10 100; do
  s=${result[stdio,$n]} w=${result[ws,$n]} u=${result[unix,$n]}
  printf '%-6s %12s %14s (%5sx) %14s (%5sx)\n' "$n" "$s" \
    "$w" "$(awk -v a="$w" -v b="$s" 'BEGIN{printf "%.2f", a/b}')" \
    "$u" "$(awk -v a="$u" -v b="$s" 'BEGIN{printf "%.2f", a/b}')"
done

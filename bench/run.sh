#!/usr/bin/env bash
# `make bench`: every figure of the event benchmark in one run, side by side.
#   bench/run.sh BENCH_EVENTS FLOOD_FLOOR PACED_SERVER FAKE_SERVER SDK_DIR LATENCY_FLOOR
# 1. Throughput, the flood of the scripted fake (1,000,000 deltas in all per run) at 1, 10, 100,
#    1,000 and 10,000 concurrent turns: the raw pipe, a serde_json::Value parse (one thread, the
#    floor), the same parse passing each delta on to its turn's own blocked thread (what waking
#    a thread per turn costs, with nothing else), this library polling (a pthread per turn), with callbacks (the worker
#    pool), and polled from one event loop (codex_client_event_fd); each size's runs back to
#    back, ROUNDS times (default 3; the median is printed).
# 2. Delivery latency at a paced rate (bench/paced_server.c stamps each delta with
#    CLOCK_MONOTONIC, the consumer subtracts): 100 turns, 100,000 events/s, the three modes
#    beside four floors without the library (bench/latency_floor.c: one thread reading the
#    pipe; a reader handing stamps to a second thread, the shape of callbacks; the same with
#    the second thread woken through an eventfd it polls, the shape of the event loop; a reader
#    handing each turn's stamps to that turn's thread, the shape of polling with a pthread per
#    turn), LAT_ROUNDS times (default 3): on a shared machine the tail varies
#    from run to run, for the floors as much as for the library.
# 3. Idle turns: heap and RSS per open, quiet turn, and the process's threads, both modes.
# 4. The official Python SDK on the same fake, when installed in SDK_DIR (make bench-startup
#    installs it), with fewer events: it is slow.
set -euo pipefail
bench=$1 floor=$2 paced=$3 fake=$4 sdk=$5 lat_floor=$6
ROUNDS=${ROUNDS:-3}
SIZES=${SIZES:-"1 10 100 1000 10000"}
TOTAL=${TOTAL:-1000000}

rate() { local r; r=$(sed -n 's/.*events\/s=\([0-9]*\).*/\1/p' <<<"$1"); echo "${r:-0}"; }
# One run; a failed one prints its error and counts as 0 events/s instead of ending the run.
run() { "$@" 2>&1 | grep -v '^fake: flood' || true; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
median() { tr ' ' '\n' <<<"$*" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

echo "machine: $(nproc) cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), shared;" \
  "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== 1. throughput: the flood, $TOTAL deltas per run, every delta checked =="
declare -A r
# The runs with a thread per turn come after the others: on this VM a process of 10,000 threads
# slowed the multi-threaded runs that followed it for 10-20 s (callbacks at 10,000 turns: 2.0M
# events/s before a polling run, 0.8M just after, 1.5-2.0M 5-25 s later).
for n in $SIZES; do
  d=$((TOTAL / n))
  for round in $(seq "$ROUNDS"); do
    out=$(run "$floor" raw "$fake" "$n" "$d"); echo "raw pipe      $out"; r[raw,$n]+=" $(rate "$out")"
    out=$(run "$floor" value "$fake" "$n" "$d"); echo "Value floor   $out"; r[value,$n]+=" $(rate "$out")"
    out=$(run "$bench" flood callback "$fake" "$n" "$d"); echo "library       $out"; r[callback,$n]+=" $(rate "$out")"
    out=$(run "$bench" flood loop "$fake" "$n" "$d"); echo "library       $out"; r[loop,$n]+=" $(rate "$out")"
  done
done
for n in $SIZES; do
  d=$((TOTAL / n))
  for round in $(seq "$ROUNDS"); do
    out=$(run "$floor" threads "$fake" "$n" "$d"); echo "Value+threads $out"; r[threads,$n]+=" $(rate "$out")"
    out=$(run "$bench" flood poll "$fake" "$n" "$d"); echo "library       $out"; r[poll,$n]+=" $(rate "$out")"
  done
done
echo
echo "events/s (median of $ROUNDS); in brackets: ratio to the Value floor of the same size."
echo "Value+threads: the Value parse passing each delta to a blocked thread of its turn (no library);"
echo "poll: a pthread per turn; callback: the library's workers; loop: one pthread polls every turn (event fd)"
printf '%-7s %12s %12s %21s %21s %21s %21s\n' turns "raw pipe" "Value floor" "Value+threads" "library poll" \
  "library callback" "library loop"
for n in $SIZES; do
  raw=$(median ${r[raw,$n]}) val=$(median ${r[value,$n]}) thr=$(median ${r[threads,$n]})
  poll=$(median ${r[poll,$n]}) cb=$(median ${r[callback,$n]}) lp=$(median ${r[loop,$n]})
  printf '%-7s %12s %12s %12s (%5sx) %12s (%5sx) %12s (%5sx) %12s (%5sx)\n' "$n" "$raw" "$val" \
    "$thr" "$(ratio "$thr" "$val")" "$poll" "$(ratio "$poll" "$val")" "$cb" "$(ratio "$cb" "$val")" \
    "$lp" "$(ratio "$lp" "$val")"
  first_poll=${first_poll:-$poll} first_cb=${first_cb:-$cb} first_lp=${first_lp:-$lp}
  last_poll=$poll last_cb=$cb last_lp=$lp
done
echo "flatness (largest size / 1 turn): poll $(ratio "$last_poll" "$first_poll")x," \
  "callback $(ratio "$last_cb" "$first_cb")x, loop $(ratio "$last_lp" "$first_lp")x"

echo
# After the 10,000-thread runs, the machine settles first (see above).
sleep "${SETTLE_S:-30}"
echo "== 2. delivery latency: 100 turns, 100,000 events/s paced, 300,000 deltas (first 10% of each turn not counted) =="
echo "(pacer=: how late the paced server's own writes were against their due times: the machine's noise)"
declare -A lat
for round in $(seq "${LAT_ROUNDS:-3}"); do
  for mode in read handoff fd threads; do
    out=$("$lat_floor" "$mode" "$paced" 100 100000 300000 2>&1); echo "$out"
    for q in p50 p99 p999; do lat[floor-$mode,$q]+=" $(field " ${q}_us" "$out")"; done
  done
  for mode in poll callback loop; do
    out=$("$bench" latency "$mode" "$paced" 100 100000 300000 2>&1 | grep -v '^$'); echo "$out"
    for q in p50 p99 p999; do lat[$mode,$q]+=" $(field " ${q}_us" "$out")"; done
  done
done
echo
echo "latency in us (median of ${LAT_ROUNDS:-3} rounds). The floors use no library: read, one thread;"
echo "handoff, a reader and a second thread; fd, the same woken through a polled eventfd; threads,"
echo "a reader and a thread per turn. Each mode's p99 beside that of the floor of its shape"
echo "(poll: threads; callback: handoff; loop: fd)."
printf '%-16s %9s %9s %9s %18s\n' "" p50 p99 p99.9 "p99 / its floor's"
for mode in floor-read floor-handoff floor-fd floor-threads poll callback loop; do
  p50=$(median ${lat[$mode,p50]}) p99=$(median ${lat[$mode,p99]}) p999=$(median ${lat[$mode,p999]})
  case $mode in
    floor-*) vs="" ;;
    poll) vs="$(ratio "$p99" "$(median ${lat[floor-threads,p99]})")x" ;;
    loop) vs="$(ratio "$p99" "$(median ${lat[floor-fd,p99]})")x" ;;
    *) vs="$(ratio "$p99" "$(median ${lat[floor-handoff,p99]})")x" ;;
  esac
  printf '%-16s %9s %9s %9s %18s\n' "$mode" "$p50" "$p99" "$p999" "$vs"
done

echo "== 3. idle turns: 10,000 open, quiet turns (the fake's silent scenario) =="
for mode in poll callback; do
  "$bench" idle "$mode" "$fake" 10000
done

echo
echo "== 4. the official Python SDK (openai-codex 0.163.0) on the same fake =="
if [ -d "$sdk/openai_codex" ]; then
  for spec in "1 20000" "10 2000" "100 200" "1000 5"; do
    set -- $spec
    out=$(PYTHONPATH=$sdk timeout 600 python3 "$(dirname "$0")/flood_python_sdk.py" "$fake" "$1" "$2" 2>&1 | tail -1)
    lib=$(median ${r[poll,$1]:-0})
    echo "$out  (library poll at $1 turns: $(ratio "$lib" "$(rate "$out")")x faster)"
  done
else
  echo "not installed in $sdk (make bench-startup installs it): skipped"
fi

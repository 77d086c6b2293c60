#!/usr/bin/env bash
# `make bench`, section 5: start N turns from one thread and consume them (issue 23), the clock
# including the starts. For each N: the floor (bench/flood_floor.rs `starts`: a Value parse of
# the same lines, every turn/start written at once), the library with blocking starts
# (codex_turn_start, one round trip after another) and with asynchronous ones
# (codex_turn_start_async), all from one thread driving one poll loop (bench/start_turns.c);
# back to back, ROUNDS times (median printed), 20 deltas per turn.
#   bench/starts.sh START_TURNS FLOOD_FLOOR FAKE_SERVER
set -euo pipefail
bench=$1 floor=$2 fake=$3
ROUNDS=${ROUNDS:-3}
START_SIZES=${START_SIZES:-"1000 10000"}
DELTAS=${START_DELTAS:-20}

rate() { local r; r=$(sed -n 's/.*events\/s=\([0-9]*\).*/\1/p' <<<"$1"); echo "${r:-0}"; }
run() { "$@" 2>&1 | grep -v '^fake: flood' || true; }
median() { tr ' ' '\n' <<<"$*" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

echo "== 5. start N turns from one thread and consume them: $DELTAS deltas a turn, the clock includes the starts =="
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A r
for n in $START_SIZES; do
  for round in $(seq "$ROUNDS"); do
    out=$(run "$floor" starts "$fake" "$n" "$DELTAS"); echo "floor    $out"; r[floor,$n]+=" $(rate "$out")"
    out=$(run "$bench" blocking "$fake" "$n" "$DELTAS"); echo "library  $out"; r[blocking,$n]+=" $(rate "$out")"
    out=$(run "$bench" async "$fake" "$n" "$DELTAS"); echo "library  $out"; r[async,$n]+=" $(rate "$out")"
  done
done
echo
echo "events/s (median of $ROUNDS); in brackets: ratio to the floor of the same size"
printf '%-7s %12s %21s %21s\n' turns "Value floor" "blocking starts" "async starts"
for n in $START_SIZES; do
  fl=$(median ${r[floor,$n]}) bl=$(median ${r[blocking,$n]}) as=$(median ${r[async,$n]})
  printf '%-7s %12s %12s (%5sx) %12s (%5sx)\n' "$n" "$fl" "$bl" "$(ratio "$bl" "$fl")" "$as" "$(ratio "$as" "$fl")"
done

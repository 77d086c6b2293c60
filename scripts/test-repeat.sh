#!/usr/bin/env bash
# Runs the C/C++ tests (under valgrind when installed) and the Rust tests N times, to show the
# suite does not flake:
#   scripts/test-repeat.sh N
# `make test-repeat N=10` builds everything and calls this with, in the environment: CARGO,
# VALGRIND (the valgrind command line, empty for none), FAKE (the fake app-server), BUILD (the
# build folder) and C_TESTS (the C/C++ test programs in it).
# In each round the C/C++ programs (one after another) and `cargo test --tests` run side by
# side. One line per round, then a summary line; every round runs even after a failure, and the
# exit status is 1 when any round failed. Each round's output is kept in
# $BUILD/test-repeat/round-K/ (c.log, rust.log).
set -uo pipefail
set -m # every background job in its own process group, so an interrupted run can stop it whole

n=${1:-10}
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 N (a positive number of rounds)" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CARGO=${CARGO:-cargo}
BUILD=${BUILD:-build}
FAKE=${FAKE:-$root/target/release/fake_app_server}
VALGRIND=${VALGRIND-}
read -r -a c_tests <<< "${C_TESTS:-concurrent_turns_test bad_input_test failure_test callbacks_test raii_test}"
logs=$BUILD/test-repeat
rm -rf "$logs"
mkdir -p "$logs"

jobs_running=()
stop() {
  for pid in "${jobs_running[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  echo "test-repeat: interrupted" >&2
  exit 130
}
trap stop INT TERM

# The Rust test programs are built once, before the rounds, so no round waits for a build.
if ! $CARGO test --release --tests --no-run >"$logs/build.log" 2>&1; then
  cat "$logs/build.log"
  echo "test-repeat: the Rust tests do not build"
  exit 1
fi
for t in "${c_tests[@]}"; do
  [ -x "$BUILD/$t" ] || { echo "test-repeat: $BUILD/$t is not built (run it through make)"; exit 1; }
done

# The C/C++ programs, one after another; "PASS: name" or "FAILED: name" for each.
run_c() {
  for t in "${c_tests[@]}"; do
    echo "=== $t"
    if CODEX_FAKE_SERVER=$FAKE timeout 300 $VALGRIND "$BUILD/$t"; then
      echo "PASS: $t"
    else
      echo "FAILED: $t (exit status $?)"
    fi
  done
}

passed_rounds=0
for round in $(seq "$n"); do
  dir=$logs/round-$round
  mkdir -p "$dir"
  started=$EPOCHREALTIME
  run_c >"$dir/c.log" 2>&1 &
  c_pid=$!
  $CARGO test --release --tests --no-fail-fast >"$dir/rust.log" 2>&1 &
  rust_pid=$!
  jobs_running=("$c_pid" "$rust_pid")
  wait "$c_pid"
  wait "$rust_pid"
  rust_status=$?
  jobs_running=()
  seconds=$(awk -v from="$started" -v to="$EPOCHREALTIME" 'BEGIN {printf "%.1f", to - from}')

  c_passed=$(grep -c '^PASS: ' "$dir/c.log")
  c_failed=$(sed -n 's/^FAILED: \([^ ]*\).*/\1/p' "$dir/c.log" | tr '\n' ' ')
  rust_passed=$(awk '/^test result:/ {n += $4} END {print n + 0}' "$dir/rust.log")
  rust_failed=$(sed -n 's/^test \(.*\) \.\.\. FAILED$/\1/p' "$dir/rust.log" | tr '\n' ' ')
  if [ "$rust_status" -ne 0 ] && [ -z "$rust_failed" ]; then
    rust_failed="(cargo test exit status $rust_status) "
  fi
  counts="c/c++ $c_passed of ${#c_tests[@]}, rust $rust_passed passed"
  if [ -z "$c_failed$rust_failed" ] && [ "$c_passed" -eq "${#c_tests[@]}" ]; then
    passed_rounds=$((passed_rounds + 1))
    printf 'test-repeat: round %d of %d passed in %s s (%s)\n' "$round" "$n" "$seconds" "$counts"
  else
    printf 'test-repeat: round %d of %d FAILED in %s s (%s): %s(logs: %s)\n' "$round" "$n" \
      "$seconds" "$counts" "$c_failed$rust_failed" "$dir"
  fi
done
echo "test-repeat: $passed_rounds of $n rounds passed"
[ "$passed_rounds" -eq "$n" ]

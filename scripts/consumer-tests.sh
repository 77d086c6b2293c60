#!/usr/bin/env bash
# Builds, against an installed prefix, what users of each kind of build would, and runs each
# against the scripted fake app-server:
#   - a CMake project (find_package, the shared and the static target; a too-new version refused)
#   - a pkg-config project (shared and static)
#   - a Go module outside the binding's (vet, build, and its test under -race)
#   - the Python example through ctypes
#   - the C++ example (std::thread and lambdas)
#   scripts/consumer-tests.sh PREFIX FAKE WORKDIR PASSED_FILE
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=$1
fake=$2
work=$3
passed_file=$4
rm -rf "$work" && mkdir -p "$work"
export CODEX_BIN="$fake" PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
soname=$(readelf -d "$prefix/lib/libcodex_app_server.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
pass=0
fail=0

# check NAME COMMAND...: runs it, quiet unless it fails; counts.
check() {
  local name=$1
  shift
  local out
  if out=$("$@" 2>&1); then
    pass=$((pass + 1))
    echo "  ok: $name${out:+ — $(echo "$out" | tail -1)}"
  else
    fail=$((fail + 1))
    echo "$out" | tail -40
    echo "FAILED: $name"
  fi
}

# links_shared BINARY: it loads the shared library by its soname.
links_shared() { readelf -d "$1" | grep -q "NEEDED.*\[$soname\]"; }
links_static() { ! readelf -d "$1" | grep -q 'NEEDED.*libcodex_app_server'; }

echo "consumers of $prefix (version $version, soname $soname):"

# CMake
if command -v cmake >/dev/null; then
  cm="$work/cmake"
  check "cmake: configure and build" bash -c "cmake -S '$root/tests/consumers/cmake' -B '$cm' \
    -DCMAKE_PREFIX_PATH='$prefix' -DCMAKE_BUILD_TYPE=Release >'$cm.log' 2>&1 \
    && cmake --build '$cm' >>'$cm.log' 2>&1 || { cat '$cm.log'; exit 1; }"
  check "cmake: shared target, a turn" bash -c "'$cm/consumer_shared' cmake-shared && $(declare -f links_shared); soname=$soname; links_shared '$cm/consumer_shared'"
  check "cmake: static target, a turn" bash -c "'$cm/consumer_static' cmake-static && $(declare -f links_static); links_static '$cm/consumer_static'"
  # The version file's policy: before 1.0 another minor release is another ABI.
  next_minor=$(echo "$version" | awk -F. '{print $1 "." $2 + 1}')
  check "cmake: find_package($next_minor) refused" bash -c "mkdir -p '$work/cmake-v' && printf '%s\n' \
    'cmake_minimum_required(VERSION 3.16)' 'project(v C)' 'find_package(codex_app_server $next_minor REQUIRED)' \
    > '$work/cmake-v/CMakeLists.txt' && ! cmake -S '$work/cmake-v' -B '$work/cmake-v/b' -DCMAKE_PREFIX_PATH='$prefix' >/dev/null 2>&1"
else
  echo "  skipped: the CMake consumer (cmake is not installed; .ci/run installs it)"
fi

# pkg-config
check "pkg-config: version $version" bash -c "[ \"\$(pkg-config --modversion codex_app_server)\" = '$version' ]"
check "pkg-config: build" make -s -C "$root/tests/consumers/pkgconfig" O="$work"
check "pkg-config: shared, a turn" bash -c "'$work/consumer_shared' pkgconfig-shared && $(declare -f links_shared); soname=$soname; links_shared '$work/consumer_shared'"
check "pkg-config: static, a turn" bash -c "'$work/consumer_static' pkgconfig-static && $(declare -f links_static); links_static '$work/consumer_static'"

# Go: a module of its own, the binding found by its module path (replace: this checkout) and
# the C library through pkg-config.
if command -v go >/dev/null; then
  export CGO_LDFLAGS="-Wl,-rpath,$prefix/lib"
  check "go: vet" bash -c "cd '$root/tests/consumers/go' && go vet ./..."
  check "go: build and run" bash -c "cd '$root/tests/consumers/go' && go build -o '$work/go-consumer' . && '$work/go-consumer'"
  check "go: test -race" bash -c "cd '$root/tests/consumers/go' && go test -race -count=1 ./..."
else
  echo "  skipped: the Go consumer (go is not installed)"
fi

# Python through ctypes, on the installed shared library.
check "python: ctypes example" env CODEX_APP_SERVER_LIB="$prefix/lib/libcodex_app_server.so" \
  python3 "$root/examples/python/concurrent_turns.py"

# C++: the example, built as a user would with pkg-config.
cxx=${CXX:-c++}
check "c++: example" bash -c "$cxx -std=c++17 -Wall -Wextra -Werror -pedantic -O2 \
  -o '$work/cpp-example' '$root/examples/cpp/concurrent_turns.cpp' \
  \$(pkg-config --cflags --libs codex_app_server) -Wl,-rpath,'$prefix/lib' -pthread && '$work/cpp-example'"

echo "consumers: $pass passed, $fail failed"
echo $pass > "$passed_file"
[ $fail -eq 0 ]

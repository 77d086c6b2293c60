#!/usr/bin/env bash
# The ABI guard: the shared library must export exactly the symbols listed in
# abi/codex_app_server.symbols, all declared in the header, under the soname that the version in
# Cargo.toml gives (build.rs: 0.MINOR before 1.0, then MAJOR).
#   scripts/check-abi.sh LIBRARY.so HEADER
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lib=$1
header=$2
list="$root/abi/codex_app_server.symbols"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

nm -D --defined-only "$lib" | awk '{print $3}' | sort -u > "$work/exported"
grep -v -e '^#' -e '^[[:space:]]*$' "$list" | sort -u > "$work/listed"
# Function declarations of the header (not the callback typedefs).
grep -E '^[a-z].*[ *]codex_[a-z0-9_]+\(' "$header" | grep -v '^typedef' \
  | sed -E 's/.*[ *](codex_[a-z0-9_]+)\(.*/\1/' | sort -u > "$work/declared"

fail=0
removed=$(comm -23 "$work/listed" "$work/exported")
if [ -n "$removed" ]; then
  fail=1
  echo "ABI break: listed in abi/codex_app_server.symbols but no longer exported:"
  echo "$removed" | sed 's/^/  /'
  echo "  Programs linked against this soname call these. Keep them, or follow the soname"
  echo "  policy in README.md (a new major version) and then take them off the list."
fi
added=$(comm -13 "$work/listed" "$work/exported")
if [ -n "$added" ]; then
  fail=1
  echo "exported but not in abi/codex_app_server.symbols (add each name on a line of its own):"
  echo "$added" | sed 's/^/  /'
fi
undeclared=$(comm -23 "$work/exported" "$work/declared")
if [ -n "$undeclared" ]; then
  fail=1
  echo "exported but not declared in $(basename "$header"):"
  echo "$undeclared" | sed 's/^/  /'
fi
missing=$(comm -13 "$work/exported" "$work/declared")
if [ -n "$missing" ]; then
  fail=1
  echo "declared in $(basename "$header") but not exported:"
  echo "$missing" | sed 's/^/  /'
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
if [ "$major" = 0 ]; then expect=libcodex_app_server.so.0.$minor; else expect=libcodex_app_server.so.$major; fi
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" != "$expect" ]; then
  fail=1
  echo "the soname is '$soname'; version $version in Cargo.toml gives '$expect'"
fi
[ $fail -eq 0 ] || exit 1
echo "abi: $(wc -l < "$work/exported") symbols exported, as listed in abi/ and declared in the header; soname $soname (version $version)"

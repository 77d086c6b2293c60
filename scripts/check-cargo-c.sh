#!/usr/bin/env bash
# cargo-c gives what `make install` gives.
#   scripts/check-cargo-c.sh MAKE_PREFIX WORKDIR PASSED_FILE
# 1. Always: the [package.metadata.capi] tables in Cargo.toml say so (header assets = the files
#    make install copies, no header generation, the .pc description of codex_app_server.pc.in,
#    name and version left to the crate's, and a min_version whose soname rule is build.rs's).
# 2. Where cargo-c 0.9.27 or later is installed: `cargo cinstall` into a second prefix, and the
#    two prefixes are compared: identical headers, the same library files and links, the same
#    soname and exported symbols, and the same .pc fields. (Building cargo-c itself takes most
#    of an hour on two cores, so CI checks the metadata only; see README.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
make_prefix=$1
work=$2/cargo-c
passed_file=$3
rm -rf "$work" && mkdir -p "$work"
passed=0

cargo metadata --manifest-path "$root/Cargo.toml" --no-deps --format-version 1 --offline \
  > "$work/metadata.json"
python3 - "$work/metadata.json" "$root" <<'PY'
import json, os, re, sys
meta = json.load(open(sys.argv[1]))
root = sys.argv[2]
pkg = next(p for p in meta["packages"] if p["name"] == "codex_app_server")
capi = (pkg.get("metadata") or {}).get("capi")
problems = []
if not capi:
    sys.exit("Cargo.toml has no [package.metadata.capi]")
ver = tuple(int(x) for x in capi.get("min_version", "0").split("."))
if ver < (0, 9, 27):
    problems.append(f"min_version {capi.get('min_version')}: cargo-c before 0.9.27 gives 0.x "
                    "releases the soname .so.0, not build.rs's .so.0.MINOR")
header = capi.get("header", {})
if header.get("generation", True):
    problems.append("header.generation must be false: the committed header is the one to install")
if header.get("subdirectory", True) not in (False, ""):
    problems.append("header.subdirectory must be false: make install puts the headers in include/")
assets = sorted(a["from"] for a in capi.get("install", {}).get("include", {}).get("asset", []))
installed = sorted("include/" + f for f in os.listdir(os.path.join(root, "include")))
if assets != installed:
    problems.append(f"install.include.asset {assets} is not what make install copies {installed}")
pc = capi.get("pkg_config", {})
pc_in = open(os.path.join(root, "codex_app_server.pc.in")).read()
description = re.search(r"^Description: (.*)$", pc_in, re.M).group(1)
if pc.get("description") != description:
    problems.append(f"pkg_config.description differs from codex_app_server.pc.in: {description!r}")
for table, key in [("pkg_config", "name"), ("pkg_config", "version"), ("library", "name"),
                   ("library", "version"), ("library", "version_suffix_components")]:
    if key in capi.get(table, {}):
        problems.append(f"{table}.{key} is set: it must come from the crate (one source of truth)")
kinds = next(t for t in pkg["targets"] if "lib" in t["kind"] or "cdylib" in t["kind"])["crate_types"]
for k in ("cdylib", "staticlib"):
    if k not in kinds:
        problems.append(f"the lib target does not build a {k}")
if problems:
    print("cargo-c metadata:\n  " + "\n  ".join(problems))
    sys.exit(1)
print("cargo-c metadata: same header, names, version, soname rule and .pc fields as make install")
PY
passed=$((passed + 1))

cargo_c_version=$(cargo cinstall --version 2>/dev/null | grep -o '[0-9]\+\.[0-9]\+\.[0-9]\+' | head -1 || true)
new_enough=$(printf '%s\n0.9.27\n' "${cargo_c_version:-0.0.0}" | sort -V | head -1)
if [ -z "$cargo_c_version" ] || [ "$new_enough" != 0.9.27 ]; then
  echo "cargo-c: cargo cinstall ${cargo_c_version:+$cargo_c_version }is not installed or older than 0.9.27: its metadata was checked, not run"
  echo $passed > "$passed_file"
  exit 0
fi

c_prefix="$work/prefix"
echo "cargo-c $cargo_c_version: cargo cinstall into $c_prefix (its own target dir)"
( cd "$root" && cargo cinstall --release --prefix="$c_prefix" --libdir="$c_prefix/lib" \
    --target-dir "$2/cargo-c-target" > "$work/cinstall.log" 2>&1 ) || { tail -30 "$work/cinstall.log"; exit 1; }
fail=0
differ() { echo "cargo cinstall and make install differ: $*"; fail=1; }
for f in $(cd "$make_prefix/include" && ls); do
  cmp -s "$make_prefix/include/$f" "$c_prefix/include/$f" || differ "include/$f"
done
[ "$(cd "$make_prefix/include" && ls)" = "$(cd "$c_prefix/include" && ls)" ] || differ "the headers installed"
# Each name, and the file it resolves to (a link chain may differ: .so -> .so.0.1 -> .so.0.1.0).
libs() { (cd "$1/lib" && for f in libcodex_app_server*; do echo "$f $(basename "$(readlink -f "$f")")"; done); }
[ "$(libs "$make_prefix")" = "$(libs "$c_prefix")" ] || differ "library files and links: $(libs "$make_prefix" | tr '\n' ';') vs $(libs "$c_prefix" | tr '\n' ';')"
soname() { readelf -d "$1/lib/libcodex_app_server.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p'; }
[ "$(soname "$make_prefix")" = "$(soname "$c_prefix")" ] || differ "soname $(soname "$make_prefix") vs $(soname "$c_prefix")"
syms() { nm -D --defined-only "$1/lib/libcodex_app_server.so" | awk '{print $3}' | sort; }
[ "$(syms "$make_prefix")" = "$(syms "$c_prefix")" ] || differ "exported symbols"
# shellcheck disable=SC2086 # $2 is one or more options
field() { PKG_CONFIG_PATH="$1/lib/pkgconfig" pkg-config $2 codex_app_server | sed "s|$1|PREFIX|g"; }
for f in --modversion --cflags --libs --variable=includedir --variable=libdir; do
  [ "$(field "$make_prefix" $f)" = "$(field "$c_prefix" $f)" ] || differ "pkg-config $f: '$(field "$make_prefix" $f)' vs '$(field "$c_prefix" $f)'"
done
# make install's private libraries are a subset of what cargo-c found rustc to need.
for l in $(field "$make_prefix" '--static --libs-only-l'); do
  field "$c_prefix" '--static --libs-only-l' | tr ' ' '\n' | grep -qx -- "$l" || differ "Libs.private: $l"
done
[ $fail -eq 0 ] || exit 1
passed=$((passed + 1))
echo "cargo-c: cargo cinstall and make install give the same headers, libraries, soname $(soname "$c_prefix") and .pc"
echo $passed > "$passed_file"

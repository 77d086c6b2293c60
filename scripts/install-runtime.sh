#!/usr/bin/env bash
# Installs a codex app-server runtime into .runtime/ inside the project, once, and prints the
# path of its codex binary. Without a VERSION: the pinned one.
#   scripts/install-runtime.sh [VERSION]           this machine's (Linux x86_64) runtime
#   scripts/install-runtime.sh windows [VERSION]   the Windows x86_64 codex.exe, for wine
# Where it comes from: the Python wheel openai-codex-cli-bin when that release has one (the
# pinned one does), else the npm platform package @openai/codex@VERSION-linux-x64 (or
# -win32-x64), which carries newer releases than the wheel. Both are laid out the same here:
# .runtime/codex-VERSION[-win_amd64]/codex_cli_bin/{bin,codex-path,codex-resources}.
# The binary's own --version must name VERSION (not checked for the Windows one, which only
# wine can run).
set -euo pipefail
PINNED=0.163.0
root=$(cd "$(dirname "$0")/.." && pwd)
platform=native
if [ "${1:-}" = windows ]; then platform=windows; shift; fi
version=${1:-$PINNED}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "usage: $0 [windows] [VERSION like $PINNED]" >&2; exit 2; }
case $platform in
  native) dest="$root/.runtime/codex-$version"; exe=codex; npm_platform=linux-x64 ;;
  windows) dest="$root/.runtime/codex-$version-win_amd64"; exe=codex.exe; npm_platform=win32-x64 ;;
esac
bin="$dest/codex_cli_bin/bin/$exe"

wheel() {
  if [ $platform = native ]; then
    python3 -m pip install --quiet --disable-pip-version-check --no-deps \
      --target "$1" "openai-codex-cli-bin==$version" >&2
  else
    # Only unpacked: pip cannot install another platform's wheel.
    python3 -m pip download --quiet --disable-pip-version-check --no-deps \
      --only-binary=:all: --platform win_amd64 --python-version 3.12 \
      --dest "$1/wheel" "openai-codex-cli-bin==$version" >&2
    python3 -m zipfile -e "$1"/wheel/*.whl "$1" >&2
    rm -rf "$1/wheel"
  fi
}

npm_package() {
  command -v npm >/dev/null || { echo "npm is needed for codex $version (no wheel)" >&2; return 1; }
  (cd "$1" && npm pack --silent "@openai/codex@$version-$npm_platform" >/dev/null)
  mkdir -p "$1/unpacked"
  tar -xzf "$1"/*.tgz -C "$1/unpacked"
  rm -f "$1"/*.tgz
  # package/vendor/<target triple>/{bin,codex-path,codex-resources}
  mv "$1"/unpacked/package/vendor/*/ "$1/codex_cli_bin"
  rm -rf "$1/unpacked"
}

if [ ! -f "$bin" ]; then
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  if ! wheel "$dest.partial" 2>/dev/null; then
    rm -rf "$dest.partial" && mkdir -p "$dest.partial"
    echo "codex $version: no wheel; installing the npm package" >&2
    npm_package "$dest.partial"
  fi
  [ -f "$dest.partial/codex_cli_bin/bin/$exe" ] || { echo "codex $version: no $exe in the package" >&2; exit 1; }
  if [ $platform = native ]; then
    said=$("$dest.partial/codex_cli_bin/bin/codex" --version 2>&1 || true)
    [[ $said == *" $version"* ]] || { echo "codex $version: the binary says \"$said\"" >&2; exit 1; }
  fi
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
fi
echo "$bin"

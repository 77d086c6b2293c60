#!/usr/bin/env bash
# Installs the pinned codex app-server runtime (the PyPI wheel openai-codex-cli-bin) into
# .runtime/ inside the project, once. Prints the path of the codex binary.
#   scripts/install-runtime.sh            this machine's runtime (pip install)
#   scripts/install-runtime.sh windows    the win_amd64 wheel's codex.exe, for the tests under wine
set -euo pipefail
CODEX_VERSION=0.163.0
root=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-native}" in
  native)
    dest="$root/.runtime/codex-$CODEX_VERSION"
    bin="$dest/codex_cli_bin/bin/codex"
    fetch() {
      python3 -m pip install --quiet --disable-pip-version-check --no-deps \
        --target "$1" "openai-codex-cli-bin==$CODEX_VERSION" >&2
    } ;;
  windows)
    dest="$root/.runtime/codex-$CODEX_VERSION-win_amd64"
    bin="$dest/codex_cli_bin/bin/codex.exe"
    # The wheel is only unpacked: pip cannot install another platform's wheel.
    fetch() {
      python3 -m pip download --quiet --disable-pip-version-check --no-deps \
        --only-binary=:all: --platform win_amd64 --python-version 3.12 \
        --dest "$1/wheel" "openai-codex-cli-bin==$CODEX_VERSION" >&2
      python3 -m zipfile -e "$1"/wheel/*.whl "$1" >&2
      rm -rf "$1/wheel"
    } ;;
  *) echo "usage: $0 [windows]" >&2; exit 2 ;;
esac
if [ ! -f "$bin" ]; then
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  fetch "$dest.partial"
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
fi
echo "$bin"

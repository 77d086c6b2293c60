#!/usr/bin/env bash
# Installs the pinned codex app-server runtime (the PyPI wheel openai-codex-cli-bin) into
# .runtime/ inside the project, once. Prints the path of the codex binary.
set -euo pipefail
CODEX_VERSION=0.163.0
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.runtime/codex-$CODEX_VERSION"
bin="$dest/codex_cli_bin/bin/codex"
if [ ! -x "$bin" ]; then
  rm -rf "$dest.partial"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$dest.partial" "openai-codex-cli-bin==$CODEX_VERSION" >&2
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
fi
echo "$bin"

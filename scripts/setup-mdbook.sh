#!/usr/bin/env bash
# Installs mdbook, the tool that builds the user guide (docs/guide), into
# the cache folder outside the clone. Idempotent: a second run finds the
# binary and builds nothing. Prints the binary's path on the last line.
#
#   EAGER_TENSOR_CACHE   cache folder (default: ~/.cache/eager-tensor)
#
# Pinned (`--locked`, the lock file mdbook was released with) and built
# without the `serve`/`watch` features (no web server, no file watcher:
# `mdbook build` is all CI needs, and it halves the build). mdbook 0.5.4
# needs Rust 1.88 or newer.
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.5.4
cache="${EAGER_TENSOR_CACHE:-$HOME/.cache/eager-tensor}"
root="$cache/mdbook-$version"
bin="$root/bin/mdbook"
if [ ! -x "$bin" ] || [ "$("$bin" --version 2>/dev/null)" != "mdbook v$version" ]; then
  if ! command -v cargo >/dev/null 2>&1; then
    echo "setup-mdbook: cargo is not installed: install Rust (https://rustup.rs) first" >&2
    exit 1
  fi
  echo "setup-mdbook: building mdbook $version from crates.io into $root (a few minutes, once)" >&2
  rm -rf "$root.tmp"
  cargo install mdbook --locked --version "=$version" --no-default-features --features search \
    --root "$root.tmp" --quiet
  rm -rf "$root"
  mv "$root.tmp" "$root"
fi
echo "$bin"

#!/usr/bin/env bash
# Runs the whole test suite on every backend this repository has, doing any
# set-up a fresh machine needs first. This is the README's test command and
# what CI runs.
#
# Today the only backend is ndarray (pure Rust): nothing to install. Backends
# with native libraries add their idempotent set-up steps here.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed: install Rust (https://rustup.rs) first" >&2
  exit 1
fi

# Every feature = every backend; --show-output prints the conformance
# summary (passed / failed / known exceptions per backend).
cargo test --workspace --all-features -- --show-output

#!/usr/bin/env bash
# Runs the whole test suite on every backend, doing the set-up a fresh
# machine needs first (idempotent: a second run reuses the cached native
# libraries). This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed: install Rust (https://rustup.rs) first" >&2
  exit 1
fi

# Native libraries of the backends that need them (from PyPI, pinned and
# hash-checked, cached outside the clone).
bash scripts/setup-torch.sh
bash scripts/setup-tensorflow.sh
bash scripts/setup-xla.sh

# Every feature = every backend; --show-output prints the conformance and
# gradient summaries (passed / failed / known exceptions per backend).
cargo test --workspace --all-features -- --show-output

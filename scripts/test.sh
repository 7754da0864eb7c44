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

# XLA, libtorch's ATen and oneDNN (inside TensorFlow) pick their kernels by
# the CPU's instruction set at run time, so the CPU this runs on would
# decide what is tested. The conformance table (each backend crate's
# conformance::<backend>, and the facade's run under jit on xla) and the
# property tests run again with each held to a smaller set, on the same build (tests/isa.rs
# shows each setting takes effect): AVX2, then AVX for XLA with ATen's and
# oneDNN's baseline kernels. (The PJRT plugin cannot compile f16 code under
# SSE4_2: its compiler runtime lacks the f16 conversions.)
for isa in "AVX2 avx2 AVX2" "AVX default SSE41"; do
  read -r xla aten onednn <<<"$isa"
  echo "test.sh: again with XLA_FLAGS=--xla_cpu_max_isa=$xla ATEN_CPU_CAPABILITY=$aten ONEDNN_MAX_CPU_ISA=$onednn"
  XLA_FLAGS="--xla_cpu_max_isa=$xla" ATEN_CPU_CAPABILITY="$aten" ONEDNN_MAX_CPU_ISA="$onednn" \
    cargo test --workspace --all-features --test suites --test conformance -- --show-output \
      conformance unary_ops_and_casts:: binary_ops:: reductions::
done

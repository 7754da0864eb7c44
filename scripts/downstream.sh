#!/usr/bin/env bash
# Proves that a crate OUTSIDE this repository can use eager-tensor with the
# torch, tensorflow, xla and candle backends, set up only by scripts/native-env.sh
# (no .cargo/config.toml of ours, no .native/ links, no build.rs rpaths).
#
# It copies downstream/ to a temporary folder outside the clone (cargo reads
# the .cargo/config.toml of every parent of the working directory, so it
# must not run inside the clone), points its path dependency at this clone,
# and builds and runs it; the program exits non-zero on a wrong value.
#
#   EAGER_TENSOR_CACHE             cache folder (default: ~/.cache/eager-tensor)
#   EAGER_TENSOR_DOWNSTREAM_TARGET its own cargo target folder, kept between
#                                  runs (default: $cache/target-downstream)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd -P)"

# The environment a user evals (an assignment first, so that a failing
# set-up fails this script).
env_lines="$(bash scripts/native-env.sh torch tensorflow xla)"
eval "$env_lines"
echo "downstream: environment from scripts/native-env.sh:" >&2
echo "$env_lines" | sed 's/^/  /' >&2

# Never the clone's target folder: the build must stand on its own.
cache="$(cd "${EAGER_TENSOR_CACHE:-$HOME/.cache/eager-tensor}" && pwd -P)"
export CARGO_TARGET_DIR="${EAGER_TENSOR_DOWNSTREAM_TARGET:-$cache/target-downstream}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -R downstream/. "$work/"
# The user's dependency line, with the absolute path of this clone.
sed -i "s|path = \"\\.\\.\"|path = \"$root\"|" "$work/Cargo.toml"
grep -q "path = \"$root\"" "$work/Cargo.toml"
# The clone's lock file, so the dependencies are the versions tested here
# (cargo adds the downstream package and drops what it does not use).
cp Cargo.lock "$work/"

cd "$work"
# A debug build: the quickest to compile, and the program is tiny.
cargo run

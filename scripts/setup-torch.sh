#!/usr/bin/env bash
# Installs libtorch 2.13.0 (from the PyPI torch wheel) into the cache folder
# outside the clone and points .native/libtorch at it, which is where
# .cargo/config.toml tells torch-sys to look. Idempotent: a finished install
# is reused, downloads are kept in the cache and checked by sha256.
#
#   EAGER_TENSOR_CACHE   cache folder (default: ~/.cache/eager-tensor)
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${EAGER_TENSOR_CACHE:-$HOME/.cache/eager-tensor}"
dest="$cache/libtorch-2.13.0"
if [ ! -f "$dest/.complete" ]; then
  echo "setup-torch: fetching the pinned wheels into $cache/wheels (about 540 MB the first time)"
  rm -rf "$dest.tmp"
  # Only what building and running need: torch/include, torch/lib and the
  # nvidia runtime libraries that libtorch_cpu.so loads (found through its
  # own RUNPATH, $ORIGIN/../../nvidia/...).
  python3 scripts/native/fetch.py --req scripts/native/torch.txt --wheels "$cache/wheels" --dest "$dest.tmp" \
    --prefix torch/include/ --prefix torch/lib/ --prefix nvidia/
  touch "$dest.tmp/.complete"
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
fi
mkdir -p .native
ln -sfn "$dest/torch" .native/libtorch
echo "setup-torch: libtorch 2.13.0 ready at $dest/torch"

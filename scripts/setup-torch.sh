#!/usr/bin/env bash
# Installs libtorch 2.13.0 (from the PyPI torch wheel) into the cache folder
# outside the clone and points .native/libtorch at it, which is where
# .cargo/config.toml tells torch-sys to look. Idempotent: a finished install
# is reused, downloads are kept in the cache and checked by sha256.
#
#   EAGER_TENSOR_CACHE   cache folder (default: ~/.cache/eager-tensor)
cd "$(dirname "$0")/.."
source scripts/native/install.sh
dest="$cache/libtorch-2.13.0"
# Only what building and running need: torch/include, torch/lib and the
# nvidia runtime libraries that libtorch_cpu.so loads (found through its
# own RUNPATH, $ORIGIN/../../nvidia/...). About 540 MB.
install_pinned torch "$dest" "about 540 MB" torch.txt \
  --prefix torch/include/ --prefix torch/lib/ --prefix nvidia/
# The link .cargo/config.toml reads, inside the clone only:
# scripts/native-env.sh sets EAGER_TENSOR_NATIVE_LINKS=0, so a read-only
# checkout (a git dependency's) is never written to.
if [ "${EAGER_TENSOR_NATIVE_LINKS:-1}" != 0 ]; then
  mkdir -p .native
  ln -sfn "$dest/torch" .native/libtorch
fi
echo "setup-torch: libtorch 2.13.0 ready at $dest/torch"

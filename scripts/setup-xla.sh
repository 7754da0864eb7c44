#!/usr/bin/env bash
# Installs a CPU PJRT plugin (XLA, JAX's compiler, as a C API shared
# library) from PyPI into the cache folder outside the clone. Idempotent.
# eager-xla loads it from $EAGER_TENSOR_PJRT_PLUGIN, else from here.
#
#   EAGER_TENSOR_CACHE   cache folder (default: ~/.cache/eager-tensor)
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${EAGER_TENSOR_CACHE:-$HOME/.cache/eager-tensor}"
dest="$cache/pjrt-cpu-0.11.2"
if [ ! -f "$dest/.complete" ]; then
  echo "setup-xla: fetching the pinned PJRT plugin wheel into $cache/wheels (about 63 MB the first time)"
  rm -rf "$dest.tmp"
  python3 scripts/native/fetch.py --req scripts/native/xla.txt --wheels "$cache/wheels" --dest "$dest.tmp" \
    --file lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so=pjrt_c_api_cpu_plugin.so
  touch "$dest.tmp/.complete"
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
fi
echo "setup-xla: PJRT CPU plugin ready at $dest/pjrt_c_api_cpu_plugin.so"

#!/usr/bin/env bash
# Installs a CPU PJRT plugin (XLA, JAX's compiler, as a C API shared
# library) from PyPI into the cache folder outside the clone. Idempotent.
# eager-xla loads it from $EAGER_TENSOR_PJRT_PLUGIN, else from here.
#
#   EAGER_TENSOR_CACHE   cache folder (default: ~/.cache/eager-tensor)
cd "$(dirname "$0")/.."
source scripts/native/install.sh
dest="$cache/pjrt-cpu-0.11.2"
install_pinned xla "$dest" "about 63 MB" xla.txt \
  --file lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so=pjrt_c_api_cpu_plugin.so
echo "setup-xla: PJRT CPU plugin ready at $dest/pjrt_c_api_cpu_plugin.so"

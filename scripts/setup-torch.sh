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
  mkdir -p "$cache/wheels"
  echo "setup-torch: fetching the pinned wheels into $cache/wheels (about 540 MB the first time)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r scripts/native/torch.txt -d "$cache/wheels"
  rm -rf "$dest.tmp"
  mkdir -p "$dest.tmp"
  # Unpack only what building and running need: torch/include, torch/lib and
  # the nvidia runtime libraries that libtorch_cpu.so loads (found through
  # its own RUNPATH, $ORIGIN/../../nvidia/...).
  python3 - "$cache/wheels" "$dest.tmp" <<'PY'
import hashlib, pathlib, re, sys, zipfile
wheels, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
want = {}
for line in open("scripts/native/torch.txt"):
    m = re.match(r"([\w-]+)==([\w.]+) --hash=sha256:([0-9a-f]+)", line.strip())
    if m:
        want[(m[1].replace("-", "_"), m[2])] = m[3]
for (name, version), digest in want.items():
    [whl] = list(wheels.glob(f"{name}-{version}-*.whl"))
    h = hashlib.sha256()
    with open(whl, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != digest:
        sys.exit(f"setup-torch: sha256 mismatch for {whl.name}")
    with zipfile.ZipFile(whl) as z:
        for info in z.infolist():
            n = info.filename
            if n.startswith(("torch/include/", "torch/lib/", "nvidia/")):
                z.extract(info, dest)
                mode = info.external_attr >> 16
                if mode:
                    (dest / n).chmod(mode & 0o777)
PY
  touch "$dest.tmp/.complete"
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
fi
mkdir -p .native
ln -sfn "$dest/torch" .native/libtorch
echo "setup-torch: libtorch 2.13.0 ready at $dest/torch"

#!/usr/bin/env python3
"""Fetches pinned wheels from PyPI and unpacks parts of them.

Used by scripts/setup-*.sh. A requirements file lists `name==version
--hash=sha256:...` lines; pip downloads them into the wheel cache with
--require-hashes, this script checks every sha256 again, then extracts
either whole folders (--prefix torch/lib/) or single files, possibly
renamed (--file tensorflow/libtensorflow_cc.so.2=lib/libtensorflow_cc.so.2).
"""
import argparse
import hashlib
import pathlib
import re
import subprocess
import sys
import zipfile

p = argparse.ArgumentParser()
p.add_argument("--req", required=True, help="requirements file with hashes")
p.add_argument("--wheels", required=True, help="wheel cache folder")
p.add_argument("--dest", required=True, help="folder to unpack into")
p.add_argument("--prefix", action="append", default=[], help="extract every member under this path")
p.add_argument("--file", action="append", default=[], help="MEMBER=TARGET: extract one member to TARGET")
p.add_argument("--platform", help="pip --platform (wheels for another Python are fine: only libraries are used)")
p.add_argument("--python-version", help="pip --python-version")
a = p.parse_args()

wheels, dest = pathlib.Path(a.wheels), pathlib.Path(a.dest)
wheels.mkdir(parents=True, exist_ok=True)
cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
       "--require-hashes", "-r", a.req, "-d", str(wheels)]
if a.platform:
    cmd += ["--platform", a.platform]
if a.python_version:
    cmd += ["--python-version", a.python_version]
subprocess.run(cmd, check=True)

pins = []
for line in open(a.req):
    m = re.match(r"([\w-]+)==([\w.]+) --hash=sha256:([0-9a-f]+)", line.strip())
    if m:
        pins.append((m[1].replace("-", "_"), m[2], m[3]))
files = dict(f.split("=", 1) for f in a.file)
for name, version, digest in pins:
    [whl] = list(wheels.glob(f"{name}-{version}-*.whl"))
    h = hashlib.sha256()
    with open(whl, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != digest:
        sys.exit(f"fetch.py: sha256 mismatch for {whl.name}")
    with zipfile.ZipFile(whl) as z:
        for info in z.infolist():
            n = info.filename
            if n in files:
                target = dest / files[n]
            elif any(n.startswith(pre) for pre in a.prefix):
                target = dest / n
            else:
                continue
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(info))
            mode = info.external_attr >> 16
            if mode:
                target.chmod(mode & 0o777)

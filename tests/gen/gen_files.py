#!/usr/bin/env python3
"""Generates the file fixtures of tests/files.rs: .safetensors files written
by the Python `safetensors` package from NumPy arrays (every NumPy dtype
eager-tensor has; bf16 is not a NumPy dtype and is covered by round trips
in Rust), the expected dtypes, shapes and values as JSON, and malformed
files. Small and committed:

    /tmp/np/bin/pip install numpy==2.4.6 safetensors==0.8.0
    /tmp/np/bin/python tests/gen/gen_files.py
"""
import json
import os
import struct

import numpy as np
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "data", "files")
os.makedirs(OUT, exist_ok=True)
RNG = np.random.default_rng(20261129)

DT = {"bool": np.bool_, "u8": np.uint8, "i8": np.int8, "i16": np.int16, "u16": np.uint16,
      "i32": np.int32, "u32": np.uint32, "i64": np.int64, "u64": np.uint64,
      "f16": np.float16, "f32": np.float32, "f64": np.float64}

arrays, expect = {}, {}
for name, dt in DT.items():
    if dt is np.bool_:
        a = RNG.random((2, 3)) < 0.5
    elif np.issubdtype(dt, np.integer):
        info = np.iinfo(dt)
        a = np.array([[info.min, info.max, 0], [1, 7, info.max // 3]], dt)
    else:
        a = np.array([[-1.5, 0.25, np.inf], [np.nan, 3.0e4, -0.0]], dt)
    arrays[name] = a
    vals = [None if isinstance(v, float) and np.isnan(v) else
            ("inf" if v == np.inf else "-inf" if v == -np.inf else v)
            for v in a.ravel().tolist()]
    expect[name] = {"dtype": name, "shape": list(a.shape), "data": vals}
arrays["scalar"] = np.array(2.5, np.float64)
expect["scalar"] = {"dtype": "f64", "shape": [], "data": [2.5]}
arrays["empty"] = np.zeros((0, 4), np.float32)
expect["empty"] = {"dtype": "f32", "shape": [0, 4], "data": []}
save_file(arrays, os.path.join(OUT, "numpy.safetensors"))
with open(os.path.join(OUT, "numpy.safetensors.json"), "w") as f:
    json.dump(expect, f, indent=0)

good = open(os.path.join(OUT, "numpy.safetensors"), "rb").read()
(n,) = struct.unpack("<Q", good[:8])
bad = {
    "truncated": good[: len(good) - 5],
    "header_cut": good[: 8 + n // 2],
    "huge_header_length": struct.pack("<Q", 2**62) + good[8:],
    "not_json": struct.pack("<Q", 4) + b"nope",
    "too_short": b"\x01\x02",
}
# A header whose shape x dtype does not match its byte range.
hdr = json.dumps({"x": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 16]}}).encode()
bad["shape_lies"] = struct.pack("<Q", len(hdr)) + hdr + b"\0" * 16
# A huge declared tensor with a matching (lying) offset range and no data.
hdr = json.dumps({"x": {"dtype": "F64", "shape": [2**40, 2**20], "data_offsets": [0, 2**63]}}).encode()
bad["huge_declared"] = struct.pack("<Q", len(hdr)) + hdr
for k, v in bad.items():
    with open(os.path.join(OUT, f"bad_{k}.safetensors"), "wb") as f:
        f.write(v)

# .npy: one file per dtype written by numpy.save, plus Fortran order and a
# big-endian file; the expectations are the same JSON entries.
for name in DT:
    np.save(os.path.join(OUT, f"np_{name}.npy"), arrays[name])
np.save(os.path.join(OUT, "np_fortran.npy"), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save(os.path.join(OUT, "np_bigendian.npy"), np.arange(4, dtype=">i4"))
np.save(os.path.join(OUT, "np_scalar.npy"), np.float64(2.5))
good = open(os.path.join(OUT, "np_f32.npy"), "rb").read()
npy_bad = {
    "truncated": good[:-3],
    "bad_magic": b"\x93NUMPZ" + good[6:],
    "header_cut": good[:20],
    "shape_lies": good.replace(b"(2, 3)", b"(9, 9)"),
    "huge_shape": good.replace(b"(2, 3), }", b"(2**62, 2), }").replace(b"(2, 3)", b"(4611686018427387904, 2)"),
    "complex": None,
}
np.save(os.path.join(OUT, "bad_np_complex.npy"), np.array([1 + 2j], np.complex64))
for k, v in npy_bad.items():
    if v is not None:
        with open(os.path.join(OUT, f"bad_np_{k}.npy"), "wb") as f:
            f.write(v)
# .npz: numpy.savez (stored) and numpy.savez_compressed (deflate) of the
# same arrays (bf16 has no NumPy dtype), and malformed archives.
npz_arrays = {k: v for k, v in arrays.items()}
np.savez(os.path.join(OUT, "np_savez.npz"), **npz_arrays)
np.savez_compressed(os.path.join(OUT, "np_savez_compressed.npz"), **npz_arrays)
good = open(os.path.join(OUT, "np_savez.npz"), "rb").read()
# An entry whose .npy header declares more than the entry holds.
import io, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("x.npy", open(os.path.join(OUT, "np_f32.npy"), "rb").read().replace(b"(2, 3)", b"(9000, 9000)"))
npz_bad = {
    "truncated": good[: len(good) // 2],
    "not_zip": b"PK\x03\x04 this is not a zip archive",
    "entry_lies": buf.getvalue(),
}
for k, v in npz_bad.items():
    with open(os.path.join(OUT, f"bad_npz_{k}.npz"), "wb") as f:
        f.write(v)
print(f"{len(arrays)} tensors and {len(bad)} malformed files -> {os.path.relpath(OUT)}")

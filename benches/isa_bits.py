#!/usr/bin/env python3
"""Compares the conformance table's outputs between runs under different
instruction-set settings, value by value (docs/semantics.md, "Bits across
machines"). Each run writes its values with EAGER_CONFORMANCE_BITS:

    EAGER_CONFORMANCE_BITS=/tmp/native.txt cargo test --all-features --test conformance conformance_
    EAGER_CONFORMANCE_BITS=/tmp/avx2.txt XLA_FLAGS=--xla_cpu_max_isa=AVX2 \\
        ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 \\
        cargo test --all-features --test conformance conformance_
    python3 benches/isa_bits.py /tmp/native.txt /tmp/avx2.txt

Prints, per backend, how many cases gave different bits and the largest
difference in units in the last place of the output dtype.
"""
import math
import struct
import sys
from collections import defaultdict

EPS = {"f16": (2.0**-10, 2.0**-14), "bf16": (2.0**-7, 2.0**-126),
       "f32": (2.0**-23, 2.0**-126), "f64": (2.0**-52, 2.0**-1022)}


def load(path):
    runs = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            key = (parts[0], parts[1])
            vals = [(parts[i], struct.unpack("<d", struct.pack("<Q", int(parts[i + 1])))[0])
                    for i in range(2, len(parts), 2)]
            runs[key] = vals
    return runs


def ulps(a, b, d):
    if math.isnan(a) and math.isnan(b):
        return 0.0
    if a == b:
        return 0.0 if math.copysign(1, a) == math.copysign(1, b) else 0.5
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    eps, tiny = EPS[d]
    scale = 2.0 ** math.floor(math.log2(max(abs(b), tiny)))
    return abs(a - b) / (eps * scale)


def main(base_path, other_path):
    base, other = load(base_path), load(other_path)
    cases = defaultdict(int)
    differ = defaultdict(list)
    for key, vals in base.items():
        cases[key[0]] += 1
        o = other.get(key)
        if o is None or len(o) != len(vals):
            differ[key[0]].append((math.inf, key[1]))
            continue
        worst = max((ulps(a, b, d) for (d, a), (_, b) in zip(o, vals)), default=0.0)
        if worst > 0:
            differ[key[0]].append((worst, key[1]))
    for backend in sorted(cases):
        ds = sorted(differ[backend], reverse=True)
        top = ", ".join(f"{n} {u:.1f}" for u, n in ds[:5])
        print(f"{backend}: {len(ds)} of {cases[backend]} cases differ"
              + (f"; largest (ulps): {top}" if ds else ""))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
"""Generates tests/data/conformance.json: the conformance table.

Every expected value is computed here by NumPy, `ml_dtypes` (bfloat16)
and `jax.numpy.promote_types` (bfloat16's promotion lattice), never typed in
by hand, so anyone can regenerate and review it:

    python3 -m venv /tmp/np && /tmp/np/bin/pip install numpy==2.4.6 ml_dtypes==0.6.0 'jax[cpu]==0.10.2'
    /tmp/np/bin/python tests/gen/gen_conformance.py

The 16-bit floats (f16, bf16) compute in f32 and round the result once, as
PyTorch, XLA and NumPy's own float16 loops do: `hcall` below computes their
expectations that way (for reductions this is PyTorch's and JAX's rule; NumPy
rounds f16 `prod`/`cumsum` after every step).

The Rust side (tests/suites/conformance.rs, run by each backend crate)
runs each case on every backend. A case is: op name, input tensors, JSON arguments, and either the
expected outputs (dtype, shape, row-major data) or the expected error kind
(`shape`, `dtype`, `axis`, `index`, `invalid`). Where eager-tensor's rules
(docs/semantics.md) deliberately differ from NumPy, the case says so in
`note` and the expectation is derived from NumPy's values by that rule.
"""
import json
import math
import os
import sys

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np

jax.config.update("jax_enable_x64", True)
BF16 = ml_dtypes.bfloat16

RNG = np.random.default_rng(20261126)
OUT = os.path.join(os.path.dirname(__file__), "..", "data", "conformance.json")
CASES = []
NAMES = set()

DT = {
    "bool": np.bool_, "u8": np.uint8, "i8": np.int8, "i16": np.int16, "u16": np.uint16,
    "i32": np.int32, "u32": np.uint32, "i64": np.int64, "u64": np.uint64,
    "f16": np.float16, "bf16": BF16, "f32": np.float32, "f64": np.float64,
}
NP2DT = {np.dtype(v): k for k, v in DT.items()}
HALVES = ["f16", "bf16"]
HALF_DTS = (np.dtype(np.float16), np.dtype(BF16))
FLOATS = ["f16", "bf16", "f32", "f64"]
INTS = ["u8", "i8", "i16", "u16", "i32", "u32", "i64", "u64"]
UNSIGNED = ["u8", "u16", "u32", "u64"]
SIGNED = ["i8", "i16", "i32", "i64"]
NUMERIC = INTS + FLOATS
ALL = ["bool"] + NUMERIC


def hcall(fn, *args):
    """`fn(*args)`, with f16/bf16 arrays widened to f32 and f32 results
    rounded back to that 16-bit dtype: eager-tensor's rule for the 16-bit
    floats (compute in f32, round once)."""
    halves = [a.dtype for a in args if isinstance(a, np.ndarray) and a.dtype in HALF_DTS]
    if not halves:
        return fn(*args)
    h = halves[0]
    ys = fn(*[a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype in HALF_DTS else a for a in args])

    def back(y):
        y = np.asarray(y)
        return y.astype(h) if y.dtype == np.float32 else y
    return [back(y) for y in ys] if isinstance(ys, (list, tuple)) else back(ys)


def enc_val(v, dt):
    if dt in FLOATS:
        # f32 values are written in their shortest round-trip form.
        v = float(str(np.float32(v))) if dt == "f32" else float(v)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if dt == "bool":
        return bool(v)
    return int(v)


def enc(a):
    a = np.asarray(a)
    dt = NP2DT[a.dtype]
    return {"dtype": dt, "shape": list(a.shape), "data": [enc_val(v, dt) for v in a.ravel()]}


def sample(shape, dt, lo=-3.0, hi=3.0, nan=False):
    """Random data of a dtype; floats have 2 decimals so that f32 is exact."""
    if dt == "bool":
        return RNG.random(shape) < 0.5
    if dt in UNSIGNED:
        return RNG.integers(0, 10, size=shape).astype(DT[dt])
    if dt in INTS:
        return RNG.integers(int(lo) * 3, int(hi) * 3 + 1, size=shape).astype(DT[dt])
    a = np.round(RNG.uniform(lo, hi, size=shape), 2).astype(DT[dt])
    if nan and a.size > 2:
        a.ravel()[1] = np.nan
    return a


# Ops whose f16/bf16 result is one correctly rounded IEEE operation (a cast,
# + - * /, a sign change, a selection or a comparison): computing in f32 and
# rounding once gives the same bits as a native 16-bit kernel (f32 has more
# than 2p+2 bits for both, so the double rounding is innocuous), so every
# backend must agree bit for bit. Cases of these ops that touch f16/bf16 are
# marked `exact`: the runner compares their float outputs bitwise (NaN equal
# to NaN), not within a tolerance. Every cast is one correctly rounded
# conversion (bf16's two steps through f32 included), so every `astype` case
# is exact, whatever its dtypes: a double rounding of u64 -> f32 is one unit
# in the last place, inside f32's tolerance. Reductions and transcendentals
# keep theirs.
EXACT_OPS = {"astype", "add", "sub", "mul", "div", "neg", "abs",
             "lt", "le", "gt", "ge", "eq", "ne", "minimum", "maximum"}


def case(name, op, inputs, args=None, expect=None, error=None, rtol=None, note=None):
    assert name not in NAMES, name
    NAMES.add(name)
    c = {"name": name, "op": op, "inputs": [enc(np.asarray(i)) for i in inputs], "args": args or {}}
    if error is not None:
        c["error"] = error
    else:
        outs = expect if isinstance(expect, (list, tuple)) else [expect]
        c["expect"] = [enc(np.asarray(o)) for o in outs]
        halves = [x["dtype"] for x in c["inputs"] + c["expect"] if x["dtype"] in HALVES]
        if op in EXACT_OPS and (halves or op == "astype"):
            assert rtol is None, name
            c["exact"] = True
    if rtol is not None:
        c["rtol"] = rtol
    if note:
        c["note"] = note
    CASES.append(c)


def float_of(dt):
    return dt if dt in FLOATS else "f64"


# ---------------------------------------------------------------- unary
UNARY_FLOAT = {
    "sqrt": (np.sqrt, 0.1, 4), "exp": (np.exp, -3, 3), "log": (np.log, 0.1, 4),
    "log2": (np.log2, 0.1, 4), "log10": (np.log10, 0.1, 4), "log1p": (np.log1p, -0.5, 4),
    "sin": (np.sin, -3, 3), "cos": (np.cos, -3, 3), "tan": (np.tan, -1.2, 1.2),
    "sinh": (np.sinh, -3, 3), "cosh": (np.cosh, -3, 3), "tanh": (np.tanh, -3, 3),
    "arcsin": (np.arcsin, -0.99, 0.99), "arccos": (np.arccos, -0.99, 0.99), "arctan": (np.arctan, -3, 3),
    "arcsinh": (np.arcsinh, -3, 3), "arccosh": (np.arccosh, 1.01, 4), "arctanh": (np.arctanh, -0.99, 0.99),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), -8, 8),
}
for op, (fn, lo, hi) in UNARY_FLOAT.items():
    for dt in FLOATS:
        x = sample((2, 3), dt, lo, hi)
        with np.errstate(all="ignore"):
            y = hcall(fn, x)
        case(f"{op}_{dt}", op, [x], expect=y.astype(DT[dt]))
    # Integers compute in f64 (NumPy: i32/i64 -> f64 too).
    xi = np.array([1, 2, 3], dtype=np.int64) if op not in ("arcsin", "arccos", "arctanh") else np.array([0, 0, 0], np.int64)
    with np.errstate(all="ignore"):
        y = fn(xi.astype(np.float64))
    case(f"{op}_i64", op, [xi], expect=y)
    assert op == "sigmoid" or fn(xi).dtype == np.float64
with np.errstate(all="ignore"):
    case("log_negative_is_nan", "log", [np.array([-1.0, 0.0, 1.0], np.float32)],
         expect=np.log(np.array([-1.0, 0.0, 1.0], np.float32)))
# NumPy's ufunc rule: the smallest float that holds every value of the input dtype.
for dt in ["bool"] + INTS:
    x = np.array([True, False, True]) if dt == "bool" else np.array([4, 9, 2], DT[dt])
    for op in ["sqrt", "exp", "sigmoid"]:
        fn = UNARY_FLOAT[op][0]
        out = np.sqrt(x).dtype
        with np.errstate(all="ignore"):
            case(f"{op}_{dt}_dtype", op, [x], expect=hcall(fn, x.astype(out)))
case("sigmoid_large_stable", "sigmoid", [np.array([-800.0, 0.0, 800.0])], expect=np.array([0.0, 0.5, 1.0]))

for op, fn in {"abs": np.abs, "neg": np.negative, "sign": np.sign, "square": np.square}.items():
    for dt in NUMERIC:
        x = sample((2, 3), dt)
        if dt == "u8" and op in ("neg",):
            x = np.array([[0, 1, 2], [3, 200, 255]], np.uint8)
        case(f"{op}_{dt}", op, [x], expect=hcall(fn, x))
    case(f"{op}_bool_error", op, [sample((3,), "bool")], error="dtype")
case("abs_nan", "abs", [np.array([np.nan, -np.inf, -0.5])], expect=np.abs(np.array([np.nan, -np.inf, -0.5])))
case("sign_nan", "sign", [np.array([np.nan, -2.0, 0.0, 3.0])], expect=np.sign(np.array([np.nan, -2.0, 0.0, 3.0])))
for dt in NUMERIC:
    x = sample((2, 3), dt)
    case(f"relu_{dt}", "relu", [x], expect=hcall(np.maximum, x, DT[dt](0)))
halves = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, np.nan])
for dt in FLOATS:
    for op, fn in {"round": np.round, "ceil": np.ceil, "floor": np.floor}.items():
        x = halves.astype(DT[dt])
        case(f"{op}_{dt}", op, [x], expect=hcall(fn, x))
for op, fn in {"round": np.round, "ceil": np.ceil, "floor": np.floor}.items():
    x = np.array([-3, 0, 7], np.int32)
    case(f"{op}_i32_identity", op, [x], expect=x,
         note="NumPy's round keeps ints; eager-tensor keeps the int dtype for ceil/floor too")
    case(f"{op}_bool_error", op, [np.array([True])], error="dtype")
for op, fn in {"isnan": np.isnan, "isinf": np.isinf}.items():
    for dt in FLOATS:
        x = np.array([1.0, np.nan, np.inf, -np.inf, 0.0], DT[dt])
        case(f"{op}_{dt}", op, [x], expect=hcall(fn, x))
    x = np.array([1, 2], np.int64)
    case(f"{op}_i64", op, [x], expect=fn(x))
for dt in ALL:
    x = sample((2, 3), dt)
    if dt == "bool":
        case(f"logical_not_{dt}", "logical_not", [x], expect=np.logical_not(x))
    else:
        case(f"logical_not_{dt}", "logical_not", [x], error="dtype",
             note="EagerPy's rule (and TensorFlow's): logical ops take bool only; NumPy treats non-zero as true")

# ---------------------------------------------------------------- binary
BIN = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "floor_div": np.floor_divide, "rem": np.remainder, "pow": np.power,
    "minimum": np.minimum, "maximum": np.maximum,
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
    "eq": np.equal, "ne": np.not_equal,
}
for op, fn in BIN.items():
    for dt in NUMERIC:
        a = sample((2, 3), dt)
        b = sample((2, 3), dt)
        if op in ("floor_div", "rem", "div") and dt in INTS:
            b = np.where(b == 0, DT[dt](3), b).astype(DT[dt])
        if op == "pow":
            a = sample((2, 3), dt, 0.5, 3)
            b = (sample((2, 3), dt, 0, 3) if dt in INTS else sample((2, 3), dt, -2, 2))
            if dt in INTS:
                b = np.abs(b).astype(DT[dt]) % 4
        with np.errstate(all="ignore"):
            y = hcall(fn, a, b)
        case(f"{op}_{dt}", op, [a, b], expect=y, rtol=1e-4 if op == "pow" and dt == "f32" else None)
    # broadcasting
    a = sample((2, 1, 3), "f32", 0.5, 3)
    b = sample((4, 1), "f32", 0.5, 3)
    with np.errstate(all="ignore"):
        case(f"{op}_broadcast", op, [a, b], expect=fn(a, b), rtol=1e-4 if op == "pow" else None)
    case(f"{op}_shape_error", op, [sample((2, 3), "f32"), sample((4,), "f32")], error="shape")

# mixed dtype promotion: NumPy 2's table; pairs with bf16 follow JAX's lattice.
ALL_DT = ["bool"] + INTS + FLOATS
PROMOTION = []
for i, da in enumerate(ALL_DT):
    for db in ALL_DT:
        if "bf16" in (da, db):
            r = NP2DT[np.dtype(jnp.promote_types(DT[da], DT[db]))]
        else:
            r = NP2DT[np.result_type(DT[da], DT[db])]
        PROMOTION.append([da, db, r])
for i, da in enumerate(ALL_DT):
    for db in ALL_DT[i + 1:]:
        a, b = sample((3,), da), sample((3,), db)
        r = DT[[p[2] for p in PROMOTION if p[0] == da and p[1] == db][0]]
        if da == "bool" and db == "bool":
            continue
        y = hcall(np.add, a.astype(r), b.astype(r))
        if "bf16" not in (da, db):
            assert np.add(a, b).dtype == y.dtype and np.array_equal(np.add(a, b), y), (da, db)
        case(f"add_promote_{da}_{db}", "add", [a, b], expect=y)
# weak scalars (NEP 50)
for dt, s, sdt in [("f32", 2.5, "f64"), ("i64", 2.5, "f64"), ("i32", 7, "i32"), ("i32", 7, "i64"), ("u8", 3, "i64"),
                   ("f32", 2, "i64"), ("bool", 2, "i64"), ("bool", 1.5, "f64"), ("f64", True, "bool"), ("i32", 2.5, "f32"),
                   ("f16", 2.5, "f64"), ("bf16", 2.5, "f64"), ("f16", 3, "i64"), ("i8", 7, "i64"), ("i8", 2.5, "f64"),
                   ("u16", 7, "i64"), ("u64", 3, "i64"), ("u32", 2.5, "f32")]:
    a = sample((3,), dt)
    if dt in HALVES:
        ref = hcall(np.add, a, DT[dt](s))
    elif dt == "bool" or sdt == "bool":
        ref = np.add(a, s)
    elif isinstance(s, float) and dt in INTS:
        ref = np.add(a.astype(DT[sdt]), DT[sdt](s))  # the scalar's own type wins a kind it is higher in
    else:
        ref = np.add(a, s)
    if dt == "bool" and isinstance(s, int) and not isinstance(s, bool):
        ref = ref.astype(DT[sdt])
    case(f"add_scalar_{dt}_{sdt}_{s}", "add", [a], {"scalar": {"dtype": sdt, "value": s}}, expect=ref,
         note="weak scalar: the tensor's dtype unless the scalar's kind is higher, then the scalar's own type")
case("add_scalar_u8_out_of_range", "add", [np.array([1, 2], np.uint8)], {"scalar": {"dtype": "i64", "value": 300}}, error="invalid")
case("add_scalar_i8_out_of_range", "add", [np.array([1, 2], np.int8)], {"scalar": {"dtype": "i64", "value": -129}}, error="invalid")
case("add_scalar_u64_negative", "add", [np.array([1, 2], np.uint64)], {"scalar": {"dtype": "i64", "value": -1}}, error="invalid")
for op in ["sub", "div", "rem", "mul", "add"]:
    a = sample((4,), "f64", 0.5, 3)
    case(f"{op}_scalar_left", op, [a], {"scalar": {"dtype": "f64", "value": 2.0}, "scalar_left": True},
         expect=BIN[op](2.0, a))
# integer division and remainder signs; division by zero
a = np.array([7, -7, 7, -7, 5, 0, -3], np.int64)
b = np.array([2, 2, -2, -2, 0, 0, 5], np.int64)
with np.errstate(all="ignore"):
    for dt in SIGNED:
        case(f"floor_div_signs_{dt}", "floor_div", [a.astype(DT[dt]), b.astype(DT[dt])],
             expect=np.floor_divide(a.astype(DT[dt]), b.astype(DT[dt])))
        case(f"rem_signs_{dt}", "rem", [a.astype(DT[dt]), b.astype(DT[dt])], expect=np.remainder(a.astype(DT[dt]), b.astype(DT[dt])))
    for dt in HALVES:
        ah, bh = a.astype(DT[dt]), np.array([2, 2, -2, -2, 0.0, 3, 5], DT[dt])
        case(f"floor_div_signs_{dt}", "floor_div", [ah, bh], expect=hcall(np.floor_divide, ah, bh))
        case(f"rem_signs_{dt}", "rem", [ah, bh], expect=hcall(np.remainder, ah, bh))
    # Unsigned values above the signed range: a backend that stores u64 in
    # i64 must still compare, divide and order them as unsigned.
    ub = np.array([2**64 - 1, 2**63, 5, 2**63 + 7, 0], np.uint64)
    uc = np.array([3, 2**63 + 1, 2**64 - 2, 2, 7], np.uint64)
    for op in ["floor_div", "rem", "div", "minimum", "maximum", "lt", "ge", "add", "mul", "sub"]:
        case(f"{op}_u64_large", op, [ub, uc], expect=BIN[op](ub, uc))
    u32 = np.array([2**32 - 1, 2**31, 5, 2**31 + 7, 0], np.uint32)
    v32 = np.array([3, 2**31 + 1, 2**32 - 2, 2, 7], np.uint32)
    for op in ["floor_div", "rem", "minimum", "lt", "add", "mul"]:
        case(f"{op}_u32_large", op, [u32, v32], expect=BIN[op](u32, v32))
    af, bf = a.astype(np.float64), np.array([2, 2, -2, -2, 0.0, 3, 5])
    case("floor_div_signs_f64", "floor_div", [af, bf], expect=np.floor_divide(af, bf))
    case("rem_signs_f64", "rem", [af, bf], expect=np.remainder(af, bf))
    case("div_i64_is_f64", "div", [a, np.array([2, 2, -2, -2, 4, 1, 5], np.int64)], expect=np.true_divide(a, np.array([2, 2, -2, -2, 4, 1, 5])))
    case("div_by_zero_float", "div", [np.array([1.0, -1.0, 0.0]), np.array([0.0, 0.0, 0.0])],
         expect=np.true_divide(np.array([1.0, -1.0, 0.0]), 0.0))
case("pow_int_negative_error", "pow", [np.array([2, 3], np.int64), np.array([1, -1], np.int64)], error="invalid")
case("pow_int_scalar_negative_error", "pow", [np.array([2, 3], np.int64)], {"scalar": {"dtype": "i64", "value": -2}}, error="invalid")
case("pow_f32_scalar", "pow", [np.array([1.5, 2.0, 4.0], np.float32)], {"scalar": {"dtype": "f64", "value": 0.5}},
     expect=np.power(np.array([1.5, 2.0, 4.0], np.float32), 0.5))
for op in ["minimum", "maximum"]:
    a = np.array([1.0, np.nan, 3.0, np.nan])
    b = np.array([np.nan, 2.0, 1.0, np.nan])
    case(f"{op}_nan", op, [a, b], expect=BIN[op](a, b))
    for dt in HALVES:
        case(f"{op}_nan_{dt}", op, [a.astype(DT[dt]), b.astype(DT[dt])], expect=hcall(BIN[op], a.astype(DT[dt]), b.astype(DT[dt])))
    case(f"{op}_bool", op, [np.array([True, False, True]), np.array([False, False, True])],
         expect=BIN[op](np.array([True, False, True]), np.array([False, False, True])))
for op in ["add", "sub", "mul", "floor_div", "rem", "pow"]:
    case(f"{op}_bool_bool_error", op, [np.array([True]), np.array([False])], error="dtype")
for op, fn in {"logical_and": np.logical_and, "logical_or": np.logical_or}.items():
    a, b = sample((2, 3), "bool"), sample((3,), "bool")
    case(f"{op}_bool", op, [a, b], expect=fn(a, b))
    a, b = sample((2, 3), "f32"), sample((2, 3), "i32")
    case(f"{op}_numeric", op, [a, b], error="dtype",
         note="EagerPy's rule (and TensorFlow's): logical ops take bool only; NumPy treats non-zero as true")
for op in ["lt", "le", "gt", "ge", "eq", "ne"]:
    a = np.array([1.0, np.nan, 3.0])
    case(f"{op}_nan", op, [a, np.array([1.0, 1.0, np.nan])], expect=BIN[op](a, np.array([1.0, 1.0, np.nan])))
    a = sample((3,), "i64")
    case(f"{op}_scalar_float", op, [a], {"scalar": {"dtype": "f64", "value": 0.5}}, expect=BIN[op](a, 0.5))
    a, b = sample((4,), "bool"), sample((4,), "bool")
    case(f"{op}_bool", op, [a, b], expect=BIN[op](a, b))

# matmul
for dt in NUMERIC:
    a, b = sample((3, 4), dt, 0, 2), sample((4, 2), dt, 0, 2)
    case(f"matmul_{dt}", "matmul", [a, b], expect=hcall(np.matmul, a, b), rtol=1e-5)
for dt in HALVES:
    a, b = sample((2, 3, 4), dt, 0, 2), sample((4, 5), dt, 0, 2)
    case(f"matmul_batched_{dt}", "matmul", [a, b], expect=hcall(np.matmul, a, b), rtol=1e-5)
for name, sa, sb in [("1d_1d", (4,), (4,)), ("1d_2d", (4,), (4, 3)), ("2d_1d", (3, 4), (4,)),
                     ("batched", (2, 3, 4), (2, 4, 5)), ("broadcast_batch", (2, 1, 3, 4), (5, 4, 2)),
                     ("batched_1d", (2, 3, 4), (4,)), ("empty_k", (2, 0), (0, 3))]:
    a, b = sample(sa, "f64"), sample(sb, "f64")
    case(f"matmul_{name}", "matmul", [a, b], expect=np.matmul(a, b))
a, b = sample((2, 2), "i32"), sample((2, 2), "f32")
case("matmul_promote_i32_f32", "matmul", [a, b], expect=np.matmul(a, b))
case("matmul_shape_error", "matmul", [sample((2, 3), "f32"), sample((2, 3), "f32")], error="shape")
case("matmul_0d_error", "matmul", [np.float32(2.0), sample((2,), "f32")], error="shape")
case("matmul_bool_error", "matmul", [sample((2, 2), "bool"), sample((2, 2), "bool")], error="dtype")
case("matmul_batch_error", "matmul", [sample((2, 2, 2), "f32"), sample((3, 2, 2), "f32")], error="shape")

# where
c = sample((2, 3), "bool")
for dt in ALL:
    x, y = sample((2, 3), dt), sample((3,), dt)
    case(f"where_cond_{dt}", "where_cond", [c, x, y], expect=hcall(lambda x, y: np.where(c, x, y), x, y))
x = sample((2, 3), "f32")
case("where_cond_scalar_y", "where_cond", [c, x], {"y_scalar": {"dtype": "f64", "value": 0.0}}, expect=np.where(c, x, np.float32(0)))
case("where_cond_scalars", "where_cond", [c], {"x_scalar": {"dtype": "f64", "value": 1.0}, "y_scalar": {"dtype": "f64", "value": -1.0}},
     expect=np.where(c, 1.0, -1.0))
xi, yf = sample((2, 3), "i32"), sample((2, 3), "f32")
case("where_cond_promote", "where_cond", [c, xi, yf], expect=np.where(c, xi, yf))
ci = np.array([0, 2, -1], np.int64)
case("where_cond_int_condition", "where_cond", [ci, np.ones(3), np.zeros(3)], expect=np.where(ci, 1.0, 0.0))
case("where_cond_shape_error", "where_cond", [sample((2, 3), "bool"), sample((4,), "f32"), sample((3,), "f32")], error="shape")

# casts
for src in ALL:
    for dst in ALL:
        x = sample((5,), src) if src not in FLOATS else np.array([-2.7, -0.5, 0.0, 1.5, 2.9], DT[src])
        if dst in UNSIGNED and src in FLOATS + SIGNED:
            x = np.abs(x)
        y = x.astype(np.float32).astype(DT[dst]) if src in HALVES and dst in INTS else x.astype(DT[dst])
        case(f"astype_{src}_{dst}", "astype", [x], {"dtype": dst}, expect=y)


def saturate(v, dst):
    """eager-tensor's float -> integer cast: NaN is 0, out-of-range values
    saturate (NumPy's result there is undefined, platform-dependent)."""
    info = np.iinfo(DT[dst])
    if math.isnan(v):
        return 0
    if v >= info.max + 1:
        return info.max
    if v <= info.min:
        return info.min
    return int(v)


for src in FLOATS:
    x = np.array([np.nan, np.inf, -np.inf, 300.5, -300.5, 70000.0, -2.0**40, 2.0**64, 1.9e19, 127.9, -128.9], np.float64).astype(DT[src])
    for dst in INTS:
        y = np.array([saturate(float(v), dst) for v in x], DT[dst])
        case(f"astype_saturate_{src}_{dst}", "astype", [x], {"dtype": dst}, expect=y,
             note="NumPy's out-of-range float -> int cast is undefined; eager-tensor saturates")
# Rounding to the 16-bit floats (to nearest even), overflow to inf, subnormals.
xr = np.array([1.0 + 2.0**-11, 1.0 + 3 * 2.0**-11, 65519.0, 65520.0, 1e5, -1e5, 3e-5, 1e-8, 3.0e38, 3.4e38, 1.00390625, 1.01171875], np.float32)
for dst in HALVES:
    case(f"astype_round_f32_{dst}", "astype", [xr], {"dtype": dst}, expect=xr.astype(DT[dst]))
# Ties to even, just off a tie (truncation and round-half-up both fail one of
# them), negative ties, NaN/inf/-0, and f16's subnormals (2^-24 .. 2^-14,
# ties between them and to 0; normal numbers in f32). bf16's subnormals are
# f32's, which TensorFlow and XLA flush (docs/semantics.md, "Subnormal
# floats"): bf16 gets ties at its smallest normal exponent instead.
t16, t8 = 2.0**-11, 2.0**-8
xt = {"f16": [1.0 + t16, 1.0 + 3 * t16, 1.0 + t16 + 2.0**-23, -(1.0 + t16), -(1.0 + 3 * t16), 2048.0 + 1.0, 2048.0 + 3.0,
              65504.0 + 16.0, -0.0, np.nan, np.inf, -np.inf,
              2.0**-24, 2.0**-25, 3 * 2.0**-25, 2.0**-25 + 2.0**-40, 5 * 2.0**-25, 2.0**-14 - 2.0**-25, 2.0**-14 - 2.0**-24,
              -3 * 2.0**-25, 1e-5, 2.0**-26],
      "bf16": [1.0 + t8, 1.0 + 3 * t8, 1.0 + t8 + 2.0**-23, -(1.0 + t8), -(1.0 + 3 * t8), 256.0 + 1.0, 256.0 + 3.0,
               3.3895313892515355e38, 3.4e38, -0.0, np.nan, np.inf, -np.inf,
               2.0**-126, 2.0**-126 + 2.0**-134, 2.0**-126 + 3 * 2.0**-134, -(2.0**-125 + 2.0**-133)]}
for dst, vals in xt.items():
    xv = np.array(vals, np.float32)
    case(f"astype_ties_f32_{dst}", "astype", [xv], {"dtype": dst}, expect=xv.astype(DT[dst]))
# Between the two 16-bit floats: f16 -> bf16 rounds (ties to even), bf16 -> f16
# overflows, goes subnormal and rounds subnormal ties.
xh = np.array([1.0 + t8, 1.0 + 3 * t8, 1.0 + t8 + 2.0**-10, -(1.0 + 3 * t8), 2.0**-24, 2.0**-14, 65504.0, -0.0, np.nan], np.float16)
case("astype_ties_f16_bf16", "astype", [xh], {"dtype": "bf16"}, expect=xh.astype(BF16))
xb = np.array([1e5, -1e5, 2.0**-20, 2.0**-25, 3 * 2.0**-25, 2.0**-30, 65504.0, 65536.0, 1.0 + t8, -0.0, np.nan], BF16)
case("astype_ties_bf16_f16", "astype", [xb], {"dtype": "f16"}, expect=xb.astype(np.float16))
# Arithmetic whose exact result is a tie, or lands among the f16 subnormals.
for dt, u in [("f16", t16), ("bf16", t8)]:
    one_ = np.array([1.0, 1.0 + 2 * u, -1.0, 1.0, 1.0 + 2 * u, 3.0], DT[dt])
    tie = np.array([u, u, -u, u * 1.5, u * 1.5, u * 2], DT[dt])
    for op in ["add", "sub"]:
        case(f"{op}_ties_{dt}", op, [one_, tie], expect=hcall(BIN[op], one_, tie))
    a3 = np.array([1.0 + 2 * u, 1.0 + 6 * u, 3.0, 1.0 + 2 * u, -(1.0 + 6 * u)], DT[dt])
    b3 = np.array([1.0 + 2 * u, 1.0 + 2 * u, 1.0 + 2 * u, 3.0, 1.0 + 10 * u], DT[dt])
    for op in ["mul", "div"]:
        case(f"{op}_ties_{dt}", op, [a3, b3], expect=hcall(BIN[op], a3, b3))
sub16 = np.array([2.0**-14, 2.0**-24, 3 * 2.0**-24, 2.0**-13, 5 * 2.0**-24, -3 * 2.0**-24], np.float16)
half16 = np.array([0.5, 0.5, 0.5, 2.0**-10, 0.25, 0.5], np.float16)
for op in ["mul", "div", "add", "sub"]:
    case(f"{op}_subnormal_f16", op, [sub16, half16 if op in ("mul", "div") else sub16[::-1].copy()],
         expect=hcall(BIN[op], sub16, half16 if op in ("mul", "div") else sub16[::-1].copy()))
for op in ["neg", "abs"]:
    for dt in HALVES:
        xs_ = np.array([2.0**-24 if dt == "f16" else 2.0**-126, -0.0, 0.0, np.nan, -np.inf, -1.5], DT[dt])
        case(f"{op}_specials_{dt}", op, [xs_], expect=hcall({"neg": np.negative, "abs": np.abs}[op], xs_))
# f64 and wide integers to the 16-bit floats: values a hair above or below a
# tie (ties after half's `from_f64`, which drops the low 32 bits of an f64),
# near the top of the range, and integers with more bits than f32 holds.
# NumPy rounds f16 once; ml_dtypes (and JAX) round bf16 through f32, so
# twice: each reference's own rule.
near = []
for k in range(-3, 4):
    for eps in (2.0**-30, -(2.0**-30), 2.0**-45, -(2.0**-45), 2.0**-52):
        near.append((1.0 + (2 * k + 1) * 2.0**-11 + eps) * 2.0**k)
xnear = np.array(near + [65504.0 + 16.0 - 2.0**-20, 65504.0 + 16.0, -(3 * 2.0**-25 + 2.0**-60)], np.float64)
case("astype_near_ties_f64_f16", "astype", [xnear], {"dtype": "f16"}, expect=xnear.astype(np.float16))
nearb = np.array([(1.0 + (2 * k + 1) * 2.0**-8 + e) * 2.0**(3 * k) for k in range(-3, 4)
                  for e in (2.0**-30, -(2.0**-30), 2.0**-50, -(2.0**-50))], np.float64)
case("astype_near_ties_f64_bf16", "astype", [nearb], {"dtype": "bf16"}, expect=nearb.astype(BF16))
wide = {"i64": [2**24 + 2**16 + 1, -(2**24 + 2**16 + 1), 2**24 + 2**16, 2**60 + 2**52 + 1, -(2**60 + 2**52 + 1), 2**60 + 3 * 2**52 - 1,
                2**31 - 1, 2049, 2051, -(2**63)],
        "u64": [2**24 + 2**16 + 1, 2**60 + 2**52 + 1, 2**63 + 2**55 + 1, 2**64 - 1, 2**64 - 2**55, 2049],
        "i32": [2**24 + 2**16 + 1, -(2**24 + 2**16 + 1), 2**31 - 1, -(2**31), 2**25 + 2**17 + 2, 2051],
        "u32": [2**24 + 2**16 + 1, 2**32 - 1, 2**31 + 2**23 + 1, 2**25 + 2**17 + 2, 2049]}
for src, vals in wide.items():
    xw_ = np.array(vals, DT[src])
    case(f"astype_wide_{src}_bf16", "astype", [xw_], {"dtype": "bf16"}, expect=xw_.astype(BF16))
    with np.errstate(over="ignore"):
        case(f"astype_wide_{src}_f16", "astype", [xw_], {"dtype": "f16"}, expect=xw_.astype(np.float16))
xd = np.array([1.0 + 2.0**-11 + 2.0**-30, 65519.99, 1e300, -1e-300, 2.5e-8], np.float64)
for dst in HALVES:
    case(f"astype_round_f64_{dst}", "astype", [xd], {"dtype": dst}, expect=xd.astype(DT[dst]))
xw = np.array([200, -200, 70000, -70000, 2**40 + 5, -1], np.int64)
for dst in INTS:
    case(f"astype_wrap_i64_{dst}", "astype", [xw], {"dtype": dst}, expect=xw.astype(DT[dst]))
# Wide integers to f32 and f64 just above, at and below a tie of the
# target: a conversion that rounds twice (u64 through f64 to f32) or splits
# the value rounds one of them the wrong way.
wide_f = {"i64": [2**62 + 2**38 + 1, -(2**62 + 2**38 + 1), 2**62 + 2**38, 2**62 + 3 * 2**38, 2**62 + 2**38 - 1,
                  2**53 + 1, -(2**53 + 1), 2**54 + 3, 2**60 + 2**36 + 1, -(2**63), 2**63 - 1],
          "u64": [2**63 + 2**39 + 1, 2**63 + 2**39, 2**63 + 3 * 2**39, 2**63 + 2**39 - 1, 2**64 - 2**39 - 1,
                  2**64 - 2**39, 2**63 + 2**10 + 1, 2**63 + 2**10, 2**53 + 1, 2**62 + 2**38 + 1, 2**64 - 1],
          "i32": [2**24 + 1, 2**24 + 3, -(2**24 + 3), 2**31 - 1, -(2**31), 2**30 + 2**6 + 1],
          "u32": [2**24 + 1, 2**24 + 3, 2**32 - 1, 2**31 + 2**7 + 1, 2**31 + 2**7]}
for src, vals in wide_f.items():
    xw_ = np.array(vals, DT[src])
    for dst in ["f32", "f64"]:
        case(f"astype_ties_{src}_{dst}", "astype", [xw_], {"dtype": dst}, expect=xw_.astype(DT[dst]))
xu = np.array([2**64 - 1, 2**63, 2**53 + 1, 12345], np.uint64)
for dst in ["i64", "i32", "f64", "f32", "f16", "bf16"]:
    case(f"astype_u64_large_{dst}", "astype", [xu], {"dtype": dst}, expect=xu.astype(DT[dst]))

# ---------------------------------------------------------------- reductions
def red_dtype(dt):
    """NumPy's accumulation dtype of sum/prod/cumsum."""
    if dt in ("bool", "i8", "i16", "i32"):
        return "i64"
    if dt in ("u8", "u16", "u32"):
        return "u64"
    return dt


def red(fn, x, **kw):
    """A reduction's expectation: NumPy's accumulation dtype; the 16-bit
    floats accumulate in f32 and round once (PyTorch's and JAX's rule)."""
    if x.dtype in HALF_DTS:
        return hcall(lambda y: fn(y, **kw), x)
    return fn(x, dtype=DT[red_dtype(NP2DT[x.dtype])], **kw)


for op, fn in {"sum": np.sum, "prod": np.prod}.items():
    for dt in ALL:
        x = sample((2, 3, 4), dt, -1.5, 1.5) if op == "prod" else sample((2, 3, 4), dt)
        if op == "prod" and dt in UNSIGNED:
            x = RNG.integers(0, 3, size=(2, 3, 4)).astype(DT[dt])
        case(f"{op}_{dt}", op, [x], expect=red(fn, x), rtol=1e-4 if dt == "f32" else None)
        case(f"{op}_axes_{dt}", op, [x], {"axes": [0, -1], "keepdims": False}, expect=red(fn, x, axis=(0, 2)),
             rtol=1e-4 if dt == "f32" else None)
        case(f"{op}_keepdims_{dt}", op, [x], {"axes": [1], "keepdims": True}, expect=red(fn, x, axis=1, keepdims=True),
             rtol=1e-4 if dt == "f32" else None)
    case(f"{op}_axis_error", op, [sample((2, 3), "f32")], {"axes": [2], "keepdims": False}, error="axis")
    case(f"{op}_repeated_axis_error", op, [sample((2, 3), "f32")], {"axes": [1, -1], "keepdims": False}, error="invalid")
    case(f"{op}_empty", op, [np.zeros((0, 3), np.float32)], {"axes": [0], "keepdims": False}, expect=fn(np.zeros((0, 3), np.float32), axis=0))
xs = sample((2, 3), "i32")
case("sum_no_axes", "sum", [xs], {"axes": [], "keepdims": False}, expect=np.sum(xs, axis=(), dtype=np.int64))
big = np.round(RNG.uniform(0, 1, 100000), 2).astype(np.float32)
case("sum_f32_large_accurate", "sum", [big], expect=np.sum(big.astype(np.float64)).astype(np.float32), rtol=1e-6,
     note="pairwise summation: a naive f32 loop is off by ~1e-4 here")
for dt in FLOATS:
    x = sample((2, 3, 4), dt)
    case(f"mean_{dt}", "mean", [x], expect=hcall(np.mean, x), rtol=1e-5)
    case(f"mean_axes_{dt}", "mean", [x], {"axes": [1, 2], "keepdims": True},
         expect=hcall(lambda y: np.mean(y, axis=(1, 2), keepdims=True), x), rtol=1e-5)
xh = np.full(4096, 1.0 + 2.0**-10, np.float16)
case("sum_f16_accumulates_in_f32", "sum", [xh], expect=hcall(np.sum, xh),
     note="f16 sums accumulate in f32 and round once (PyTorch, JAX; NumPy's pairwise f16 sum too)")
case("mean_f16_accumulates_in_f32", "mean", [xh], expect=np.mean(xh))
case("sum_i8_is_i64", "sum", [np.full(100, 100, np.int8)], expect=np.sum(np.full(100, 100, np.int8)))
case("sum_u16_is_u64", "sum", [np.full(100, 60000, np.uint16)], expect=np.sum(np.full(100, 60000, np.uint16)))
for dt in ["bool"] + INTS:
    case(f"mean_{dt}_error", "mean", [sample((3,), dt)], error="dtype",
         note="EagerPy's rule: mean of an integer or bool tensor is an error")
for op, fn in {"min": np.min, "max": np.max}.items():
    for dt in ALL:
        x = sample((2, 3, 4), dt)
        case(f"{op}_{dt}", op, [x], expect=hcall(fn, x))
        case(f"{op}_axes_{dt}", op, [x], {"axes": [-1], "keepdims": True}, expect=hcall(lambda y: fn(y, axis=-1, keepdims=True), x))
    case(f"{op}_u64_large", op, [np.array([5, 2**63 + 3, 2**64 - 2, 0], np.uint64)], expect=fn(np.array([5, 2**63 + 3, 2**64 - 2, 0], np.uint64)))
    x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]])
    case(f"{op}_nan", op, [x], {"axes": [1], "keepdims": False}, expect=fn(x, axis=1))
    case(f"{op}_nan_all", op, [x], expect=fn(x))
    case(f"{op}_empty_error", op, [np.zeros((0, 3), np.float32)], {"axes": [0], "keepdims": False}, error="invalid")
for op, fn in {"all": np.all, "any": np.any}.items():
    x = sample((3, 4), "bool")
    case(f"{op}_bool", op, [x], expect=fn(x))
    case(f"{op}_axes", op, [x], {"axes": [0], "keepdims": True}, expect=fn(x, axis=0, keepdims=True))
    case(f"{op}_empty", op, [np.zeros((0,), bool)], expect=fn(np.zeros((0,), bool)))
    case(f"{op}_f32_error", op, [sample((3,), "f32")], error="dtype", note="API.md: all/any require bool")

for op, fn in {"argmin": np.argmin, "argmax": np.argmax}.items():
    for dt in ALL:
        x = sample((3, 4), dt)
        case(f"{op}_{dt}", op, [x], expect=np.int64(hcall(fn, x)))
        case(f"{op}_axis_{dt}", op, [x], {"axis": -1}, expect=hcall(lambda y: fn(y, axis=-1), x).astype(np.int64))
    xl = np.array([5, 2**63 + 3, 2**64 - 2, 0, 2**63], np.uint64)
    case(f"{op}_u64_large", op, [xl], expect=np.int64(fn(xl)))
    for dt in HALVES:
        xn = np.array([2.0, np.nan, 5.0, np.nan], DT[dt])
        case(f"{op}_nan_first_{dt}", op, [xn], expect=np.int64(hcall(fn, xn)))
    x = np.array([2.0, 1.0, 5.0, 1.0, 5.0])
    case(f"{op}_ties_first", op, [x], expect=np.int64(fn(x)))
    x = np.array([2.0, np.nan, 5.0, np.nan])
    case(f"{op}_nan_first", op, [x], expect=np.int64(fn(x)))
    case(f"{op}_empty_error", op, [np.zeros((0,), np.float32)], error="invalid")
    case(f"{op}_axis_error", op, [sample((3,), "f32")], {"axis": 1}, error="axis")

for dt in ALL:
    x = sample((3, 5), dt)
    case(f"sort_{dt}", "sort", [x], {"axis": -1}, expect=hcall(lambda y: np.sort(y, axis=-1, kind="stable"), x))
    case(f"argsort_{dt}", "argsort", [x], {"axis": 0}, expect=hcall(lambda y: np.argsort(y, axis=0, kind="stable"), x).astype(np.int64))
xl = np.array([5, 2**63 + 3, 2**64 - 2, 0, 2**63, 7], np.uint64)
case("sort_u64_large", "sort", [xl], {"axis": 0}, expect=np.sort(xl, kind="stable"))
case("argsort_u64_large", "argsort", [xl], {"axis": 0}, expect=np.argsort(xl, kind="stable"))
for dt in HALVES:
    xn = np.array([3.0, np.nan, 1.0, 2.0, 1.0, np.nan, -np.inf], DT[dt])
    case(f"sort_nan_last_{dt}", "sort", [xn], {"axis": 0}, expect=hcall(lambda y: np.sort(y, kind="stable"), xn))
x = np.array([3.0, np.nan, 1.0, 2.0, 1.0, np.nan, -np.inf])
case("sort_nan_last", "sort", [x], {"axis": 0}, expect=np.sort(x, kind="stable"))
case("argsort_stable_nan", "argsort", [x], {"axis": 0}, expect=np.argsort(x, kind="stable"))
xt = np.array([1, 0, 1, 0, 1, 0, 0, 1], np.int64)
case("argsort_stable_ties", "argsort", [xt], {"axis": 0}, expect=np.argsort(xt, kind="stable"),
     note="stability: NumPy's default quicksort is not stable; eager-tensor always sorts stably")
case("sort_axis_error", "sort", [sample((3,), "f32")], {"axis": 1}, error="axis")
xz = np.array([0.0, -0.0, 1.0, 0.0, -0.0, -1.0])
case("argsort_signed_zeros_tie", "argsort", [xz], {"axis": 0}, expect=np.argsort(xz, kind="stable"),
     note="-0.0 and 0.0 are equal keys: a stable sort keeps their order")
xl = sample((3, 70), "f32")
case("sort_long_axis0", "sort", [xl], {"axis": 0}, expect=np.sort(xl, axis=0, kind="stable"))
# Positive values: a running sum that never cancels, so the frameworks'
# accumulators (libtorch's is f64) agree with NumPy's f32 loop to rtol.
xc = sample((3, 70), "f32", 0.0, 3.0)
case("cumsum_long_f32", "cumsum", [xc], {"axis": 1}, expect=np.cumsum(xc, axis=1), rtol=2e-5)


def topk_ref(x, k):
    # Largest first, ties by lower index, NaN counts as the largest.
    idx = np.zeros(x.shape[:-1] + (k,), np.int64)
    flat = x.reshape(-1, x.shape[-1])
    out = idx.reshape(-1, k)
    for r in range(flat.shape[0]):
        row = flat[r]
        key = sorted(range(len(row)), key=lambda i: (0 if np.isnan(row[i]) else 1, -float(row[i]) if not np.isnan(row[i]) else 0, i))
        out[r] = key[:k]
    idx = out.reshape(x.shape[:-1] + (k,))
    return np.take_along_axis(x, idx, axis=-1), idx


for dt in NUMERIC:
    x = sample((3, 6), dt)
    v, i = hcall(lambda y: topk_ref(y, 3), x)
    case(f"topk_{dt}", "topk", [x], {"k": 3}, expect=[v, i])
x = np.array([1.0, 5.0, 3.0, 5.0, np.nan, 2.0])
v, i = topk_ref(x, 4)
case("topk_ties_nan", "topk", [x], {"k": 4}, expect=[v, i])
case("topk_k_error", "topk", [sample((3,), "f32")], {"k": 4}, error="invalid")

for dt in ALL:
    x = sample((2, 3), dt)
    case(f"cumsum_{dt}", "cumsum", [x], expect=red(np.cumsum, x))
    case(f"cumsum_axis_{dt}", "cumsum", [x], {"axis": 1}, expect=red(np.cumsum, x, axis=1))
case("cumsum_axis_error", "cumsum", [sample((2, 3), "f32")], {"axis": -3}, error="axis")

# ---------------------------------------------------------------- shape
x = np.arange(24).reshape(2, 3, 4)
for dt in ALL:
    xd = sample((2, 3, 4), dt)
    case(f"reshape_{dt}", "reshape", [xd], {"shape": [4, -1]}, expect=xd.reshape(4, -1))
case("reshape_0d", "reshape", [np.array([5.0])], {"shape": []}, expect=np.array([5.0]).reshape(()))
case("reshape_error", "reshape", [x], {"shape": [5, -1]}, error="shape")
case("reshape_two_unknown_error", "reshape", [x], {"shape": [-1, -1]}, error="invalid")
case("reshape_after_transpose", "reshape_t", [x], {"shape": [-1]}, expect=x.T.reshape(-1))
case("flatten_all", "flatten", [x], {"start": 0, "end": -1}, expect=x.reshape(-1))
case("flatten_middle", "flatten", [x], {"start": 1, "end": 2}, expect=x.reshape(2, 12))
case("flatten_error", "flatten", [x], {"start": 2, "end": 1}, error="invalid")
case("transpose", "transpose", [x], expect=x.transpose())
case("t", "t", [x[0]], expect=x[0].T)
case("permute", "permute", [x], {"axes": [1, 2, 0]}, expect=np.transpose(x, (1, 2, 0)))
case("permute_error", "permute", [x], {"axes": [1, 1, 0]}, error="invalid")
for ax in [0, 1, 3, -1, -4]:
    case(f"expand_dims_{ax}", "expand_dims", [x], {"axis": ax}, expect=np.expand_dims(x, ax))
case("expand_dims_error", "expand_dims", [x], {"axis": 4}, error="axis")
y = np.arange(6).reshape(1, 2, 1, 3)
case("squeeze_all", "squeeze", [y], expect=np.squeeze(y))
case("squeeze_axes", "squeeze", [y], {"axes": [-2]}, expect=np.squeeze(y, axis=-2))
case("squeeze_error", "squeeze", [y], {"axes": [1]}, error="shape")
for dt in ALL:
    xd = sample((2, 3), dt)
    case(f"tile_{dt}", "tile", [xd], {"reps": [2, 3]}, expect=np.tile(xd, (2, 3)))
case("tile_error", "tile", [x], {"reps": [2]}, error="invalid")
case("flip_all", "flip", [x], expect=np.flip(x))
case("flip_axes", "flip", [x], {"axes": [0, -1]}, expect=np.flip(x, axis=(0, 2)))
case("flip_axis_error", "flip", [x], {"axes": [3]}, error="axis")
for dt in ALL:
    xd = sample((2, 3), dt)
    case(f"pad_constant_{dt}", "pad", [xd], {"widths": [[1, 0], [2, 1]], "mode": "constant", "value": 1.0},
         expect=np.pad(xd, ((1, 0), (2, 1)), constant_values=1))
    if dt != "bool":
        case(f"pad_reflect_{dt}", "pad", [xd], {"widths": [[1, 1], [2, 2]], "mode": "reflect"},
             expect=np.pad(xd, ((1, 1), (2, 2)), mode="reflect"))
case("pad_reflect_too_wide_error", "pad", [x[0]], {"widths": [[3, 0], [0, 0]], "mode": "reflect"}, error="invalid",
     note="NumPy reflects repeatedly; eager-tensor (like PyTorch) requires width < size")
case("pad_widths_error", "pad", [x[0]], {"widths": [[1, 1]], "mode": "constant", "value": 0.0}, error="invalid")
case("pad_value_error", "pad", [x[0]], {"widths": [[1, 1], [0, 0]], "mode": "constant", "value": 0.5}, error="invalid")
case("broadcast_to", "broadcast_to", [x[0, :, :1]], {"shape": [2, 3, 4]}, expect=np.broadcast_to(x[0, :, :1], (2, 3, 4)))
case("broadcast_to_error", "broadcast_to", [x[0]], {"shape": [4, 3]}, error="shape")

# joins
for dt in ALL:
    a, b = sample((2, 3), dt), sample((1, 3), dt)
    case(f"concatenate_{dt}", "concatenate", [a, b], {"axis": 0}, expect=np.concatenate([a, b], axis=0))
a, b, c3 = sample((2, 3), "f32"), sample((2, 1), "f32"), sample((2, 2), "f32")
case("concatenate_axis1", "concatenate", [a, b, c3], {"axis": -1}, expect=np.concatenate([a, b, c3], axis=-1))
a, b = sample((2, 3), "i32"), sample((1, 3), "f32")
case("concatenate_promote", "concatenate", [a, b], {"axis": 0}, expect=np.concatenate([a, b], axis=0))
case("concatenate_shape_error", "concatenate", [sample((2, 3), "f32"), sample((2, 2), "f32")], {"axis": 0}, error="shape")
case("concatenate_axis_error", "concatenate", [sample((2, 3), "f32")], {"axis": 2}, error="axis")
case("concatenate_empty_error", "concatenate", [], {"axis": 0}, error="invalid")
for ax in [0, 1, -1, 2]:
    a, b = sample((2, 3), "f64"), sample((2, 3), "f64")
    case(f"stack_{ax}", "stack", [a, b], {"axis": ax}, expect=np.stack([a, b], axis=ax))
case("stack_shape_error", "stack", [sample((2, 3), "f32"), sample((3, 2), "f32")], {"axis": 0}, error="shape")
case("stack_axis_error", "stack", [sample((2, 3), "f32")], {"axis": 3}, error="axis")
gx, gy, gz = np.arange(3), np.arange(4) * 10, np.arange(2) * 100
case("meshgrid_xy", "meshgrid", [gx, gy], {"indexing": "xy"}, expect=np.meshgrid(gx, gy, indexing="xy"))
case("meshgrid_ij", "meshgrid", [gx, gy, gz], {"indexing": "ij"}, expect=np.meshgrid(gx, gy, gz, indexing="ij"))
case("meshgrid_xy3", "meshgrid", [gx, gy, gz], {"indexing": "xy"}, expect=np.meshgrid(gx, gy, gz, indexing="xy"))
case("iter", "iter", [x], expect=list(x))

# gathers
for dt in ALL:
    xd = sample((3, 4), dt)
    idx = RNG.integers(-4, 4, size=(3, 2))
    case(f"take_along_axis_{dt}", "take_along_axis", [xd, idx], {"axis": 1}, expect=np.take_along_axis(xd, idx, axis=1))
xd = sample((3, 4), "f32")
idx = RNG.integers(0, 3, size=(2, 4))
case("take_along_axis_axis0", "take_along_axis", [xd, idx], {"axis": 0}, expect=np.take_along_axis(xd, idx, axis=0))
idx = RNG.integers(0, 4, size=(1, 2))
case("take_along_axis_broadcast", "take_along_axis", [xd, idx], {"axis": 1}, expect=np.take_along_axis(xd, idx, axis=1))
case("take_along_axis_range_error", "take_along_axis", [xd, np.array([[4], [0], [0]])], {"axis": 1}, error="index")
case("take_along_axis_ndim_error", "take_along_axis", [xd, np.array([0, 1])], {"axis": 1}, error="shape")
case("take_along_axis_dtype_error", "take_along_axis", [xd, np.array([[0.0], [1.0], [0.0]])], {"axis": 1}, error="dtype")
for dt in NUMERIC:
    xd = sample((3, 4), dt)
    ind = np.array([0, 3, 1])
    ref = np.zeros_like(xd)
    ref[np.arange(3), ind] = 2
    case(f"onehot_like_{dt}", "onehot_like", [xd, ind], {"value": 2}, expect=ref)
case("onehot_like_shape_error", "onehot_like", [sample((3, 4), "f32"), np.array([0, 1])], {"value": 1}, error="shape")
case("onehot_like_range_error", "onehot_like", [sample((3, 4), "f32"), np.array([0, 1, 4])], {"value": 1}, error="index")


# nn helpers
def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


for dt in FLOATS:
    xd = sample((3, 4), dt)
    for ax in [0, -1]:
        case(f"softmax_{dt}_{ax}", "softmax", [xd], {"axis": ax}, expect=np_softmax(xd.astype(np.float64), ax).astype(DT[dt]))
        case(f"log_softmax_{dt}_{ax}", "log_softmax", [xd], {"axis": ax}, expect=np_log_softmax(xd.astype(np.float64), ax).astype(DT[dt]))
    labels = np.array([0, 3, 2])
    ce = -np_log_softmax(xd.astype(np.float64), -1)[np.arange(3), labels]
    case(f"crossentropy_{dt}", "crossentropy", [xd, labels], expect=ce.astype(DT[dt]))
case("softmax_large_stable", "softmax", [np.array([1000.0, 1001.0, 1002.0])], {"axis": 0},
     expect=np_softmax(np.array([1000.0, 1001.0, 1002.0]), 0))
case("softmax_i64", "softmax", [np.array([1, 2, 3])], {"axis": 0}, expect=np_softmax(np.array([1.0, 2.0, 3.0]), 0))
case("crossentropy_shape_error", "crossentropy", [sample((3, 4), "f32"), np.array([0, 1])], error="shape")
case("crossentropy_range_error", "crossentropy", [sample((3, 4), "f32"), np.array([0, 1, 4])], error="index")
case("softmax_axis_error", "softmax", [sample((3, 4), "f32")], {"axis": 2}, error="axis")
for dt in NUMERIC:
    xd = sample((2, 5), dt)
    lo, hi = (-1, 2) if dt not in UNSIGNED else (2, 6)
    case(f"clip_{dt}", "clip", [xd], {"min": lo, "max": hi}, expect=hcall(lambda y: np.clip(y, lo, hi).astype(y.dtype), xd))
xd = sample((2, 5), "f32")
case("clip_float_bounds", "clip", [xd], {"min": -0.5, "max": 0.75}, expect=np.clip(xd, np.float32(-0.5), np.float32(0.75)))

# linear algebra
for dt in FLOATS:
    m = sample((3, 3), dt) + np.eye(3, dtype=DT[dt]) * 4
    case(f"inv_{dt}", "inv", [m], expect=np.linalg.inv(m.astype(np.float64)).astype(DT[dt]), rtol=1e-5)
    s, l = np.linalg.slogdet(m.astype(np.float64))
    case(f"slogdet_{dt}", "slogdet", [m], expect=[np.array(s, DT[dt]), np.array(l, DT[dt])], rtol=1e-5)
mb = sample((2, 3, 3), "f64") + np.eye(3) * 4
mb[1] *= -1
case("inv_batched", "inv", [mb], expect=np.linalg.inv(mb))
case("slogdet_batched", "slogdet", [mb], expect=list(np.linalg.slogdet(mb)))
mi = np.array([[2, 1], [1, 1]], np.int64)
case("inv_i64_is_f64", "inv", [mi], expect=np.linalg.inv(mi))
sing = np.array([[1.0, 2.0], [2.0, 4.0]])
case("inv_singular_error", "inv", [sing], error="invalid", note="JAX returns inf silently; NumPy raises")
case("slogdet_singular", "slogdet", [sing], expect=list(np.linalg.slogdet(sing)))
sw = np.array([[0.0, 2.0, 1.0], [3.0, 1.0, 0.0], [1.0, 1.0, 5.0]])
case("slogdet_pivot_swaps", "slogdet", [sw], expect=list(np.linalg.slogdet(sw)))
case("inv_pivot_swaps", "inv", [sw], expect=np.linalg.inv(sw))
sz = np.array([[0.0, 1.0], [0.0, 2.0]])
case("slogdet_zero_column", "slogdet", [sz], expect=list(np.linalg.slogdet(sz)))
sn = np.array([[1.0, np.nan], [2.0, 1.0]])
s, l = np.linalg.slogdet(sn)
case("slogdet_nan", "slogdet", [sn], expect=[np.array(np.nan), l],
     note="NumPy's sign for a NaN matrix is whatever LAPACK left (-1 here); eager-tensor's is NaN, like its log|det|")
sn0 = np.array([[0.0, np.nan], [0.0, 1.0]])
case("slogdet_nan_and_zero_column", "slogdet", [sn0], expect=[np.array(np.nan), np.array(np.nan)],
     note="NumPy says (0, -inf) here (the zero column comes first); eager-tensor: any NaN gives (NaN, NaN)")
case("inv_shape_error", "inv", [sample((2, 3), "f64")], error="shape")

# creation
for dt in ALL:
    like = sample((2,), dt)
    case(f"zeros_{dt}", "zeros", [like], {"shape": [2, 3]}, expect=np.zeros((2, 3), DT[dt]))
    case(f"ones_{dt}", "ones", [like], {"shape": [3]}, expect=np.ones((3,), DT[dt]))
    case(f"zeros_like_{dt}", "zeros_like", [like], expect=np.zeros_like(like))
    case(f"ones_like_{dt}", "ones_like", [like], expect=np.ones_like(like))
case("full_f32", "full", [sample((2,), "f32")], {"shape": [2, 2], "value": 2.5}, expect=np.full((2, 2), 2.5, np.float32))
case("full_i32", "full", [sample((2,), "i32")], {"shape": [3], "value": 7}, expect=np.full((3,), 7, np.int32))
case("full_like_f64", "full_like", [sample((2, 2), "f64")], {"value": -1.5}, expect=np.full((2, 2), -1.5))
case("full_int_fraction_error", "full", [sample((2,), "i64")], {"shape": [2], "value": 2.5}, error="invalid",
     note="NumPy truncates silently; eager-tensor refuses a value the dtype cannot hold")
for (a, b, s) in [(0, 5, 1), (2, 11, 3), (5, 0, -2), (0, 0, 1), (3, 1, 1)]:
    case(f"arange_{a}_{b}_{s}", "arange", [np.zeros(1)], {"start": a, "stop": b, "step": s}, expect=np.arange(a, b, s, dtype=np.int64))
case("arange_step_error", "arange", [np.zeros(1)], {"start": 0, "stop": 3, "step": 0}, error="invalid")

# norms
xn = sample((3, 4), "f64")
xn[0, 1] = 0
for axes in [None, [1], [0, 1]]:
    kd = axes == [1]
    ax = None if axes is None else tuple(axes)
    tag = "all" if axes is None else "_".join(map(str, axes))
    case(f"l0_{tag}", "l0", [xn], {"axes": axes, "keepdims": kd}, expect=np.sum(xn != 0, axis=ax, keepdims=kd).astype(np.float64))
    case(f"l1_{tag}", "l1", [xn], {"axes": axes, "keepdims": kd}, expect=np.sum(np.abs(xn), axis=ax, keepdims=kd))
    case(f"l2_{tag}", "l2", [xn], {"axes": axes, "keepdims": kd}, expect=np.sqrt(np.sum(xn ** 2, axis=ax, keepdims=kd)))
    case(f"linf_{tag}", "linf", [xn], {"axes": axes, "keepdims": kd}, expect=np.max(np.abs(xn), axis=ax, keepdims=kd))
    case(f"lp3_{tag}", "lp", [xn], {"p": 3.0, "axes": axes, "keepdims": kd},
         expect=np.sum(np.abs(xn) ** 3, axis=ax, keepdims=kd) ** (1 / 3))
xf = sample((5,), "f32")
case("l2_f32", "l2", [xf], {"axes": None, "keepdims": False}, expect=np.sqrt(np.sum(xf ** 2)).astype(np.float32))
case("l2_axis_error", "l2", [xf], {"axes": [1], "keepdims": False}, error="axis")


# ---------------------------------------------------------------- indexing
def items_json(items):
    out = []
    for it in items:
        if isinstance(it, int):
            out.append({"int": it})
        elif isinstance(it, slice):
            out.append({"slice": [it.start, it.stop, 1 if it.step is None else it.step]})
        elif it is None:
            out.append("newaxis")
        elif it is Ellipsis:
            out.append("ellipsis")
        elif isinstance(it, tuple) and it[0] == "t":
            out.append({"tensor": it[1]})
    return out


def np_items(items, tensors):
    return tuple(tensors[it[1] - 1] if isinstance(it, tuple) else it for it in items)


def index_case(name, x, items, tensors=()):
    ref = x[np_items(items, list(tensors))]
    case(name, "index", [x, *tensors], {"items": items_json(items)}, expect=np.asarray(ref))


x = np.arange(60).reshape(3, 4, 5)
index_case("index_int", x, [1])
index_case("index_negative_int", x, [-1, 2])
index_case("index_all_ints_0d", x, [2, -1, 0])
index_case("index_range", x, [slice(1, 3)])
index_case("index_range_step", x, [slice(None), slice(1, None, 2)])
index_case("index_negative_step", x, [slice(None, None, -1), slice(3, 0, -2)])
index_case("index_clamps", x, [slice(1, 100), slice(-100, 2)])
index_case("index_empty_range", x, [slice(3, 1)])
index_case("index_newaxis", x, [None, 0, None, slice(None), 1])
index_case("index_ellipsis", x, [Ellipsis, 2])
index_case("index_ellipsis_middle", x, [0, Ellipsis, None])
ti = np.array([2, 0, -1])
index_case("index_int_tensor", x, [("t", 1)], [ti])
index_case("index_int_tensor_axis1", x, [slice(None), ("t", 1)], [np.array([[0, 3], [1, 1]])])
index_case("index_two_tensors", x, [("t", 1), ("t", 2)], [np.array([0, 2, 1]), np.array([3, 0, 1])])
index_case("index_two_tensors_broadcast", x, [("t", 1), slice(None), ("t", 2)], [np.array([[0], [2]]), np.array([4, 0, 1])])
index_case("index_int_and_tensor_separated", x, [0, slice(None), ("t", 1)], [np.array([1, 3])])
index_case("index_int_and_tensor_adjacent", x, [slice(None), 1, ("t", 1)], [np.array([1, 3])])
mask = x[:, :, 0] % 3 == 0
index_case("index_bool_mask_2d", x, [("t", 1)], [mask])
index_case("index_bool_mask_axis1", x, [slice(None), ("t", 1)], [np.array([True, False, True, True])])
xf = sample((2, 3), "f32")
index_case("index_bool_mask_full", xf, [("t", 1)], [xf > 0])
case("index_out_of_range_error", "index", [x], {"items": items_json([3])}, error="index")
case("index_too_many_error", "index", [x], {"items": items_json([0, 0, 0, 0])}, error="index")
case("index_zero_step_error", "index", [x], {"items": items_json([slice(None, None, 0)])}, error="index")
case("index_two_ellipsis_error", "index", [x], {"items": items_json([Ellipsis, Ellipsis])}, error="index")
case("index_tensor_range_error", "index", [x, np.array([0, 3])], {"items": items_json([("t", 1)])}, error="index")
case("index_float_tensor_error", "index", [x, np.array([0.0])], {"items": items_json([("t", 1)])}, error="index")
case("index_mask_shape_error", "index", [x, np.array([True, False])], {"items": items_json([("t", 1)])}, error="index")
case("index_broadcast_error", "index", [x, np.array([0, 1]), np.array([0, 1, 2])],
     {"items": items_json([("t", 1), ("t", 2)])}, error="index")


def update_case(name, x, items, value, tensors=(), value_tensor=None):
    ref = x.copy()
    ref[np_items(items, list(tensors))] = value if value_tensor is None else value_tensor
    inputs = [x, *tensors]
    args = {"items": items_json(items)}
    if value_tensor is None:
        args["value"] = value
    else:
        inputs.append(value_tensor)
        args["value_input"] = len(inputs) - 1
    case(name, "index_update", inputs, args, expect=ref)


xu = sample((3, 4), "f32")
update_case("index_update_scalar_row", xu, [1], 5.0)
update_case("index_update_slice_step", xu, [slice(None), slice(None, None, 2)], -1.0)
update_case("index_update_tensor_values", xu, [slice(None), 0], None, value_tensor=np.array([7.0, 8.0, 9.0], np.float32))
update_case("index_update_broadcast_values", xu, [slice(0, 2)], None, value_tensor=np.array([1.0, 2.0, 3.0, 4.0], np.float32))
update_case("index_update_int_tensor", xu, [("t", 1), ("t", 2)], 0.0, [np.array([0, 2]), np.array([3, -1])])
update_case("index_update_repeated_last_wins", xu, [("t", 1)], None, [np.array([0, 2, 0])],
            value_tensor=np.array([1.0, 2.0, 3.0], np.float32)[:, None] * np.ones((1, 4), np.float32))
index_case("index_bool_mask_none", xf, [("t", 1)], [xf > 100])
update_case("index_update_mask", xu, [("t", 1)], 0.0, [xu > 0])
xi = np.arange(6, dtype=np.int32).reshape(2, 3)
update_case("index_update_i32", xi, [Ellipsis, 1], 42)
case("index_update_float_into_int_error", "index_update", [xi, np.array([1.5], np.float32)],
     {"items": items_json([0, 0]), "value_input": 1}, error="dtype")
case("index_update_shape_error", "index_update", [xu, np.array([1.0, 2.0], np.float32)],
     {"items": items_json([0]), "value_input": 1}, error="shape")
case("index_update_index_error", "index_update", [xu], {"items": items_json([5]), "value": 1.0}, error="index")

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump({"generator": "tests/gen/gen_conformance.py", "numpy": np.__version__, "ml_dtypes": ml_dtypes.__version__,
               "jax": jax.__version__, "promotion": PROMOTION, "cases": CASES}, f, separators=(",", ":"))
    f.write("\n")
print(f"{len(CASES)} cases -> {os.path.relpath(OUT)}", file=sys.stderr)

//! The conformance suite: every case of `tests/data/conformance.json`
//! (generated from NumPy by `tests/gen/gen_conformance.py`) on every enabled
//! backend. A case passes when the op returns the expected dtype, shape and
//! values, or the expected error kind; a panic is a failure.
//!
//! Cases a backend cannot pass are listed in `KNOWN_EXCEPTIONS` with the
//! reason; they are counted in the output (and the list should be empty).

use eager_tensor::{
    self as ep, prelude::*, Backend, DType, EagerTensor, HostData, IndexItem, Operand, Scalar,
};
use serde_json::Value;

#[macro_use]
mod common;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// `(backend, case name, reason)`: cases that backend is known to fail.
const KNOWN_EXCEPTIONS: &[(Backend, &str, &str)] = &[];

fn data() -> Value {
    let text = include_str!("data/conformance.json");
    serde_json::from_str(text).expect("conformance.json parses")
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "nan" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        Value::Bool(b) => *b as u8 as f64,
        other => other.as_f64().expect("a number"),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Bool(b) => *b as i64,
        other => other.as_i64().expect("an integer"),
    }
}

fn dtype_of(v: &Value) -> DType {
    v["dtype"]
        .as_str()
        .expect("dtype")
        .parse()
        .expect("known dtype")
}

fn shape_of(v: &Value) -> Vec<usize> {
    v["shape"]
        .as_array()
        .expect("shape")
        .iter()
        .map(|d| d.as_u64().expect("dim") as usize)
        .collect()
}

fn host_of(v: &Value) -> HostData {
    let d = v["data"].as_array().expect("data");
    let dtype = dtype_of(v);
    if dtype == DType::Bool {
        return HostData::Bool(d.iter().map(|x| x.as_bool().expect("bool")).collect());
    }
    if dtype.is_float() {
        return HostData::from_f64s(dtype, &d.iter().map(num).collect::<Vec<_>>());
    }
    // Integers exactly (u64 values beyond i64 included).
    let ints: Vec<Scalar> = d
        .iter()
        .map(|x| match x.as_u64() {
            Some(u) => Scalar::U64(u),
            None => Scalar::I64(int(x)),
        })
        .collect();
    let one = |s: &Scalar| s.cast("test", dtype).expect("the value fits its dtype");
    let mut h = HostData::filled("test", Scalar::I64(0), dtype, 0).expect("empty");
    macro_rules! fill {
        ($($v:ident),*) => {
            match &mut h {
                $(HostData::$v(out) => out.extend(ints.iter().map(|s| match one(s) {
                    Scalar::$v(x) => x,
                    _ => unreachable!(),
                })),)*
                _ => unreachable!(),
            }
        };
    }
    fill!(U8, I8, I16, U16, I32, U32, I64, U64);
    h
}

fn scalar_of(v: &Value) -> Scalar {
    let value = &v["value"];
    let dtype: DType = v["dtype"]
        .as_str()
        .expect("scalar dtype")
        .parse()
        .expect("dtype");
    let s = match value {
        Value::Bool(b) => Scalar::Bool(*b),
        _ => match value.as_i64() {
            Some(i) if !dtype.is_float() => Scalar::I64(i),
            _ => Scalar::F64(num(value)),
        },
    };
    s.cast("test", dtype).expect("the scalar fits its dtype")
}

/// A JSON number as a weak scalar: integers as `i64`, others as `f64`.
fn json_scalar(v: &Value) -> Scalar {
    match v.as_i64() {
        Some(i) => Scalar::I64(i),
        None => Scalar::F64(num(v)),
    }
}

fn isizes(v: &Value) -> Vec<isize> {
    v.as_array()
        .expect("list")
        .iter()
        .map(|x| int(x) as isize)
        .collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("list")
        .iter()
        .map(|x| int(x) as usize)
        .collect()
}

fn opt_axes(v: &Value) -> Option<Vec<isize>> {
    if v.is_null() {
        None
    } else {
        Some(isizes(v))
    }
}

fn unary_op(name: &str) -> Option<ep::UnaryOp> {
    use ep::UnaryOp::*;
    Some(match name {
        "abs" => Abs,
        "neg" => Neg,
        "sign" => Sign,
        "sqrt" => Sqrt,
        "square" => Square,
        "exp" => Exp,
        "log" => Log,
        "log2" => Log2,
        "log10" => Log10,
        "log1p" => Log1p,
        "sin" => Sin,
        "cos" => Cos,
        "tan" => Tan,
        "sinh" => Sinh,
        "cosh" => Cosh,
        "tanh" => Tanh,
        "arcsin" => Arcsin,
        "arccos" => Arccos,
        "arctan" => Arctan,
        "arcsinh" => Arcsinh,
        "arccosh" => Arccosh,
        "arctanh" => Arctanh,
        "round" => Round,
        "ceil" => Ceil,
        "floor" => Floor,
        "isnan" => IsNan,
        "isinf" => IsInf,
        "logical_not" => LogicalNot,
        "sigmoid" => Sigmoid,
        "relu" => Relu,
        _ => return None,
    })
}

fn binary_op(name: &str) -> Option<ep::BinaryOp> {
    use ep::BinaryOp::*;
    Some(match name {
        "add" => Add,
        "sub" => Sub,
        "mul" => Mul,
        "div" => Div,
        "floor_div" => FloorDiv,
        "rem" => Rem,
        "pow" => Pow,
        "minimum" => Minimum,
        "maximum" => Maximum,
        "logical_and" => LogicalAnd,
        "logical_or" => LogicalOr,
        "lt" => Lt,
        "le" => Le,
        "gt" => Gt,
        "ge" => Ge,
        "eq" => Eq,
        "ne" => Ne,
        _ => return None,
    })
}

/// Calls the named binary method the way a user would.
fn call_binary(name: &str, x: &EagerTensor, rhs: Operand) -> ep::Result<EagerTensor> {
    match name {
        "add" => x.add(rhs),
        "sub" => x.sub(rhs),
        "mul" => x.mul(rhs),
        "div" => x.div(rhs),
        "floor_div" => x.floor_div(rhs),
        "rem" => x.rem(rhs),
        "pow" => x.pow(rhs),
        "minimum" => x.minimum(rhs),
        "maximum" => x.maximum(rhs),
        "logical_and" => x.logical_and(rhs),
        "logical_or" => x.logical_or(rhs),
        "lt" => x.lt(rhs),
        "le" => x.le(rhs),
        "gt" => x.gt(rhs),
        "ge" => x.ge(rhs),
        "eq" => x.eq(rhs),
        "ne" => x.ne(rhs),
        other => x.binary(binary_op(other).expect("binary op"), rhs),
    }
}

/// A scalar on the left, through the operators (`2.0 - &x`).
fn scalar_left(name: &str, s: f64, x: &EagerTensor) -> ep::Result<EagerTensor> {
    match name {
        "add" => s + x,
        "sub" => s - x,
        "mul" => s * x,
        "div" => s / x,
        "rem" => s % x,
        other => panic!("no scalar-left operator for {other}"),
    }
}

fn index_items(args: &Value, ins: &[EagerTensor]) -> Vec<IndexItem> {
    args["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|it| match it {
            Value::String(s) if s == "newaxis" => IndexItem::NewAxis,
            Value::String(s) if s == "ellipsis" => IndexItem::Ellipsis,
            Value::Object(o) if o.contains_key("int") => IndexItem::Int(int(&o["int"]) as isize),
            Value::Object(o) if o.contains_key("slice") => {
                let s = o["slice"].as_array().expect("slice");
                let b = |v: &Value| {
                    if v.is_null() {
                        None
                    } else {
                        Some(int(v) as isize)
                    }
                };
                IndexItem::Slice {
                    start: b(&s[0]),
                    stop: b(&s[1]),
                    step: int(&s[2]) as isize,
                }
            }
            Value::Object(o) if o.contains_key("tensor") => {
                IndexItem::Tensor(ins[int(&o["tensor"]) as usize].clone())
            }
            other => panic!("bad index item {other}"),
        })
        .collect()
}

fn one(t: ep::Result<EagerTensor>) -> ep::Result<Vec<EagerTensor>> {
    t.map(|t| vec![t])
}

fn run(op: &str, ins: &[EagerTensor], args: &Value) -> ep::Result<Vec<EagerTensor>> {
    let x = ins.first();
    let x0 = || x.expect("an input");
    let keepdims = args["keepdims"].as_bool().unwrap_or(false);
    let axis = || int(&args["axis"]) as isize;
    if let Some(u) = unary_op(op) {
        // The named methods and `unary(op)` are the same path; use names for a few.
        return one(match op {
            "sqrt" => x0().sqrt(),
            "abs" => x0().abs(),
            "neg" => -x0(),
            _ => x0().unary(u),
        });
    }
    if binary_op(op).is_some() {
        if let Some(s) = args.get("scalar") {
            let s = scalar_of(s);
            if args["scalar_left"].as_bool().unwrap_or(false) {
                return one(scalar_left(op, s.to_f64(), x0()));
            }
            return one(call_binary(op, x0(), Operand::Scalar(s)));
        }
        return one(call_binary(op, x0(), Operand::Tensor(&ins[1])));
    }
    type All<'a> = &'a dyn Fn(&EagerTensor) -> ep::Result<EagerTensor>;
    type Axes<'a> = &'a dyn Fn(&EagerTensor, &[isize], bool) -> ep::Result<EagerTensor>;
    let reduce = |f: All, g: Axes| {
        one(match opt_axes(&args["axes"]) {
            None => f(x0()),
            Some(a) => g(x0(), &a, keepdims),
        })
    };
    let axes_norm = || -> ep::norms::Axes { ep::norms::Axes(opt_axes(&args["axes"])) };
    match op {
        "matmul" => one(x0().matmul(&ins[1])),
        "where_cond" => {
            let xs = args.get("x_scalar").map(scalar_of);
            let ys = args.get("y_scalar").map(scalar_of);
            let xo = xs
                .map(Operand::Scalar)
                .unwrap_or_else(|| Operand::Tensor(&ins[1]));
            let yo = ys
                .map(Operand::Scalar)
                .unwrap_or_else(|| Operand::Tensor(&ins[if xs.is_some() { 1 } else { 2 }]));
            one(ep::where_cond(x0(), xo, yo))
        }
        "astype" => one(x0().astype(args["dtype"].as_str().expect("dtype").parse()?)),
        "sum" => reduce(&|t| t.sum(), &|t, a, k| t.sum_axes(a, k)),
        "prod" => reduce(&|t| t.prod(), &|t, a, k| t.prod_axes(a, k)),
        "mean" => reduce(&|t| t.mean(), &|t, a, k| t.mean_axes(a, k)),
        "min" => reduce(&|t| t.min(), &|t, a, k| t.min_axes(a, k)),
        "max" => reduce(&|t| t.max(), &|t, a, k| t.max_axes(a, k)),
        "all" => reduce(&|t| t.all(), &|t, a, k| t.all_axes(a, k)),
        "any" => reduce(&|t| t.any(), &|t, a, k| t.any_axes(a, k)),
        "argmin" if args["axis"].is_null() => one(x0().argmin()),
        "argmin" => one(x0().argmin_axis(axis())),
        "argmax" if args["axis"].is_null() => one(x0().argmax()),
        "argmax" => one(x0().argmax_axis(axis())),
        "argsort" => one(x0().argsort(axis())),
        "sort" => one(x0().sort(axis())),
        "topk" => {
            let (v, i) = x0().topk(int(&args["k"]) as usize, true)?;
            Ok(vec![v, i])
        }
        "cumsum" if args["axis"].is_null() => one(x0().cumsum()),
        "cumsum" => one(x0().cumsum_axis(axis())),
        "reshape" => one(x0().reshape(isizes(&args["shape"]))),
        "reshape_t" => one(x0().t()?.reshape(isizes(&args["shape"]))),
        "flatten" => one(x0().flatten(int(&args["start"]) as isize, int(&args["end"]) as isize)),
        "transpose" => one(x0().transpose()),
        "t" => one(x0().t()),
        "permute" => one(x0().permute(usizes(&args["axes"]))),
        "expand_dims" => one(x0().expand_dims(axis())),
        "squeeze" => one(match opt_axes(&args["axes"]) {
            None => x0().squeeze(),
            Some(a) => x0().squeeze_axes(&a),
        }),
        "tile" => one(x0().tile(usizes(&args["reps"]))),
        "flip" => one(match opt_axes(&args["axes"]) {
            None => x0().flip(),
            Some(a) => x0().flip_axes(&a),
        }),
        "pad" => {
            let widths: Vec<(usize, usize)> = args["widths"]
                .as_array()
                .expect("widths")
                .iter()
                .map(|w| (int(&w[0]) as usize, int(&w[1]) as usize))
                .collect();
            let mode = match args["mode"].as_str() {
                Some("reflect") => ep::PadMode::Reflect,
                _ => ep::PadMode::Constant(num(&args["value"])),
            };
            one(x0().pad(&widths, mode))
        }
        "broadcast_to" => one(x0().broadcast_to(usizes(&args["shape"]))),
        "concatenate" => one(ep::concatenate(ins, axis())),
        "stack" => one(ep::stack(ins, axis())),
        "meshgrid" => {
            let ix = if args["indexing"] == "xy" {
                ep::Indexing::Xy
            } else {
                ep::Indexing::Ij
            };
            ep::meshgrid(ins, ix)
        }
        "iter" => Ok(x0().iter().collect()),
        "take_along_axis" => one(x0().take_along_axis(&ins[1], axis())),
        "onehot_like" => one(x0().onehot_like(&ins[1], int(&args["value"]))),
        "softmax" => one(x0().softmax(axis())),
        "log_softmax" => one(x0().log_softmax(axis())),
        "crossentropy" => one(x0().crossentropy(&ins[1])),
        "clip" => one(x0().clip(json_scalar(&args["min"]), json_scalar(&args["max"]))),
        "inv" => one(x0().inv()),
        "slogdet" => {
            let (s, l) = x0().slogdet()?;
            Ok(vec![s, l])
        }
        "zeros" => one(x0().zeros(usizes(&args["shape"]))),
        "ones" => one(ep::ones(x0(), usizes(&args["shape"]))),
        "full" => one(match &args["value"] {
            v if v.is_f64() => x0().full(usizes(&args["shape"]), num(v)),
            v => ep::full(x0(), usizes(&args["shape"]), int(v)),
        }),
        "zeros_like" => one(x0().zeros_like()),
        "ones_like" => one(ep::ones_like(x0())),
        "full_like" => one(ep::full_like(x0(), num(&args["value"]))),
        "arange" => one(ep::arange(
            x0(),
            int(&args["start"]),
            int(&args["stop"]),
            int(&args["step"]),
        )),
        "l0" => one(ep::norms::l0(x0(), axes_norm(), keepdims)),
        "l1" => one(x0().norms().l1(axes_norm(), keepdims)),
        "l2" => one(ep::norms::l2(x0(), axes_norm(), keepdims)),
        "linf" => one(ep::norms::linf(x0(), axes_norm(), keepdims)),
        "lp" => one(ep::norms::lp(x0(), num(&args["p"]), axes_norm(), keepdims)),
        "index" => one(x0().index(index_items(args, ins))),
        "index_update" => {
            let items = index_items(args, ins);
            one(match args.get("value_input") {
                Some(k) => x0().index_update(&items, &ins[int(k) as usize]),
                None => x0().index_update(&items, num(&args["value"])),
            })
        }
        other => panic!("the conformance runner does not know op {other:?}"),
    }
}

fn close(got: f64, want: f64, rtol: f64, atol: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= atol + rtol * want.abs()
}

/// The bits of a float tensor's values in its own dtype, every NaN mapped to
/// one pattern (a NaN's sign and payload are not part of the contract).
fn float_bits(h: &HostData) -> Option<Vec<u64>> {
    fn canon<T: Copy>(v: &[T], nan: impl Fn(T) -> bool, bits: impl Fn(T) -> u64) -> Vec<u64> {
        v.iter()
            .map(|&x| if nan(x) { u64::MAX } else { bits(x) })
            .collect()
    }
    Some(match h {
        HostData::F16(v) => canon(v, |x| x.is_nan(), |x| x.to_bits() as u64),
        HostData::BF16(v) => canon(v, |x| x.is_nan(), |x| x.to_bits() as u64),
        HostData::F32(v) => canon(v, |x| x.is_nan(), |x| x.to_bits() as u64),
        HostData::F64(v) => canon(v, |x| x.is_nan(), |x| x.to_bits()),
        _ => return None,
    })
}

/// `exact` cases (the generator marks casts and single correctly rounded
/// element-wise ops that touch f16/bf16): float outputs must have the
/// expected bits, NaN equal to NaN and -0.0 distinct from 0.0, so that a
/// rounding slip (truncation, ties away from zero, double rounding, flushed
/// subnormals) cannot hide inside a tolerance.
fn compare_exact(got: &EagerTensor, want: &Value) -> Option<Result<(), String>> {
    let wd = dtype_of(want);
    if !wd.is_float() {
        return None;
    }
    let gh = match got.to_host_data() {
        Ok(h) => h,
        Err(e) => return Some(Err(e.to_string())),
    };
    let wh = host_of(want);
    let (g, w) = (float_bits(&gh)?, float_bits(&wh)?);
    let values = HostData::to_f64s;
    for (i, (gb, wb)) in g.iter().zip(&w).enumerate() {
        if gb != wb {
            let (gv, wv) = (values(&gh), values(&wh));
            return Some(Err(format!(
                "element {i}: got {} (bits {gb:#x}), expected exactly {} (bits {wb:#x})",
                gv[i], wv[i]
            )));
        }
    }
    Some(Ok(()))
}

fn compare(got: &EagerTensor, want: &Value, rtol: Option<f64>, exact: bool) -> Result<(), String> {
    let (wd, ws) = (dtype_of(want), shape_of(want));
    if got.dtype() != wd || got.shape() != ws {
        return Err(format!(
            "got {} {:?}, expected {wd} {ws:?}",
            got.dtype(),
            got.shape()
        ));
    }
    if exact {
        if let Some(r) = compare_exact(got, want) {
            return r;
        }
    }
    let gh = got
        .astype(DType::F64)
        .and_then(|t| t.to_vec::<f64>())
        .map_err(|e| e.to_string())?;
    let wh: Vec<f64> = want["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(num)
        .collect();
    // One unit in the last place of the 16-bit floats: backends may round
    // an f32 result of a different summation order (reductions,
    // transcendentals; `exact` cases were compared bitwise above).
    let (rtol, atol) = match wd {
        DType::F16 => (rtol.unwrap_or(0.0).max(1e-3), 1e-3),
        DType::BF16 => (rtol.unwrap_or(0.0).max(8e-3), 8e-3),
        DType::F32 => (rtol.unwrap_or(1e-5), 1e-6),
        DType::F64 => (rtol.unwrap_or(1e-10), 1e-12),
        _ => (0.0, 0.0),
    };
    for (i, (g, w)) in gh.iter().zip(&wh).enumerate() {
        if !close(*g, *w, rtol, atol) {
            return Err(format!("element {i}: got {g}, expected {w} (rtol {rtol})"));
        }
        if wd.is_float() && g.is_finite() && w.is_finite() {
            record_ulps(wd, ulps(*g, *w, wd));
        }
    }
    Ok(())
}

/// With `EAGER_CONFORMANCE_BITS=<file>`, appends each passing case's
/// float outputs as f64 values (`backend case v v ...`), so that two runs
/// under different instruction-set settings can be compared value by value
/// (`benches/isa_bits.py`; docs/semantics.md, "Bits across machines").
fn dump_bits(backend: Backend, case: &Value, outs: &[EagerTensor]) {
    let Ok(path) = std::env::var("EAGER_CONFORMANCE_BITS") else {
        return;
    };
    let mut line = format!("{backend} {}", case["name"].as_str().unwrap_or(""));
    for o in outs.iter().filter(|o| o.dtype().is_float()) {
        let vals = o.astype(DType::F64).and_then(|t| t.to_vec::<f64>());
        for v in vals.unwrap_or_default() {
            line.push_str(&format!(" {} {}", o.dtype(), v.to_bits()));
        }
    }
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

/// `|got - want|` in units in the last place of `want` in dtype `d`
/// (subnormal range: of the smallest normal).
fn ulps(got: f64, want: f64, d: DType) -> f64 {
    let (eps, min_normal) = match d {
        DType::F16 => (2f64.powi(-10), 2f64.powi(-14)),
        DType::BF16 => (2f64.powi(-7), 2f64.powi(-126)),
        DType::F32 => (2f64.powi(-23), 2f64.powi(-126)),
        _ => (2f64.powi(-52), 2f64.powi(-1022)),
    };
    let scale = 2f64.powi(want.abs().max(min_normal).log2().floor() as i32);
    (got - want).abs() / (eps * scale)
}

thread_local! {
    /// The largest distance from NumPy's value, in ulps, per float dtype,
    /// among the values compared within a tolerance (reductions,
    /// transcendentals, matmul), and the case it came from.
    static WORST: std::cell::RefCell<std::collections::BTreeMap<String, (f64, String)>> =
        Default::default();
    static CASE: std::cell::RefCell<String> = Default::default();
}

fn record_ulps(d: DType, u: f64) {
    let case = CASE.with(|c| c.borrow().clone());
    WORST.with(|w| {
        let mut w = w.borrow_mut();
        let e = w.entry(d.to_string()).or_insert((0.0, String::new()));
        if u > e.0 {
            *e = (u, case);
        }
    });
}

fn run_case(backend: Backend, case: &Value) -> Result<(), String> {
    let ins = case["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|v| EagerTensor::from_host(backend, host_of(v), shape_of(v)))
        .collect::<ep::Result<Vec<_>>>()
        .map_err(|e| format!("could not build inputs: {e}"))?;
    let op = case["op"].as_str().expect("op");
    let out = run(op, &ins, &case["args"]);
    match (case.get("error"), out) {
        (Some(kind), Err(e)) => {
            if e.kind() == kind {
                Ok(())
            } else {
                Err(format!(
                    "expected a {kind} error, got {} error: {e}",
                    e.kind()
                ))
            }
        }
        (Some(kind), Ok(v)) => Err(format!("expected a {kind} error, got {v:?}")),
        (None, Err(e)) => Err(format!("unexpected error: {e}")),
        (None, Ok(outs)) => {
            let want = case["expect"].as_array().expect("expect");
            if outs.len() != want.len() {
                return Err(format!("{} outputs, expected {}", outs.len(), want.len()));
            }
            let rtol = case["rtol"].as_f64();
            let exact = case["exact"].as_bool().unwrap_or(false);
            for (k, (g, w)) in outs.iter().zip(want).enumerate() {
                compare(g, w, rtol, exact).map_err(|e| format!("output {k}: {e}"))?;
            }
            dump_bits(backend, case, &outs);
            Ok(())
        }
    }
}

/// The whole table on `backend`: prints its summary (and the largest
/// distance from NumPy among the values compared within a tolerance), and
/// fails on any case that fails.
fn conformance(backend: Backend) {
    let data = data();
    let cases = data["cases"].as_array().expect("cases");
    let (mut passed, mut failed, mut known) = (0, 0, 0);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        if let Some((_, _, why)) = KNOWN_EXCEPTIONS
            .iter()
            .find(|(b, n, _)| *b == backend && *n == name)
        {
            println!("  known exception [{backend}] {name}: {why}");
            known += 1;
            continue;
        }
        CASE.with(|c| *c.borrow_mut() = name.to_string());
        let result =
            catch_unwind(AssertUnwindSafe(|| run_case(backend, case))).unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
                Err(format!("PANICKED: {}", msg.unwrap_or_default()))
            });
        match result {
            Ok(()) => passed += 1,
            Err(e) => {
                println!("  FAIL [{backend}] {name} ({}): {e}", case["op"]);
                failed += 1;
            }
        }
    }
    println!(
        "conformance [{backend}]: {passed} passed, {failed} failed, {known} known exceptions, of {} cases",
        cases.len()
    );
    // Measured, for docs/semantics.md ("Bits across machines"): how far
    // the values compared within a tolerance are from NumPy's.
    let worst = WORST.with(|w| std::mem::take(&mut *w.borrow_mut()));
    let worst: Vec<String> = worst
        .iter()
        .map(|(d, (u, case))| format!("{d} {u:.1} ({case})"))
        .collect();
    println!(
        "conformance [{backend}]: largest distance from NumPy in ulps, values within a tolerance: {}",
        worst.join(", ")
    );
    assert_eq!(
        failed, 0,
        "conformance failures on {backend} (see the FAIL lines above)"
    );
}

per_backend!(conformance, conformance);

/// The exact comparison is bitwise: one unit in the last place of an f16 or
/// bf16 value, or -0.0 for 0.0, fails it (the tolerance would pass both),
/// and the generator marks the casts and the single element-wise ops on the
/// 16-bit floats, including its ties-to-even and subnormal cases, as exact.
#[test]
fn exact_cases_compare_bitwise() {
    let want =
        |dtype: &str, data: Value| serde_json::json!({"dtype": dtype, "shape": [2], "data": data});
    for dtype in [DType::F16, DType::BF16] {
        let w = want(&dtype.to_string(), serde_json::json!([1.0, 0.0]));
        let same = EagerTensor::from_host(
            Backend::enabled()[0],
            HostData::from_f64s(dtype, &[1.0, 0.0]),
            [2],
        )
        .unwrap();
        assert_eq!(compare(&same, &w, None, true), Ok(()));
        let ulp = if dtype == DType::F16 {
            2f64.powi(-10)
        } else {
            2f64.powi(-7)
        };
        let off = EagerTensor::from_host(
            Backend::enabled()[0],
            HostData::from_f64s(dtype, &[1.0 + ulp, 0.0]),
            [2],
        )
        .unwrap();
        assert_eq!(
            compare(&off, &w, None, false),
            Ok(()),
            "within the tolerance"
        );
        assert!(compare(&off, &w, None, true)
            .unwrap_err()
            .contains("element 0"));
        let neg0 = EagerTensor::from_host(
            Backend::enabled()[0],
            HostData::from_f64s(dtype, &[1.0, -0.0]),
            [2],
        )
        .unwrap();
        assert!(compare(&neg0, &w, None, true)
            .unwrap_err()
            .contains("element 1"));
        let nan = want(&dtype.to_string(), serde_json::json!(["nan", 0.0]));
        let got = EagerTensor::from_host(
            Backend::enabled()[0],
            HostData::from_f64s(dtype, &[-f64::NAN, 0.0]),
            [2],
        )
        .unwrap();
        assert_eq!(
            compare(&got, &nan, None, true),
            Ok(()),
            "any NaN matches NaN"
        );
    }
    let data = data();
    let exact: std::collections::BTreeSet<&str> = data["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["exact"].as_bool() == Some(true))
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    for name in [
        "astype_f32_f16",
        "astype_bf16_f16",
        "astype_round_f64_f16",
        "astype_ties_f32_f16",
        "astype_ties_f32_bf16",
        "astype_ties_f16_bf16",
        "astype_ties_bf16_f16",
        "add_f16",
        "sub_bf16",
        "mul_f16",
        "div_bf16",
        "neg_f16",
        "abs_bf16",
        "lt_f16",
        "add_ties_bf16",
        "mul_subnormal_f16",
        "add_promote_u8_f16",
    ] {
        assert!(exact.contains(name), "{name} is not compared exactly");
    }
    for name in ["sum_f16", "exp_bf16", "matmul_f16", "mean_bf16"] {
        assert!(!exact.contains(name), "{name} keeps its tolerance");
    }
}

/// Every op name the generator uses is known to the runner, and the table
/// covers every op of API.md but autodiff and to_backend (tests/autodiff.rs
/// and tests/api.rs test those on every backend).
#[test]
fn conformance_table_covers_the_api() {
    let data = data();
    let ops: std::collections::BTreeSet<&str> = data["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| c["op"].as_str().expect("op"))
        .collect();
    let api = [
        "abs",
        "neg",
        "sign",
        "sqrt",
        "square",
        "exp",
        "log",
        "log2",
        "log10",
        "log1p",
        "sin",
        "cos",
        "tan",
        "sinh",
        "cosh",
        "tanh",
        "arcsin",
        "arccos",
        "arctan",
        "arcsinh",
        "arccosh",
        "arctanh",
        "round",
        "ceil",
        "floor",
        "isnan",
        "isinf",
        "logical_not",
        "sigmoid",
        "relu",
        "add",
        "sub",
        "mul",
        "div",
        "floor_div",
        "rem",
        "pow",
        "minimum",
        "maximum",
        "logical_and",
        "logical_or",
        "lt",
        "le",
        "gt",
        "ge",
        "eq",
        "ne",
        "matmul",
        "where_cond",
        "astype",
        "sum",
        "prod",
        "mean",
        "min",
        "max",
        "all",
        "any",
        "argmin",
        "argmax",
        "argsort",
        "sort",
        "topk",
        "cumsum",
        "reshape",
        "flatten",
        "transpose",
        "permute",
        "t",
        "expand_dims",
        "squeeze",
        "tile",
        "flip",
        "pad",
        "broadcast_to",
        "concatenate",
        "stack",
        "meshgrid",
        "iter",
        "take_along_axis",
        "onehot_like",
        "softmax",
        "log_softmax",
        "crossentropy",
        "clip",
        "inv",
        "slogdet",
        "zeros",
        "ones",
        "full",
        "zeros_like",
        "ones_like",
        "full_like",
        "arange",
        "l0",
        "l1",
        "l2",
        "linf",
        "lp",
        "index",
        "index_update",
    ];
    let missing: Vec<&str> = api.iter().copied().filter(|op| !ops.contains(op)).collect();
    assert!(
        missing.is_empty(),
        "ops without conformance cases: {missing:?}"
    );
}

/// `DType::promote` is the generator's table: NumPy 2's `result_type` for
/// the NumPy dtypes, `jax.numpy.promote_types` for pairs with bf16 — every
/// one of the 13 × 13 pairs.
#[test]
fn promotion_table_matches_numpy_and_jax() {
    let data = data();
    let table = data["promotion"].as_array().expect("promotion table");
    assert_eq!(table.len(), DType::ALL.len() * DType::ALL.len());
    for row in table {
        let d = |i: usize| -> DType { row[i].as_str().expect("dtype").parse().expect("dtype") };
        assert_eq!(d(0).promote(d(1)), d(2), "promote({}, {})", d(0), d(1));
    }
}

/// The conformance table under `ep::jit` on xla: every case that expects a
/// result runs its op inside a jitted function (one program per case) and
/// must give the eager answer. Ops that need values on the host while
/// tracing are refused with an "inside jit" error and listed; only the ops
/// whose result shape depends on values may be among them.
#[test]
#[cfg(feature = "xla")]
fn conformance_under_jit_on_xla() {
    let data = data();
    let cases = data["cases"].as_array().expect("cases");
    let (mut passed, mut refused) = (0, std::collections::BTreeSet::new());
    let mut failures = Vec::new();
    for case in cases {
        if case.get("error").is_some() {
            continue;
        }
        let name = case["name"].as_str().expect("name");
        let op = case["op"].as_str().expect("op");
        let ins = case["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .map(|v| EagerTensor::from_host(Backend::Xla, host_of(v), shape_of(v)))
            .collect::<ep::Result<Vec<_>>>()
            .expect("inputs");
        if ins.is_empty() {
            continue;
        }
        let args = case["args"].clone();
        let f = ep::jit(move |xs: &[EagerTensor]| run(op, xs, &args));
        let refs: Vec<&EagerTensor> = ins.iter().collect();
        match f.call(&refs) {
            Err(e) if e.to_string().contains("inside jit") => {
                refused.insert(format!("{op} ({})", e.op()));
            }
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(outs) => {
                let want = case["expect"].as_array().expect("expect");
                let rtol = case["rtol"].as_f64();
                let exact = case["exact"].as_bool().unwrap_or(false);
                let r = if outs.len() != want.len() {
                    Err(format!("{} outputs, expected {}", outs.len(), want.len()))
                } else {
                    outs.iter()
                        .zip(want)
                        .try_for_each(|(g, w)| compare(g, w, rtol, exact))
                };
                match r {
                    Ok(()) => passed += 1,
                    Err(e) => failures.push(format!("{name}: {e}")),
                }
            }
        }
    }
    println!("conformance under jit [xla]: {passed} passed, refused inside jit: {refused:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Value-dependent shapes only: boolean masks (index, index_update) and
    // nonzero; `iter` reads the length, which is static, so it passes.
    for r in &refused {
        assert!(
            r.starts_with("index (") || r.starts_with("index_update (") || r.starts_with("nonzero"),
            "{r} should be traceable"
        );
    }
    assert!(passed > 1000, "only {passed} cases ran under jit");
}

//! The conformance suite: every case of `tests/data/conformance.json`
//! (generated from NumPy by `tests/gen/gen_conformance.py`) on one backend. A case passes when the op returns the expected dtype, shape and
//! values, or the expected error kind; a panic is a failure.
//!
//! Cases a backend cannot pass are listed in `KNOWN_EXCEPTIONS` with the
//! reason; they are counted in the output (and the list should be empty).

use eager_tensor::{
    self as ep, prelude::*, Backend, DType, EagerTensor, HostData, IndexItem, Operand, Scalar,
};
use serde_json::Value;

use std::panic::{catch_unwind, AssertUnwindSafe};

/// `(backend, case name, reason)`: cases that backend is known to fail.
const KNOWN_EXCEPTIONS: &[(Backend, &str, &str)] = &[];

#[path = "conformance/cases.rs"]
mod cases;
pub(crate) use cases::*;

pub(crate) fn close(got: f64, want: f64, rtol: f64, atol: f64) -> bool {
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

pub(crate) fn compare(
    got: &EagerTensor,
    want: &Value,
    rtol: Option<f64>,
    exact: bool,
) -> Result<(), String> {
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
pub fn table(backend: Backend) {
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

//! Allocations per eager op on the executable cache's hit path, counted by
//! a counting global allocator: a plain binary op, a tensor-with-scalar op
//! (the backward pass's most common op) and a reduction. Prints the counts
//! (`--nocapture`) and, in an optimized build (`--release`), fails if the
//! hit path grows past its budget.
//!
//! The plugin is installed by scripts/setup-xla.sh (CI runs it); a machine
//! without it skips these tests with a message, never silently in CI.

use eager_core::ops::prelude::*;
use eager_core::{BinaryOp, HostData, ReduceOp, Scalar};
use eager_xla::XlaTensor;
// The workspace's counting allocator (per-thread counts: the other test
// of this file, running in parallel, does not disturb them).
#[path = "../../../tests/common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations, CountingAlloc};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

mod common;
use common::plugin;

/// Allocations per call of `f` (after a warm-up that compiles), the
/// result awaited and dropped inside the count, as a caller does.
fn per_call(mut f: impl FnMut() -> XlaTensor) -> f64 {
    for _ in 0..10 {
        let t = f();
        t.buffer().unwrap().block_until_ready().unwrap();
    }
    const N: usize = 1000;
    let before = allocations();
    for _ in 0..N {
        let t = f();
        t.buffer().unwrap().block_until_ready().unwrap();
    }
    (allocations() - before) as f64 / N as f64
}

#[test]
fn hit_path_allocations() {
    if !plugin() {
        return;
    }
    let t = |v: Vec<f32>| XlaTensor::from_host(HostData::F32(v), &[4]).unwrap();
    let (a, b) = (t(vec![1.0, 2.0, 3.0, 4.0]), t(vec![5.0, 6.0, 7.0, 8.0]));
    let add = per_call(|| a.binary(BinaryOp::Add, &b).unwrap());
    let scalar = per_call(|| a.binary_scalar(BinaryOp::Mul, Scalar::F32(0.5)).unwrap());
    let sum = per_call(|| a.reduce(ReduceOp::Sum, &[0], false).unwrap());
    let upload = per_call(|| {
        let s = a
            .full(&[], Scalar::F32(0.5), eager_core::DType::F32)
            .unwrap();
        a.binary(BinaryOp::Mul, &s).unwrap()
    });
    println!(
        "allocations per op: add {add}, mul by a scalar {scalar} \
         (by an uploaded 0-d tensor: {upload}), sum {sum}"
    );
    if std::env::var_os("ALLOC_PER_OP_TIMES").is_some() {
        // Times per call (median and min of 31 rounds of 2000 calls):
        // `binary_scalar` against uploading the 0-d operand each time.
        let time = |f: &mut dyn FnMut() -> XlaTensor| {
            let mut r: Vec<f64> = (0..31)
                .map(|_| {
                    let t0 = std::time::Instant::now();
                    for _ in 0..2000 {
                        f().buffer().unwrap().block_until_ready().unwrap();
                    }
                    t0.elapsed().as_nanos() as f64 / 2000.0
                })
                .collect();
            r.sort_by(f64::total_cmp);
            (r[15], r[0])
        };
        let mut cached = || a.binary_scalar(BinaryOp::Mul, Scalar::F32(0.5)).unwrap();
        let mut uploaded = || {
            let s = a
                .full(&[], Scalar::F32(0.5), eager_core::DType::F32)
                .unwrap();
            a.binary(BinaryOp::Mul, &s).unwrap()
        };
        let mut added = || a.binary(BinaryOp::Add, &b).unwrap();
        for _ in 0..3 {
            let (c, u, d) = (time(&mut cached), time(&mut uploaded), time(&mut added));
            println!(
                "ns per call (median, min): binary_scalar {c:?}, upload + binary {u:?}, add {d:?}"
            );
        }
    }
    if cfg!(debug_assertions) {
        // Debug builds rebuild each program's text on every hit (to check
        // the key): only an optimized build counts the hit path.
        return;
    }
    // The PJRT execution itself allocates (its result list, the event);
    // the budget leaves it room but catches a regression on our side.
    assert!(add <= 4.0, "add allocates {add} times per call");
    assert!(
        scalar <= 16.0,
        "mul by a scalar allocates {scalar} times per call"
    );
    assert!(sum <= 4.0, "sum allocates {sum} times per call");
}

/// `binary_scalar` (a cached 0-d buffer) gives the bits of `binary` on an
/// uploaded 0-d operand, for signed zeros, NaN, extremes and more distinct
/// values than the scalar cache keeps (evictions on the way).
#[test]
fn binary_scalar_matches_binary_on_an_uploaded_scalar() {
    if !plugin() {
        return;
    }
    use eager_core::DType;
    let vals = [0.0, -0.0, 1.5, -3.0, f64::NAN, f64::INFINITY, 1e300, -7.0];
    for d in [DType::F32, DType::F64, DType::F16, DType::I32, DType::U8] {
        let x = XlaTensor::from_host(HostData::from_f64s(d, &vals), &[vals.len()]).unwrap();
        for round in 0..2 {
            for i in 0..80 {
                let v = Scalar::F64(if i < vals.len() {
                    vals[i]
                } else {
                    i as f64 * 0.25
                });
                let v = match v.cast("t", d) {
                    Ok(v) => v,
                    Err(_) => continue,
                };
                for op in [
                    BinaryOp::Add,
                    BinaryOp::Div,
                    BinaryOp::Pow,
                    BinaryOp::Maximum,
                ] {
                    let got = x.binary_scalar(op, v).map(|t| t.to_host().unwrap());
                    let s = x.full(&[], v, d).unwrap();
                    let want = x.binary(op, &s).map(|t| t.to_host().unwrap());
                    match (got, want) {
                        (Ok(g), Ok(w)) => {
                            assert_eq!(g.as_bytes(), w.as_bytes(), "{d} {op:?} {v:?} round {round}")
                        }
                        (g, w) => assert_eq!(g.is_err(), w.is_err(), "{d} {op:?} {v:?}"),
                    }
                }
            }
        }
    }
}

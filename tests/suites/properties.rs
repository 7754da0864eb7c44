//! Property tests: a backend agrees with ndarray on random
//! shapes, dtypes, axes and values — values drawn from a pool that mixes
//! ordinary numbers with NaN, ±inf, -0.0, the extremes of each dtype and
//! values at rounding ties, in all 13 dtypes.
//! Agreement is the hostile suite's (`tests/common`): same error kind, or
//! same dtype, shape and values (NaN = NaN, signed zeros differ, a few ulps
//! for transcendental functions, subnormals flushed where documented).

use crate::common::{self, disagreement, outcome, Out};
use eager_tensor::{self as ep, Backend, BinaryOp, DType, EagerTensor, HostData, UnaryOp};
use proptest::prelude::*;

/// How values are drawn: `Any` mixes in every special value; `Tame`
/// keeps to values whose sums and products are exact in any order (so
/// reductions cannot differ by summation order) and has no -0.0 (whose
/// sign in a min/max reduction depends on the order).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pool {
    Any,
    Tame,
    /// Like `Any` without the float extremes (an overflowing quotient is a
    /// documented difference of libtorch's `%`).
    NoExtremes,
}

fn pick_f64(pool: Pool, k: u32) -> f64 {
    let any = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        1e30,
        -1e30,
        1.0,
        -1.0,
        0.5,
        -2.5,
        3.75,
        -7.0,
        100.25,
        2147483648.0,
        // Rounding ties of the narrower floats (a cast to f16, bf16 or f32
        // must round them to even), a value a hair above one (a double
        // rounding turns it into the tie), and 2^24 + 1 (f32's first tie).
        1.00048828125,
        1.00146484375,
        1.00048828125 + 1.0 / 1073741824.0,
        1.00390625,
        1.01171875,
        2049.0,
        16777217.0,
    ];
    let tame = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.0,
        -2.0,
    ];
    match pool {
        Pool::Any => any[k as usize % any.len()],
        Pool::NoExtremes => {
            let v = any[k as usize % any.len()];
            if v.is_finite() && v.abs() > 1e300 {
                4.0
            } else {
                v
            }
        }
        Pool::Tame => tame[k as usize % tame.len()],
    }
}

fn pick_int(k: u32) -> i128 {
    let v = [
        i64::MIN as i128,
        i64::MAX as i128,
        0,
        1,
        -1,
        2,
        -3,
        7,
        100,
        -100,
        255,
        65537,
        // Ties of f32 and f64 (casts round them to even), values just
        // above them, and u64 values past i64::MAX (wrapped in signed
        // dtypes): a cast that rounds twice gets one of them wrong.
        (1 << 24) + 1,
        (1 << 53) + 1,
        (1 << 62) + (1 << 38) + 1,
        (1 << 63) + (1 << 39) + 1,
        (1 << 63) + (1 << 39),
        u64::MAX as i128,
    ];
    v[k as usize % v.len()]
}

/// A tensor of `backend` with the given dtype, shape and value choices.
fn tensor(
    backend: Backend,
    d: DType,
    shape: &[usize],
    ks: &[u32],
    pool: Pool,
) -> ep::Result<EagerTensor> {
    let n: usize = shape.iter().product();
    let ks = (0..n).map(|i| ks[i % ks.len()]);
    let data = match d {
        DType::Bool => HostData::Bool(ks.map(|k| k % 2 == 1).collect()),
        d if d.is_float() => {
            HostData::from_f64s(d, &ks.map(|k| pick_f64(pool, k)).collect::<Vec<_>>())
        }
        d => common::host_ints(d, &ks.map(pick_int).collect::<Vec<_>>()),
    };
    EagerTensor::from_host(backend, data, shape)
}

/// Runs `f` on ndarray and on `b`; a disagreement is a test failure
/// naming the backend and both outcomes. (On ndarray itself: `f` runs, and
/// must not panic.)
fn agree(b: Backend, what: &str, f: impl Fn(Backend) -> Out) -> Result<(), TestCaseError> {
    let reference = outcome(f(Backend::NdArray));
    if b == Backend::NdArray {
        return Ok(());
    }
    let o = outcome(f(b));
    if let Some(d) = disagreement(b, what, &reference, &o) {
        return Err(TestCaseError::fail(format!(
            "[{b}] {what}: {d}\n  ndarray: {reference}\n  {b}: {o}"
        )));
    }
    Ok(())
}

/// Runs the property `test` on `config()`'s number of random inputs of
/// `strategy`; a failure panics with the smallest failing input.
fn check<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let mut runner = proptest::test_runner::TestRunner::new(config());
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

fn shape() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0usize..4, 0..4)
}

/// A shape that broadcasts with `s`: some axes set to 1, some leading ones
/// dropped.
fn broadcast_partner(s: &[usize], ones: u32, drop: usize) -> Vec<usize> {
    let drop = drop.min(s.len());
    s[drop..]
        .iter()
        .enumerate()
        .map(|(i, &d)| if ones >> i & 1 == 1 { 1 } else { d })
        .collect()
}

const UNARY: [UnaryOp; 30] = UnaryOp::ALL;
const BINARY: [BinaryOp; 17] = BinaryOp::ALL;
const DTYPES: [DType; 13] = DType::ALL;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 160,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

pub fn unary_ops_and_casts_agree(b: Backend) {
    let ks = proptest::collection::vec(any::<u32>(), 1..16);
    check(
        (shape(), 0usize..13, 0usize..13, 0usize..30, ks),
        |(s, d, to, op, ks)| {
            let (d, to, op) = (DTYPES[d], DTYPES[to], UNARY[op]);
            agree(b, &format!("value/{}_{d}", op.name()), |b| {
                Ok(vec![tensor(b, d, &s, &ks, Pool::Any)?.unary(op)?])
            })?;
            agree(b, &format!("value/astype_{d}_{to}"), |b| {
                Ok(vec![tensor(b, d, &s, &ks, Pool::Any)?.astype(to)?])
            })
        },
    );
}

pub fn binary_ops_agree_with_broadcasting(b: Backend) {
    let ks = || proptest::collection::vec(any::<u32>(), 1..16);
    let shapes = (shape(), any::<u32>(), 0usize..3, any::<bool>());
    let ops = (0usize..13, 0usize..13, 0usize..17, ks(), ks(), any::<u32>());
    check(
        (shapes, ops),
        |((s, ones, drop, swap), (d, d2, op, ks, ks2, scalar))| {
            let (d, d2, op) = (DTYPES[d], DTYPES[d2], BINARY[op]);
            let s2 = broadcast_partner(&s, ones, drop);
            let (sa, sb) = if swap {
                (s2.clone(), s.clone())
            } else {
                (s.clone(), s2.clone())
            };
            agree(b, &format!("value/{}_{d}_{d2}", op.name()), |b| {
                let x = tensor(b, d, &sa, &ks, Pool::NoExtremes)?;
                let y = tensor(b, d2, &sb, &ks2, Pool::NoExtremes)?;
                Ok(vec![x.binary(op, &y)?])
            })?;
            let v = pick_f64(Pool::NoExtremes, scalar);
            agree(b, &format!("value/{}_{d}_scalar", op.name()), |b| {
                let x = tensor(b, d, &sa, &ks, Pool::NoExtremes)?;
                Ok(vec![x.binary(op, v)?])
            })?;
            agree(b, &format!("value/where_{d}_{d2}"), |b| {
                let c = tensor(b, DType::Bool, &sb, &ks2, Pool::Any)?;
                let x = tensor(b, d, &sa, &ks, Pool::Any)?;
                let y = tensor(b, d2, &s, &ks2, Pool::Any)?;
                Ok(vec![c.where_cond(&x, &y)?])
            })
        },
    );
}

pub fn reductions_sorts_and_axes_agree(b: Backend) {
    let axes = proptest::collection::vec(-4isize..4, 0..3);
    let ks = proptest::collection::vec(any::<u32>(), 1..16);
    check(
        (shape(), 0usize..13, axes, any::<bool>(), 0usize..13, ks),
        |(s, d, axes, keep, which, ks)| {
            let d = DTYPES[d];
            let axis = axes.first().copied().unwrap_or(-1);
            let names = [
                "sum", "prod", "mean", "min", "max", "all", "any", "argmin", "argmax", "sort",
                "argsort", "cumsum", "softmax",
            ];
            let name = names[which];
            agree(b, &format!("value/{name}_{d}"), |b| {
                let x = tensor(b, d, &s, &ks, Pool::Tame)?;
                Ok(vec![match name {
                    "sum" => x.sum_axes(&axes, keep)?,
                    "prod" => x.prod_axes(&axes, keep)?,
                    "mean" => x.mean_axes(&axes, keep)?,
                    "min" => x.min_axes(&axes, keep)?,
                    "max" => x.max_axes(&axes, keep)?,
                    "all" => x.all_axes(&axes, keep)?,
                    "any" => x.any_axes(&axes, keep)?,
                    "argmin" => x.argmin_axis(axis)?,
                    "argmax" => x.argmax_axis(axis)?,
                    "sort" => x.sort(axis)?,
                    "argsort" => x.argsort(axis)?,
                    "cumsum" => x.cumsum_axis(axis)?,
                    _ => x.softmax(axis)?,
                }])
            })
        },
    );
}

//! Overhead of `EagerTensor` over the same ndarray calls made directly.
//!
//! `cargo bench --bench overhead` measures each pair in the same run and
//! prints a table of ratios (eager / direct) at the end; docs/performance.md
//! records the numbers. The ndarray pairs also run in paired rounds (one
//! process, alternating order, medians and minimums) with the allocations
//! per call of each side, counted by a counting global allocator.
//!
//! Instruction counts, which a loaded machine does not disturb:
//! `OVERHEAD_PROFILE=add_4:eager:3000 valgrind --tool=callgrind <bench
//! binary>` runs one side of one case that many times and nothing else
//! (see [`profile`]).

use criterion::{black_box, Criterion};
use eager_tensor::{self as ep, EagerTensor};
use ndarray::{ArcArray, ArrayD, IxDyn};
mod common;
#[cfg(feature = "tensorflow")]
#[path = "overhead/tensorflow.rs"]
mod tensorflow;
#[cfg(feature = "torch")]
#[path = "overhead/torch.rs"]
mod torch;
#[cfg(feature = "xla")]
#[path = "overhead/xla.rs"]
mod xla;

#[global_allocator]
static ALLOC: common::CountingAlloc = common::CountingAlloc;

fn data(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i % 97) as f32) * 0.01 - 0.3).collect()
}

fn arr(n: usize, shape: &[usize]) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(shape), data(n)).expect("shape")
}

/// One ndarray comparison: the direct ndarray call and the same through
/// `EagerTensor`, each a closure that does one call and drops its result.
struct Case {
    name: String,
    direct: Box<dyn FnMut()>,
    eager: Box<dyn FnMut()>,
}

fn case(
    name: impl Into<String>,
    direct: impl FnMut() + 'static,
    eager: impl FnMut() + 'static,
) -> Case {
    Case {
        name: name.into(),
        direct: Box::new(direct),
        eager: Box::new(eager),
    }
}

/// `astensor` and `astensor` + `into_raw` of a native tensor, each
/// against the same handle copy made directly (`dup`: what both sides do
/// to have a handle to give away).
fn wrap_cases<T>(astensor: &str, into_raw: &str, x: T, dup: fn(&T) -> T) -> [Case; 2]
where
    T: ep::Native + Into<EagerTensor> + 'static,
{
    let (a, b, c) = (dup(&x), dup(&x), dup(&x));
    [
        case(
            astensor,
            move || drop(black_box(dup(black_box(&a)))),
            move || drop(black_box(ep::astensor(dup(black_box(&b))))),
        ),
        case(
            into_raw,
            move || drop(black_box(dup(black_box(&c)))),
            move || {
                let t = ep::astensor(dup(black_box(&x)));
                drop(black_box(t.into_raw::<T>().expect("into_raw")))
            },
        ),
    ]
}

/// The ndarray comparisons. Every closure returns nothing: its result is
/// dropped inside the call, on both sides alike.
fn nd_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    {
        let (a, b) = (arr(4, &[4]), arr(4, &[4]));
        let (ta, tb) = (ep::astensor(a.clone()), ep::astensor(b.clone()));
        cases.push(case(
            "add_4",
            move || drop(black_box(black_box(&a) + black_box(&b))),
            move || drop(black_box(black_box(&ta).add(black_box(&tb)).expect("add"))),
        ));
    }
    // Wrapping and unwrapping an `ArcArray` (the backend's own type):
    // both should be free beyond the clone both sides make. An `ArrayD` in
    // and out: the backend stores an `ArcArray`, so wrapping puts the `Vec`
    // into an `Arc` (one allocation) and unwrapping takes it out again
    // (one free); the data is never copied.
    let arc: ArcArray<f32, IxDyn> = arr(4, &[4]).into_shared();
    cases.extend(wrap_cases(
        "astensor_arc_4",
        "into_raw_arc_4",
        arc,
        Clone::clone,
    ));
    cases.extend(wrap_cases(
        "astensor_arrayd_4",
        "roundtrip_arrayd_4",
        arr(4, &[4]),
        Clone::clone,
    ));
    for (n, name) in [
        (1_000usize, "l2_chain_1000"),
        (1_000_000, "l2_chain_1000000"),
    ] {
        let a = arr(n, &[n]);
        let t = ep::astensor(a.clone());
        cases.push(case(
            name,
            move || {
                black_box(black_box(&a).mapv(|v| v * v).sum().sqrt());
            },
            move || drop(black_box(l2(black_box(&t)))),
        ));
    }
    {
        // The floor of the chain at 10³ for any storage that, like the
        // backend's, returns each op's result as an `ArcArray` (a `Vec` and
        // the `Arc` it is shared through: two allocations per result): the
        // same three ndarray calls, each result made an `ArcArray`. Its
        // eager column is that, not eager-tensor.
        let a = arr(1_000, &[1_000]);
        let b = a.clone();
        cases.push(case(
            "floor_l2_chain_1000",
            move || {
                black_box(black_box(&a).mapv(|v| v * v).sum().sqrt());
            },
            move || {
                let sq = black_box(&b).mapv(|v| v * v).into_shared();
                let s = ArcArray::from_elem(IxDyn(&[]), sq.sum());
                let r = ArcArray::from_elem(IxDyn(&[]), s.first().map_or(0.0, |v| v.sqrt()));
                drop(black_box((sq, s, r)));
            },
        ));
    }
    {
        let a = arr(256 * 256, &[256, 256])
            .into_dimensionality::<ndarray::Ix2>()
            .expect("2-D");
        let b = a.t().to_owned();
        let (ta, tb): (EagerTensor, EagerTensor) = (
            ep::astensor(a.clone().into_dyn()),
            ep::astensor(b.clone().into_dyn()),
        );
        cases.push(case(
            "matmul_256",
            move || drop(black_box(black_box(&a).dot(black_box(&b)))),
            move || {
                drop(black_box(
                    black_box(&ta).matmul(black_box(&tb)).expect("matmul"),
                ))
            },
        ));
    }
    {
        // The MLP forward of benches/autodiff.rs (batch 64, 32 → 64 → 1,
        // 8 ops): `mean((tanh(x W1 + b1) W2 + b2 - y)²)`.
        let m = |r: usize, c: usize, scale: f32| {
            arr(r * c, &[r, c])
                .mapv(|v| v * scale)
                .into_dimensionality::<ndarray::Ix2>()
                .expect("2-D")
        };
        let (x, y, w1, w2) = (m(64, 32, 3.0), m(64, 1, 3.0), m(32, 64, 0.6), m(64, 1, 0.6));
        let (b1, b2) = (
            ndarray::Array1::from_elem(64, 0.01f32),
            ndarray::Array1::from_elem(1, 0.02f32),
        );
        let e = |a: ndarray::Array2<f32>| ep::astensor(a);
        let (tx, ty, tw1, tw2) = (e(x.clone()), e(y.clone()), e(w1.clone()), e(w2.clone()));
        let (tb1, tb2) = (ep::astensor(b1.clone()), ep::astensor(b2.clone()));
        cases.push(case(
            "mlp_forward",
            move || {
                let h = (black_box(&x).dot(&w1) + &b1).mapv(f32::tanh);
                let d = h.dot(&w2) + &b2 - &y;
                black_box(d.mapv(|v| v * v).mean());
            },
            move || {
                let l = black_box(&tx)
                    .matmul(&tw1)
                    .and_then(|h| h.add(&tb1))
                    .and_then(|h| h.tanh())
                    .and_then(|h| h.matmul(&tw2))
                    .and_then(|o| o.add(&tb2))
                    .and_then(|o| o.sub(&ty))
                    .and_then(|d| d.square())
                    .and_then(|s| s.mean())
                    .expect("mlp");
                drop(black_box(l))
            },
        ));
    }
    cases
}

/// Criterion's positional arguments: the filters that pick cases by name.
fn filters() -> Vec<String> {
    // Criterion's options that take a value as the next argument (the
    // `--opt=value` form needs no skipping).
    const VALUED: [&str; 13] = [
        "--warm-up-time",
        "--measurement-time",
        "--sample-size",
        "--save-baseline",
        "--baseline",
        "--load-baseline",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--nresamples",
        "--profile-time",
        "--output-format",
        "--color",
    ];
    let mut filters: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if VALUED.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            filters.push(a);
        }
    }
    filters
}

/// Every backend's cases: a criterion group each (`direct`, `eager`), then
/// the same two in paired rounds with allocation counts (the table at the
/// end). Positional arguments filter cases by name, as criterion's do.
fn bench_cases(c: &mut Criterion, rows: &mut Vec<common::Paired>, cases: Vec<Case>) {
    let filters = filters();
    for mut k in cases {
        if !filters.is_empty() && !filters.iter().any(|f| k.name.contains(f.as_str())) {
            continue;
        }
        let mut g = c.benchmark_group(&k.name);
        g.bench_function("direct", |bch| bch.iter(&mut k.direct));
        g.bench_function("eager", |bch| bch.iter(&mut k.eager));
        g.finish();
        rows.push(common::paired_auto(
            &k.name,
            31,
            2_000_000.0,
            k.direct,
            k.eager,
        ));
    }
}

/// Every enabled backend's cases, ndarray first.
fn all_cases() -> Vec<Case> {
    #[allow(unused_mut)]
    let mut cases = nd_cases();
    #[cfg(feature = "torch")]
    cases.extend(torch::torch_cases());
    #[cfg(feature = "tensorflow")]
    cases.extend(tensorflow::tf_cases());
    #[cfg(feature = "xla")]
    cases.extend(xla::xla_cases());
    cases
}

/// `OVERHEAD_PROFILE=<case>:<direct|eager>[:<calls>]`: runs only that
/// closure `calls` times (default 100000) and exits, for instruction
/// counts under `valgrind --tool=callgrind` (load-independent: run it with
/// two call counts and divide the difference of the totals by the
/// difference of the counts).
fn profile(spec: &str) {
    let mut parts = spec.split(':');
    let (name, side) = (parts.next().unwrap_or(""), parts.next().unwrap_or("eager"));
    let calls: u64 = parts.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let mut k = all_cases()
        .into_iter()
        .find(|k| k.name == name)
        .expect("OVERHEAD_PROFILE names a case");
    let f = if side == "direct" {
        &mut k.direct
    } else {
        &mut k.eager
    };
    let before = common::allocations();
    for _ in 0..calls {
        f();
    }
    let allocs = common::allocations() - before;
    println!("{name} {side}: {calls} calls, {allocs} allocations");
}

/// The L2 chain of every backend's cases: `sqrt(sum(x²))`.
fn l2(x: &EagerTensor) -> EagerTensor {
    x.square()
        .and_then(|x| x.sum())
        .and_then(|x| x.sqrt())
        .expect("l2")
}

/// The MLP loss of benches/autodiff.rs on eager tensors.
#[allow(dead_code)]
fn mlp_loss(p: &[EagerTensor], x: &EagerTensor, y: &EagerTensor) -> ep::Result<EagerTensor> {
    x.matmul(&p[0])?
        .add(&p[1])?
        .tanh()?
        .matmul(&p[2])?
        .add(&p[3])?
        .sub(y)?
        .square()?
        .mean()
}

/// A criterion group of `direct` and `eager`, then the same two in paired
/// rounds (for the table at the end).
#[cfg(any(feature = "torch", feature = "xla"))]
fn pair(
    c: &mut Criterion,
    rows: &mut Vec<common::Paired>,
    name: &str,
    mut direct: impl FnMut(),
    mut eager: impl FnMut(),
) {
    let mut g = c.benchmark_group(name);
    g.bench_function("direct", |bch| bch.iter(&mut direct));
    g.bench_function("eager", |bch| bch.iter(&mut eager));
    g.finish();
    rows.push(common::paired(name, 31, 20, direct, eager));
}

fn main() {
    if let Ok(spec) = std::env::var("OVERHEAD_PROFILE") {
        return profile(&spec);
    }
    let mut c = Criterion::default().configure_from_args();
    let mut rows = Vec::new();
    bench_cases(&mut c, &mut rows, all_cases());
    #[cfg(feature = "bench-internals")]
    xla::bench_xla_compile(&mut c);
    #[cfg(feature = "torch")]
    torch::bench_torch_half(&mut c, &mut rows);
    #[cfg(feature = "bench-internals")]
    xla::bench_xla_half(&mut c, &mut rows);
    #[cfg(feature = "xla")]
    xla::bench_xla_jit(&mut c, &mut rows);
    c.final_summary();
    // Every case ran as a criterion group of the same name too.
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    common::ratio_table(&names, "direct", "eager");
    common::paired_table(&rows, "direct", "eager");
}

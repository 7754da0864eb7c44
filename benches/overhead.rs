//! Overhead of `EagerTensor` over the same ndarray calls made directly.
//!
//! `cargo bench --bench overhead` measures each pair in the same run and
//! prints a table of ratios (eager / direct) at the end; docs/performance.md
//! records the numbers.

use criterion::{black_box, Criterion};
use eager_tensor::{self as ep, EagerTensor};
use ndarray::{ArrayD, IxDyn};
use std::path::PathBuf;

fn data(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i % 97) as f32) * 0.01 - 0.3).collect()
}

fn arr(n: usize, shape: &[usize]) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(shape), data(n)).expect("shape")
}

fn bench_add(c: &mut Criterion) {
    let mut g = c.benchmark_group("add_4");
    let (a, b) = (arr(4, &[4]), arr(4, &[4]));
    let (ta, tb) = (ep::astensor(a.clone()), ep::astensor(b.clone()));
    g.bench_function("direct", |bch| bch.iter(|| black_box(&a) + black_box(&b)));
    g.bench_function("eager", |bch| {
        bch.iter(|| black_box(&ta).add(black_box(&tb)).expect("add"))
    });
    g.finish();
}

fn bench_l2(c: &mut Criterion, n: usize) {
    let mut g = c.benchmark_group(format!("l2_chain_{n}"));
    let a = arr(n, &[n]);
    let t = ep::astensor(a.clone());
    g.bench_function("direct", |bch| {
        bch.iter(|| black_box(&a).mapv(|v| v * v).sum().sqrt())
    });
    g.bench_function("eager", |bch| {
        bch.iter(|| {
            black_box(&t)
                .square()
                .and_then(|x| x.sum())
                .and_then(|x| x.sqrt())
                .expect("l2")
        })
    });
    g.finish();
}

fn bench_matmul(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul_256");
    let a = arr(256 * 256, &[256, 256])
        .into_dimensionality::<ndarray::Ix2>()
        .expect("2-D");
    let b = a.t().to_owned();
    let (ta, tb): (EagerTensor, EagerTensor) = (
        ep::astensor(a.clone().into_dyn()),
        ep::astensor(b.clone().into_dyn()),
    );
    g.bench_function("direct", |bch| {
        bch.iter(|| black_box(&a).dot(black_box(&b)))
    });
    g.bench_function("eager", |bch| {
        bch.iter(|| black_box(&ta).matmul(black_box(&tb)).expect("matmul"))
    });
    g.finish();
}

/// Reads criterion's point estimate (mean, ns) of one benchmark.
fn estimate(group: &str, id: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    let path = target
        .join("criterion")
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let key = "\"mean\":{\"confidence_interval\":";
    let rest = &text[text.find(key)?..];
    let pe = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let num: String = rest[pe..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == 'e' || *c == '-')
        .collect();
    num.parse().ok()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_add(&mut c);
    bench_l2(&mut c, 1_000);
    bench_l2(&mut c, 1_000_000);
    bench_matmul(&mut c);
    c.final_summary();
    println!(
        "\n{:<18} {:>14} {:>14} {:>8} {:>12}",
        "benchmark", "direct", "eager", "ratio", "overhead"
    );
    for g in ["add_4", "l2_chain_1000", "l2_chain_1000000", "matmul_256"] {
        if let (Some(d), Some(e)) = (estimate(g, "direct"), estimate(g, "eager")) {
            println!(
                "{g:<18} {:>11.1} ns {:>11.1} ns {:>8.3} {:>9.1} ns",
                d,
                e,
                e / d,
                e - d
            );
        }
    }
}

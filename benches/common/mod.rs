//! Shared by the benches: criterion's estimates, the ratio table, paired
//! rounds and a counting allocator.

use std::path::PathBuf;

#[path = "../../tests/common/counting_alloc.rs"]
mod counting_alloc;
#[allow(unused_imports)]
pub use counting_alloc::{allocations, CountingAlloc};

/// Allocations per call of `f` (after one warm-up call), over `calls` calls.
#[allow(dead_code)]
pub fn allocs_per_call(calls: u64, f: &mut dyn FnMut()) -> f64 {
    f();
    let before = allocations();
    for _ in 0..calls {
        f();
    }
    (allocations() - before) as f64 / calls as f64
}

/// Reads criterion's point estimate (mean, ns) of one benchmark of this run.
pub fn estimate(group: &str, id: &str) -> Option<f64> {
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
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '-'))
        .collect();
    num.parse().ok()
}

/// Prints `ratio = b / a` for each group of two benchmarks `a` and `b`.
pub fn ratio_table(groups: &[&str], a: &str, b: &str) {
    println!(
        "\n{:<22} {:>14} {:>14} {:>8} {:>14}",
        "benchmark", a, b, "ratio", "difference"
    );
    for g in groups {
        if let (Some(x), Some(y)) = (estimate(g, a), estimate(g, b)) {
            println!(
                "{g:<22} {:>11.1} ns {:>11.1} ns {:>8.3} {:>11.1} ns",
                x,
                y,
                y / x,
                y - x
            );
        }
    }
}

/// Waits until `t` is computed. Only xla runs asynchronously (results come
/// back before the work is done, as in JAX); the other backends return
/// finished tensors, so this is a no-op for them.
#[allow(dead_code)]
pub fn ready(t: &eager_tensor::EagerTensor) {
    #[cfg(feature = "xla")]
    if let Ok(x) = t.as_raw::<eager_tensor::XlaTensor>() {
        x.buffer()
            .expect("a computed xla tensor")
            .block_until_ready()
            .expect("xla result");
    }
    let _ = t;
}

/// Medians and minimums of paired rounds, per call, in ns, and the
/// allocations per call of each side (`None` where not counted).
#[allow(dead_code)]
pub struct Paired {
    pub name: String,
    pub median: (f64, f64),
    pub min: (f64, f64),
    pub allocs: Option<(f64, f64)>,
}

/// Paired rounds in one process: `rounds` times, `iters` calls of `a` then
/// `iters` of `b` (which goes first alternates by round), so slow phases of
/// a noisy machine hit both sides alike. The per-call median and minimum
/// of each side over the rounds.
#[allow(dead_code)]
pub fn paired(
    name: &str,
    rounds: usize,
    iters: usize,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> Paired {
    let time = |f: &mut dyn FnMut()| {
        let t = std::time::Instant::now();
        for _ in 0..iters {
            f();
        }
        t.elapsed().as_nanos() as f64 / iters as f64
    };
    // Warm-up of both sides.
    time(&mut a);
    time(&mut b);
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        if r % 2 == 0 {
            ta.push(time(&mut a));
            tb.push(time(&mut b));
        } else {
            tb.push(time(&mut b));
            ta.push(time(&mut a));
        }
    }
    let stats = |mut v: Vec<f64>| {
        v.sort_by(|x, y| x.total_cmp(y));
        (v[v.len() / 2], v[0])
    };
    let ((ma, na), (mb, nb)) = (stats(ta), stats(tb));
    Paired {
        name: name.to_string(),
        median: (ma, mb),
        min: (na, nb),
        allocs: None,
    }
}

/// [`paired`] with as many calls per round as fill about `round_ns`
/// (at least 20), so rounds of a 100 ns op are not timer noise; the
/// allocations per call of each side are counted too (meaningful with
/// [`CountingAlloc`] as the global allocator).
#[allow(dead_code)]
pub fn paired_auto(
    name: &str,
    rounds: usize,
    round_ns: f64,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> Paired {
    let allocs = (allocs_per_call(100, &mut a), allocs_per_call(100, &mut b));
    let t = std::time::Instant::now();
    let mut calls = 0u64;
    while t.elapsed().as_nanos() < 2_000_000 || calls < 3 {
        a();
        b();
        calls += 1;
    }
    let per_pair = t.elapsed().as_nanos() as f64 / calls as f64;
    let iters = ((2.0 * round_ns / per_pair) as usize).max(20);
    let mut p = paired(name, rounds, iters, a, b);
    p.allocs = Some(allocs);
    p
}

/// Prints paired results: medians, minimums, the ratios b / a, the
/// difference of the medians, and allocations per call where counted.
#[allow(dead_code)]
pub fn paired_table(rows: &[Paired], a: &str, b: &str) {
    println!(
        "\npaired rounds (per call)\n{:<28} {:>12} {:>12} {:>7} {:>12} {:>12} {:>7} {:>11} {:>13}",
        "benchmark",
        format!("{a} med"),
        format!("{b} med"),
        "ratio",
        format!("{a} min"),
        format!("{b} min"),
        "ratio",
        "extra med",
        "allocs/call"
    );
    for r in rows {
        let allocs = match r.allocs {
            Some((x, y)) => format!("{x:.1} / {y:.1}"),
            None => "-".to_string(),
        };
        println!(
            "{:<28} {:>9.3} µs {:>9.3} µs {:>7.3} {:>9.3} µs {:>9.3} µs {:>7.3} {:>8.1} ns {:>13}",
            r.name,
            r.median.0 / 1e3,
            r.median.1 / 1e3,
            r.median.1 / r.median.0,
            r.min.0 / 1e3,
            r.min.1 / 1e3,
            r.min.1 / r.min.0,
            r.median.1 - r.median.0,
            allocs
        );
    }
}

/// `f` traced on `inputs` (xla tensors) and compiled by PJRT directly, not
/// through `ep::jit`: what a jitted call is measured against (the same
/// program without the wrapper).
#[cfg(feature = "xla")]
#[allow(dead_code)]
pub struct RawProgram {
    pub exe: eager_tensor::backends::xla::pjrt::Executable,
    /// The inputs' buffers, then the captured constants', in parameter order.
    pub args: Vec<std::sync::Arc<eager_tensor::backends::xla::pjrt::Buffer>>,
    pub outs: Vec<(eager_tensor::backends::xla::pjrt::ElementType, Vec<i64>)>,
}

#[cfg(feature = "xla")]
#[allow(dead_code)]
pub fn raw_program(
    f: impl Fn(&[eager_tensor::EagerTensor]) -> eager_tensor::Result<Vec<eager_tensor::EagerTensor>>,
    inputs: &[eager_tensor::EagerTensor],
) -> RawProgram {
    use eager_tensor::backends::xla::{self as xb, jit::Trace, XlaTensor};
    use eager_tensor::EagerTensor;
    let trace = Trace::new();
    let sym: Vec<EagerTensor> = inputs
        .iter()
        .map(|t| {
            trace
                .input(t.dtype(), &t.shape())
                .map(EagerTensor::Xla)
                .expect("input")
        })
        .collect();
    let outs: Vec<XlaTensor> = f(&sym)
        .expect("trace")
        .into_iter()
        .map(|t| t.into_raw().expect("xla"))
        .collect();
    let program = trace.finish(&outs).expect("compile");
    let exe = xb::client()
        .expect("PJRT")
        .compile(program.text())
        .expect("compile");
    let mut args: Vec<_> = inputs
        .iter()
        .map(|t| {
            t.as_raw::<XlaTensor>()
                .expect("xla")
                .buffer()
                .expect("buffer")
                .clone()
        })
        .collect();
    args.extend(program.captured().iter().cloned());
    RawProgram {
        exe,
        args,
        outs: program.output_types().to_vec(),
    }
}

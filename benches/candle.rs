//! The candle backend against Candle (candle-core) called directly, in the
//! same run: a 4-element add, the L2 chain `sqrt(sum(x * x))` at 10³ and
//! 10⁶, a 256 × 256 f32 matmul, and a 2-layer MLP's value and gradients
//! (batch 64, 32 → 64 → 1) against Candle's own backprop written directly.
//!
//! `cargo bench --features candle --bench candle`. Candle's CPU kernels run
//! on rayon (matmul, through `gemm`) and on its own pool (large element-wise
//! ops); both read their thread count once, from `RAYON_NUM_THREADS` and
//! `CANDLE_NUM_THREADS`, so `main` pins both to 1 before the first tensor
//! (override with `CANDLE_BENCH_THREADS`): both sides run in one process
//! on the same pools. Each pair is a criterion group and then paired rounds
//! (direct and eager alternating, `common::paired`); the table at the end
//! gives medians, minimums and the ratios eager / direct.

use criterion::{black_box, Criterion};
use eager_tensor::candle_core::{Device, Tensor, Var};
use eager_tensor::{self as ep, EagerTensor};
use std::time::Duration;
mod common;

fn data(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i % 97) as f32) * 0.01 - 0.3).collect()
}

fn tensor(n: usize, shape: &[usize]) -> Tensor {
    Tensor::from_vec(data(n), shape, &Device::Cpu).expect("tensor")
}

/// A criterion group of `direct` and `eager`, then the same two in paired
/// rounds (for the table at the end).
fn pair(
    c: &mut Criterion,
    rows: &mut Vec<common::Paired>,
    name: &str,
    iters: usize,
    mut direct: impl FnMut(),
    mut eager: impl FnMut(),
) {
    // CANDLE_BENCH_ONLY=<substring>: only the matching pairs (profiling).
    if let Ok(only) = std::env::var("CANDLE_BENCH_ONLY") {
        if !name.contains(&only) {
            return;
        }
    }
    let mut g = c.benchmark_group(name);
    g.bench_function("direct", |b| b.iter(&mut direct));
    g.bench_function("eager", |b| b.iter(&mut eager));
    g.finish();
    rows.push(common::paired(name, 41, iters, direct, eager));
}

fn bench(c: &mut Criterion, rows: &mut Vec<common::Paired>) {
    // 4-element add: the per-op overhead.
    let (a, b) = (tensor(4, &[4]), tensor(4, &[4]));
    let (ea, eb) = (ep::astensor(a.clone()), ep::astensor(b.clone()));
    pair(
        c,
        rows,
        "candle_add_4",
        2000,
        || {
            black_box(a.add(&b).expect("add"));
        },
        || {
            black_box(ea.add(&eb).expect("add"));
        },
    );

    // L2 chain.
    for (n, iters) in [(1_000usize, 500), (1_000_000, 5)] {
        let x = tensor(n, &[n]);
        let ex = ep::astensor(x.clone());
        pair(
            c,
            rows,
            &format!("candle_l2_chain_{n}"),
            iters,
            || {
                let s = x.mul(&x).and_then(|y| y.sum_all()).and_then(|s| s.sqrt());
                black_box(s.expect("l2"));
            },
            || {
                let s = ex.mul(&ex).and_then(|y| y.sum()).and_then(|s| s.sqrt());
                black_box(s.expect("l2"));
            },
        );
    }

    // 256 × 256 matmul.
    let (m, k) = (tensor(65536, &[256, 256]), tensor(65536, &[256, 256]));
    let (em, ek) = (ep::astensor(m.clone()), ep::astensor(k.clone()));
    pair(
        c,
        rows,
        "candle_matmul_256",
        10,
        || {
            black_box(m.matmul(&k).expect("matmul"));
        },
        || {
            black_box(em.matmul(&ek).expect("matmul"));
        },
    );

    // MLP value and gradients (w1, b1, w2, b2), batch 64, 32 → 64 → 1,
    // mean squared error against a fixed target.
    let x = tensor(64 * 32, &[64, 32]);
    let target = x.sum_keepdim(1).expect("target");
    let scale = |t: Tensor, s: f64| t.affine(s, 0.0).expect("scale");
    let params = [
        scale(tensor(32 * 64, &[32, 64]), 0.2),
        scale(tensor(64, &[64]), 0.1),
        scale(tensor(64, &[64, 1]), 0.2),
        scale(tensor(1, &[1]), 0.1),
    ];
    // Candle directly: the parameters are variables once (as a Candle
    // training loop holds them), each call runs forward and backward and
    // reads the four gradients.
    let vars: Vec<Var> = params
        .iter()
        .map(|p| Var::from_tensor(p).expect("var"))
        .collect();
    let direct = || {
        let (w1, b1, w2, b2) = (
            vars[0].as_tensor(),
            vars[1].as_tensor(),
            vars[2].as_tensor(),
            vars[3].as_tensor(),
        );
        let loss = x
            .matmul(w1)
            .and_then(|h| h.broadcast_add(b1))
            .and_then(|h| h.relu())
            .and_then(|h| h.matmul(w2))
            .and_then(|y| y.broadcast_add(b2))
            .and_then(|y| y.sub(&target))
            .and_then(|d| d.sqr())
            .and_then(|d| d.mean_all())
            .expect("forward");
        let grads = loss.backward().expect("backward");
        let gs: Vec<&Tensor> = vars
            .iter()
            .map(|v| grads.get(v.as_tensor()).expect("grad"))
            .collect();
        black_box((loss, gs.len()));
    };
    let (ex, et) = (ep::astensor(x.clone()), ep::astensor(target.clone()));
    let eparams: Vec<EagerTensor> = params.iter().map(|p| ep::astensor(p.clone())).collect();
    let refs: Vec<&EagerTensor> = eparams.iter().collect();
    let mlp = |t: &[EagerTensor]| {
        ex.matmul(&t[0])?
            .add(&t[1])?
            .relu()?
            .matmul(&t[2])?
            .add(&t[3])?
            .sub(&et)?
            .square()?
            .mean()
    };
    let eager = || {
        black_box(ep::value_and_grads(mlp, &refs).expect("value_and_grads"));
    };
    pair(c, rows, "candle_mlp_value_and_grads", 50, direct, eager);
    // The same through eager-tensor's tape, for reference.
    let tape = || {
        black_box(ep::value_and_grads_with(ep::Engine::Tape, mlp, &refs).expect("value_and_grads"));
    };
    pair(c, rows, "candle_mlp_grads_tape", 50, direct, tape);
}

fn main() {
    // Before the first tensor: Candle reads both once.
    let threads = std::env::var("CANDLE_BENCH_THREADS").unwrap_or_else(|_| "1".into());
    std::env::set_var("RAYON_NUM_THREADS", &threads);
    std::env::set_var("CANDLE_NUM_THREADS", &threads);
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .configure_from_args();
    let mut rows = Vec::new();
    bench(&mut c, &mut rows);
    c.final_summary();
    // Criterion's means, then the paired rounds (medians and minimums).
    common::ratio_table(
        &[
            "candle_add_4",
            "candle_l2_chain_1000",
            "candle_l2_chain_1000000",
            "candle_matmul_256",
            "candle_mlp_value_and_grads",
            "candle_mlp_grads_tape",
        ],
        "direct",
        "eager",
    );
    println!("candle threads (RAYON_NUM_THREADS, CANDLE_NUM_THREADS): {threads}");
    common::paired_table(&rows, "direct", "eager");
}

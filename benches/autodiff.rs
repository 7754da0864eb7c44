//! The cost of gradients: `value_and_grads` of a 2-layer MLP loss (batch 64,
//! 32 → 64 → 1) against the forward pass alone, on the same backend, in the
//! same run. Goal: at most 3x the forward time.
//!
//! `cargo bench --bench autodiff` prints the ratio table at the end.

use criterion::{black_box, Criterion};
use eager_tensor::{self as ep, Backend, DType, EagerTensor};

mod common;

fn loss(p: &[EagerTensor], x: &EagerTensor, y: &EagerTensor) -> ep::Result<EagerTensor> {
    let out = x
        .matmul(&p[0])?
        .add(&p[1])?
        .tanh()?
        .matmul(&p[2])?
        .add(&p[3])?;
    out.sub(y)?.square()?.mean()
}

fn main() {
    // One libtorch thread: on a small machine the intra-op pool competing
    // with criterion is the largest source of noise (same for both sides).
    #[cfg(feature = "torch")]
    eager_tensor::tch::set_num_threads(1);
    let mut c = Criterion::default().configure_from_args();
    let mut groups = Vec::new();
    #[allow(unused_mut)]
    let mut jit_rows: Vec<Vec<common::Paired>> = Vec::new();
    for backend in Backend::enabled() {
        let like = EagerTensor::zeros(backend, [], DType::F32).expect("like");
        ep::seed(1);
        let x = ep::normal(&like, [64, 32], 0.0, 1.0).expect("x");
        let y = ep::normal(&like, [64, 1], 0.0, 1.0).expect("y");
        let params = vec![
            ep::normal(&like, [32, 64], 0.0, 0.2).expect("w1"),
            ep::zeros(&like, [64]).expect("b1"),
            ep::normal(&like, [64, 1], 0.0, 0.2).expect("w2"),
            ep::zeros(&like, [1]).expect("b2"),
        ];
        let refs: Vec<&EagerTensor> = params.iter().collect();
        let name = format!("mlp_{backend}");
        let mut g = c.benchmark_group(&name);
        g.bench_function("forward", |b| {
            b.iter(|| common::ready(&loss(black_box(&params), &x, &y).expect("forward")))
        });
        g.bench_function("value_and_grad", |b| {
            b.iter(|| {
                let (v, grads) =
                    ep::value_and_grads(|p| loss(p, &x, &y), black_box(&refs)).expect("grad");
                common::ready(&v);
                grads.iter().for_each(common::ready);
            })
        });
        #[cfg(feature = "torch")]
        if backend == Backend::Torch {
            // The same step written directly against tch: forward, then
            // libtorch's backward on parameters that require gradients.
            use eager_tensor::tch::Tensor;
            let raw = |t: &EagerTensor| t.as_raw::<Tensor>().expect("torch").shallow_clone();
            let leaves: Vec<Tensor> = params
                .iter()
                .map(|p| raw(p).detach().set_requires_grad(true))
                .collect();
            let (xr, yr) = (raw(&x), raw(&y));
            g.bench_function("tch_direct", |b| {
                b.iter(|| {
                    let out = xr
                        .matmul(&leaves[0])
                        .g_add(&leaves[1])
                        .tanh()
                        .matmul(&leaves[2])
                        .g_add(&leaves[3]);
                    let loss = out.g_sub(&yr).square().mean(None);
                    Tensor::run_backward(&[&loss], black_box(&leaves), false, false)
                })
            });
        }
        g.finish();
        groups.push(name);
        #[cfg(feature = "bench-internals")]
        if backend == Backend::Xla {
            jit_rows.push(bench_jit(&mut c, &x, &y, &params));
        }
    }
    c.final_summary();
    let names: Vec<&str> = groups.iter().map(|s| s.as_str()).collect();
    common::ratio_table(&names, "forward", "value_and_grad");
    #[cfg(feature = "torch")]
    common::ratio_table(&["mlp_torch"], "tch_direct", "value_and_grad");
    for rows in &jit_rows {
        common::paired_table(rows, "a", "b");
    }
}

/// The MLP step (value and gradients) on xla four ways: the tape op by op
/// (eager), `ep::jit` (one program), PJRT executing the very same program
/// text directly (what the jit wrapper costs), and PJRT executing a
/// hand-written program of the step (`hlo::mlp_step`: the chain rule
/// spelled out, what the traced program's code costs against a person's).
/// Criterion groups `mlp_xla_jit` for each, and paired rounds (with the
/// `bench-internals` feature: the hand-written program).
#[cfg(feature = "bench-internals")]
fn bench_jit(
    c: &mut Criterion,
    x: &EagerTensor,
    y: &EagerTensor,
    params: &[EagerTensor],
) -> Vec<common::Paired> {
    use eager_tensor::backends::xla::{self as xb, pjrt::Buffer};
    let step = |xs: &[EagerTensor]| -> ep::Result<Vec<EagerTensor>> {
        let refs: Vec<&EagerTensor> = xs[2..].iter().collect();
        let (v, grads) = ep::value_and_grads(|p| loss(p, &xs[0], &xs[1]), &refs)?;
        let mut out = vec![v];
        out.extend(grads);
        Ok(out)
    };
    let mut inputs = vec![x.clone(), y.clone()];
    inputs.extend(params.iter().cloned());
    let refs: Vec<&EagerTensor> = inputs.iter().collect();
    let jitted = ep::jit(step);
    let ready_all = |outs: Vec<EagerTensor>| outs.iter().for_each(common::ready);
    // The same program, compiled and run through PJRT directly.
    let raw = common::raw_program(step, &inputs);
    let bufs: Vec<&Buffer> = raw.args.iter().map(|b| b.as_ref()).collect();
    let run = |exe: &xb::pjrt::Executable, bufs: &[&Buffer]| {
        let outs = exe.execute(bufs, &raw.outs).expect("execute");
        outs.iter()
            .for_each(|b| b.block_until_ready().expect("ready"));
        outs
    };
    // The step written by hand: same inputs, same results (checked here).
    let [batch, din] = [x.shape()[0], x.shape()[1]].map(|d| d as i64);
    let hand = xb::client()
        .expect("PJRT")
        .compile(&xb::hlo::mlp_step(batch, din, params[1].shape()[0] as i64))
        .expect("compile the hand-written step");
    let hand_bufs: Vec<&Buffer> = raw.args[..inputs.len()]
        .iter()
        .map(|b| b.as_ref())
        .collect();
    for (h, j) in run(&hand, &hand_bufs)
        .iter()
        .zip(jitted.call(&refs).expect("jit"))
    {
        let (h, j) = (
            xb::f32_values(h).expect("values"),
            j.to_vec::<f32>().expect("values"),
        );
        assert!(
            h.iter()
                .zip(&j)
                .all(|(a, b)| (a - b).abs() <= 1e-5 + 1e-4 * b.abs()),
            "the hand-written step differs from the jitted one: {h:?} vs {j:?}"
        );
    }
    let eager = || {
        let r: Vec<&EagerTensor> = inputs[2..].iter().collect();
        let (v, g) = ep::value_and_grads(|p| loss(p, x, y), &r).expect("grad");
        common::ready(&v);
        g.iter().for_each(common::ready);
    };
    let jit_call = || ready_all(jitted.call(&refs).expect("jit"));
    let direct = || drop(run(&raw.exe, &bufs));
    let by_hand = || drop(run(&hand, &hand_bufs));
    let mut g = c.benchmark_group("mlp_xla_jit");
    g.bench_function("eager", |b| b.iter(eager));
    g.bench_function("jit", |b| b.iter(jit_call));
    g.bench_function("pjrt_same_program", |b| b.iter(direct));
    g.bench_function("hand_written", |b| b.iter(by_hand));
    g.finish();
    vec![
        common::paired("mlp_xla: a=eager b=jit", 31, 20, eager, jit_call),
        common::paired("mlp_xla: a=pjrt b=jit", 31, 50, direct, jit_call),
        common::paired("mlp_xla: a=hand b=jit", 31, 50, by_hand, jit_call),
    ]
}

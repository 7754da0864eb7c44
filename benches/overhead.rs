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
    cases.extend(torch_cases());
    #[cfg(feature = "tensorflow")]
    cases.extend(tf_cases());
    #[cfg(feature = "xla")]
    cases.extend(xla_cases());
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

/// The torch cases against the same tch calls made directly, libtorch
/// pinned to one thread on both sides: an op on 4 elements, wrapping and
/// unwrapping, the L2 chain, a matmul, the MLP forward of
/// benches/autodiff.rs and its value and gradients against libtorch's own
/// autograd (`run_backward` on leaves that require gradients).
#[cfg(feature = "torch")]
fn torch_cases() -> Vec<Case> {
    use eager_tensor::tch::{self, Kind, Tensor};
    tch::set_num_threads(1);
    let t = |n: usize, shape: &[i64]| Tensor::from_slice(&data(n)).reshape(shape);
    let mut cases = Vec::new();
    {
        let (a, b) = (t(4, &[4]), t(4, &[4]));
        let (ta, tb) = (
            ep::astensor(a.shallow_clone()),
            ep::astensor(b.shallow_clone()),
        );
        cases.push(case(
            "torch_add_4",
            move || drop(black_box(black_box(&a).f_add(black_box(&b)).expect("add"))),
            move || drop(black_box(black_box(&ta).add(black_box(&tb)).expect("add"))),
        ));
    }
    // Wrapping and unwrapping a handle: both sides make the same shallow
    // clone (a reference count).
    cases.extend(wrap_cases(
        "torch_astensor_4",
        "torch_into_raw_4",
        t(4, &[4]),
        Tensor::shallow_clone,
    ));
    for n in [1_000usize, 1_000_000] {
        let a = t(n, &[n as i64]);
        let ta = ep::astensor(a.shallow_clone());
        cases.push(case(
            format!("torch_l2_chain_{n}"),
            move || {
                drop(black_box(
                    black_box(&a)
                        .f_square()
                        .and_then(|x| x.f_sum(None::<Kind>))
                        .and_then(|x| x.f_sqrt())
                        .expect("l2"),
                ))
            },
            move || drop(black_box(l2(black_box(&ta)))),
        ));
    }
    {
        let a = t(256 * 256, &[256, 256]);
        let b = a.tr();
        let (ta, tb) = (
            ep::astensor(a.shallow_clone()),
            ep::astensor(b.shallow_clone()),
        );
        cases.push(case(
            "torch_matmul_256",
            move || {
                drop(black_box(
                    black_box(&a).f_matmul(black_box(&b)).expect("mm"),
                ))
            },
            move || {
                drop(black_box(
                    black_box(&ta).matmul(black_box(&tb)).expect("mm"),
                ))
            },
        ));
    }
    {
        // The MLP of benches/autodiff.rs (batch 64, 32 → 64 → 1, 8 ops):
        // `mean((tanh(x W1 + b1) W2 + b2 - y)²)`.
        let m = |r: i64, c: i64, scale: f64| {
            t((r * c) as usize, &[r, c])
                .f_mul_scalar(scale)
                .expect("scale")
        };
        let (x, y, w1, w2) = (m(64, 32, 3.0), m(64, 1, 3.0), m(32, 64, 0.6), m(64, 1, 0.6));
        let (b1, b2) = (
            Tensor::full([64], 0.01, (Kind::Float, tch::Device::Cpu)),
            Tensor::full([1], 0.02, (Kind::Float, tch::Device::Cpu)),
        );
        let direct = |x: &Tensor, p: &[Tensor; 4], y: &Tensor| -> Tensor {
            x.f_matmul(&p[0])
                .and_then(|h| h.f_add(&p[1]))
                .and_then(|h| h.f_tanh())
                .and_then(|h| h.f_matmul(&p[2]))
                .and_then(|o| o.f_add(&p[3]))
                .and_then(|o| o.f_sub(y))
                .and_then(|d| d.f_square())
                .and_then(|s| s.f_mean(None::<Kind>))
                .expect("mlp")
        };
        let e = |t: &Tensor| ep::astensor(t.shallow_clone());
        let params = [w1, b1, w2, b2];
        let eparams: Vec<EagerTensor> = params.iter().map(e).collect();
        let (ex, ey) = (e(&x), e(&y));
        {
            let (x, y, p) = (
                x.shallow_clone(),
                y.shallow_clone(),
                params.each_ref().map(|t| t.shallow_clone()),
            );
            let (ex, ey, ep_) = (ex.clone(), ey.clone(), eparams.clone());
            cases.push(case(
                "torch_mlp_forward",
                move || drop(black_box(direct(black_box(&x), &p, &y))),
                move || drop(black_box(mlp_loss(black_box(&ep_), &ex, &ey).expect("mlp"))),
            ));
        }
        // Leaves that require gradients, as a PyTorch user writes the step,
        // and libtorch's value and gradients on them.
        let leaves_of = |p: &[Tensor; 4]| p.each_ref().map(|t| t.detach().set_requires_grad(true));
        let step = move |x: &Tensor, leaves: &[Tensor; 4], y: &Tensor| {
            let l = direct(x, leaves, y);
            let g = Tensor::run_backward(&[&l], leaves, false, false);
            (l, g)
        };
        {
            // The floor of a functional `value_and_grads(f, inputs)` on
            // libtorch: it cannot mark the caller's tensors (which other
            // handles share) as requiring gradients, so each call makes
            // fresh leaves of them (`detach`, `requires_grad_`) and
            // returns the value out of the graph (`detach`). Its eager
            // column is that, not eager-tensor.
            let (x, y) = (x.shallow_clone(), y.shallow_clone());
            let (x2, y2) = (x.shallow_clone(), y.shallow_clone());
            let p2 = params.each_ref().map(|t| t.shallow_clone());
            let leaves = leaves_of(&params);
            cases.push(case(
                "floor_torch_mlp_value_and_grads",
                move || drop(black_box(step(black_box(&x), &leaves, &y))),
                move || {
                    let (l, g) = step(black_box(&x2), &leaves_of(&p2), &y2);
                    drop(black_box((l.detach(), g)))
                },
            ));
        }
        let leaves = leaves_of(&params);
        let refs: Vec<EagerTensor> = eparams;
        cases.push(case(
            "torch_mlp_value_and_grads",
            move || drop(black_box(step(black_box(&x), &leaves, &y))),
            move || {
                let r: Vec<&EagerTensor> = refs.iter().collect();
                let out =
                    ep::value_and_grads(|p| mlp_loss(p, &ex, &ey), black_box(&r)).expect("grads");
                drop(black_box(out))
            },
        ));
    }
    cases
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

/// The tensorflow cases against the same raw ops called directly through
/// `tensorflow::eager` (one context, as the backend's).
#[cfg(feature = "tensorflow")]
fn tf_cases() -> Vec<Case> {
    use eager_tensor::tensorflow::{eager::raw_ops as ops, eager::TensorHandle, Tensor};
    let ctx = eager_tensor::backends::tensorflow::context().expect("context");
    let h = move |n: usize, dims: &[u64], scale: f32| -> TensorHandle<'static> {
        let v: Vec<f32> = data(n).iter().map(|x| x * scale).collect();
        Tensor::<f32>::new(dims)
            .with_values(&v)
            .expect("values")
            .into_handle(ctx)
            .expect("handle")
    };
    let mut cases = Vec::new();
    {
        let (a, b) = (h(4, &[4], 1.0), h(4, &[4], 1.0));
        let (ta, tb) = (ep::astensor(h(4, &[4], 1.0)), ep::astensor(h(4, &[4], 1.0)));
        cases.push(case(
            "tf_add_4",
            move || {
                drop(black_box(
                    ops::add_v2(ctx, black_box(&a), black_box(&b)).expect("add"),
                ))
            },
            move || drop(black_box(black_box(&ta).add(black_box(&tb)).expect("add"))),
        ));
    }
    // Wrapping and unwrapping: both sides make the same new handle on the
    // same buffer (`copy_sharing_tensor`).
    cases.extend(wrap_cases(
        "tf_astensor_4",
        "tf_into_raw_4",
        h(4, &[4], 1.0),
        |x| x.copy_sharing_tensor().expect("copy"),
    ));
    {
        // The floor of `astensor` with the backend's storage: the handle in
        // an `Arc` (so clones share it without an FFI call) and its dtype
        // read once. Its eager column is that, not eager-tensor.
        let (a, b) = (h(4, &[4], 1.0), h(4, &[4], 1.0));
        cases.push(case(
            "floor_tf_astensor_4",
            move || {
                drop(black_box(
                    black_box(&a).copy_sharing_tensor().expect("copy"),
                ))
            },
            move || {
                let h = black_box(&b).copy_sharing_tensor().expect("copy");
                let d = h.data_type();
                // The backend's `Handle` is Send + Sync (see its SAFETY note).
                #[allow(clippy::arc_with_non_send_sync)]
                let held = std::sync::Arc::new(h);
                drop(black_box((held, d)))
            },
        ));
    }
    for n in [1_000usize, 1_000_000] {
        let a = h(n, &[n as u64], 1.0);
        let ta = ep::astensor(h(n, &[n as u64], 1.0));
        cases.push(case(
            format!("tf_l2_chain_{n}"),
            move || {
                let sq = ops::square(ctx, black_box(&a)).expect("square");
                let s = ops::sum(ctx, &sq, &[0i32]).expect("sum");
                drop(black_box(ops::sqrt(ctx, &s).expect("sqrt")))
            },
            move || drop(black_box(l2(black_box(&ta)))),
        ));
    }
    {
        let (a, b) = (
            h(256 * 256, &[256, 256], 1.0),
            h(256 * 256, &[256, 256], 1.0),
        );
        let (ta, tb) = (
            ep::astensor(h(256 * 256, &[256, 256], 1.0)),
            ep::astensor(h(256 * 256, &[256, 256], 1.0)),
        );
        cases.push(case(
            "tf_matmul_256",
            move || {
                drop(black_box(
                    ops::mat_mul(ctx, black_box(&a), black_box(&b)).expect("mm"),
                ))
            },
            move || {
                drop(black_box(
                    black_box(&ta).matmul(black_box(&tb)).expect("mm"),
                ))
            },
        ));
    }
    {
        // The MLP forward of benches/autodiff.rs, 8 raw ops.
        let shapes: [(usize, &[u64], f32); 6] = [
            (64 * 32, &[64, 32], 3.0),
            (64, &[64, 1], 3.0),
            (32 * 64, &[32, 64], 0.6),
            (64, &[64], 0.01),
            (64, &[64, 1], 0.6),
            (1, &[1], 0.02),
        ];
        let [x, y, w1, b1, w2, b2] = shapes.map(|(n, d, s)| h(n, d, s));
        let e = |t: &TensorHandle<'static>| ep::astensor(t.copy_sharing_tensor().expect("copy"));
        let p = vec![e(&w1), e(&b1), e(&w2), e(&b2)];
        let (ex, ey) = (e(&x), e(&y));
        cases.push(case(
            "tf_mlp_forward",
            move || {
                let h1 = ops::mat_mul(ctx, black_box(&x), &w1).expect("mm");
                let h2 = ops::add_v2(ctx, &h1, &b1).expect("add");
                let h3 = ops::tanh(ctx, &h2).expect("tanh");
                let o1 = ops::mat_mul(ctx, &h3, &w2).expect("mm");
                let o2 = ops::add_v2(ctx, &o1, &b2).expect("add");
                let d = ops::sub(ctx, &o2, &y).expect("sub");
                let s = ops::square(ctx, &d).expect("square");
                drop(black_box(ops::mean(ctx, &s, &[0i32, 1]).expect("mean")))
            },
            move || drop(black_box(mlp_loss(black_box(&p), &ex, &ey).expect("mlp"))),
        ));
    }
    cases
}

/// The xla cases against the same compiled programs executed directly
/// through PJRT (the programs the backend's own lowering makes, one per
/// op, traced once). Execution is asynchronous on both sides; each call
/// waits for its last result, as a caller that uses the value does.
#[cfg(feature = "xla")]
fn xla_cases() -> Vec<Case> {
    use eager_tensor::backends::xla::{self as x, pjrt::Buffer, XlaTensor};
    use std::sync::Arc;
    x::client().expect("PJRT plugin (scripts/setup-xla.sh)");
    let mut cases = Vec::new();
    let ready = |t: EagerTensor| common::ready(&t);
    let xt = |n: usize, shape: &[usize], scale: f32| {
        let v: Vec<f32> = data(n).iter().map(|x| x * scale).collect();
        EagerTensor::from_vec(ep::Backend::Xla, v, shape).expect("xla tensor")
    };
    let buf = |t: &EagerTensor| -> Arc<Buffer> {
        t.as_raw::<XlaTensor>()
            .expect("xla")
            .buffer()
            .expect("buffer")
            .clone()
    };
    /// One op traced into its own program: run it on `args` (the op's
    /// inputs, then its captured constants) and keep the first result.
    struct Op {
        p: common::RawProgram,
        inputs: usize,
    }
    impl Op {
        fn new(
            f: impl Fn(&[EagerTensor]) -> ep::Result<Vec<EagerTensor>>,
            inputs: &[EagerTensor],
        ) -> Op {
            Op {
                p: common::raw_program(f, inputs),
                inputs: inputs.len(),
            }
        }
        fn run(&self, args: &[&Buffer]) -> Buffer {
            let mut all: Vec<&Buffer> = args.to_vec();
            all.extend(self.p.args[self.inputs..].iter().map(|b| b.as_ref()));
            let mut out = self.p.exe.execute(&all, &self.p.outs).expect("run");
            out.swap_remove(0)
        }
    }
    {
        let (ta, tb) = (xt(4, &[4], 1.0), xt(4, &[4], 1.0));
        let add = Op::new(|v| Ok(vec![v[0].add(&v[1])?]), &[ta.clone(), tb.clone()]);
        let (a, b) = (buf(&ta), buf(&tb));
        cases.push(case(
            "xla_add_4",
            move || {
                add.run(&[black_box(&a), black_box(&b)])
                    .block_until_ready()
                    .expect("ready")
            },
            move || ready(black_box(&ta).add(black_box(&tb)).expect("add")),
        ));
    }
    {
        // The floor of an op-by-op API over compiled programs: the direct
        // execute, plus finding the program for this op, dtypes and shapes
        // (a key built per call and looked up in a map) and keeping the
        // result in an `Arc` so that handles share it. Its eager column
        // is that, not eager-tensor.
        let (ta, tb) = (xt(4, &[4], 1.0), xt(4, &[4], 1.0));
        let add = Op::new(|v| Ok(vec![v[0].add(&v[1])?]), &[ta.clone(), tb.clone()]);
        let (a, b, a2, b2) = (buf(&ta), buf(&tb), buf(&ta), buf(&tb));
        let add = Arc::new(add);
        let direct = add.clone();
        let key = |k: &mut Vec<i64>| {
            k.clear();
            // "add", its attribute, then each input's dtype and shape.
            k.extend([3, i64::from_le_bytes(*b"add\0\0\0\0\0"), 1, 0]);
            for _ in 0..2 {
                k.extend([ep::DType::F32 as i64, 1, 4]);
            }
        };
        let mut programs = std::collections::HashMap::new();
        let mut k = Vec::new();
        key(&mut k);
        programs.insert(k.clone(), add);
        cases.push(case(
            "floor_xla_add_4",
            move || {
                direct
                    .run(&[black_box(&a), black_box(&b)])
                    .block_until_ready()
                    .expect("ready")
            },
            move || {
                key(&mut k);
                let op = programs.get(k.as_slice()).expect("program").clone();
                let r = Arc::new(op.run(&[black_box(&a2), black_box(&b2)]));
                r.block_until_ready().expect("ready");
                drop(black_box((r, op)))
            },
        ));
    }
    cases.extend(wrap_cases(
        "xla_astensor_4",
        "xla_into_raw_4",
        xt(4, &[4], 1.0).into_raw::<XlaTensor>().expect("xla"),
        Clone::clone,
    ));
    for n in [1_000usize, 1_000_000] {
        let ta = xt(n, &[n], 1.0);
        let sq = Op::new(|v| Ok(vec![v[0].square()?]), std::slice::from_ref(&ta));
        let s1 = ta.square().expect("square");
        let sum = Op::new(|v| Ok(vec![v[0].sum()?]), std::slice::from_ref(&s1));
        let s2 = s1.sum().expect("sum");
        let sqrt = Op::new(|v| Ok(vec![v[0].sqrt()?]), std::slice::from_ref(&s2));
        let a = buf(&ta);
        cases.push(case(
            format!("xla_l2_chain_{n}"),
            move || {
                let r1 = sq.run(&[black_box(&a)]);
                let r2 = sum.run(&[&r1]);
                sqrt.run(&[&r2]).block_until_ready().expect("ready")
            },
            move || ready(l2(black_box(&ta))),
        ));
    }
    {
        let (x, y) = (xt(64 * 32, &[64, 32], 3.0), xt(64, &[64, 1], 3.0));
        let p = vec![
            xt(32 * 64, &[32, 64], 0.6),
            xt(64, &[64], 0.01),
            xt(64, &[64, 1], 0.6),
            xt(1, &[1], 0.02),
        ];
        // The forward's intermediates, for each op's input shapes.
        let h1 = x.matmul(&p[0]).expect("mm");
        let h2 = h1.add(&p[1]).expect("add");
        let h3 = h2.tanh().expect("tanh");
        let o1 = h3.matmul(&p[2]).expect("mm");
        let o2 = o1.add(&p[3]).expect("add");
        let d = o2.sub(&y).expect("sub");
        let sq = d.square().expect("square");
        let c = |a: &EagerTensor| a.clone();
        let ops = [
            Op::new(|v| Ok(vec![v[0].matmul(&v[1])?]), &[c(&x), c(&p[0])]),
            Op::new(|v| Ok(vec![v[0].add(&v[1])?]), &[c(&h1), c(&p[1])]),
            Op::new(|v| Ok(vec![v[0].tanh()?]), &[c(&h2)]),
            Op::new(|v| Ok(vec![v[0].matmul(&v[1])?]), &[c(&h3), c(&p[2])]),
            Op::new(|v| Ok(vec![v[0].add(&v[1])?]), &[c(&o1), c(&p[3])]),
            Op::new(|v| Ok(vec![v[0].sub(&v[1])?]), &[c(&o2), c(&y)]),
            Op::new(|v| Ok(vec![v[0].square()?]), &[c(&d)]),
            Op::new(|v| Ok(vec![v[0].mean()?]), &[c(&sq)]),
        ];
        let (bx, by) = (buf(&x), buf(&y));
        let bp: Vec<Arc<Buffer>> = p.iter().map(buf).collect();
        cases.push(case(
            "xla_mlp_forward",
            move || {
                let h1 = ops[0].run(&[black_box(&bx), &bp[0]]);
                let h2 = ops[1].run(&[&h1, &bp[1]]);
                let h3 = ops[2].run(&[&h2]);
                let o1 = ops[3].run(&[&h3, &bp[2]]);
                let o2 = ops[4].run(&[&o1, &bp[3]]);
                let d = ops[5].run(&[&o2, &by]);
                let s = ops[6].run(&[&d]);
                ops[7].run(&[&s]).block_until_ready().expect("ready")
            },
            move || ready(mlp_loss(black_box(&p), &x, &y).expect("mlp")),
        ));
    }
    cases
}

/// The compile time of a program the cache has not seen.
/// (With the `bench-internals` feature: the hand-written programs.)
#[cfg(feature = "bench-internals")]
fn bench_xla_compile(c: &mut Criterion) {
    use eager_tensor::backends::xla::{self as x, hlo, pjrt::ElementType};
    let client = x::client().expect("PJRT plugin (scripts/setup-xla.sh)");
    let mut g = c.benchmark_group("xla_compile_new_shape");
    g.sample_size(10);
    g.bench_function("compile_add_3x5", |bch| {
        bch.iter(|| {
            client
                .compile(&hlo::binary("add", ElementType::F32, &[3, 5]))
                .expect("compile")
        })
    });
    g.finish();
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

/// The L2 chain at 10⁶ and a 256 × 256 matmul in f16 and bf16, against
/// libtorch called directly (its own f16/bf16 kernels), libtorch pinned to
/// one thread on both sides.
#[cfg(feature = "torch")]
fn bench_torch_half(c: &mut Criterion, rows: &mut Vec<common::Paired>) {
    use eager_tensor::tch::{self, Kind, Tensor};
    tch::set_num_threads(1);
    for (kind, name) in [(Kind::Half, "f16"), (Kind::BFloat16, "bf16")] {
        let t = |n: usize, shape: &[i64]| Tensor::from_slice(&data(n)).reshape(shape).to_kind(kind);
        let n = 1_000_000usize;
        let a = t(n, &[n as i64]);
        let ta = ep::astensor(a.shallow_clone());
        pair(
            c,
            rows,
            &format!("torch_l2_chain_{n}_{name}"),
            || {
                black_box(&a)
                    .f_square()
                    .and_then(|x| x.f_sum(None::<Kind>))
                    .and_then(|x| x.f_sqrt())
                    .map(drop)
                    .expect("l2")
            },
            || drop(l2(black_box(&ta))),
        );
        let a = t(256 * 256, &[256, 256]);
        let b = a.tr();
        let (ta, tb) = (
            ep::astensor(a.shallow_clone()),
            ep::astensor(b.shallow_clone()),
        );
        pair(
            c,
            rows,
            &format!("torch_matmul_256_{name}"),
            || {
                black_box(&a)
                    .f_matmul(black_box(&b))
                    .map(drop)
                    .expect("matmul")
            },
            || {
                black_box(&ta)
                    .matmul(black_box(&tb))
                    .map(drop)
                    .expect("matmul")
            },
        );
    }
}

/// The L2 chain at 10⁶ and a 256 × 256 matmul in f16 and bf16, against
/// hand-written StableHLO programs run through PJRT directly, written as
/// JAX lowers them (`jnp.sum` of a 16-bit float converts to f32, reduces,
/// converts back).
#[cfg(feature = "bench-internals")]
fn bench_xla_half(c: &mut Criterion, rows: &mut Vec<common::Paired>) {
    use eager_tensor::backends::xla::{self as x, hlo, pjrt::ElementType};
    let client = x::client().expect("PJRT plugin (scripts/setup-xla.sh)");
    let ready = |t: EagerTensor| common::ready(&t);
    for (et, dt) in [
        (ElementType::F16, ep::DType::F16),
        (ElementType::BF16, ep::DType::BF16),
    ] {
        let name = hlo::ty(et);
        let upload = |n: usize, dims: &[i64]| {
            let h =
                ep::HostData::from_f64s(dt, &data(n).iter().map(|&v| v as f64).collect::<Vec<_>>());
            client.buffer(h.as_bytes(), et, dims).expect("buffer")
        };
        let eager = |n: usize, shape: &[usize]| {
            EagerTensor::from_vec(ep::Backend::Xla, data(n), shape)
                .and_then(|t| t.astype(dt))
                .expect("eager input")
        };
        let n = 1_000_000usize;
        let ni = n as i64;
        let sq = client
            .compile(&hlo::binary("multiply", et, &[ni]))
            .expect("square");
        let sum = client.compile(&sum_hlo(ni, name)).expect("sum");
        let sqrt = client.compile(&hlo::unary("sqrt", et, &[])).expect("sqrt");
        let a = upload(n, &[ni]);
        let ta = eager(n, &[n]);
        pair(
            c,
            rows,
            &format!("xla_l2_chain_{n}_{name}"),
            || {
                let s1 = sq
                    .execute(&[black_box(&a), &a], &[(et, vec![ni])])
                    .expect("sq");
                let s2 = sum.execute(&[&s1[0]], &[(et, vec![])]).expect("sum");
                sqrt.execute(&[&s2[0]], &[(et, vec![])]).expect("sqrt")[0]
                    .block_until_ready()
                    .expect("ready")
            },
            || ready(l2(black_box(&ta))),
        );
        let mm = client
            .compile(&hlo::matmul(et, 256, 256, 256))
            .expect("matmul");
        let (a, b) = (
            upload(256 * 256, &[256, 256]),
            upload(256 * 256, &[256, 256]),
        );
        let (ta, tb) = (eager(256 * 256, &[256, 256]), eager(256 * 256, &[256, 256]));
        pair(
            c,
            rows,
            &format!("xla_matmul_256_{name}"),
            || {
                mm.execute(&[black_box(&a), black_box(&b)], &[(et, vec![256, 256])])
                    .expect("matmul")[0]
                    .block_until_ready()
                    .expect("ready")
            },
            || ready(black_box(&ta).matmul(black_box(&tb)).expect("matmul")),
        );
    }
}

/// A cached `ep::jit` call against PJRT executing the same compiled
/// program directly (`x * y + z`, 4 f32): what the jit wrapper costs per
/// call (goal ≤ 1 µs).
#[cfg(feature = "xla")]
fn bench_xla_jit(c: &mut Criterion, rows: &mut Vec<common::Paired>) {
    use eager_tensor::backends::xla::pjrt::Buffer;
    let f = |xs: &[EagerTensor]| -> ep::Result<Vec<EagerTensor>> {
        Ok(vec![xs[0].mul(&xs[1])?.add(&xs[2])?])
    };
    let ins: Vec<EagerTensor> = (0..3)
        .map(|i| EagerTensor::from_vec(ep::Backend::Xla, vec![i as f32; 4], [4]).expect("in"))
        .collect();
    let refs: Vec<&EagerTensor> = ins.iter().collect();
    let jitted = ep::jit(f);
    let raw = common::raw_program(f, &ins);
    let bufs: Vec<&Buffer> = raw.args.iter().map(|b| b.as_ref()).collect();
    pair(
        c,
        rows,
        "xla_jit_call_4",
        || {
            for b in raw.exe.execute(&bufs, &raw.outs).expect("execute") {
                b.block_until_ready().expect("ready");
            }
        },
        || {
            for o in jitted.call(&refs).expect("jit") {
                common::ready(&o);
            }
        },
    );
}

/// The StableHLO sum of a 1-D tensor of `n` elements of type `ty`, as JAX
/// lowers `jnp.sum`: 16-bit floats convert to f32, reduce, convert back.
#[cfg(feature = "bench-internals")]
fn sum_hlo(n: i64, ty: &str) -> String {
    let (a, acc) = (format!("tensor<{n}x{ty}>"), format!("tensor<{n}xf32>"));
    let (widen, w, narrow, r) = if ty == "f32" {
        (String::new(), "%a", String::new(), "%0")
    } else {
        (
            format!("  %w = stablehlo.convert %a : ({a}) -> {acc}\n"),
            "%w",
            format!("  %1 = stablehlo.convert %0 : (tensor<f32>) -> tensor<{ty}>\n"),
            "%1",
        )
    };
    format!(
        "func.func @main(%a: {a}) -> tensor<{ty}> {{\n{widen}  %z = stablehlo.constant dense<0.0> : tensor<f32>\n  %0 = stablehlo.reduce({w} init: %z) applies stablehlo.add across dimensions = [0] : ({acc}, tensor<f32>) -> tensor<f32>\n{narrow}  return {r} : tensor<{ty}>\n}}\n"
    )
}

fn main() {
    if let Ok(spec) = std::env::var("OVERHEAD_PROFILE") {
        return profile(&spec);
    }
    let mut c = Criterion::default().configure_from_args();
    let mut rows = Vec::new();
    bench_cases(&mut c, &mut rows, all_cases());
    #[cfg(feature = "bench-internals")]
    bench_xla_compile(&mut c);
    #[cfg(feature = "torch")]
    bench_torch_half(&mut c, &mut rows);
    #[cfg(feature = "bench-internals")]
    bench_xla_half(&mut c, &mut rows);
    #[cfg(feature = "xla")]
    bench_xla_jit(&mut c, &mut rows);
    c.final_summary();
    // Every case ran as a criterion group of the same name too.
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    common::ratio_table(&names, "direct", "eager");
    common::paired_table(&rows, "direct", "eager");
}

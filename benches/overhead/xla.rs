//! The xla cases: hand-written programs run on PJRT (the
//! `bench-internals` fixtures) against the same through `EagerTensor`,
//! compile time, f16/bf16 and `ep::jit`.

use super::*;

/// The xla cases against the same compiled programs executed directly
/// through PJRT (the programs the backend's own lowering makes, one per
/// op, traced once). Execution is asynchronous on both sides; each call
/// waits for its last result, as a caller that uses the value does.
#[cfg(feature = "xla")]
pub(super) fn xla_cases() -> Vec<Case> {
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
pub(super) fn bench_xla_compile(c: &mut Criterion) {
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

/// The L2 chain at 10⁶ and a 256 × 256 matmul in f16 and bf16, against
/// hand-written StableHLO programs run through PJRT directly, written as
/// JAX lowers them (`jnp.sum` of a 16-bit float converts to f32, reduces,
/// converts back).
#[cfg(feature = "bench-internals")]
pub(super) fn bench_xla_half(c: &mut Criterion, rows: &mut Vec<common::Paired>) {
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
pub(super) fn bench_xla_jit(c: &mut Criterion, rows: &mut Vec<common::Paired>) {
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

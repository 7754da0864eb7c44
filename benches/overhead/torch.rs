//! The torch cases: tch called directly against the same through
//! `EagerTensor`, and the f16/bf16 kernels.

use super::*;

/// The torch cases against the same tch calls made directly, libtorch
/// pinned to one thread on both sides: an op on 4 elements, wrapping and
/// unwrapping, the L2 chain, a matmul, the MLP forward of
/// benches/autodiff.rs and its value and gradients against libtorch's own
/// autograd (`run_backward` on leaves that require gradients).
#[cfg(feature = "torch")]
pub(super) fn torch_cases() -> Vec<Case> {
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

/// The L2 chain at 10⁶ and a 256 × 256 matmul in f16 and bf16, against
/// libtorch called directly (its own f16/bf16 kernels), libtorch pinned to
/// one thread on both sides.
#[cfg(feature = "torch")]
pub(super) fn bench_torch_half(c: &mut Criterion, rows: &mut Vec<common::Paired>) {
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

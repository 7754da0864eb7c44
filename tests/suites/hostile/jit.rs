//! `jit/…`: misuses of `ep::jit` — a function returning no tensors, no
//! inputs, inputs of two backends, donating an input twice or one that
//! does not exist, a function returning a tensor of another backend — and
//! bounds on the programs kept (`max_programs` of 0, 2 and `usize::MAX`,
//! called with more shapes than that). A misuse is the same `invalid`
//! error naming `jit` on every backend, compiled (xla) or not; the one
//! documented difference is a result of another backend, which the xla
//! program cannot return (an error there, the tensor itself elsewhere).

use super::{t, Add, Expect};
use eager_tensor::{self as ep, Backend, DType, EagerTensor};

/// A backend other than `b` (`b` itself when it is the only one).
fn other(b: Backend) -> Backend {
    Backend::enabled()
        .into_iter()
        .find(|&o| o != b)
        .unwrap_or(b)
}

fn x(b: Backend) -> ep::Result<EagerTensor> {
    t(b, vec![1.0f32, -2.5], &[2])
}

fn add_one(xs: &[EagerTensor]) -> ep::Result<Vec<EagerTensor>> {
    Ok(vec![xs[0].add(1.0)?])
}

/// Calls `f` (a sum, bounded to `max` programs) with `shapes` inputs of
/// growing length, then the first again; its results and whether
/// `compiled() <= bound` (the count itself is 0 off xla).
fn bounded(b: Backend, max: usize, shapes: usize, bound: usize) -> ep::Result<Vec<EagerTensor>> {
    let f = ep::jit(|xs: &[EagerTensor]| Ok(vec![xs[0].sum()?])).max_programs(max);
    let mut outs = Vec::new();
    for n in (1..=shapes).chain([1]) {
        let v: Vec<f32> = (0..n).map(|i| i as f32 + 0.5).collect();
        outs.extend(f.call(&[&t(b, v, &[n])?])?);
    }
    outs.push(t(b, vec![f.compiled() <= bound], &[])?);
    Ok(outs)
}

pub fn cases(add: &mut Add) {
    let misuse = Expect::Err("invalid jit");
    type Case = fn(Backend) -> ep::Result<Vec<EagerTensor>>;
    let cases: Vec<(&str, Expect, Case)> = vec![
        ("no_results", misuse, |b| {
            ep::jit(|_: &[EagerTensor]| Ok(vec![])).call(&[&x(b)?])
        }),
        ("no_results_donating", misuse, |b| {
            ep::jit(|_: &[EagerTensor]| Ok(vec![])).call_donating(vec![x(b)?])
        }),
        ("no_inputs", misuse, |_| ep::jit(add_one).call(&[])),
        ("donate_twice", misuse, |b| {
            ep::jit(add_one).donate(&[0, 0]).call(&[&x(b)?])
        }),
        ("donate_twice_donating", misuse, |b| {
            ep::jit(add_one).donate(&[0, 0]).call_donating(vec![x(b)?])
        }),
        ("donate_missing", misuse, |b| {
            ep::jit(add_one).donate(&[5]).call(&[&x(b)?])
        }),
        ("donate_usize_max_donating", misuse, |b| {
            ep::jit(add_one)
                .donate(&[usize::MAX])
                .call_donating(vec![x(b)?])
        }),
        (
            "returns_other_backend",
            Expect::ErrOn(&[Backend::Xla], "invalid jit"),
            |b| {
                let o = other(b);
                ep::jit(move |_: &[EagerTensor]| Ok(vec![t(o, vec![3.0f32, 4.0], &[2])?]))
                    .call(&[&x(b)?])
            },
        ),
        (
            "returns_input_moved_to_other_backend",
            Expect::ErrOn(&[Backend::Xla], "invalid to_backend"),
            |b| {
                let o = other(b);
                ep::jit(move |xs: &[EagerTensor]| Ok(vec![xs[0].to_backend(o)?])).call(&[&x(b)?])
            },
        ),
        ("max_programs_2", Expect::Ok, |b| bounded(b, 2, 5, 2)),
        ("max_programs_0", Expect::Ok, |b| bounded(b, 0, 3, 1)),
        ("max_programs_usize_max", Expect::Ok, |b| {
            bounded(b, usize::MAX, 3, 3)
        }),
        ("max_programs_2_jit1", Expect::Ok, |b| {
            let f = ep::jit1(|x: &EagerTensor| x.mul(2.0)).max_programs(2);
            let mut outs = Vec::new();
            for n in [1usize, 2, 3, 4, 5, 1] {
                outs.push(f.call(&EagerTensor::ones(b, [n], DType::F64)?)?);
            }
            outs.push(t(b, vec![f.compiled() <= 2], &[])?);
            Ok(outs)
        }),
    ];
    for (what, expect, run) in cases {
        add(format!("jit/{what}"), expect, Box::new(run));
    }
    if Backend::enabled().len() > 1 {
        add(
            "jit/mixed_backends".into(),
            Expect::Err("backend_mismatch jit"),
            Box::new(|b| ep::jit(add_one).call(&[&x(b)?, &x(other(b))?])),
        );
    }
}

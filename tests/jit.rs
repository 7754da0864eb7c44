//! `ep::jit` (issue 13): on xla a whole function — gradients included —
//! becomes one compiled program per input signature and agrees with eager;
//! on the other backends `f` runs as it is.

use eager_tensor::{self as ep, Backend, EagerTensor};

fn input(b: Backend, v: &[f32], shape: &[usize]) -> EagerTensor {
    EagerTensor::from_vec(b, v.to_vec(), shape).unwrap()
}

/// An MLP loss and its gradients, as a training step computes them.
fn mlp_step(xs: &[EagerTensor]) -> ep::Result<Vec<EagerTensor>> {
    let (x, labels) = (&xs[0], &xs[1]);
    let params: Vec<&EagerTensor> = xs[2..].iter().collect();
    let loss = |p: &[EagerTensor]| -> ep::Result<EagerTensor> {
        let h = x.matmul(&p[0])?.add(&p[1])?.tanh()?;
        h.matmul(&p[2])?.add(&p[3])?.crossentropy(labels)?.mean()
    };
    let (v, grads) = ep::value_and_grads(loss, &params)?;
    let mut out = vec![v];
    out.extend(grads);
    Ok(out)
}

fn mlp_inputs(b: Backend) -> Vec<EagerTensor> {
    let n = |k: usize, scale: f32| -> Vec<f32> {
        (0..k)
            .map(|i| ((i * 37 % 23) as f32 / 23.0 - 0.5) * scale)
            .collect()
    };
    vec![
        input(b, &n(8 * 4, 2.0), &[8, 4]),
        EagerTensor::from_vec(b, vec![0i64, 1, 2, 0, 1, 2, 0, 1], [8]).unwrap(),
        input(b, &n(4 * 6, 1.0), &[4, 6]),
        input(b, &n(6, 0.1), &[6]),
        input(b, &n(6 * 3, 1.0), &[6, 3]),
        input(b, &n(3, 0.1), &[3]),
    ]
}

#[test]
fn jitted_value_and_gradients_agree_with_eager_on_every_backend() {
    for b in Backend::enabled() {
        let xs = mlp_inputs(b);
        let refs: Vec<&EagerTensor> = xs.iter().collect();
        let eager = mlp_step(&xs).unwrap();
        let f = ep::jit(mlp_step);
        for _ in 0..3 {
            let jitted = f.call(&refs).unwrap();
            assert_eq!(jitted.len(), eager.len());
            for (j, e) in jitted.iter().zip(&eager) {
                assert_eq!((j.dtype(), j.shape()), (e.dtype(), e.shape()));
                assert!(j.allclose(e, 1e-5, 1e-6).unwrap(), "[{b}] {j:?} vs {e:?}");
            }
        }
        let want = if b == Backend::Xla { 1 } else { 0 };
        assert_eq!(f.compiled(), want, "[{b}] one program for one signature");
    }
}

#[test]
fn a_new_signature_compiles_a_new_program() {
    for b in Backend::enabled() {
        let f = ep::jit1(|x: &EagerTensor| x.exp()?.sum_axes(-1, false));
        let a = f.call(&input(b, &[0.0, 1.0], &[1, 2])).unwrap();
        let c = f.call(&input(b, &[0.0, 1.0, 2.0], &[3, 1])).unwrap();
        assert_eq!(a.to_vec::<f32>().unwrap(), vec![1.0 + 1f32.exp()]);
        assert_eq!(c.shape(), vec![3]);
        let d = f.call(&input(b, &[2.0, 0.0], &[1, 2])).unwrap();
        assert!(d
            .allclose(&input(b, &[1.0 + 2f32.exp()], &[1]), 1e-6, 0.0)
            .unwrap());
    }
}

/// Captured tensors are constants frozen at the first trace (as closed-over
/// arrays in `jax.jit`); inputs vary per call.
#[test]
fn captured_tensors_are_constants_inputs_vary() {
    for b in Backend::enabled() {
        let w = input(b, &[10.0, 20.0], &[2]);
        let f = ep::jit(|xs: &[EagerTensor]| Ok(vec![xs[0].mul(&w)?.add(1.0)?]));
        let one = f.call(&[&input(b, &[1.0, 2.0], &[2])]).unwrap();
        assert_eq!(one[0].to_vec::<f32>().unwrap(), vec![11.0, 41.0]);
        let two = f.call(&[&input(b, &[3.0, 0.5], &[2])]).unwrap();
        assert_eq!(two[0].to_vec::<f32>().unwrap(), vec![31.0, 11.0]);
    }
}

/// What needs a value on the host inside a trace is an error naming the op
/// the caller called, not the backend primitive under it.
#[test]
fn host_reads_inside_jit_are_errors_naming_the_op() {
    let b = Backend::Xla;
    if !b.is_enabled() {
        return;
    }
    let x = input(b, &[1.0, -2.0], &[2]);
    type Case = Box<dyn Fn(&EagerTensor) -> ep::Result<EagerTensor>>;
    let cases: Vec<(&str, Case)> = vec![
        (
            "item",
            Box::new(|t| t.sum()?.item::<f32>().map(|_| t.clone())),
        ),
        (
            "item_scalar",
            Box::new(|t| t.sum()?.item_scalar().map(|_| t.clone())),
        ),
        ("to_vec", Box::new(|t| t.to_vec::<f32>().map(|_| t.clone()))),
        (
            "to_host_data",
            Box::new(|t| t.to_host_data().map(|_| t.clone())),
        ),
        (
            "nonzero",
            Box::new(|t| {
                #[cfg(feature = "xla")]
                {
                    let raw = t.as_raw::<ep::XlaTensor>()?;
                    Ok(ep::IndexOps::nonzero(raw)?.into())
                }
                #[cfg(not(feature = "xla"))]
                Ok(t.clone())
            }),
        ),
        ("index", Box::new(|t| t.index(ep::s![t.gt(0.0)?]))),
        (
            "index_update",
            Box::new(|t| t.index_update(ep::s![t.gt(0.0)?], 0.0)),
        ),
        ("random", Box::new(|t| ep::uniform(t, [2], 0.0, 1.0))),
    ];
    for (what, f) in cases {
        // Outside jit each case runs (so the error below is jit's).
        f(&x).unwrap_or_else(|e| panic!("{what} outside jit: {e}"));
        let j = ep::jit1(move |t: &EagerTensor| f(t));
        let e = j.call(&x).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("invalid", what), "{e}");
        assert!(e.to_string().contains("inside jit"), "{what}: {e}");
    }
}

/// A jitted function called inside another is inlined into the outer
/// program (as a nested `jax.jit`); the inner one compiles nothing.
#[test]
fn a_jitted_function_inside_jit_joins_the_outer_program() {
    for b in Backend::enabled() {
        let inner = ep::jit1(|x: &EagerTensor| x.exp());
        let outer = ep::jit1(|x: &EagerTensor| inner.call(&x.mul(2.0)?)?.sum());
        let x = input(b, &[0.0, 0.5], &[2]);
        let y = outer.call(&x).unwrap().item::<f32>().unwrap();
        assert!((y - (1.0 + 1f32.exp())).abs() < 1e-5, "[{b}] {y}");
        assert_eq!(outer.compiled(), usize::from(b == Backend::Xla), "[{b}]");
        assert_eq!(inner.compiled(), 0, "[{b}]");
        // value_and_grad of a jitted function inside jit: traced through,
        // one program. d/dx sum(exp(2x)) = 2 exp(2x).
        let vg = ep::jit1(|x: &EagerTensor| Ok(ep::value_and_grad(|x| outer.call(x), x)?.1));
        let g = vg.call(&x).unwrap().to_vec::<f32>().unwrap();
        assert!(
            (g[0] - 2.0).abs() < 1e-5 && (g[1] - 2.0 * 1f32.exp()).abs() < 1e-4,
            "[{b}] {g:?}"
        );
    }
}

/// Differentiating a jitted function from outside: on xla an error naming
/// `jit` (the differentiation goes inside: `jit(value_and_grad(f))`); on the
/// other backends `f` runs as it is and is differentiated.
#[test]
fn differentiating_a_jitted_function_from_outside() {
    for b in Backend::enabled() {
        let f = ep::jit1(|x: &EagerTensor| x.square()?.sum());
        let x = input(b, &[1.0, -3.0], &[2]);
        let r = ep::value_and_grad(|x| f.call(x), &x);
        if b == Backend::Xla {
            let e = r.expect_err("grad of jit on xla is an error");
            assert_eq!((e.kind(), e.op()), ("invalid", "jit"), "{e}");
            assert!(e.to_string().contains("value_and_grad"), "{e}");
            assert_eq!(f.compiled(), 0);
        } else {
            let (v, g) = r.unwrap();
            assert_eq!(v.item::<f32>().unwrap(), 10.0, "[{b}]");
            assert_eq!(g.to_vec::<f32>().unwrap(), vec![2.0, -6.0], "[{b}]");
        }
    }
}

/// Inputs of two backends are a backend mismatch naming `jit`; no inputs
/// at all an invalid-argument error naming `jit` (nothing says how to run).
#[test]
fn mixed_backends_and_no_inputs_are_errors_naming_jit() {
    let f = ep::jit(|xs: &[EagerTensor]| Ok(xs.to_vec()));
    let e = f.call(&[]).unwrap_err();
    assert_eq!((e.kind(), e.op()), ("invalid", "jit"), "{e}");
    let e = f.call_donating(vec![]).unwrap_err();
    assert_eq!((e.kind(), e.op()), ("invalid", "jit"), "{e}");
    for w in Backend::enabled().windows(2) {
        let (a, c) = (input(w[0], &[1.0], &[1]), input(w[1], &[1.0], &[1]));
        let e = f.call(&[&a, &c]).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("backend_mismatch", "jit"), "{e}");
        let e = f.call_donating(vec![c, a]).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("backend_mismatch", "jit"), "{e}");
    }
}

/// A captured tensor replaced between calls: on xla the program keeps the
/// value it had at the first trace for that signature (a new signature
/// traces again and sees the new one), as `jax.jit` bakes in closed-over
/// arrays; on the other backends `f` runs every call and reads the new one.
#[test]
fn a_captured_value_is_baked_in_on_xla_and_reread_elsewhere() {
    for b in Backend::enabled() {
        let w = std::cell::RefCell::new(input(b, &[1.0, 2.0], &[2]));
        let f = ep::jit(|xs: &[EagerTensor]| Ok(vec![xs[0].mul(&*w.borrow())?]));
        let x = input(b, &[1.0, 1.0], &[2]);
        assert_eq!(
            f.call(&[&x]).unwrap()[0].to_vec::<f32>().unwrap(),
            vec![1.0, 2.0]
        );
        *w.borrow_mut() = input(b, &[5.0, 6.0], &[2]);
        let same_sig = f.call(&[&x]).unwrap()[0].to_vec::<f32>().unwrap();
        let new_sig = f.call(&[&input(b, &[1.0, 1.0], &[1, 2])]).unwrap()[0]
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(
            new_sig,
            vec![5.0, 6.0],
            "[{b}] a new signature traces again"
        );
        if b == Backend::Xla {
            assert_eq!(
                same_sig,
                vec![1.0, 2.0],
                "[{b}] baked in at the first trace"
            );
            assert_eq!(f.compiled(), 2);
        } else {
            assert_eq!(
                same_sig,
                vec![5.0, 6.0],
                "[{b}] f re-reads what it captures"
            );
        }
    }
}

/// A jitted training loop learns as the eager one does.
#[test]
fn a_jitted_training_loop_learns_like_the_eager_one() {
    for b in Backend::enabled() {
        let step = ep::jit(mlp_step);
        let train = |jitted: bool| -> Vec<f32> {
            let mut xs = mlp_inputs(b);
            let mut losses = Vec::new();
            for _ in 0..30 {
                let refs: Vec<&EagerTensor> = xs.iter().collect();
                let out = if jitted {
                    step.call(&refs).unwrap()
                } else {
                    mlp_step(&xs).unwrap()
                };
                losses.push(out[0].item::<f32>().unwrap());
                for (k, g) in out[1..].iter().enumerate() {
                    xs[2 + k] = xs[2 + k].sub(&g.mul(0.5).unwrap()).unwrap();
                }
            }
            losses
        };
        let (e, j) = (train(false), train(true));
        assert!(j[29] < 0.7 * j[0], "[{b}] the jitted loop learns: {j:?}");
        for (a, c) in e.iter().zip(&j) {
            assert!(
                (a - c).abs() <= 1e-4 * a.abs().max(1.0),
                "[{b}] {e:?} vs {j:?}"
            );
        }
    }
}

/// Donation (`Jit::donate` + `call_donating`): on xla an input nothing else
/// holds gives its buffer to the result (same memory); a shared one is
/// copied and stays intact; `call` never donates. Elsewhere `f` just runs.
#[test]
fn donated_inputs_update_in_place_and_shared_ones_stay_intact() {
    for b in Backend::enabled() {
        let sgd = ep::jit(|xs: &[EagerTensor]| Ok(vec![xs[0].sub(&xs[1].mul(0.5)?)?])).donate(&[0]);
        let g = input(b, &[2.0, 4.0], &[2]);
        // Unique: donated on xla.
        let w = input(b, &[1.0, 1.0], &[2]);
        let before = address(&w);
        let w = sgd.call_donating(vec![w, g.clone()]).unwrap().remove(0);
        assert_eq!(w.to_vec::<f32>().unwrap(), vec![0.0, -1.0]);
        if b == Backend::Xla {
            assert_eq!(address(&w), before, "the result reuses the donated buffer");
        }
        // Shared: another tensor holds the buffer, so it is not donated.
        let keep = w.clone();
        let w2 = sgd.call_donating(vec![w, g.clone()]).unwrap().remove(0);
        assert_eq!(keep.to_vec::<f32>().unwrap(), vec![0.0, -1.0]);
        assert_eq!(w2.to_vec::<f32>().unwrap(), vec![-1.0, -3.0]);
        // Borrowed: never donated.
        let w3 = sgd.call(&[&keep, &g]).unwrap().remove(0);
        assert_eq!(keep.to_vec::<f32>().unwrap(), vec![0.0, -1.0]);
        assert_eq!(w3.to_vec::<f32>().unwrap(), vec![-1.0, -3.0]);
    }
}

/// The device address of an xla tensor's buffer (None elsewhere).
fn address(t: &EagerTensor) -> Option<usize> {
    #[cfg(feature = "xla")]
    if let Ok(x) = t.as_raw::<ep::XlaTensor>() {
        return Some(x.buffer().unwrap().device_address().unwrap());
    }
    let _ = t;
    None
}

/// The hand-written one-program MLP step (`hlo::mlp_step`: the chain rule
/// spelled out in StableHLO, the benchmark's floor) computes what
/// `ep::jit` of `value_and_grads` computes, run through PJRT directly (the
/// `bench-internals` feature's program).
#[cfg(feature = "bench-internals")]
#[test]
fn the_hand_written_mlp_step_equals_the_jitted_one() {
    use ep::backends::xla::{self as xb, pjrt::Buffer};
    let b = Backend::Xla;
    let like = EagerTensor::zeros(b, [], ep::DType::F32).unwrap();
    ep::seed(3);
    let n = |shape: &[usize], s: f64| ep::normal(&like, shape.to_vec(), 0.0, s).unwrap();
    let xs = [
        n(&[64, 32], 1.0),
        n(&[64, 1], 1.0),
        n(&[32, 64], 0.2),
        n(&[64], 0.1),
        n(&[64, 1], 0.2),
        n(&[1], 0.1),
    ];
    let step = ep::jit(|xs: &[EagerTensor]| {
        let params: Vec<&EagerTensor> = xs[2..].iter().collect();
        let loss = |p: &[EagerTensor]| {
            let h = xs[0].matmul(&p[0])?.add(&p[1])?.tanh()?;
            h.matmul(&p[2])?.add(&p[3])?.sub(&xs[1])?.square()?.mean()
        };
        let (v, g) = ep::value_and_grads(loss, &params)?;
        Ok([vec![v], g].concat())
    });
    let refs: Vec<&EagerTensor> = xs.iter().collect();
    let jitted = step.call(&refs).unwrap();
    let exe = xb::client()
        .unwrap()
        .compile(&xb::hlo::mlp_step(64, 32, 64))
        .unwrap();
    let bufs: Vec<&Buffer> = xs
        .iter()
        .map(|t| {
            t.as_raw::<ep::XlaTensor>()
                .unwrap()
                .buffer()
                .unwrap()
                .as_ref()
        })
        .collect();
    let types: Vec<_> = jitted
        .iter()
        .map(|t| {
            let dims = t.shape().iter().map(|&d| d as i64).collect();
            (xb::pjrt::ElementType::F32, dims)
        })
        .collect();
    let hand = exe.execute(&bufs, &types).unwrap();
    assert_eq!(hand.len(), 5);
    for (k, (h, j)) in hand.iter().zip(&jitted).enumerate() {
        let (h, j) = (xb::f32_values(h).unwrap(), j.to_vec::<f32>().unwrap());
        assert_eq!(h.len(), j.len(), "output {k}");
        assert!(
            j.iter().any(|v| v.abs() > 1e-3),
            "output {k} is not all zero"
        );
        for (a, c) in h.iter().zip(&j) {
            assert!(
                (a - c).abs() <= 1e-5 + 1e-4 * c.abs(),
                "output {k}: {a} vs {c}"
            );
        }
    }
}

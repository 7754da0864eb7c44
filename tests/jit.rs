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

/// What needs a value on the host inside a trace is an error naming the op.
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
        ("to_vec", Box::new(|t| t.to_vec::<f32>().map(|_| t.clone()))),
        (
            "nonzero",
            Box::new(|t| t.gt(0.0)?.index(ep::s![t.gt(0.0)?])),
        ),
        ("random", Box::new(|t| ep::uniform(t, [2], 0.0, 1.0))),
    ];
    for (what, f) in cases {
        let j = ep::jit1(move |t: &EagerTensor| f(t));
        let e = j.call(&x).unwrap_err();
        assert_eq!(e.kind(), "invalid", "{what}: {e}");
        assert!(e.to_string().contains("inside jit"), "{what}: {e}");
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

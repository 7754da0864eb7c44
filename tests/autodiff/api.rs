//! `value_and_grad` and friends as users call them: EagerPy's API,
//! constants, ties, non-differentiable ops, errors, nesting, threads and
//! dtypes.

use super::*;

#[test]
fn eagerpy_value_and_grad() {
    for b in Backend::enabled() {
        let like = EagerTensor::zeros(b, [], DType::F32).unwrap();
        let x = ep::arange(&like, 0, 8, 1)
            .unwrap()
            .float32()
            .unwrap()
            .reshape([2, 4])
            .unwrap();
        let f = |x: &EagerTensor| x.square()?.sum();
        let (v, g) = ep::value_and_grad(f, &x).unwrap();
        assert_eq!(v.item::<f32>().unwrap(), 140.0);
        assert_eq!(
            g.to_vec::<f32>().unwrap(),
            (&x * 2.0).unwrap().to_vec::<f32>().unwrap()
        );
        assert_eq!((g.dtype(), g.shape()), (DType::F32, vec![2, 4]));
        assert!(!v.is_traced() && !g.is_traced());

        // has_aux
        let (v, aux, g) =
            ep::value_aux_and_grad(|x| Ok((x.square()?.sum()?, x.sum()?.detach())), &x).unwrap();
        assert_eq!(v.item::<f32>().unwrap(), 140.0);
        assert_eq!(aux.item::<f32>().unwrap(), 28.0);
        assert_eq!(
            g.to_vec::<f32>().unwrap(),
            (&x * 2.0).unwrap().to_vec::<f32>().unwrap()
        );

        // value_and_grad_fn: repeated calls give identical results.
        let vg = ep::value_and_grad_fn(f);
        let first = vg(&x).unwrap();
        for _ in 0..3 {
            let again = vg(&x).unwrap();
            assert_eq!(
                again.0.item::<f32>().unwrap(),
                first.0.item::<f32>().unwrap()
            );
            assert_eq!(
                again.1.to_vec::<f32>().unwrap(),
                first.1.to_vec::<f32>().unwrap()
            );
        }
    }
}

#[test]
fn captured_tensors_are_constants() {
    for b in Backend::enabled() {
        let c = input(b, &[3], -1.0, 1.0, 7);
        let x = input(b, &[3], -1.0, 1.0, 8);
        let (_, g) = ep::value_and_grad(|x| x.mul(&c)?.sum(), &x).unwrap();
        assert_eq!(g.to_vec::<f64>().unwrap(), c.to_vec::<f64>().unwrap());
        // A function that ignores x has a zero gradient.
        let (v, g) = ep::value_and_grad(|_| c.sum(), &x).unwrap();
        assert_eq!(
            v.item::<f64>().unwrap(),
            c.sum().unwrap().item::<f64>().unwrap()
        );
        assert_eq!(g.to_vec::<f64>().unwrap(), vec![0.0; 3]);
    }
}

#[test]
fn ties_share_the_gradient() {
    for b in Backend::enabled() {
        let x = EagerTensor::from_vec(b, vec![1.0f64, 3.0, 3.0, 2.0], [4]).unwrap();
        let (_, g) = ep::value_and_grad(|x| x.max(), &x).unwrap();
        assert_eq!(g.to_vec::<f64>().unwrap(), vec![0.0, 0.5, 0.5, 0.0]);
        let y = EagerTensor::from_vec(b, vec![1.0f64, 5.0, 3.0, 2.0], [4]).unwrap();
        let (_, g) = ep::value_and_grads(|t| t[0].minimum(&t[1])?.sum(), &[&x, &y]).unwrap();
        assert_eq!(g[0].to_vec::<f64>().unwrap(), vec![0.5, 1.0, 0.5, 0.5]);
        assert_eq!(g[1].to_vec::<f64>().unwrap(), vec![0.5, 0.0, 0.5, 0.5]);
    }
}

#[test]
fn non_differentiable_ops_pass_no_gradient() {
    for b in Backend::enabled() {
        let x = input(b, &[4], -1.0, 1.0, 9);
        let (_, g) = ep::value_and_grad(
            |x| {
                let i = x.argmax()?; // integer: not traced
                let n = x.gt(0.0)?.astype(DType::F64)?; // bool -> float: a constant
                let k = x.isnan()?.logical_not()?.astype(DType::F64)?;
                assert!(!i.is_traced() && !n.is_traced() && !k.is_traced());
                x.mul(&n)?.sum()?.add(&x.index(ep::s![&i])?.mul(0.0)?)
            },
            &x,
        )
        .unwrap();
        let want: Vec<f64> = x
            .to_vec::<f64>()
            .unwrap()
            .iter()
            .map(|&v| if v > 0.0 { 1.0 } else { 0.0 })
            .collect();
        assert_eq!(g.to_vec::<f64>().unwrap(), want);
    }
}

#[test]
fn bad_calls_are_errors() {
    for b in Backend::enabled() {
        let x = input(b, &[3], -1.0, 1.0, 10);
        let e = ep::value_and_grad(|x| x.square(), &x).unwrap_err();
        assert_eq!(e.kind(), "shape");
        let e = ep::value_and_grad(|x| x.sum()?.gt(0.0), &x).unwrap_err();
        assert_eq!(e.kind(), "dtype");
        let xi = EagerTensor::from_vec(b, vec![1i64, 2], [2]).unwrap();
        assert_eq!(
            ep::value_and_grad(|x| x.sum(), &xi).unwrap_err().kind(),
            "dtype"
        );
        assert_eq!(
            ep::value_and_grads(|t| t[0].sum(), &[]).unwrap_err().kind(),
            "invalid"
        );
        // Errors inside f come out unchanged.
        assert_eq!(
            ep::value_and_grad(|x| x.reshape([5]), &x)
                .unwrap_err()
                .kind(),
            "shape"
        );
        // A traced tensor cannot leave as a native one without detach.
        ep::value_and_grad(
            |x| {
                assert!(x.clone().into_raw::<ep::NdTensor>().is_err());
                assert!(x.detach().into_raw::<EagerTensor>().is_ok());
                x.sum()
            },
            &x,
        )
        .unwrap();
    }
}

#[test]
fn nested_value_and_grad() {
    for b in Backend::enabled() {
        let x = input(b, &[3], -1.0, 1.0, 11);
        let w = input(b, &[3], -1.0, 1.0, 12);
        // An inner value_and_grad on its own input works inside f.
        let (v, g) = ep::value_and_grad(
            |x| {
                let (inner, ig) = ep::value_and_grad(|w| w.square()?.sum(), &w)?;
                assert!(!inner.is_traced());
                x.mul(&ig)?.sum()?.add(&inner)
            },
            &x,
        )
        .unwrap();
        let want = (&w * 2.0).unwrap();
        assert_eq!(g.to_vec::<f64>().unwrap(), want.to_vec::<f64>().unwrap());
        assert!(v.item::<f64>().is_ok());
        // Differentiating through it (higher order) is a clear error.
        let e = ep::value_and_grad(
            |x| ep::value_and_grad(|y| y.square()?.sum(), x).map(|r| r.0),
            &x,
        )
        .unwrap_err();
        assert_eq!(e.kind(), "invalid");
        let through = ep::value_and_grad(
            |x| {
                let (v, _) = ep::value_and_grad(|y| y.mul(x)?.sum(), &w)?;
                Ok(v)
            },
            &x,
        );
        if b == Backend::Torch {
            // libtorch's graph sees through the inner call: the value path is right.
            assert_eq!(
                through.unwrap().1.to_vec::<f64>().unwrap(),
                w.to_vec::<f64>().unwrap()
            );
        } else {
            let e = through.unwrap_err();
            assert!(e.to_string().contains("nested"), "{e}");
        }
    }
}

#[test]
fn parallel_threads_do_not_interfere() {
    for b in Backend::enabled() {
        let handles: Vec<_> = (0..8)
            .map(|k| {
                std::thread::spawn(move || {
                    let x = input(b, &[16], -1.0, 1.0, 100 + k);
                    let mut last = None;
                    for _ in 0..20 {
                        let (v, g) = ep::value_and_grad(|x| x.sin()?.mul(x)?.sum(), &x).unwrap();
                        let r = (v.item::<f64>().unwrap(), g.to_vec::<f64>().unwrap());
                        if let Some(prev) = &last {
                            assert_eq!(prev, &r);
                        }
                        last = Some(r);
                    }
                    let (v, g) = last.unwrap();
                    let xs = x.to_vec::<f64>().unwrap();
                    let want: f64 = xs.iter().map(|v| v.sin() * v).sum();
                    assert!((v - want).abs() < 1e-12);
                    for (gi, xi) in g.iter().zip(&xs) {
                        assert!((gi - (xi.cos() * xi + xi.sin())).abs() < 1e-12);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}

#[test]
fn casts_between_floats_pass_the_gradient() {
    for b in Backend::enabled() {
        let x = input(b, &[3], -1.0, 1.0, 14);
        let c = input(b, &[3], -1.0, 1.0, 15);
        let (_, g) =
            ep::value_and_grad(|x| x.float32()?.mul(&c.float32()?)?.float64()?.sum(), &x).unwrap();
        assert_eq!(g.dtype(), DType::F64);
        for (a, w) in g
            .to_vec::<f64>()
            .unwrap()
            .iter()
            .zip(c.to_vec::<f64>().unwrap())
        {
            assert!((a - w).abs() < 1e-6, "{a} {w}");
        }
    }
}

#[test]
fn f32_gradients_keep_f32() {
    for b in Backend::enabled() {
        let x = input(b, &[2, 3], -1.0, 1.0, 13).float32().unwrap();
        let (v, g) = ep::value_and_grad(|x| x.exp()?.mean(), &x).unwrap();
        assert_eq!((v.dtype(), g.dtype()), (DType::F32, DType::F32));
        let want: Vec<f32> = x
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .map(|v| v.exp() / 6.0)
            .collect();
        for (a, w) in g.to_vec::<f32>().unwrap().iter().zip(want) {
            assert!((a - w).abs() < 1e-6);
        }
    }
}

/// Gradients of f16 and bf16 inputs come back in the input's dtype (as in
/// JAX and PyTorch) and match f64 finite differences taken at the same
/// (rounded) point, to the 16-bit formats' precision: every case of the
/// finite-difference suite, on every backend.
#[test]
fn half_gradients_keep_their_dtype_and_match_finite_differences() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for b in Backend::enabled() {
        for (d, tol) in [(DType::F16, 3e-2), (DType::BF16, 2e-1)] {
            for (name, f, xs) in all_cases(b) {
                if xs.iter().any(|x| x.dtype() != DType::F64) {
                    continue;
                }
                // The point, rounded to the 16-bit dtype, and the same point in f64.
                let hs: Vec<EagerTensor> = xs.iter().map(|x| x.astype(d).unwrap()).collect();
                let exact: Vec<EagerTensor> =
                    hs.iter().map(|x| x.astype(DType::F64).unwrap()).collect();
                let refs: Vec<&EagerTensor> = hs.iter().collect();
                checked += 1;
                let grads = match ep::value_and_grads(|t| f(t), &refs) {
                    Ok((_, g)) => g,
                    Err(e) => {
                        failures.push(format!("[{b}] {name} {d}: {e}"));
                        continue;
                    }
                };
                for (i, g) in grads.iter().enumerate() {
                    if g.dtype() != d {
                        failures.push(format!("[{b}] {name} {d}: grad {i} is {}", g.dtype()));
                        continue;
                    }
                    let analytic = g.astype(DType::F64).unwrap().to_vec::<f64>().unwrap();
                    let numeric = numeric_grad(&f, &exact, i);
                    let scale = numeric.iter().fold(1.0f64, |m, n| m.max(n.abs()));
                    for (j, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
                        if (a - n).abs() > tol * scale {
                            failures.push(format!(
                                "[{b}] {name} {d}: d/dx{i}[{j}]: analytic {a}, numeric {n}"
                            ));
                            break;
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        checked >= 40 * Backend::enabled().len(),
        "only {checked} cases ran"
    );
}

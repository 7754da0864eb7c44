//! The engines beside the tape: gradients compiled by `ep::jit` on xla,
//! and Candle's own backprop.

use super::*;

/// Every gradient-check function under `ep::jit` on xla: value and
/// gradients traced into one program agree with the eager tape's.
#[test]
#[cfg(feature = "xla")]
fn jitted_gradients_agree_with_eager_on_xla() {
    let b = Backend::Xla;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, f, xs) in all_cases(b) {
        let f = std::rc::Rc::new(f);
        let g = f.clone();
        let step = move |xs: &[EagerTensor]| -> ep::Result<Vec<EagerTensor>> {
            let refs: Vec<&EagerTensor> = xs.iter().collect();
            let (v, grads) = ep::value_and_grads(|t| g(t), &refs)?;
            let mut out = vec![v];
            out.extend(grads);
            Ok(out)
        };
        let refs: Vec<&EagerTensor> = xs.iter().collect();
        let eager = match step(&xs) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("{name}: eager: {e}"));
                continue;
            }
        };
        let jitted = match ep::jit(step).call(&refs) {
            Ok(j) => j,
            // A boolean mask's result shape depends on values: refused
            // inside jit, as in JAX.
            Err(e) if name.contains("mask") && e.op() == "index" => continue,
            Err(e) => {
                failures.push(format!("{name}: jit: {e}"));
                continue;
            }
        };
        checked += 1;
        for (k, (j, e)) in jitted.iter().zip(&eager).enumerate() {
            if !j.allclose(e, 1e-9, 1e-12).unwrap_or(false) {
                failures.push(format!("{name}: output {k}: {j:?} vs {e:?}"));
            }
        }
        let _ = &f;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 40, "only {checked} gradient cases ran under jit");
}

/// On candle, Candle's own backprop computes the gradients of every
/// gradient-check function built only from ops it covers (the others use the
/// tape), and the two agree (checked by `native_autograd_agrees_with_the_tape`
/// above on every function, and here again on the covered ones).
#[test]
#[cfg(feature = "candle")]
fn candle_backprop_covers_the_native_ops() {
    // The functions whose ops all stay in Candle's graph (docs/semantics.md).
    const COVERED: &[&str] = &[
        "abs",
        "neg",
        "sign",
        "sqrt",
        "square",
        "exp",
        "log",
        "sin",
        "cos",
        "tanh",
        "relu",
        "round_floor_ceil_are_flat",
        "add_broadcast",
        "sub_broadcast",
        "mul_broadcast",
        "div_broadcast",
        "scalar_ops",
        "where_cond",
        "where_cond_scalar",
        "sum_axes",
        "sum_keepdims",
        "sum_all",
        "mean_axes",
        "min_axes",
        "max_keepdims",
        "max_all",
        "index_basic",
        "index_int_newaxis",
        "index_gather_repeated",
        "index_two_tensors",
        "index_mask",
        "take_along_axis",
        "matmul_2d",
        "matmul_batched_broadcast",
        "matmul_1d",
        "matmul_vec_vec",
        "reshape_transpose_permute",
        "squeeze_expand",
        "flatten",
        "tile",
        "flip",
        "pad_constant",
        "pad_reflect",
        "broadcast_to",
        "concatenate",
        "concatenate_with_constant",
        "stack",
        "iter_stack",
        "softmax",
        "log_softmax",
        "crossentropy",
        "sort",
        "topk",
        "mlp",
        "floor_div_is_flat",
    ];
    let mut used = Vec::new();
    for (name, f, xs) in all_cases(Backend::Candle) {
        let refs: Vec<&EagerTensor> = xs.iter().collect();
        let watch = eager_candle::backprop::watch();
        let (va, ga) = ep::value_and_grads(|t| f(t), &refs).unwrap();
        if watch.covered() {
            used.push(name);
        }
        let (vt, gt) = ep::value_and_grads_with(ep::Engine::Tape, |t| f(t), &refs).unwrap();
        let close = |a: f64, t: f64| (a - t).abs() <= 1e-9 * (1.0 + t.abs());
        assert!(close(va.item::<f64>().unwrap(), vt.item::<f64>().unwrap()));
        for (a, t) in ga.iter().zip(&gt) {
            let (a, t) = (a.to_vec::<f64>().unwrap(), t.to_vec::<f64>().unwrap());
            assert!(a.iter().zip(&t).all(|(x, y)| close(*x, *y)), "{name}");
        }
    }
    println!("candle backprop: {used:?}");
    let missing: Vec<_> = COVERED.iter().filter(|n| !used.contains(n)).collect();
    let extra: Vec<_> = used.iter().filter(|n| !COVERED.contains(n)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not covered: {missing:?}; covered but not listed: {extra:?}"
    );
}

/// Gradients of candle tensors: Candle's own backprop where it covers the
/// function's ops, the tape where it does not, and both agree.
///
/// `eager_candle::backprop::watch()` around a `value_and_grad` call reports
/// whether the call used Candle's backprop (`covered`) or fell back to the
/// tape.
#[cfg(feature = "candle")]
mod candle_backprop {

    use eager_candle::backprop;
    use eager_tensor::candle_core::{Tensor, Var};
    use eager_tensor::{self as ep, Backend, DType, EagerTensor, Engine};

    type F = Box<dyn Fn(&[EagerTensor]) -> ep::Result<EagerTensor>>;

    /// Deterministic inputs in `[lo, hi)` of `dtype`.
    fn input(shape: &[usize], lo: f64, hi: f64, salt: u64, dtype: DType) -> EagerTensor {
        super::input(Backend::Candle, shape, lo, hi, salt)
            .astype(dtype)
            .unwrap()
    }

    /// Runs `f` with Candle's backprop (Engine::Auto) and with the tape; returns
    /// whether Auto used Candle's backprop, after checking that values and
    /// gradients agree within `tol` (relative).
    pub(super) fn compare(name: &str, f: &F, xs: &[EagerTensor], tol: f64) -> bool {
        let refs: Vec<&EagerTensor> = xs.iter().collect();
        let watch = backprop::watch();
        let (va, ga) = ep::value_and_grads_with(Engine::Auto, |t| f(t), &refs).unwrap();
        let native = watch.covered();
        let (vt, gt) = ep::value_and_grads_with(Engine::Tape, |t| f(t), &refs).unwrap();
        let close =
            |a: f64, t: f64| (a - t).abs() <= tol * (1.0 + t.abs()) || (a.is_nan() && t.is_nan());
        let (a, t) = (va.item::<f64>().unwrap(), vt.item::<f64>().unwrap());
        assert!(close(a, t), "{name}: values {a} vs {t}");
        assert!(!va.is_traced(), "{name}: the value is detached");
        for (i, (a, t)) in ga.iter().zip(&gt).enumerate() {
            assert_eq!(a.shape(), xs[i].shape(), "{name}: grad {i} shape");
            assert_eq!(a.dtype(), xs[i].dtype(), "{name}: grad {i} dtype");
            let (a, t) = (a.to_vec::<f64>().unwrap(), t.to_vec::<f64>().unwrap());
            for (j, (x, y)) in a.iter().zip(&t).enumerate() {
                assert!(
                    close(*x, *y),
                    "{name}: d/dx{i}[{j}]: candle backprop {x}, tape {y}"
                );
            }
        }
        native
    }

    fn mlp(t: &[EagerTensor]) -> ep::Result<EagerTensor> {
        // x [8, 4] · w1 [4, 6] + b1 [6] → relu → · w2 [6, 1] + b2 [1] → MSE.
        let h = t[0].matmul(&t[1])?.add(&t[2])?.relu()?;
        let y = h.matmul(&t[3])?.add(&t[4])?;
        let target = t[0].detach().sum_axes([1], true)?;
        y.sub(&target)?.square()?.mean()
    }

    fn mlp_inputs(d: DType) -> Vec<EagerTensor> {
        vec![
            input(&[8, 4], -1.0, 1.0, 1, d),
            input(&[4, 6], -1.0, 1.0, 2, d),
            input(&[6], -0.5, 0.5, 3, d),
            input(&[6, 1], -1.0, 1.0, 4, d),
            input(&[1], -0.5, 0.5, 5, d),
        ]
    }

    /// Functions Candle's backprop covers: the call must use it, and agree.
    fn covered_cases(d: DType) -> Vec<(&'static str, F, Vec<EagerTensor>)> {
        let x = |shape: &[usize], salt| input(shape, -2.0, 2.0, salt, d);
        vec![
            ("mlp", Box::new(mlp), mlp_inputs(d)),
            (
                "l2_norm",
                Box::new(|t| t[0].square()?.sum()?.sqrt()),
                vec![x(&[5, 7], 10)],
            ),
            (
                "l2_norms_facade",
                Box::new(|t| ep::norms::l2(&t[0], [1], false)?.sum()),
                vec![x(&[3, 4], 11)],
            ),
            (
                "softmax_crossentropy",
                Box::new(|t| {
                    let labels = ep::from_vec(&t[0], vec![1i64, 3, 0, 2], [4])?;
                    t[0].crossentropy(&labels)?.mean()
                }),
                vec![x(&[4, 5], 12)],
            ),
            (
                "softmax",
                Box::new(|t| t[0].softmax(0)?.mul(&t[0])?.sum()),
                vec![x(&[3, 4], 13)],
            ),
            (
                "broadcast_add_sub_mul_div",
                Box::new(|t| {
                    let a = t[0].add(&t[1])?.mul(&t[2])?;
                    a.sub(&t[1])?.div(&t[2].square()?.add(1.0)?)?.sum()
                }),
                vec![x(&[2, 3, 4], 14), x(&[4], 15), x(&[3, 1], 16)],
            ),
            (
                "broadcast_to_where_reshape",
                Box::new(|t| {
                    let b = t[1].broadcast_to([2, 3])?;
                    t[0].gt(0.0)?
                        .where_cond(&t[0], &b)?
                        .reshape([3, 2])?
                        .t()?
                        .exp()?
                        .sum()
                }),
                vec![x(&[2, 3], 17), x(&[3], 18)],
            ),
            (
                "unary_native",
                Box::new(|t| {
                    let v = &t[0];
                    v.sin()?
                        .add(&v.cos()?)?
                        .add(&v.tanh()?)?
                        .add(&v.abs()?)?
                        .add(&v.relu()?)?
                        .add(&v.sign()?)?
                        .add(&v.floor()?)?
                        .add(&v.ceil()?)?
                        .add(&v.square()?.add(1.0)?.log()?)?
                        .mean()
                }),
                vec![x(&[4, 3], 19)],
            ),
            (
                "max_min_reductions_and_slices",
                Box::new(|t| {
                    let m = t[0].max_axes([1], false)?;
                    let n = t[0].min_axes([0], true)?;
                    let s = t[0].index(ep::s![..;2, 1..])?;
                    m.sum()?.add(&n.sum()?)?.add(&s.sum()?)?.add(&t[0].max()?)
                }),
                vec![x(&[4, 5], 20)],
            ),
            (
                // The facade sorts with argsort (no gradient) and a gather.
                "sort",
                Box::new(|t| t[0].sort(-1)?.mul(&t[0])?.sum()),
                vec![x(&[2, 4], 32)],
            ),
            (
                "concat_gather_flip",
                Box::new(|t| {
                    let i = ep::from_vec(&t[0], vec![2i64, 0, 2], [3])?;
                    let c = ep::concatenate(&[&t[0], &t[0].flip_axes([0])?], 1)?;
                    c.index(ep::s![&i])?.square()?.sum()
                }),
                vec![x(&[3, 4], 21)],
            ),
        ]
    }

    /// Functions with an op Candle's backprop does not cover on this backend
    /// (a host op, or a rule that differs): the call must use the tape.
    fn tape_cases(d: DType) -> Vec<(&'static str, F, Vec<EagerTensor>)> {
        let x = |shape: &[usize], salt| input(shape, -0.9, 0.9, salt, d);
        vec![
            ("tan", Box::new(|t| t[0].tan()?.sum()), vec![x(&[5], 30)]),
            (
                "cumsum",
                Box::new(|t| t[0].cumsum()?.square()?.sum()),
                vec![x(&[6], 31)],
            ),
            (
                "minimum",
                Box::new(|t| t[0].minimum(&t[1])?.sum()),
                vec![x(&[4], 33), x(&[4], 34)],
            ),
            (
                "sigmoid",
                Box::new(|t| t[0].sigmoid()?.sum()),
                vec![x(&[4], 35)],
            ),
            (
                "index_update",
                Box::new(|t| t[0].index_update(ep::s![1], &t[1])?.mul(&t[0])?.sum()),
                vec![x(&[3, 2], 36), x(&[2], 37)],
            ),
            (
                "prod",
                Box::new(|t| t[0].prod_axes([1], false)?.sum()),
                vec![x(&[2, 3], 38)],
            ),
            (
                "read_on_the_host",
                Box::new(|t| {
                    // Reading a value inside f leaves Candle's graph: the tape.
                    let s = t[0].sum()?.item::<f64>()?;
                    t[0].mul(s)?.sum()
                }),
                vec![x(&[3], 40)],
            ),
        ]
    }

    #[test]
    fn candle_backprop_covers_and_agrees_with_the_tape() {
        for (d, tol) in [(DType::F64, 1e-12), (DType::F32, 1e-5)] {
            for (name, f, xs) in covered_cases(d) {
                assert!(
                    compare(name, &f, &xs, tol),
                    "{name} ({d}): expected Candle's backprop"
                );
            }
        }
    }

    #[test]
    fn host_ops_fall_back_to_the_tape() {
        for d in [DType::F64, DType::F32] {
            for (name, f, xs) in tape_cases(d) {
                // Same engine: exactly equal.
                assert!(
                    !compare(name, &f, &xs, 0.0),
                    "{name} ({d}): expected the tape"
                );
            }
        }
    }

    /// f16/bf16 inputs use the tape (decided by dtype): Auto and Tape give
    /// identical results.
    #[test]
    fn half_precision_uses_the_tape() {
        for d in [DType::F16, DType::BF16] {
            for (name, f, xs) in covered_cases(d).into_iter().take(3) {
                compare(name, &f, &xs, 0.0);
            }
        }
    }

    /// The edge cases where Candle's own rules differ from eager-tensor's, on
    /// the candle backprop path: abs'(0) = 0, relu'(NaN) = 0, sign/floor flat,
    /// ties of a max reduction share the gradient.
    #[test]
    fn edge_gradients_follow_the_tape_rules() {
        let x = EagerTensor::from_vec(Backend::Candle, vec![0.0f64, -0.0, 2.0, -3.0], [4]).unwrap();
        let w = backprop::watch();
        let (_, g) = ep::value_and_grad(|t| t.abs()?.sum(), &x).unwrap();
        assert!(w.covered());
        assert_eq!(g.to_vec::<f64>().unwrap(), vec![0.0, 0.0, 1.0, -1.0]);
        // abs(-0.0) is +0.0 on the tracked path too.
        let (v, _) = ep::value_and_grad(|t| t.abs()?.index(ep::s![1]), &x).unwrap();
        assert!(v.item::<f64>().unwrap().is_sign_positive());

        let y =
            EagerTensor::from_vec(Backend::Candle, vec![f64::NAN, -1.0, 0.0, 2.0], [4]).unwrap();
        let w = backprop::watch();
        let (_, g) = ep::value_and_grad(
            |t| {
                t.relu()?
                    .mul(&t.detach().isnan()?.where_cond(0.0, 1.0)?)?
                    .sum()
            },
            &y,
        )
        .unwrap();
        assert!(w.covered());
        assert_eq!(g.to_vec::<f64>().unwrap(), vec![0.0, 0.0, 0.0, 1.0]);

        let z = EagerTensor::from_vec(
            Backend::Candle,
            vec![1.0f32, 3.0, 3.0, 3.0, 2.0, 0.5],
            [2, 3],
        )
        .unwrap();
        let w = backprop::watch();
        let (v, g) =
            ep::value_and_grad(|t| t.max()?.add(&t.max_axes([1], false)?.sum()?), &z).unwrap();
        assert!(w.covered());
        assert_eq!(v.item::<f32>().unwrap(), 9.0);
        let third = 1.0f32 / 3.0;
        // max(): 3.0 three times → 1/3 each; row max: row 0 has 3.0 twice → ½
        // each, row 1's 3.0 once → 1.
        assert_eq!(
            g.to_vec::<f32>().unwrap(),
            vec![0.0, third + 0.5, third + 0.5, third + 1.0, 0.0, 0.0]
        );
    }

    /// The same MLP gradients as Candle's backprop written by hand.
    #[test]
    fn matches_candle_written_directly() {
        let xs = mlp_inputs(DType::F32);
        let refs: Vec<&EagerTensor> = xs.iter().collect();
        let (v, g) = ep::value_and_grads(mlp, &refs).unwrap();

        let raw: Vec<Tensor> = xs
            .iter()
            .map(|t| t.clone().into_raw::<Tensor>().unwrap())
            .collect();
        let vars: Vec<Var> = raw.iter().map(|t| Var::from_tensor(t).unwrap()).collect();
        let t: Vec<&Tensor> = vars.iter().map(|v| v.as_tensor()).collect();
        let h = t[0]
            .matmul(t[1])
            .unwrap()
            .broadcast_add(t[2])
            .unwrap()
            .relu()
            .unwrap();
        let y = h.matmul(t[3]).unwrap().broadcast_add(t[4]).unwrap();
        let target = raw[0].sum_keepdim(1).unwrap();
        let loss = (y - target).unwrap().sqr().unwrap().mean_all().unwrap();
        let store = loss.backward().unwrap();
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * (1.0 + b.abs());
        assert!(close(
            v.item::<f32>().unwrap(),
            loss.to_scalar::<f32>().unwrap()
        ));
        for (i, var) in vars.iter().enumerate() {
            let want = store
                .get(var.as_tensor())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let got = g[i].to_vec::<f32>().unwrap();
            assert_eq!(got.len(), want.len());
            for (a, b) in got.iter().zip(&want) {
                assert!(close(*a, *b), "input {i}: {a} vs {b}");
            }
        }
    }

    /// A nested value_and_grad inside f, and parallel threads: independent.
    #[test]
    fn nested_and_parallel_calls() {
        let x = input(&[4], -1.0, 1.0, 50, DType::F64);
        let (v, g) = ep::value_and_grad(
            |t| {
                let inner = t.detach();
                let (_, gi) = ep::value_and_grad(|u| u.square()?.sum(), &inner)?;
                t.mul(&gi)?.sum()
            },
            &x,
        )
        .unwrap();
        let xv = x.to_vec::<f64>().unwrap();
        let want: f64 = xv.iter().map(|a| 2.0 * a * a).sum();
        assert!((v.item::<f64>().unwrap() - want).abs() < 1e-12);
        let gv = g.to_vec::<f64>().unwrap();
        for (a, b) in gv.iter().zip(&xv) {
            assert!((a - 2.0 * b).abs() < 1e-12);
        }
        let handles: Vec<_> = (0..4)
            .map(|k| {
                std::thread::spawn(move || {
                    let x = input(&[3, 3], -1.0, 1.0, 60 + k, DType::F32);
                    let (_, g) = ep::value_and_grad(|t| t.square()?.sum(), &x).unwrap();
                    let (a, b) = (g.to_vec::<f32>().unwrap(), x.to_vec::<f32>().unwrap());
                    a.iter().zip(&b).all(|(g, x)| (g - 2.0 * x).abs() < 1e-6)
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().unwrap());
        }
    }

    /// The MLP of benches/candle.rs (its inputs made as there) uses Candle's
    /// backprop.
    #[test]
    fn the_bench_mlp_uses_candle_backprop() {
        use eager_tensor::candle_core::Device;
        let data = |n: usize| {
            (0..n)
                .map(|i| ((i % 97) as f32) * 0.01 - 0.3)
                .collect::<Vec<f32>>()
        };
        let t = |n: usize, s: &[usize]| Tensor::from_vec(data(n), s, &Device::Cpu).unwrap();
        let x = t(64 * 32, &[64, 32]);
        let target = x.sum_keepdim(1).unwrap();
        let (ex, et) = (ep::astensor(x), ep::astensor(target));
        let ps = [
            t(2048, &[32, 64]),
            t(64, &[64]),
            t(64, &[64, 1]),
            t(1, &[1]),
        ];
        let e: Vec<EagerTensor> = ps.iter().map(|p| ep::astensor(p.clone())).collect();
        let f: F = Box::new(move |t| {
            ex.matmul(&t[0])?
                .add(&t[1])?
                .relu()?
                .matmul(&t[2])?
                .add(&t[3])?
                .sub(&et)?
                .square()?
                .mean()
        });
        assert!(compare("bench mlp", &f, &e, 1e-5));
    }
}

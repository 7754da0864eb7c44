//! Gradients on every enabled backend: every differentiable op checked
//! against central finite differences in f64 on random inputs, EagerPy's own
//! checks, and the tape's guarantees (threads, repeats, nesting, errors).

use eager_tensor::{self as ep, Backend, DType, EagerTensor, PadMode};

#[macro_use]
mod common;

type F = Box<dyn Fn(&[EagerTensor]) -> ep::Result<EagerTensor>>;

/// Deterministic inputs in `[lo, hi)`, f64.
fn input(backend: Backend, shape: &[usize], lo: f64, hi: f64, salt: u64) -> EagerTensor {
    let n: usize = shape.iter().product();
    let mut s = 0x9E3779B97F4A7C15u64 ^ salt.wrapping_mul(0xD1B54A32D192ED03);
    let v: Vec<f64> = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect();
    EagerTensor::from_vec(backend, v, shape).unwrap()
}

/// A fixed, uneven weighting so that a sum's gradient is not all ones.
fn wsum(y: &EagerTensor) -> ep::Result<EagerTensor> {
    let n = y.numel() as i64;
    let w = ep::arange(y, 0, n, 1)?
        .float64()?
        .mul(0.7)?
        .sin()?
        .add(1.3)?
        .reshape(y.shape().iter().map(|&d| d as isize).collect::<Vec<_>>())?;
    y.astype(DType::F64)?.mul(&w)?.sum()
}

fn numeric_grad(f: &F, xs: &[EagerTensor], i: usize) -> Vec<f64> {
    let eps = 1e-6;
    let base = xs[i].to_vec::<f64>().unwrap();
    let shape = xs[i].shape();
    (0..base.len())
        .map(|j| {
            let at = |d: f64| {
                let mut v = base.clone();
                v[j] += d;
                let mut ys = xs.to_vec();
                ys[i] = ep::from_vec(&xs[i], v, &shape).unwrap();
                f(&ys).unwrap().item::<f64>().unwrap()
            };
            (at(eps) - at(-eps)) / (2.0 * eps)
        })
        .collect()
}

fn check(name: &str, f: F, xs: Vec<EagerTensor>) -> Result<(), String> {
    let refs: Vec<&EagerTensor> = xs.iter().collect();
    let (v, grads) = ep::value_and_grads(|t| f(t), &refs).map_err(|e| format!("{name}: {e}"))?;
    let plain = f(&xs)
        .map_err(|e| format!("{name}: {e}"))?
        .item::<f64>()
        .unwrap();
    let value = v.item::<f64>().unwrap();
    if (value - plain).abs() > 1e-12 * (1.0 + plain.abs()) {
        return Err(format!(
            "{name}: traced value {value} != plain value {plain}"
        ));
    }
    for (i, g) in grads.iter().enumerate() {
        if g.shape() != xs[i].shape() || g.dtype() != xs[i].dtype() {
            return Err(format!(
                "{name}: grad {i} is {} {:?}, input is {} {:?}",
                g.dtype(),
                g.shape(),
                xs[i].dtype(),
                xs[i].shape()
            ));
        }
        let analytic = g.to_vec::<f64>().unwrap();
        let numeric = numeric_grad(&f, &xs, i);
        for (j, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
            if (a - n).abs() > 1e-5 * (1.0 + n.abs()) {
                return Err(format!("{name}: d/dx{i}[{j}]: analytic {a}, numeric {n}"));
            }
        }
    }
    Ok(())
}

fn mk(f: impl Fn(&[EagerTensor]) -> ep::Result<EagerTensor> + 'static) -> F {
    Box::new(f)
}

macro_rules! cases {
    ($b:expr; $($name:literal => [$($x:expr),*] => $f:expr;)*) => {{
        let b = $b;
        let _ = b;
        vec![$(($name, mk($f), vec![$($x),*])),*]
    }};
}

fn all_cases(b: Backend) -> Vec<(&'static str, F, Vec<EagerTensor>)> {
    let x = |shape: &[usize], salt| input(b, shape, -2.0, 2.0, salt);
    let pos = |shape: &[usize], salt| input(b, shape, 0.2, 2.0, salt);
    let unit = |shape: &[usize], salt| input(b, shape, -0.9, 0.9, salt);
    cases! { b;
        "abs" => [x(&[2, 3], 1)] => |t| wsum(&t[0].abs()?);
        "neg" => [x(&[2, 3], 2)] => |t| wsum(&t[0].neg()?);
        "sign" => [x(&[2, 3], 3)] => |t| wsum(&t[0].sign()?.mul(&t[0])?);
        "sqrt" => [pos(&[2, 3], 4)] => |t| wsum(&t[0].sqrt()?);
        "square" => [x(&[2, 3], 5)] => |t| wsum(&t[0].square()?);
        "exp" => [x(&[2, 3], 6)] => |t| wsum(&t[0].exp()?);
        "log" => [pos(&[2, 3], 7)] => |t| wsum(&t[0].log()?);
        "log2" => [pos(&[2, 3], 8)] => |t| wsum(&t[0].log2()?);
        "log10" => [pos(&[2, 3], 9)] => |t| wsum(&t[0].log10()?);
        "log1p" => [pos(&[2, 3], 10)] => |t| wsum(&t[0].log1p()?);
        "sin" => [x(&[2, 3], 11)] => |t| wsum(&t[0].sin()?);
        "cos" => [x(&[2, 3], 12)] => |t| wsum(&t[0].cos()?);
        "tan" => [unit(&[2, 3], 13)] => |t| wsum(&t[0].tan()?);
        "sinh" => [x(&[2, 3], 14)] => |t| wsum(&t[0].sinh()?);
        "cosh" => [x(&[2, 3], 15)] => |t| wsum(&t[0].cosh()?);
        "tanh" => [x(&[2, 3], 16)] => |t| wsum(&t[0].tanh()?);
        "arcsin" => [unit(&[2, 3], 17)] => |t| wsum(&t[0].arcsin()?);
        "arccos" => [unit(&[2, 3], 18)] => |t| wsum(&t[0].arccos()?);
        "arctan" => [x(&[2, 3], 19)] => |t| wsum(&t[0].arctan()?);
        "arcsinh" => [x(&[2, 3], 20)] => |t| wsum(&t[0].arcsinh()?);
        "arccosh" => [input(b, &[2, 3], 1.2, 3.0, 21)] => |t| wsum(&t[0].arccosh()?);
        "arctanh" => [unit(&[2, 3], 22)] => |t| wsum(&t[0].arctanh()?);
        "sigmoid" => [x(&[2, 3], 23)] => |t| wsum(&t[0].sigmoid()?);
        "relu" => [x(&[2, 3], 24)] => |t| wsum(&t[0].relu()?);
        "round_floor_ceil_are_flat" => [x(&[2, 3], 25)] => |t| wsum(&t[0].round()?.add(&t[0].floor()?)?.add(&t[0].ceil()?)?.add(&t[0])?);
        "add_broadcast" => [x(&[2, 3], 26), x(&[3], 27)] => |t| wsum(&t[0].add(&t[1])?);
        "sub_broadcast" => [x(&[2, 1], 28), x(&[3], 29)] => |t| wsum(&t[0].sub(&t[1])?);
        "mul_broadcast" => [x(&[2, 3], 30), x(&[2, 1], 31)] => |t| wsum(&t[0].mul(&t[1])?);
        "div_broadcast" => [x(&[2, 3], 32), pos(&[3], 33)] => |t| wsum(&t[0].div(&t[1])?);
        "rem" => [input(b, &[2, 3], 0.1, 0.9, 34), input(b, &[2, 3], 1.1, 2.0, 35)] => |t| wsum(&t[0].add(2.0)?.rem(&t[1])?);
        "floor_div_is_flat" => [x(&[2, 3], 36), pos(&[2, 3], 37)] => |t| wsum(&t[0].floor_div(&t[1])?.add(&t[0])?);
        "pow_tensor_exponent" => [pos(&[2, 3], 38), x(&[2, 3], 39)] => |t| wsum(&t[0].pow(&t[1])?);
        "pow_scalar" => [pos(&[2, 3], 40)] => |t| wsum(&t[0].pow(2.5)?);
        "scalar_ops" => [pos(&[3], 41)] => |t| wsum(&((2.0 - &t[0])? * 3.0)?.div(&(1.0 / &t[0])?)?);
        "minimum" => [x(&[2, 3], 42), x(&[2, 3], 43)] => |t| wsum(&t[0].minimum(&t[1])?);
        "maximum_broadcast" => [x(&[2, 3], 44), x(&[3], 45)] => |t| wsum(&t[0].maximum(&t[1])?);
        "where_cond" => [x(&[2, 3], 46), x(&[3], 47)] => |t| wsum(&t[0].gt(0.0)?.where_cond(&t[0], &t[1].square()?)?);
        "where_cond_scalar" => [x(&[2, 3], 48)] => |t| wsum(&t[0].gt(0.0)?.where_cond(&t[0], 0.5)?);
        "sum_axes" => [x(&[2, 3, 4], 49)] => |t| wsum(&t[0].sum_axes([0, 2], false)?);
        "sum_keepdims" => [x(&[2, 3, 4], 50)] => |t| wsum(&t[0].sum_axes([-1], true)?);
        "sum_all" => [x(&[2, 3], 51)] => |t| t[0].sum()?.square();
        "mean_axes" => [x(&[2, 3, 4], 52)] => |t| wsum(&t[0].mean_axes([1], true)?);
        "prod_axes" => [x(&[2, 3], 53)] => |t| wsum(&t[0].prod_axes([1], false)?);
        "prod_with_zero" => [x(&[2, 3], 54)] => |t| wsum(&t[0].index_update(ep::s![0, 1], 0.0)?.prod_axes([1], false)?);
        "prod_all" => [pos(&[2, 2], 55)] => |t| t[0].prod();
        "min_axes" => [x(&[2, 3, 4], 56)] => |t| wsum(&t[0].min_axes([2], false)?);
        "max_keepdims" => [x(&[2, 3, 4], 57)] => |t| wsum(&t[0].max_axes([0, 1], true)?);
        "max_all" => [x(&[5], 58)] => |t| t[0].max();
        "index_basic" => [x(&[4, 5], 59)] => |t| wsum(&t[0].index(ep::s![1..;2, ..;-2])?);
        "index_int_newaxis" => [x(&[3, 4], 60)] => |t| wsum(&t[0].index(ep::s![-1, ep::NewAxis, 1..3])?);
        "index_gather_repeated" => [x(&[4, 3], 61)] => |t| {
            let i = ep::from_vec(&t[0], vec![2i64, 0, 2, -1], [4])?;
            wsum(&t[0].index(ep::s![&i, 1..])?)
        };
        "index_two_tensors" => [x(&[3, 4], 62)] => |t| {
            let i = ep::from_vec(&t[0], vec![0i64, 2, 2], [3])?;
            let j = ep::from_vec(&t[0], vec![3i64, 1, 1], [3])?;
            wsum(&t[0].index(ep::s![&i, &j])?)
        };
        "index_mask" => [x(&[3, 4], 63)] => |t| wsum(&t[0].index(ep::s![&t[0].gt(0.0)?])?);
        "index_update_x_and_values" => [x(&[3, 4], 64), x(&[4], 65)] => |t| wsum(&t[0].index_update(ep::s![1], &t[1])?.mul(&t[0])?);
        "index_update_slices" => [x(&[3, 4], 66), x(&[3, 1], 67)] => |t| wsum(&t[0].index_update(ep::s![.., 1..;2], &t[1])?);
        "take_along_axis" => [x(&[3, 4], 68)] => |t| {
            let i = ep::from_vec(&t[0], vec![0i64, 3, 3, 1, 2, 2], [3, 2])?;
            wsum(&t[0].take_along_axis(&i, 1)?)
        };
        "matmul_2d" => [x(&[2, 3], 69), x(&[3, 4], 70)] => |t| wsum(&t[0].matmul(&t[1])?);
        "matmul_batched_broadcast" => [x(&[2, 2, 3], 71), x(&[3, 2], 72)] => |t| wsum(&t[0].matmul(&t[1])?);
        "matmul_1d" => [x(&[3], 73), x(&[3, 2], 74)] => |t| wsum(&t[0].matmul(&t[1])?);
        "matmul_vec_vec" => [x(&[3], 75), x(&[3], 76)] => |t| t[0].matmul(&t[1]);
        "reshape_transpose_permute" => [x(&[2, 3, 4], 77)] => |t| wsum(&t[0].permute([2, 0, 1])?.reshape([4, -1])?.t()?);
        "squeeze_expand" => [x(&[1, 3, 1], 78)] => |t| wsum(&t[0].squeeze()?.expand_dims(0)?.squeeze_axes([0])?.expand_dims(-1)?);
        "flatten" => [x(&[2, 3, 2], 79)] => |t| wsum(&t[0].flatten(1, 2)?);
        "tile" => [x(&[2, 3], 80)] => |t| wsum(&t[0].tile([2, 2])?);
        "flip" => [x(&[2, 3], 81)] => |t| wsum(&t[0].flip_axes([-1])?);
        "pad_constant" => [x(&[2, 3], 82)] => |t| wsum(&t[0].pad(&[(1, 0), (2, 1)], PadMode::Constant(1.5))?);
        "pad_reflect" => [x(&[3, 4], 83)] => |t| wsum(&t[0].pad(&[(2, 1), (1, 3)], PadMode::Reflect)?);
        "broadcast_to" => [x(&[3, 1], 84)] => |t| wsum(&t[0].broadcast_to([2, 3, 4])?);
        "concatenate" => [x(&[2, 3], 85), x(&[1, 3], 86)] => |t| wsum(&ep::concatenate(&[&t[0], &t[1], &t[0]], 0)?);
        "concatenate_with_constant" => [x(&[2, 3], 87)] => |t| {
            let c = t[0].detach().ones_like()?;
            wsum(&ep::concatenate(&[&c, &t[0]], 1)?)
        };
        "stack" => [x(&[2, 3], 88), x(&[2, 3], 89)] => |t| wsum(&ep::stack(&[&t[0], &t[1]], 1)?);
        "iter_stack" => [x(&[3, 2], 90)] => |t| wsum(&ep::stack(&t[0].iter().collect::<Vec<_>>(), 1)?);
        "softmax" => [x(&[2, 4], 91)] => |t| wsum(&t[0].softmax(-1)?);
        "log_softmax" => [x(&[2, 4], 92)] => |t| wsum(&t[0].log_softmax(0)?);
        "crossentropy" => [x(&[3, 4], 93)] => |t| {
            let labels = ep::from_vec(&t[0], vec![1i64, 3, 0], [3])?;
            wsum(&t[0].crossentropy(&labels)?)
        };
        "clip" => [x(&[2, 5], 94)] => |t| wsum(&t[0].clip(-0.5, 0.8)?);
        "inv" => [x(&[3, 3], 95)] => |t| wsum(&t[0].add(&ep::from_vec(&t[0], vec![3.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 3.0], [3, 3])?)?.inv()?);
        "inv_batched" => [x(&[2, 2, 2], 96)] => |t| wsum(&t[0].add(&ep::from_vec(&t[0], vec![3.0, 0.0, 0.0, 3.0], [2, 2])?)?.inv()?);
        "slogdet" => [x(&[3, 3], 97)] => |t| {
            let m = t[0].add(&ep::from_vec(&t[0], vec![3.0, 0.0, 0.0, 0.0, -3.0, 0.0, 0.0, 0.0, 3.0], [3, 3])?)?;
            let (s, l) = m.slogdet()?;
            l.mul(&s)
        };
        "sort" => [x(&[2, 5], 98)] => |t| wsum(&t[0].sort(-1)?);
        "topk" => [x(&[2, 5], 99)] => |t| wsum(&t[0].topk(3, true)?.0);
        "cumsum_axis" => [x(&[2, 4], 100)] => |t| wsum(&t[0].cumsum_axis(1)?);
        "cumsum_flat" => [x(&[2, 3], 101)] => |t| wsum(&t[0].cumsum()?);
        "norms" => [x(&[3, 4], 103)] => |t| {
            let a = ep::norms::l1(&t[0], [1], false)?;
            let b2 = ep::norms::l2(&t[0], None, false)?;
            let c = ep::norms::linf(&t[0], [0], true)?;
            let d = ep::norms::lp(&t[0], 3.0, [1], false)?;
            wsum(&a)?.add(&b2)?.add(&wsum(&c)?)?.add(&wsum(&d)?)
        };
        "mlp" => [x(&[4, 3], 104), x(&[3, 5], 105), x(&[5], 106)] => |t| {
            let h = t[0].matmul(&t[1])?.add(&t[2])?.tanh()?;
            h.square()?.mean()
        };
    }
}

/// Every gradient-check function on backend `b` against central finite
/// differences.
fn gradients_match_finite_differences(b: Backend) {
    let mut failures = Vec::new();
    let mut count = 0;
    for (name, f, xs) in all_cases(b) {
        count += 1;
        if let Err(e) = check(name, f, xs) {
            failures.push(format!("[{b}] {e}"));
        }
    }
    println!(
        "gradient checks [{b}]: {} passed, {} failed",
        count - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

per_backend!(gradients, gradients_match_finite_differences);

/// On backends with a native autograd (torch), it and the tape agree on every
/// gradient-check function.
#[test]
fn native_autograd_agrees_with_the_tape() {
    let mut compared = 0;
    for b in Backend::enabled() {
        for (name, f, xs) in all_cases(b) {
            let refs: Vec<&EagerTensor> = xs.iter().collect();
            let (va, ga) = ep::value_and_grads_with(ep::Engine::Auto, |t| f(t), &refs).unwrap();
            let (vt, gt) = ep::value_and_grads_with(ep::Engine::Tape, |t| f(t), &refs).unwrap();
            let close = |a: f64, t: f64| (a - t).abs() <= 1e-9 * (1.0 + t.abs());
            assert!(
                close(va.item::<f64>().unwrap(), vt.item::<f64>().unwrap()),
                "[{b}] {name}: values differ"
            );
            for (i, (a, t)) in ga.iter().zip(&gt).enumerate() {
                let (a, t) = (a.to_vec::<f64>().unwrap(), t.to_vec::<f64>().unwrap());
                for (j, (x, y)) in a.iter().zip(&t).enumerate() {
                    assert!(
                        close(*x, *y),
                        "[{b}] {name}: d/dx{i}[{j}]: native {x}, tape {y}"
                    );
                }
            }
            compared += 1;
        }
    }
    println!("native autograd vs tape: {compared} functions agree");
}

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

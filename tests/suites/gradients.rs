//! The gradient suite: every differentiable op on one backend checked
//! against central finite differences in f64 on random inputs.

use eager_tensor::{self as ep, Backend, DType, EagerTensor, PadMode};

pub(crate) type F = Box<dyn Fn(&[EagerTensor]) -> ep::Result<EagerTensor>>;

/// Deterministic inputs in `[lo, hi)`, f64.
pub(crate) fn input(backend: Backend, shape: &[usize], lo: f64, hi: f64, salt: u64) -> EagerTensor {
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
pub(crate) fn wsum(y: &EagerTensor) -> ep::Result<EagerTensor> {
    let n = y.numel() as i64;
    let w = ep::arange(y, 0, n, 1)?
        .float64()?
        .mul(0.7)?
        .sin()?
        .add(1.3)?
        .reshape(y.shape().iter().map(|&d| d as isize).collect::<Vec<_>>())?;
    y.astype(DType::F64)?.mul(&w)?.sum()
}

pub(crate) fn numeric_grad(f: &F, xs: &[EagerTensor], i: usize) -> Vec<f64> {
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

pub(crate) fn check(name: &str, f: F, xs: Vec<EagerTensor>) -> Result<(), String> {
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

pub(crate) fn mk(f: impl Fn(&[EagerTensor]) -> ep::Result<EagerTensor> + 'static) -> F {
    Box::new(f)
}

macro_rules! cases {
    ($b:expr; $($name:literal => [$($x:expr),*] => $f:expr;)*) => {{
        let b = $b;
        let _ = b;
        vec![$(($name, mk($f), vec![$($x),*])),*]
    }};
}

pub(crate) fn all_cases(b: Backend) -> Vec<(&'static str, F, Vec<EagerTensor>)> {
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
pub fn run(b: Backend) {
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

//! The parts of the API that the conformance table does not reach: the
//! native-type bridge (no copies), operators, display, randomness, errors
//! for bad calls that must not panic.

use eager_tensor::{self as ep, prelude::*, Backend, DType, EagerTensor};
use ndarray::{ArcArray, ArrayD, IxDyn};

#[path = "api/natives.rs"]
mod natives;
#[path = "api/random.rs"]
mod random;

fn vec_f32(data: Vec<f32>, shape: &[usize]) -> EagerTensor {
    EagerTensor::from_vec(Backend::NdArray, data, shape).unwrap()
}

fn l2_generic<T: ep::Native>(x: T) -> ep::Result<T> {
    ep::astensor(x).square()?.sum()?.sqrt()?.into_raw()
}

#[test]
fn operators_with_tensors_and_scalars_on_either_side() {
    let a = vec_f32(vec![1.0, 2.0, 3.0], &[3]);
    let b = vec_f32(vec![10.0, 20.0, 30.0], &[3]);
    assert_eq!(
        (&a + &b).unwrap().to_vec::<f32>().unwrap(),
        vec![11.0, 22.0, 33.0]
    );
    assert_eq!(
        (&b - &a).unwrap().to_vec::<f32>().unwrap(),
        vec![9.0, 18.0, 27.0]
    );
    assert_eq!(
        (a.clone() * b.clone()).unwrap().to_vec::<f32>().unwrap(),
        vec![10.0, 40.0, 90.0]
    );
    assert_eq!(
        (&b / a.clone()).unwrap().to_vec::<f32>().unwrap(),
        vec![10.0, 10.0, 10.0]
    );
    assert_eq!(
        (a.clone() % &b).unwrap().to_vec::<f32>().unwrap(),
        vec![1.0, 2.0, 3.0]
    );
    assert_eq!(
        (&a + 1.0).unwrap().to_vec::<f32>().unwrap(),
        vec![2.0, 3.0, 4.0]
    );
    assert_eq!(
        (2.0 * &a).unwrap().to_vec::<f32>().unwrap(),
        vec![2.0, 4.0, 6.0]
    );
    assert_eq!(
        (10.0 - a.clone()).unwrap().to_vec::<f32>().unwrap(),
        vec![9.0, 8.0, 7.0]
    );
    assert_eq!((6 / &a).unwrap().dtype(), DType::F32);
    assert_eq!(
        (-&a).unwrap().to_vec::<f32>().unwrap(),
        vec![-1.0, -2.0, -3.0]
    );
    assert_eq!(
        (-a.clone()).unwrap().to_vec::<f32>().unwrap(),
        vec![-1.0, -2.0, -3.0]
    );
    assert_eq!((a.clone() + 1i32).unwrap().dtype(), DType::F32);
    // Chains read naturally.
    fn chain(a: &EagerTensor) -> ep::Result<EagerTensor> {
        ((2.0 * a)? + 1.0)?.sum()
    }
    assert_eq!(chain(&a).unwrap().item::<f32>().unwrap(), 15.0);
}

#[test]
fn integer_operators_follow_numpy() {
    let a = EagerTensor::from_vec(Backend::NdArray, vec![7i64, -7], [2]).unwrap();
    assert_eq!(
        a.floor_div(2i64).unwrap().to_vec::<i64>().unwrap(),
        vec![3, -4]
    );
    assert_eq!((&a % 2i64).unwrap().to_vec::<i64>().unwrap(), vec![1, 1]);
    assert_eq!((&a % -2i64).unwrap().to_vec::<i64>().unwrap(), vec![-1, -1]);
    assert_eq!(
        (&a / 2i64).unwrap().to_vec::<f64>().unwrap(),
        vec![3.5, -3.5]
    );
    assert_eq!(
        a.floor_div(0i64).unwrap().to_vec::<i64>().unwrap(),
        vec![0, 0]
    );
}

#[test]
fn display_and_debug_show_backend_dtype_shape_values() {
    let t = vec_f32(vec![1.0, 2.5, 3.0, 4.0], &[2, 2]);
    let s = t.to_string();
    assert!(s.starts_with("EagerTensor(ndarray, f32, [2, 2])"), "{s}");
    assert!(s.contains("2.5"), "{s}");
    assert_eq!(
        format!("{t:?}"),
        "EagerTensor(ndarray, f32, [2, 2], [[1, 2.5],\n [3, 4]])"
    );
    assert!(
        format!("{t:.2}").ends_with("[[1.00, 2.50],\n [3.00, 4.00]]"),
        "{t:.2}"
    );
}

#[test]
fn metadata() {
    let t = EagerTensor::zeros(Backend::NdArray, [3, 4], DType::I32).unwrap();
    assert_eq!(
        (t.shape(), t.ndim(), t.len(), t.numel(), t.dtype()),
        (vec![3, 4], 2, 3, 12, DType::I32)
    );
    assert_eq!(t.backend(), Backend::NdArray);
    let s = EagerTensor::ones(Backend::NdArray, [], DType::F64).unwrap();
    assert_eq!((s.ndim(), s.len(), s.numel()), (0, 0, 1));
    assert_eq!(s.item::<f64>().unwrap(), 1.0);
    assert_eq!(t.item::<i32>().unwrap_err().kind(), "shape");
    assert_eq!(t.to_vec::<f32>().unwrap_err().kind(), "dtype");
    assert_eq!(t.to_ndarray::<i32>().unwrap().shape(), &[3, 4]);
}

#[test]
fn backends_parse_and_print() {
    for b in Backend::ALL {
        assert_eq!(b.to_string().parse::<Backend>().unwrap(), b);
    }
    assert!("mxnet".parse::<Backend>().is_err());
    assert!(Backend::enabled().contains(&Backend::NdArray));
}

#[test]
fn creating_on_a_backend_that_is_not_compiled_in_is_an_error() {
    for b in Backend::ALL {
        let r = EagerTensor::zeros(b, [2], DType::F32);
        if b.is_enabled() {
            assert!(r.is_ok());
        } else {
            let e = r.unwrap_err();
            assert_eq!(e.kind(), "unsupported");
            assert!(e.to_string().contains(&b.to_string()), "{e}");
        }
    }
}

#[test]
fn mixing_backends_is_an_error_naming_both() {
    let enabled = Backend::enabled();
    if enabled.len() < 2 {
        println!("only {enabled:?} enabled: no second backend to mix with");
        return;
    }
    let a = EagerTensor::ones(enabled[0], [2], DType::F32).unwrap();
    let b = EagerTensor::ones(enabled[1], [2], DType::F32).unwrap();
    for r in [
        a.add(&b),
        a.matmul(&b),
        ep::concatenate(&[&a, &b], 0),
        a.gt(0.0).unwrap().where_cond(&a, &b),
    ] {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), "backend_mismatch");
        assert!(e.to_string().contains(&enabled[1].to_string()), "{e}");
    }
}

#[test]
fn iter_and_stack_round_trip() {
    let t = vec_f32((0..6).map(|i| i as f32).collect(), &[3, 2]);
    let rows: Vec<EagerTensor> = t.iter().collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2].to_vec::<f32>().unwrap(), vec![4.0, 5.0]);
    let back = ep::stack(&rows, 0).unwrap();
    assert_eq!(back.to_vec::<f32>().unwrap(), t.to_vec::<f32>().unwrap());
    assert_eq!(vec_f32(vec![1.0], &[]).iter().count(), 0);
}

#[test]
fn index_macro_forms() {
    let t = ep::arange(&vec_f32(vec![], &[0]), 0, 24, 1)
        .unwrap()
        .reshape([2, 3, 4])
        .unwrap();
    let v = |i: Vec<ep::IndexItem>| t.index(i).unwrap();
    assert_eq!(v(ep::s![1, 2, 3]).item::<i64>().unwrap(), 23);
    assert_eq!(v(ep::s![-1, -1, -1]).item::<i64>().unwrap(), 23);
    assert_eq!(
        v(ep::s![0, 0, ..;-1]).to_vec::<i64>().unwrap(),
        vec![3, 2, 1, 0]
    );
    assert_eq!(v(ep::s![0, 0, 1..=2]).to_vec::<i64>().unwrap(), vec![1, 2]);
    assert_eq!(
        v(ep::s![0, 0, ..=-1]).to_vec::<i64>().unwrap(),
        vec![0, 1, 2, 3]
    );
    assert_eq!(v(ep::s![0, 1.., ..2]).shape(), vec![2, 2]);
    assert_eq!(
        v(ep::s![ep::Ellipsis, ep::NewAxis]).shape(),
        vec![2, 3, 4, 1]
    );
    let n = 2usize;
    assert_eq!(v(ep::s![1, n, 0..n;2]).to_vec::<i64>().unwrap(), vec![20]);
    let idx = EagerTensor::from_vec(Backend::NdArray, vec![1i64, 0], [2]).unwrap();
    assert_eq!(v(ep::s![&idx, 0, 0]).to_vec::<i64>().unwrap(), vec![12, 0]);
    let mask = t.gt(20i64).unwrap();
    assert_eq!(v(ep::s![&mask]).to_vec::<i64>().unwrap(), vec![21, 22, 23]);
}

#[test]
fn bad_arguments_give_errors_not_panics() {
    let t = vec_f32((0..6).map(|i| i as f32).collect(), &[2, 3]);
    let like = &t;
    let errs: Vec<ep::Result<EagerTensor>> = vec![
        t.reshape([isize::MAX, 2]),
        t.reshape([-2, 3]),
        t.tile([usize::MAX, 2]),
        t.pad(&[(usize::MAX, 0), (0, 0)], ep::PadMode::Constant(0.0)),
        t.broadcast_to([usize::MAX, 2, 3]),
        ep::zeros(like, [usize::MAX, usize::MAX]),
        ep::uniform(like, [usize::MAX, 4], 0.0, 1.0),
        ep::arange(like, 0, i64::MAX, 1),
        ep::arange(like, i64::MIN, i64::MAX, 1),
        t.index(ep::s![isize::MIN]),
        t.index(ep::s![0, 0, 0]),
        t.expand_dims(isize::MAX),
        t.expand_dims(isize::MIN),
        t.sum_axes([isize::MIN], false),
        t.permute([usize::MAX, 0]),
        t.squeeze_axes([7]),
        t.flatten(isize::MIN, 0),
        t.argmax_axis(isize::MAX),
        t.softmax(9),
        ep::stack(&[&t], isize::MIN),
        EagerTensor::from_vec(Backend::NdArray, vec![1.0f32; 3], [usize::MAX, 2]),
        EagerTensor::from_vec(Backend::NdArray, vec![1.0f32; 3], [2]),
        t.take_along_axis(&t, 0),
        ep::full(like, [2], f64::NAN)
            .and_then(|x| x.astype(DType::I64))
            .and_then(|x| x.pow(-1i64)),
        t.astype(DType::U8).and_then(|x| x.add(-1i64)),
        t.astype(DType::I32).and_then(|x| x.add(i64::MAX)),
        t.index_update(ep::s![0], &t),
    ];
    for (i, r) in errs.into_iter().enumerate() {
        assert!(r.is_err(), "case {i} should be an error, got {r:?}");
    }
    assert!(t.topk(4, true).is_err());
    // A huge step is valid (NumPy takes one element), and must not overflow.
    let last = t.index(ep::s![.., ..;isize::MIN]).unwrap();
    assert_eq!(last.to_vec::<f32>().unwrap(), vec![2.0, 5.0]);
    assert!(vec_f32(vec![1.0, 2.0, 2.0, 4.0], &[2, 2]).inv().is_err());
}

#[test]
fn errors_name_the_op_and_convert_to_anyhow() {
    let t = vec_f32(vec![1.0, 2.0], &[2]);
    let e = t.reshape([3]).unwrap_err();
    assert_eq!(e.op(), "reshape");
    assert!(e.to_string().starts_with("reshape:"), "{e}");
    let a: anyhow::Error = e.into();
    assert!(a.to_string().contains("reshape"));
}

#[test]
fn index_update_leaves_the_input_untouched() {
    let t = vec_f32(vec![0.0; 4], &[4]);
    let u = t.index_update(ep::s![1..3], 7.0).unwrap();
    assert_eq!(t.to_vec::<f32>().unwrap(), vec![0.0; 4]);
    assert_eq!(u.to_vec::<f32>().unwrap(), vec![0.0, 7.0, 7.0, 0.0]);
}

#[test]
fn from_ndarray_and_like_creation() {
    let like = vec_f32(vec![1.0], &[1]);
    let a = ndarray::arr2(&[[1i32, 2], [3, 4]]).into_dyn();
    let t = ep::from_ndarray(&like, a.t().to_owned()).unwrap();
    assert_eq!(t.to_vec::<i32>().unwrap(), vec![1, 3, 2, 4]);
    let t = ep::from_vec(&like, vec![true, false], [2]).unwrap();
    assert_eq!(t.dtype(), DType::Bool);
    assert_eq!(
        like.ones([2]).unwrap().to_vec::<f32>().unwrap(),
        vec![1.0, 1.0]
    );
    assert_eq!(
        like.full([1], 3).unwrap().to_vec::<f32>().unwrap(),
        vec![3.0]
    );
}

/// The README's example, kept compiling and correct.
#[test]
fn readme_example() -> ep::Result<()> {
    fn norm<T: ep::Native>(x: T) -> ep::Result<T> {
        let x = ep::astensor(x);
        x.square()?.sum()?.sqrt()?.into_raw()
    }
    let x = ep::ndarray::arr1(&[3.0f32, 4.0]).into_dyn();
    let n: ep::ndarray::ArrayD<f32> = norm(x)?;
    assert_eq!(n[[]], 5.0);
    let t = ep::astensor(ep::ndarray::arr2(&[[1.0f64, 2.0], [3.0, 4.0]]));
    let y = ((&t * 2.0)? - 1.0)?.index(ep::s![.., 1])?;
    assert_eq!(y.to_vec::<f64>()?, vec![3.0, 7.0]);
    let m = ep::norms::l2(&t, [1], false)?;
    assert_eq!(m.to_vec::<f64>()?, vec![5f64.sqrt(), 5.0]);
    let (value, grad) = ep::value_and_grad(|x| x.square()?.sum(), &t)?;
    assert_eq!(value.item::<f64>()?, 30.0);
    assert_eq!(grad.to_vec::<f64>()?, vec![2.0, 4.0, 6.0, 8.0]);
    Ok(())
}

/// Every enabled backend gives ndarray's answer on a chain that mixes
/// softmax, matmul, a transpose, a negative-step slice and reflect padding.
#[test]
fn every_backend_agrees_with_ndarray_on_a_chain() {
    let data: Vec<f32> = (0..12).map(|i| i as f32 * 0.25 - 1.0).collect();
    let run = |b: Backend| -> Vec<f32> {
        let x = EagerTensor::from_vec(b, data.clone(), [3, 4]).unwrap();
        let y = x.softmax(-1).unwrap().matmul(&x.t().unwrap()).unwrap();
        let y = y
            .index(ep::s![.., ..;-1])
            .unwrap()
            .pad(&[(1, 1), (0, 0)], ep::PadMode::Reflect)
            .unwrap();
        y.to_vec::<f32>().unwrap()
    };
    let want = run(Backend::NdArray);
    for b in Backend::enabled() {
        let got = run(b);
        assert_eq!(got.len(), want.len());
        for (a, w) in got.iter().zip(&want) {
            assert!((a - w).abs() < 1e-5, "[{b}] {a} vs {w}");
        }
    }
}

#[test]
fn to_backend_moves_between_every_pair_of_backends() {
    let all = Backend::ALL;
    let enabled = Backend::enabled();
    for &from in &enabled {
        let ints = EagerTensor::from_vec(from, vec![1i64, -2, 3, 4, 5, 6], [2, 3]).unwrap();
        let floats = EagerTensor::from_vec(from, vec![0.5f32, f32::NAN, -1.25], [3]).unwrap();
        let flags = EagerTensor::from_vec(from, vec![true], []).unwrap();
        let empty = EagerTensor::zeros(from, [0, 2], DType::U8).unwrap();
        for &to in &all {
            if !enabled.contains(&to) {
                let e = ints.to_backend(to).unwrap_err();
                assert_eq!(e.kind(), "unsupported", "{from} -> {to}: {e}");
                continue;
            }
            let i = ints.to_backend(to).unwrap();
            assert_eq!(
                (i.backend(), i.dtype(), i.shape()),
                (to, DType::I64, vec![2, 3])
            );
            assert_eq!(i.to_vec::<i64>().unwrap(), vec![1, -2, 3, 4, 5, 6]);
            let f = floats.to_backend(to).unwrap().to_vec::<f32>().unwrap();
            assert_eq!((f[0], f[2]), (0.5, -1.25));
            assert!(f[1].is_nan(), "{from} -> {to}");
            let b = flags.to_backend(to).unwrap();
            assert_eq!((b.shape(), b.item::<bool>().unwrap()), (vec![], true));
            let z = empty.to_backend(to).unwrap();
            assert_eq!((z.dtype(), z.shape()), (DType::U8, vec![0, 2]));
            // The result is the target framework's own tensor: ops run there.
            let sum = i.sum().unwrap();
            assert_eq!((sum.backend(), sum.item::<i64>().unwrap()), (to, 17));
        }
        // Gradients do not cross frameworks.
        let x = EagerTensor::from_vec(from, vec![1.0f64, 2.0], [2]).unwrap();
        let other = enabled.iter().copied().find(|&b| b != from).unwrap_or(from);
        let e = ep::value_and_grad(|t| t.to_backend(other)?.sum(), &x).unwrap_err();
        assert_eq!(e.kind(), "invalid", "{e}");
        assert!(e.to_string().contains("to_backend"), "{e}");
    }
}

#[test]
fn integer_edges_do_not_wrap() {
    for b in Backend::enabled() {
        let like = EagerTensor::zeros(b, [], DType::I64).unwrap();
        // i * step overflows i64 on the way; the values do not.
        let a = ep::arange(&like, i64::MIN, i64::MAX, i64::MAX).unwrap();
        assert_eq!(a.to_vec::<i64>().unwrap(), vec![i64::MIN, -1, i64::MAX - 1]);
        let t = EagerTensor::from_vec(b, vec![1.0f32, 2.0, 3.0], [3]).unwrap();
        // usize::MAX stays out of range instead of wrapping to -1.
        assert_eq!(t.index(ep::s![usize::MAX]).unwrap_err().kind(), "index");
        assert_eq!(
            t.index(ep::s![1..=isize::MAX])
                .unwrap()
                .to_vec::<f32>()
                .unwrap(),
            vec![2.0, 3.0]
        );
        // Saturating casts, bounds exact in the float dtype.
        let f = EagerTensor::from_vec(b, vec![f32::INFINITY, 1e20, -1e20, f32::NAN], [4]).unwrap();
        assert_eq!(
            f.astype(DType::I32).unwrap().to_vec::<i32>().unwrap(),
            vec![i32::MAX, i32::MAX, i32::MIN, 0]
        );
        let g = EagerTensor::from_vec(b, vec![f64::INFINITY, 9.3e18, -1e30], [3]).unwrap();
        assert_eq!(
            g.astype(DType::I64).unwrap().to_vec::<i64>().unwrap(),
            vec![i64::MAX, i64::MAX, i64::MIN]
        );
        // A span that overflows f64 is an error, not a panic or NaN.
        assert_eq!(
            t.uniform([2], -f64::MAX, f64::MAX).unwrap_err().kind(),
            "invalid"
        );
        // Logical ops take bool only (EagerPy's rule).
        assert_eq!(t.logical_not().unwrap_err().kind(), "dtype");
        assert_eq!(t.logical_and(&t).unwrap_err().kind(), "dtype");
    }
}

#[test]
fn subnormal_floats_are_kept_or_flushed_as_documented() {
    // TensorFlow's and XLA's CPU kernels flush subnormals to zero
    // (docs/semantics.md); ndarray and torch keep them.
    let exact = 1e-40f64 as f32;
    assert!(exact > 0.0 && exact < f32::MIN_POSITIVE);
    for b in Backend::enabled() {
        let x = EagerTensor::from_vec(b, vec![1e-40f64], [1]).unwrap();
        let v = x.astype(DType::F32).unwrap().to_vec::<f32>().unwrap()[0];
        match b {
            Backend::TensorFlow | Backend::Xla => assert!(v == 0.0 || v == exact, "{b}: {v:e}"),
            _ => assert_eq!(v, exact, "{b}"),
        }
    }
}

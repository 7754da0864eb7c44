//! What the user guide (`docs/guide`) says beyond its code blocks, on every
//! enabled backend (ndarray's own native types on ndarray): the claims of its prose and tables (weak
//! scalars, which native types round-trip, the creation functions, the
//! `item` widening rule, error variants, the gradient rules, every EagerPy
//! spelling of the porting chapter).
//!
//! The chapters' code blocks themselves are not copied here: they are
//! doctests, compiled and run from the chapters through the
//! `eager_tensor::guide` module (`#[cfg(doctest)]` in `src/lib.rs`, one item
//! per chapter): `cargo test --doc guide`.
#![cfg(feature = "ndarray")]

use eager_tensor as ep;
use ep::ndarray;

/// A native ndarray value on backend `b` (the chapters' examples start
/// from ndarray arrays; the same patterns run on every enabled backend).
fn on(b: ep::Backend, x: impl Into<ep::EagerTensor>) -> ep::EagerTensor {
    ep::astensor(x).to_backend(b).expect("to_backend")
}

// --- Getting started ------------------------------------------------------

/// "What to notice": scalars on the left, and weak scalars.
#[test]
fn getting_started_scalars() -> ep::Result<()> {
    for b in ep::Backend::enabled() {
        eprintln!("on {b}");
        getting_started_scalars_on(b)?;
    }
    Ok(())
}
fn getting_started_scalars_on(b: ep::Backend) -> ep::Result<()> {
    let t = on(b, ndarray::arr2(&[[1.0f64, 2.0], [3.0, 4.0]]));
    let one_minus = (1.0 - &t)?;
    assert_eq!(one_minus.to_vec::<f64>()?, vec![0.0, -1.0, -2.0, -3.0]);
    let f = on(b, ndarray::arr1(&[1.0f32]));
    assert_eq!((&f * 2.0)?.dtype(), ep::DType::F32);
    Ok(())
}

// --- Writing a library once ----------------------------------------------

#[test]
fn writing_once_native_types_round_trip() -> ep::Result<()> {
    let a = ndarray::ArrayD::<i32>::zeros(ndarray::IxDyn(&[2, 3]));
    let t = ep::astensor(a);
    let shared = t.as_raw::<ndarray::ArcArray<i32, ndarray::IxDyn>>()?;
    assert_eq!(shared.shape(), &[2, 3]);
    let nd = t.as_raw::<ep::NdTensor>()?;
    assert!(matches!(nd.host(), ep::HostTensor::I32(_)));
    let back: ndarray::Array2<i32> = t.clone().into_raw()?;
    assert_eq!(back.dim(), (2, 3));
    // A fixed rank that does not match is a shape error.
    let e = t.into_raw::<ndarray::Array1<i32>>().unwrap_err();
    assert_eq!((e.kind(), e.op()), ("shape", "into_raw"));
    Ok(())
}

#[test]
fn writing_once_creation() -> ep::Result<()> {
    for b in ep::Backend::enabled() {
        eprintln!("on {b}");
        writing_once_creation_on(b)?;
    }
    Ok(())
}
fn writing_once_creation_on(b: ep::Backend) -> ep::Result<()> {
    use ep::prelude::*;
    let x = on(b, ndarray::arr1(&[1.0f32, 2.0]));
    assert_eq!(ep::zeros(&x, [2, 3])?.shape(), vec![2, 3]);
    assert_eq!(ep::ones_like(&x)?.to_vec::<f32>()?, vec![1.0, 1.0]);
    assert_eq!(ep::full_like(&x, 0.5)?.to_vec::<f32>()?, vec![0.5, 0.5]);
    assert_eq!(ep::arange(&x, 0, 10, 1)?.dtype(), ep::DType::I64);
    assert_eq!(ep::uniform(&x, [4], 0.0, 1.0)?.shape(), vec![4]);
    assert_eq!(ep::from_vec(&x, vec![1.0f32, 2.0], [2])?.shape(), vec![2]);
    let a = ndarray::arr2(&[[1u8, 2], [3, 4]]).into_dyn();
    assert_eq!(ep::from_ndarray(&x, a)?.dtype(), ep::DType::U8);
    assert_eq!(x.zeros_like()?.to_vec::<f32>()?, vec![0.0, 0.0]);
    assert_eq!(x.zeros([3])?.shape(), vec![3]);
    let z = ep::EagerTensor::zeros(b, [2, 3], ep::DType::F32)?;
    assert_eq!((z.shape(), z.dtype()), (vec![2, 3], ep::DType::F32));
    Ok(())
}

/// The table of "Reading numbers" beyond the example: `to_ndarray`,
/// `to_host_data`, and the widening rule of `item`.
#[test]
fn writing_once_reading_numbers_table() -> ep::Result<()> {
    for b in ep::Backend::enabled() {
        eprintln!("on {b}");
        writing_once_reading_numbers_table_on(b)?;
    }
    Ok(())
}
fn writing_once_reading_numbers_table_on(b: ep::Backend) -> ep::Result<()> {
    let t = on(b, ndarray::arr1(&[1.5f32, 2.5]));
    assert_eq!(t.to_ndarray::<f32>()?.shape(), &[2]);
    assert_eq!(t.to_host_data()?.to_f64s(), vec![1.5, 2.5]);
    // f16 -> f32, i32 -> i64 and f64, u8 -> i16; i64 -> f64 is lossy.
    let h = on(b, ndarray::arr0(ep::f16::from_f32(0.5)));
    assert_eq!(h.item::<f32>()?, 0.5);
    let i = on(b, ndarray::arr0(7i32));
    assert_eq!((i.item::<i64>()?, i.item::<f64>()?), (7, 7.0));
    assert_eq!(on(b, ndarray::arr0(7u8)).item::<i16>()?, 7);
    assert_eq!(
        on(b, ndarray::arr0(7i64)).item::<f64>().unwrap_err().kind(),
        "dtype"
    );
    Ok(())
}

/// "Errors": matching on the variants, and `?` into `anyhow::Error`.
#[test]
fn writing_once_error_variants() {
    for b in ep::Backend::enabled() {
        eprintln!("on {b}");
        writing_once_error_variants_on(b);
    }
}
fn writing_once_error_variants_on(b: ep::Backend) {
    let t = on(b, ndarray::Array2::<f32>::zeros((2, 3)));
    let e = t.sum_axes([2], false).unwrap_err();
    assert!(matches!(e, ep::Error::Axis { op: "sum", .. }));
    let any: anyhow::Error = e.into();
    assert!(any.to_string().starts_with("sum:"));
}

// --- Gradients -------------------------------------------------------------

/// The table's `value_and_grad_fn` and `value_and_grads_with`.
#[test]
fn gradients_table_functions() -> ep::Result<()> {
    for b in ep::Backend::enabled() {
        eprintln!("on {b}");
        gradients_table_functions_on(b)?;
    }
    Ok(())
}
fn gradients_table_functions_on(b: ep::Backend) -> ep::Result<()> {
    let x = on(b, ndarray::arr2(&[[1.0f64, 2.0], [3.0, 4.0]]));
    let vg = ep::value_and_grad_fn(|x: &ep::EagerTensor| x.sin()?.sum());
    let (v, g) = vg(&x.zeros_like()?)?;
    assert_eq!((v.item::<f64>()?, g.to_vec::<f64>()?), (0.0, vec![1.0; 4]));
    // Tape and torch-style engines agree; on ndarray both are the tape.
    let w = on(b, ndarray::arr1(&[0.5f32, -0.5]));
    let (_, g2) = ep::value_and_grads_with(ep::Engine::Tape, |p| p[0].square()?.sum(), &[&w])?;
    assert_eq!(g2[0].to_vec::<f32>()?, vec![1.0, -1.0]);
    Ok(())
}

#[test]
fn gradients_traced_tensors_refuse_into_raw() -> ep::Result<()> {
    let x = ep::astensor(ndarray::arr1(&[1.0f64]));
    let (_, _) = ep::value_and_grad(
        |x| {
            let e = x.clone().into_raw::<ndarray::ArrayD<f64>>().unwrap_err();
            assert_eq!(e.kind(), "invalid");
            assert!(x.detach().into_raw::<ndarray::ArrayD<f64>>().is_ok());
            x.sum()
        },
        &x,
    )?;
    Ok(())
}

/// A bf16 input gets a bf16 gradient (the chapter's example is f16).
#[test]
fn gradients_bf16_keeps_its_dtype() -> ep::Result<()> {
    for b in ep::Backend::enabled() {
        eprintln!("on {b}");
        gradients_bf16_keeps_its_dtype_on(b)?;
    }
    Ok(())
}
fn gradients_bf16_keeps_its_dtype_on(b: ep::Backend) -> ep::Result<()> {
    let y = on(b, ndarray::arr1(&[ep::bf16::from_f32(2.0)]));
    let (_, g) = ep::value_and_grad(|y| y.square()?.sum(), &y)?;
    assert_eq!(g.dtype(), ep::DType::BF16);
    assert_eq!(g.to_vec::<ep::bf16>()?, vec![ep::bf16::from_f32(4.0)]);
    Ok(())
}

#[test]
fn gradients_rules() {
    for b in ep::Backend::enabled() {
        eprintln!("on {b}");
        gradients_rules_on(b);
    }
}
fn gradients_rules_on(b: ep::Backend) {
    let i = on(b, ndarray::arr1(&[1i64, 2]));
    let e = ep::value_and_grad(|x| x.sum(), &i).unwrap_err();
    assert_eq!(e.kind(), "dtype");
    let x = on(b, ndarray::arr1(&[1.0f32, 2.0]));
    let e = ep::value_and_grad(|x| x.square(), &x).unwrap_err();
    assert_eq!(e.kind(), "shape");
    let e = ep::value_and_grad(|x| x.to_backend(b)?.sum(), &x).unwrap_err();
    assert_eq!(e.kind(), "invalid");
    // Ties split the gradient evenly.
    let t = on(b, ndarray::arr1(&[1.0f64, 3.0, 3.0]));
    let (_, g) = ep::value_and_grad(|x| x.max(), &t).unwrap();
    assert_eq!(g.to_vec::<f64>().unwrap(), vec![0.0, 0.5, 0.5]);
}

// --- Backends --------------------------------------------------------------

#[test]
fn backends_enabled_and_to_backend() -> ep::Result<()> {
    assert!(ep::Backend::enabled().contains(&ep::Backend::NdArray));
    let t = ep::astensor(ndarray::arr1(&[1i32, 2]));
    for b in ep::Backend::enabled() {
        let u = t.to_backend(b)?;
        assert_eq!((u.backend(), u.to_vec::<i32>()?), (b, vec![1, 2]));
    }
    Ok(())
}

// --- Porting from EagerPy --------------------------------------------------

#[test]
fn porting_table_method_spellings() -> ep::Result<()> {
    for b in ep::Backend::enabled() {
        eprintln!("on {b}");
        porting_table_method_spellings_on(b)?;
    }
    Ok(())
}
fn porting_table_method_spellings_on(b: ep::Backend) -> ep::Result<()> {
    use ep::prelude::*;
    let t = on(b, ndarray::arr2(&[[1.0f32, -2.0], [3.0, 4.0]]));
    // Optional axes as two methods.
    assert_eq!(t.sum()?.item::<f32>()?, 6.0);
    assert_eq!(t.sum_axes([0], false)?.to_vec::<f32>()?, vec![4.0, 2.0]);
    assert_eq!(t.argmax()?.item::<i64>()?, 3);
    assert_eq!(t.argmax_axis(-1)?.to_vec::<i64>()?, vec![0, 1]);
    assert_eq!(t.cumsum()?.shape(), vec![4]);
    assert_eq!(t.cumsum_axis(0)?.shape(), vec![2, 2]);
    assert_eq!(t.transpose()?.to_vec::<f32>()?, t.t()?.to_vec::<f32>()?);
    assert_eq!(t.permute([1, 0])?.shape(), vec![2, 2]);
    assert_eq!(t.expand_dims(0)?.squeeze()?.shape(), vec![2, 2]);
    assert_eq!(t.expand_dims(0)?.squeeze_axes([0])?.shape(), vec![2, 2]);
    assert_eq!(
        t.flip()?.flip_axes([0, 1])?.to_vec::<f32>()?,
        t.to_vec::<f32>()?
    );
    // Indexing: t[1:, ::2].
    assert_eq!(t.index(ep::s![1.., ..;2])?.to_vec::<f32>()?, vec![3.0]);
    // Creation like a tensor.
    assert_eq!(t.ones([3])?.shape(), vec![3]);
    assert_eq!(t.full([2], 7.0)?.to_vec::<f32>()?, vec![7.0, 7.0]);
    // where, clip, minimum with a scalar, pad, topk, onehot_like.
    let w = ep::where_cond(&t.gt(0.0)?, &t, 0.0)?;
    assert_eq!(w.to_vec::<f32>()?, vec![1.0, 0.0, 3.0, 4.0]);
    assert_eq!(t.clip(0.0, 2.0)?.to_vec::<f32>()?, vec![1.0, 0.0, 2.0, 2.0]);
    assert_eq!(t.minimum(0.0)?.to_vec::<f32>()?, vec![0.0, -2.0, 0.0, 0.0]);
    let p = t.pad(&[(1, 0), (0, 1)], ep::PadMode::Constant(0.0))?;
    assert_eq!(p.shape(), vec![3, 3]);
    let (values, indices) = t.topk(1, true)?;
    assert_eq!(values.to_vec::<f32>()?, vec![1.0, 4.0]);
    assert_eq!(indices.to_vec::<i64>()?, vec![0, 1]);
    let idx = on(b, ndarray::arr1(&[1i64, 0]));
    assert_eq!(
        t.onehot_like(&idx, 1.0)?.to_vec::<f32>()?,
        vec![0.0, 1.0, 1.0, 0.0]
    );
    // Operators and their method names.
    assert_eq!((-&t)?.to_vec::<f32>()?, t.neg()?.to_vec::<f32>()?);
    assert_eq!((&t % 2.0)?.to_vec::<f32>()?, t.rem(2.0)?.to_vec::<f32>()?);
    assert_eq!(
        t.floor_div(2.0)?.to_vec::<f32>()?,
        vec![0.0, -1.0, 1.0, 2.0]
    );
    let r = ep::floor_div(7.0, &t)?; // 7 // t
    assert_eq!(r.to_vec::<f32>()?, vec![7.0, -4.0, 2.0, 1.0]);
    assert_eq!(
        format!("{:?}", t.argmax()?),
        format!("EagerTensor({b}, i64, [], 3)")
    );
    assert_eq!(t.pow(2)?.to_vec::<f32>()?, t.square()?.to_vec::<f32>()?);
    assert_eq!(t.matmul(&t)?.shape(), vec![2, 2]);
    assert!(t.eq(&t)?.all()?.item::<bool>()?);
    // Norms as functions and methods.
    assert_eq!(ep::norms::linf(&t, None, false)?.item::<f32>()?, 4.0);
    assert_eq!(t.norms().l1(-1, false)?.to_vec::<f32>()?, vec![3.0, 7.0]);
    // Rows.
    assert_eq!(t.iter().count(), 2);
    // kl_div_with_logits by hand.
    let (p, q, axis) = (&t, &t.flip_axes([-1])?, -1);
    let kl = (p.softmax(axis)? * (p.log_softmax(axis)? - q.log_softmax(axis)?)?)?
        .sum_axes(axis, false)?;
    assert_eq!(kl.shape(), vec![2]);
    // get_dummy.
    let dummy = ep::EagerTensor::zeros(b, [0usize; 0], ep::DType::F32)?;
    assert_eq!(dummy.ndim(), 0);
    // value_and_grad_fn with has_aux=True.
    let vag = ep::value_aux_and_grad_fn(|x: &ep::EagerTensor| Ok((x.square()?.sum()?, 1)));
    let (_, aux, _) = vag(&t)?;
    assert_eq!(aux, 1);
    Ok(())
}

#[test]
fn porting_free_functions() -> ep::Result<()> {
    for b in ep::Backend::enabled() {
        eprintln!("on {b}");
        porting_free_functions_on(b)?;
    }
    Ok(())
}
fn porting_free_functions_on(b: ep::Backend) -> ep::Result<()> {
    let t = on(b, ndarray::arr2(&[[0.25f32, 0.5], [0.75, 1.0]]));
    let same = |a: ep::EagerTensor, b: ep::EagerTensor| -> ep::Result<()> {
        assert!(ep::allclose(&a, &b, 1e-6, 0.0)?, "{a:?} != {b:?}");
        Ok(())
    };
    // Element-wise: every unary function of the table is its method.
    type Unary = fn(&ep::EagerTensor) -> ep::Result<ep::EagerTensor>;
    let pairs: [(Unary, Unary); 24] = [
        (ep::abs, |x| x.abs()),
        (ep::sign, |x| x.sign()),
        (ep::sqrt, |x| x.sqrt()),
        (ep::square, |x| x.square()),
        (ep::exp, |x| x.exp()),
        (ep::log, |x| x.log()),
        (ep::log2, |x| x.log2()),
        (ep::log10, |x| x.log10()),
        (ep::log1p, |x| x.log1p()),
        (ep::sin, |x| x.sin()),
        (ep::cos, |x| x.cos()),
        (ep::tan, |x| x.tan()),
        (ep::arcsin, |x| x.arcsin()),
        (ep::arccos, |x| x.arccos()),
        (ep::arctan, |x| x.arctan()),
        (ep::sinh, |x| x.sinh()),
        (ep::cosh, |x| x.cosh()),
        (ep::tanh, |x| x.tanh()),
        (ep::arcsinh, |x| x.arcsinh()),
        (|x| ep::arccosh(&(x + 1.0)?), |x| (x + 1.0)?.arccosh()),
        (|x| ep::arctanh(&(x * 0.5)?), |x| (x * 0.5)?.arctanh()),
        (ep::round, |x| x.round()),
        (ep::ceil, |x| x.ceil()),
        (ep::floor, |x| x.floor()),
    ];
    for (f, m) in pairs {
        same(f(&t)?, m(&t)?)?;
    }
    assert!(!ep::any(&ep::isnan(&t)?)?.item::<bool>()?);
    assert!(!ep::any(&ep::isinf(&t)?)?.item::<bool>()?);
    let mask = ep::gt(&t, 0.5)?;
    same(ep::logical_not(&mask)?, ep::le(&t, 0.5)?)?;
    same(ep::logical_and(&mask, true)?, mask.clone())?;
    same(ep::logical_or(false, &mask)?, mask.clone())?;
    // Binary: a tensor or a scalar of any type on either side.
    same(ep::pow(&t, 2)?, t.square()?)?;
    same(ep::minimum(0.5f32, &t)?, t.minimum(0.5)?)?;
    same(ep::maximum(&t, 0.5)?, t.maximum(0.5)?)?;
    same(ep::sub(1u8, &t)?, (1.0 - &t)?)?;
    same(ep::clip(&t, 0.3, 0.8)?, t.clip(0.3, 0.8)?)?;
    same(ep::where_(&mask, &t, 0.0)?, ep::where_cond(&mask, &t, 0.0)?)?;
    // Reductions.
    same(ep::sum(&t)?, t.sum()?)?;
    same(ep::sum_axes(&t, -1, true)?, t.sum_axes([-1], true)?)?;
    same(ep::prod(&t)?, t.prod()?)?;
    same(ep::prod_axes(&t, 0, false)?, t.prod_axes([0], false)?)?;
    same(ep::mean(&t)?, t.mean()?)?;
    same(ep::mean_axes(&t, vec![0i64, 1], false)?, t.mean()?)?;
    same(ep::min(&t)?, t.min()?)?;
    same(ep::min_axes(&t, 1, false)?, t.min_axes([1], false)?)?;
    same(ep::max(&t)?, t.max()?)?;
    same(ep::max_axes(&t, 1, false)?, t.max_axes([1], false)?)?;
    assert!(ep::all(&mask.logical_or(true)?)?.item::<bool>()?);
    assert_eq!(
        ep::all_axes(&mask, 1, false)?.to_vec::<bool>()?,
        vec![false, true]
    );
    assert!(ep::any(&mask)?.item::<bool>()?);
    assert_eq!(
        ep::any_axes(&mask, 1, false)?.to_vec::<bool>()?,
        vec![false, true]
    );
    same(ep::argmin(&t)?, t.argmin()?)?;
    same(ep::argmax(&t)?, t.argmax()?)?;
    same(ep::argmin_axis(&t, -1)?, t.argmin_axis(-1)?)?;
    same(ep::argmax_axis(&t, -1)?, t.argmax_axis(-1)?)?;
    same(ep::argsort(&t, -1)?, t.argsort(-1)?)?;
    same(ep::sort(&t, 0)?, t.sort(0)?)?;
    same(ep::topk(&t, 1, true)?.0, t.topk(1, true)?.0)?;
    same(ep::cumsum(&t)?, t.cumsum()?)?;
    same(ep::cumsum_axis(&t, 1)?, t.cumsum_axis(1)?)?;
    // Shapes, gathers, linear algebra, neural-network helpers.
    same(ep::transpose(&t)?, t.t()?)?;
    same(ep::permute(&t, [1, 0])?, t.transpose()?)?;
    same(ep::reshape(&t, [-1])?, ep::flatten(&t, 0, -1)?)?;
    same(ep::squeeze(&ep::expand_dims(&t, 0)?)?, t.clone())?;
    same(ep::squeeze_axes(&t.expand_dims(-1)?, -1)?, t.clone())?;
    assert_eq!(ep::tile(&t, [2, 1])?.shape(), vec![4, 2]);
    same(ep::flip(&t)?, ep::flip_axes(&t, [0, 1])?)?;
    let padded = ep::pad(&t, &[(1, 1), (0, 0)], ep::PadMode::Reflect)?;
    assert_eq!(padded.shape(), vec![4, 2]);
    let idx = on(b, ndarray::arr2(&[[1i64], [0]]));
    same(
        ep::take_along_axis(&t, &idx, -1)?,
        t.take_along_axis(&idx, -1)?,
    )?;
    let u = ep::index_update(&t, ep::s![0, ..], 0.0)?;
    same(ep::index(&u, ep::s![0])?, ep::zeros(&t, [2])?)?;
    same(ep::matmul(&t, &t)?, t.matmul(&t)?)?;
    same(ep::softmax(&t, -1)?, t.softmax(-1)?)?;
    same(ep::log_softmax(&t, -1)?, t.log_softmax(-1)?)?;
    let labels = on(b, ndarray::arr1(&[1i64, 0]));
    same(ep::crossentropy(&t, &labels)?, t.crossentropy(&labels)?)?;
    same(
        ep::onehot_like(&t, &labels, 2.0)?,
        t.onehot_like(&labels, 2.0)?,
    )?;
    same(ep::inv(&t)?, t.inv()?)?;
    same(ep::slogdet(&t)?.1, t.slogdet()?.1)?;
    same(ep::astype(&t, ep::DType::F64)?, t.float64()?)?;
    assert_eq!(ep::broadcast_to(&t, [3, 2, 2])?.shape(), vec![3, 2, 2]);
    // Wrapping several, istensor, rows.
    let [a, b] = ep::astensors([ndarray::arr1(&[1.0f32]), ndarray::arr1(&[2.0f32])]);
    assert_eq!(ep::add(&a, &b)?.item::<f32>()?, 3.0);
    assert!(ep::istensor(&a) && !ep::istensor(&ndarray::arr1(&[1.0f32])));
    let mut rows = 0;
    for row in &t {
        assert_eq!(row.shape(), vec![2]);
        rows += 1;
    }
    assert_eq!(rows, 2);
    // Shapes and axes as any integer slices, arrays or Vecs.
    assert_eq!(t.reshape(t.shape())?.shape(), vec![2, 2]);
    assert_eq!(t.permute([-1, 0])?.shape(), vec![2, 2]);
    assert_eq!(t.sum_axes(vec![-1i32], false)?.shape(), vec![2]);
    Ok(())
}

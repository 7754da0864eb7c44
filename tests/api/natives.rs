//! Native tensors: `astensor`/`into_raw` without copies, views, the
//! wrong type, generic functions, ndarray's arrays of every rank and
//! element type, `Send`/`Sync`.

use super::*;

#[test]
fn astensor_and_into_raw_do_not_copy() {
    let a =
        ArrayD::<f32>::from_shape_vec(IxDyn(&[2, 3]), (0..6).map(|i| i as f32).collect()).unwrap();
    let ptr = a.as_ptr();
    let t = ep::astensor(a);
    assert_eq!(t.as_raw::<ArcArray<f32, IxDyn>>().unwrap().as_ptr(), ptr);
    assert_eq!(t.as_raw::<ep::NdTensor>().unwrap().data_ptr(), ptr.cast());
    let back: ArrayD<f32> = t.into_raw().unwrap();
    assert_eq!(back.as_ptr(), ptr);
    assert_eq!(back.shape(), &[2, 3]);

    let shared: ArcArray<i64, IxDyn> = ArrayD::<i64>::zeros(IxDyn(&[4])).into_shared();
    let ptr = shared.as_ptr();
    let t = ep::astensor(shared);
    let raw: ArcArray<i64, IxDyn> = t.into_raw().unwrap();
    assert_eq!(raw.as_ptr(), ptr);
}

#[test]
fn views_share_the_buffer() {
    let t = vec_f32((0..12).map(|i| i as f32).collect(), &[3, 4]);
    let base = t.as_raw::<ep::NdTensor>().unwrap().data_ptr();
    let row = t.index(ep::s![1..]).unwrap();
    let p = row.as_raw::<ep::NdTensor>().unwrap().data_ptr();
    assert_eq!(p, unsafe { base.add(4 * std::mem::size_of::<f32>()) });
    let tr = t.transpose().unwrap();
    assert_eq!(tr.as_raw::<ep::NdTensor>().unwrap().data_ptr(), base);
}

#[test]
fn into_raw_of_the_wrong_type_is_an_error() {
    let t = vec_f32(vec![1.0], &[1]);
    let e = t.clone().into_raw::<ArrayD<f64>>().unwrap_err();
    assert_eq!(e.kind(), "invalid");
    assert!(e.to_string().contains("into_raw"), "{e}");
    // The type asked for, as the caller wrote it.
    assert!(e.to_string().contains("not ArrayD<f64>"), "{e}");
    let e = t
        .clone()
        .into_raw::<ep::ndarray::Array2<i32>>()
        .unwrap_err();
    assert!(e.to_string().contains("Array2<i32>"), "{e}");
    assert!(t.as_raw::<ArcArray<i32, IxDyn>>().is_err());
}

#[test]
fn generic_functions_return_the_native_type() {
    let a = ndarray::arr1(&[3.0f64, 4.0]).into_dyn();
    let n: ArrayD<f64> = l2_generic(a).unwrap();
    assert_eq!(n[[]], 5.0);
    let t = vec_f32(vec![6.0, 8.0], &[2]);
    let n: EagerTensor = l2_generic(t).unwrap();
    assert_eq!(n.item::<f32>().unwrap(), 10.0);
}

#[test]
fn tensors_are_send_and_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<EagerTensor>();
    let t = vec_f32(vec![1.0, 2.0], &[2]);
    let h = std::thread::spawn(move || t.sum().unwrap().item::<f32>().unwrap());
    assert_eq!(h.join().unwrap(), 3.0);
}

/// Fixed-dimension ndarray arrays of every element type go in without
/// `into_dyn()` or a copy and come back out with their rank checked.
#[test]
fn ndarray_natives_of_every_dimension_and_element_type() {
    use ep::ndarray::{arr1, arr2, Array1, Array2, Array3, ArrayD};
    let a = arr2(&[[1.0f32, 2.0], [3.0, 4.0]]);
    let ptr = a.as_ptr();
    let t = ep::astensor(a);
    assert_eq!((t.dtype(), t.shape()), (DType::F32, vec![2, 2]));
    let back: Array2<f32> = t.into_raw().unwrap();
    assert_eq!(back.as_ptr(), ptr);
    assert_eq!(back, arr2(&[[1.0f32, 2.0], [3.0, 4.0]]));
    let e = ep::astensor(back).into_raw::<Array3<f32>>().unwrap_err();
    assert_eq!((e.kind(), e.op()), ("shape", "into_raw"));
    assert!(e.to_string().contains("2 dimensions"), "{e}");

    fn roundtrip<E: ep::backends::ndarray::NdElem + PartialEq>(v: Vec<E>, d: DType) {
        let a = Array1::from(v.clone());
        let ptr = a.as_ptr();
        let t = ep::astensor(a);
        assert_eq!(t.dtype(), d);
        let back: Array1<E> = t.into_raw().unwrap();
        assert_eq!((back.as_ptr(), back.to_vec()), (ptr, v));
    }
    roundtrip(vec![-3i8, 7], DType::I8);
    roundtrip(vec![-3i16, 7], DType::I16);
    roundtrip(vec![3u16, 7], DType::U16);
    roundtrip(vec![3u32, 7], DType::U32);
    roundtrip(vec![3u64, u64::MAX], DType::U64);
    roundtrip(vec![ep::f16::from_f32(1.5)], DType::F16);
    roundtrip(vec![ep::bf16::from_f32(-2.5)], DType::BF16);

    // A generic function keeps the element type, f16 included.
    fn double<T: ep::Native>(x: T) -> ep::Result<T> {
        ep::astensor(x).mul(2.0)?.into_raw()
    }
    let h = arr1(&[ep::f16::from_f32(1.25)]).into_dyn();
    let d: ArrayD<ep::f16> = double(h).unwrap();
    assert_eq!(d[[0]], ep::f16::from_f32(2.5));
}

/// `Array4` .. `Array6` (and `Array0`) wrap without a copy, come back out as
/// the same rank with the same data pointer and values, and asking for
/// another rank is a `shape` error of `into_raw` naming the tensor's rank.
#[test]
fn ndarray_natives_of_rank_four_to_six_round_trip() {
    use ep::ndarray::{Array, Array0, Array3, Array4, Array5, Array6, ArrayD, Dimension};
    fn check<D: Dimension>(shape: D, wrong: &str)
    where
        Array<f64, D>: ep::Native,
    {
        let n = shape.size();
        let a = Array::from_shape_vec(shape, (0..n).map(|i| i as f64 * 0.5).collect()).unwrap();
        let (ptr, want, dims) = (a.as_ptr(), a.clone(), a.shape().to_vec());
        let t = ep::astensor(a);
        assert_eq!((t.dtype(), t.shape()), (DType::F64, dims.clone()));
        assert_eq!(t.to_vec::<f64>().unwrap()[n - 1], (n - 1) as f64 * 0.5);
        let back: Array<f64, D> = t.into_raw().unwrap();
        assert_eq!(back.as_ptr(), ptr, "no copy");
        assert_eq!(back, want);
        let t = ep::astensor(back);
        let e = match wrong {
            "3" => t.into_raw::<Array3<f64>>().map(|_| ()).unwrap_err(),
            _ => t.into_raw::<Array6<f64>>().map(|_| ()).unwrap_err(),
        };
        assert_eq!((e.kind(), e.op()), ("shape", "into_raw"), "{e}");
        assert!(
            e.to_string()
                .contains(&format!("{} dimensions", dims.len())),
            "{e}"
        );
    }
    check(ep::ndarray::Ix4(2, 1, 3, 2), "3");
    check(ep::ndarray::Ix5(1, 2, 2, 1, 3), "6");
    check(ep::ndarray::Ix6(2, 1, 1, 2, 1, 3), "3");
    // The dynamic array of rank 6 comes out as Array6 too, and Array0 has rank 0.
    let d = ArrayD::<f64>::zeros(ep::ndarray::IxDyn(&[1, 2, 1, 2, 1, 2]));
    let six: Array6<f64> = ep::astensor(d).into_raw().unwrap();
    assert_eq!(six.shape(), &[1, 2, 1, 2, 1, 2]);
    let e = ep::astensor(six).into_raw::<Array5<f64>>().unwrap_err();
    assert_eq!(e.kind(), "shape");
    let z: Array0<f64> = ep::astensor(Array0::from_elem((), 2.5)).into_raw().unwrap();
    assert_eq!(z.into_scalar(), 2.5);
    let e = ep::astensor(Array4::<f64>::zeros((1, 1, 1, 1)))
        .into_raw::<Array0<f64>>()
        .unwrap_err();
    assert!(e.to_string().contains("4 dimensions"), "{e}");
}

/// Calls the generic `$check(b, native)` with the tensor `$x` of backend `b`
/// taken out as that framework's own tensor type (`tch::Tensor`,
/// TensorFlow's handle, `XlaTensor`, `candle_core::Tensor`); ndarray's arm
/// is `$nd`, since ndarray has several.
macro_rules! with_framework_native {
    ($b:expr, $x:expr, $check:ident, ndarray: $nd:expr) => {
        match $b {
            Backend::NdArray => $nd,
            #[cfg(feature = "torch")]
            Backend::Torch => $check($b, $x.into_raw::<ep::tch::Tensor>().unwrap()),
            #[cfg(feature = "tensorflow")]
            Backend::TensorFlow => $check(
                $b,
                $x.into_raw::<ep::tensorflow::eager::TensorHandle<'static>>()
                    .unwrap(),
            ),
            #[cfg(feature = "xla")]
            Backend::Xla => $check($b, $x.into_raw::<ep::XlaTensor>().unwrap()),
            #[cfg(feature = "candle")]
            Backend::Candle => $check($b, $x.into_raw::<ep::candle_core::Tensor>().unwrap()),
            #[allow(unreachable_patterns)]
            _ => unreachable!("every enabled backend has an arm"),
        }
    };
}

/// `ep::astensor(&x)` leaves `x` to the caller and shares its storage on
/// every backend's native types (an owned ndarray array is the exception:
/// it is copied, as `Native::to_eager` documents).
#[test]
fn astensor_of_a_reference_shares_the_storage() {
    fn check<N: ep::Native>(backend: Backend, native: N) {
        let first = ep::astensor(&native);
        let second = ep::astensor(&native);
        assert_eq!(
            first.to_vec::<f32>().unwrap(),
            vec![1.0, 2.0, 3.0],
            "{backend}"
        );
        let p = first.host_ptr().unwrap();
        assert!(p.is_some(), "{backend}: no host pointer to compare");
        assert_eq!(second.host_ptr().unwrap(), p, "{backend}: a copy");
        // The caller still holds it, with the same storage.
        assert_eq!(ep::astensor(native).host_ptr().unwrap(), p, "{backend}");
    }
    for b in Backend::enabled() {
        let x = EagerTensor::from_vec(b, vec![1f32, 2.0, 3.0], [3]).unwrap();
        with_framework_native!(b, x, check, ndarray: {
            check(b, x.clone().into_raw::<ArcArray<f32, IxDyn>>().unwrap());
            check(b, x.clone().into_raw::<ep::NdTensor>().unwrap());
            // An owned array cannot be shared without moving it.
            let owned: ArrayD<f32> = x.into_raw().unwrap();
            let copy = ep::astensor(&owned);
            assert_ne!(copy.host_ptr().unwrap(), Some(owned.as_ptr() as usize));
            assert_eq!(
                copy.to_vec::<f32>().unwrap(),
                owned.into_raw_vec_and_offset().0
            );
        });
        let t = EagerTensor::from_vec(b, vec![1f32, 2.0, 3.0], [3]).unwrap();
        check(b, t);
    }
}

/// Where the framework lacks a dtype eager-tensor has (bool, i8, u16, u64
/// on Candle; u16, u32, u64 on torch), `AnyDType` is the backend's own
/// tensor type, which holds it: the write-once pattern returns a mask and
/// a u64 sum on every backend with no run-time error.
#[test]
fn any_dtype_results_come_back_on_every_backend() {
    fn mask<T: ep::Native>(x: &T) -> ep::Result<T::AnyDType> {
        ep::astensor(x).gt(1.5)?.into_raw()
    }
    fn unsigned_sum<T: ep::Native>(x: &T) -> ep::Result<T::AnyDType> {
        ep::astensor(x).astype(DType::U8)?.sum()?.into_raw()
    }
    fn check<T: ep::Native>(backend: Backend, x: T) {
        let m = ep::astensor(mask(&x).unwrap());
        assert_eq!(
            (m.dtype(), m.to_vec::<bool>().unwrap()),
            (DType::Bool, vec![false, true, true]),
            "{backend}"
        );
        let s = ep::astensor(unsigned_sum(&x).unwrap());
        assert_eq!(
            (s.dtype(), s.item::<u64>().unwrap()),
            (DType::U64, 6),
            "{backend}"
        );
    }
    for b in Backend::enabled() {
        let x = EagerTensor::from_vec(b, vec![1f32, 2.0, 3.0], [3]).unwrap();
        with_framework_native!(b, x, check, ndarray: check(b, x.into_raw::<ArrayD<f32>>().unwrap()));
    }
}

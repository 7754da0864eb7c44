//! What only the TensorFlow backend has: wrapping eager handles without a
//! copy, TF_Status errors as `Err`, its host-side random generator.
#![cfg(feature = "tensorflow")]

mod common;

use eager_core::ops::prelude::*;
use eager_tensor::{self as ep, tensorflow as tf, Backend, DType, EagerTensor, TfTensor};
use tf::eager::TensorHandle;

fn handle(v: &[f32], dims: &[u64]) -> TensorHandle<'static> {
    let ctx = ep::backends::tensorflow::context().unwrap();
    tf::Tensor::<f32>::new(dims)
        .with_values(v)
        .unwrap()
        .into_handle(ctx)
        .unwrap()
}

fn buffer(h: &TensorHandle<'static>) -> *const f32 {
    h.resolve::<f32>().unwrap().as_ptr()
}

#[test]
fn astensor_and_into_raw_keep_the_buffer() {
    let h = handle(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let ptr = buffer(&h);
    let e = ep::astensor(h);
    assert_eq!(e.backend(), Backend::TensorFlow);
    assert_eq!((e.dtype(), e.shape()), (DType::F32, vec![2, 2]));
    assert_eq!(buffer(e.as_raw::<TfTensor>().unwrap().handle()), ptr);
    let shared = e.clone();
    let back: TensorHandle<'static> = e.into_raw().unwrap();
    assert_eq!(buffer(&back), ptr);
    drop(shared);
    assert_eq!(
        ep::astensor(back).sum().unwrap().item::<f32>().unwrap(),
        10.0
    );
}

fn norm<T: ep::Native>(x: T) -> ep::Result<T> {
    ep::astensor(x).square()?.sum()?.sqrt()?.into_raw()
}

#[test]
fn generic_code_takes_and_returns_tf_handles() {
    let n: TensorHandle<'static> = norm(handle(&[3.0, 4.0], &[2])).unwrap();
    assert_eq!(n.resolve::<f32>().unwrap()[0], 5.0);
}

#[test]
fn tf_status_errors_become_errors_with_tf_message() {
    // Straight to the backend, past the facade's checks: TensorFlow refuses.
    let a = TfTensor::from_handle(handle(&[1.0; 6], &[2, 3]));
    let e = a.matmul(&a).unwrap_err();
    assert_eq!(
        (e.kind(), e.op(), e.to_string().contains("tensorflow")),
        ("framework", "matmul", true)
    );
    assert!(
        e.to_string().to_lowercase().contains("incompatible") || e.to_string().contains("mismatch"),
        "{e}"
    );
    assert_eq!(a.reshape(&[4]).unwrap_err().kind(), "framework");
    let singular = TfTensor::from_handle(handle(&[1.0, 2.0, 2.0, 4.0], &[2, 2]));
    assert_eq!(singular.inv().unwrap_err().kind(), "invalid");
}

#[test]
fn seeded_random_numbers_repeat() {
    let like = EagerTensor::zeros(Backend::TensorFlow, [], DType::F64).unwrap();
    ep::seed(11);
    let a = ep::normal(&like, [6], 0.0, 1.0)
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    ep::seed(11);
    let b = ep::normal(&like, [6], 0.0, 1.0)
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn unsupported_native_dtypes_are_errors_naming_the_dtype() {
    let ctx = ep::backends::tensorflow::context().unwrap();
    let s = tf::Tensor::<String>::new(&[2])
        .with_values(&["a".to_string(), "b".to_string()])
        .unwrap()
        .into_handle(ctx)
        .unwrap();
    let t = ep::astensor(s);
    let e = ep::try_astensor(t.clone()).unwrap_err();
    assert_eq!((e.kind(), e.op()), ("dtype", "astensor"));
    assert!(e.to_string().contains("String"), "{e}");
    for r in [t.sum(), t.add(&t), t.astype(DType::F32), t.reshape([2, 1])] {
        let e = r.unwrap_err();
        assert!(e.to_string().contains("String"), "{e}");
    }
    assert!(t.to_vec::<f32>().is_err());
}

/// Complex handles (`Complex64`, `Complex128`): `try_astensor` is a `dtype`
/// error naming the type; `astensor` wraps anyway, `dtype()` then reads
/// `f32` (documented as meaningless: `try_astensor` is the check) and every
/// op, a cast to the `f32` it reads as included, is the error naming it.
#[test]
fn complex_handles_are_errors_naming_the_type() {
    let ctx = ep::backends::tensorflow::context().unwrap();
    for (ty, name) in [
        (tf::DataType::Complex64, "Complex64"),
        (tf::DataType::Complex128, "Complex128"),
    ] {
        let c = tf::eager::raw_ops::Cast::new()
            .DstT(ty)
            .call(ctx, &handle(&[1.0, -2.0], &[2]))
            .unwrap();
        assert_eq!(c.data_type(), ty);
        let tried = ep::try_astensor(c.copy_sharing_tensor().unwrap());
        common::assert_unsupported_native(tried, ep::astensor(c), 2, name);
    }
}

/// Handles of every TensorFlow type eager-tensor has a dtype for go in and
/// come back out as they were: same type, same buffer, no widening.
#[test]
fn every_tf_dtype_wraps_and_unwraps_without_a_copy() {
    fn roundtrip<T: tf::TensorType + Copy>(v: &[T], d: DType) {
        let ctx = ep::backends::tensorflow::context().unwrap();
        let h = tf::Tensor::<T>::new(&[v.len() as u64])
            .with_values(v)
            .unwrap()
            .into_handle(ctx)
            .unwrap();
        let ptr = h.resolve::<T>().unwrap().as_ptr();
        let e = ep::astensor(h);
        assert_eq!(e.dtype(), d);
        if d != DType::Bool {
            // Computing keeps the dtype (i8 stays i8, bf16 stays bf16).
            assert_eq!(e.add(&e).unwrap().dtype(), d, "{d}");
            assert_eq!(e.sum().unwrap().dtype(), d.sum_dtype(), "{d}");
        }
        let back: TensorHandle<'static> = e.into_raw().unwrap();
        assert_eq!(back.data_type(), h_type(d));
        assert_eq!(back.resolve::<T>().unwrap().as_ptr(), ptr, "{d}");
    }
    fn h_type(d: DType) -> tf::DataType {
        use tf::DataType::*;
        match d {
            DType::I8 => Int8,
            DType::I16 => Int16,
            DType::U16 => UInt16,
            DType::U32 => UInt32,
            DType::U64 => UInt64,
            DType::F16 => Half,
            DType::BF16 => BFloat16,
            _ => unreachable!(),
        }
    }
    roundtrip(&[-3i8, 7], DType::I8);
    roundtrip(&[-3i16, 7], DType::I16);
    roundtrip(&[3u16, 7], DType::U16);
    roundtrip(&[3u32, 7], DType::U32);
    roundtrip(&[3u64, u64::MAX], DType::U64);
    roundtrip(
        &[ep::f16::from_f32(1.5), ep::f16::from_f32(-2.0)],
        DType::F16,
    );
    roundtrip(
        &[tf::BFloat16::from(1.5f32), tf::BFloat16::from(-2.0f32)],
        DType::BF16,
    );
}

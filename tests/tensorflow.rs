//! What only the TensorFlow backend has: wrapping eager handles without a
//! copy, TF_Status errors as `Err`, its host-side random generator.
#![cfg(feature = "tensorflow")]

use eager_tensor::{
    self as ep, tensorflow as tf, Backend, BackendTensor, DType, EagerTensor, TfTensor,
};
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
    let like = EagerTensor::zeros(Backend::TensorFlow, &[], DType::F64).unwrap();
    ep::seed(11);
    let a = ep::normal(&like, &[6], 0.0, 1.0)
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    ep::seed(11);
    let b = ep::normal(&like, &[6], 0.0, 1.0)
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
    for r in [t.sum(), t.add(&t), t.astype(DType::F32), t.reshape(&[2, 1])] {
        let e = r.unwrap_err();
        assert!(e.to_string().contains("String"), "{e}");
    }
    assert!(t.to_vec::<f32>().is_err());
}

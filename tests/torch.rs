//! What only the torch backend has: zero-copy wrapping of `tch::Tensor`,
//! devices, libtorch exceptions as errors, dtypes libtorch has and we do not.
#![cfg(feature = "torch")]

mod common;

use eager_core::ops::prelude::*;
use eager_tensor::{self as ep, tch, Backend, DType, Device, EagerTensor, TorchTensor};

#[test]
fn astensor_and_into_raw_keep_the_storage() {
    let t = tch::Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([2, 2]);
    let ptr = t.data_ptr();
    let e = ep::astensor(t);
    assert_eq!(e.backend(), Backend::Torch);
    assert_eq!((e.dtype(), e.shape()), (DType::F32, vec![2, 2]));
    assert_eq!(e.as_raw::<tch::Tensor>().unwrap().data_ptr(), ptr);
    // Views share the storage too.
    let row = e.index(ep::s![1]).unwrap();
    assert_eq!(
        row.as_raw::<tch::Tensor>().unwrap().data_ptr() as usize,
        ptr as usize + 2 * 4
    );
    let back: tch::Tensor = e.into_raw().unwrap();
    assert_eq!(back.data_ptr(), ptr);
}

fn norm<T: ep::Native>(x: T) -> ep::Result<T> {
    ep::astensor(x).square()?.sum()?.sqrt()?.into_raw()
}

#[test]
fn generic_code_takes_and_returns_tch_tensors() {
    let t = tch::Tensor::from_slice(&[3.0f64, 4.0]);
    let n: tch::Tensor = norm(t).unwrap();
    assert_eq!(n.double_value(&[]), 5.0);
}

#[test]
fn devices() {
    let t = EagerTensor::ones(Backend::Torch, [2], DType::F32).unwrap();
    assert_eq!(t.device(), Device::Cpu);
    assert_eq!(
        t.to_device(Device::Cpu).unwrap().to_vec::<f32>().unwrap(),
        vec![1.0, 1.0]
    );
    let nd = EagerTensor::ones(Backend::NdArray, [2], DType::F32).unwrap();
    assert_eq!(nd.device(), Device::Cpu);
    assert_eq!(
        nd.to_device(Device::Cuda(0)).unwrap_err().kind(),
        "unsupported"
    );
    if ep::backends::torch::cuda_available() {
        let g = t.to_device(Device::Cuda(0)).unwrap();
        assert_eq!(g.device(), Device::Cuda(0));
        let y = g.mul(2.0).unwrap().sum().unwrap();
        assert_eq!(y.device(), Device::Cuda(0));
        assert_eq!(y.item::<f32>().unwrap(), 4.0);
        let (v, grad) = ep::value_and_grad(|x| x.square()?.sum(), &g).unwrap();
        assert_eq!(
            (v.item::<f32>().unwrap(), grad.device()),
            (2.0, Device::Cuda(0))
        );
        assert_eq!(
            grad.to_device(Device::Cpu)
                .unwrap()
                .to_vec::<f32>()
                .unwrap(),
            vec![2.0, 2.0]
        );
    } else {
        let e = t.to_device(Device::Cuda(0)).unwrap_err();
        assert_eq!(e.kind(), "unsupported");
        assert!(e.to_string().contains("cuda:0"), "{e}");
    }
}

#[test]
fn libtorch_exceptions_become_errors_with_its_message() {
    // Straight to the backend, past the facade's checks: libtorch itself refuses.
    let a = TorchTensor::wrap(tch::Tensor::from_slice(&[1.0f32; 6]).reshape([2, 3]));
    let e = a.matmul(&a).unwrap_err();
    assert_eq!((e.kind(), e.op()), ("framework", "matmul"));
    assert!(e.to_string().contains("mat1 and mat2"), "{e}");
    assert!(
        !e.to_string().contains("Exception raised from"),
        "the C++ trace is dropped: {e}"
    );
    let e = a.reshape(&[4]).unwrap_err();
    assert_eq!(e.kind(), "framework");
    let idx = TorchTensor::wrap(tch::Tensor::from_slice(&[7i64]));
    assert!(a.index_select(0, &idx).is_err());
}

/// Every kind tch names that eager-tensor has a dtype for goes in and comes
/// back out as it was: same kind, same storage, no widening.
#[test]
fn every_torch_dtype_wraps_and_unwraps_without_a_copy() {
    use tch::Kind::*;
    let base = tch::Tensor::from_slice(&[1.5f64, -2.0, 3.25]);
    for (k, d) in [
        (Bool, DType::Bool),
        (Uint8, DType::U8),
        (Int8, DType::I8),
        (Int16, DType::I16),
        (Int, DType::I32),
        (Int64, DType::I64),
        (Half, DType::F16),
        (BFloat16, DType::BF16),
        (Float, DType::F32),
        (Double, DType::F64),
    ] {
        let t = base.to_kind(k);
        let ptr = t.data_ptr();
        let e = ep::astensor(t);
        assert_eq!(e.dtype(), d);
        // Computing on it keeps the dtype (f16 stays f16, i8 stays i8).
        if d != DType::Bool {
            assert_eq!(e.add(&e).unwrap().dtype(), d, "{d}");
        }
        let back: tch::Tensor = e.into_raw().unwrap();
        assert_eq!((back.kind(), back.data_ptr()), (k, ptr), "{d}");
    }
    let h = ep::astensor(base.to_kind(Half));
    let v = h.to_vec::<ep::f16>().unwrap();
    assert_eq!(v, [1.5, -2.0, 3.25].map(ep::f16::from_f32));
    let b = ep::astensor(base.to_kind(BFloat16));
    let v = b.to_vec::<ep::bf16>().unwrap();
    assert_eq!(v, [1.5, -2.0, 3.25].map(ep::bf16::from_f32));
}

/// tch has no kinds for u16/u32/u64: the backend computes them (as
/// unsigned), and handing one to tch is a clear error.
#[test]
fn unsigned_dtypes_tch_cannot_name_compute_and_refuse_into_raw() {
    let x = EagerTensor::from_vec(Backend::Torch, vec![u64::MAX, 1 << 63, 7], [3]).unwrap();
    assert_eq!(x.dtype(), DType::U64);
    assert_eq!(x.max().unwrap().item::<u64>().unwrap(), u64::MAX);
    assert_eq!(x.argmin().unwrap().item::<i64>().unwrap(), 2);
    let q = x.floor_div(&x.full_like(3u64).unwrap()).unwrap();
    assert_eq!(
        q.to_vec::<u64>().unwrap(),
        vec![u64::MAX / 3, (1 << 63) / 3, 2]
    );
    let e = x.into_raw::<tch::Tensor>().unwrap_err();
    assert_eq!(e.kind(), "dtype");
    assert!(e.to_string().contains("u64"), "{e}");
}

#[test]
fn an_undefined_tch_tensor_does_not_crash() {
    let e = ep::astensor(tch::Tensor::new());
    assert_eq!((e.shape(), e.dtype()), (vec![0], DType::F32));
    assert_eq!(e.sum().unwrap().item::<f32>().unwrap(), 0.0);
    // Borrowed: the shallow clone of an undefined tensor is undefined too.
    let undefined = tch::Tensor::new();
    let e = ep::astensor(&undefined);
    assert_eq!((e.shape(), e.dtype()), (vec![0], DType::F32));
    assert!(!undefined.defined());
}

#[test]
fn seeded_random_numbers_repeat() {
    let like = EagerTensor::zeros(Backend::Torch, [], DType::F32).unwrap();
    ep::seed(7);
    let a = ep::uniform(&like, [5], 2.0, 3.0)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    ep::seed(7);
    let b = ep::uniform(&like, [5], 2.0, 3.0)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(a, b);
    assert!(a.iter().all(|v| (2.0..3.0).contains(v)));
    let n = ep::normal(&like, [4000], 1.0, 0.5).unwrap();
    assert!((n.mean().unwrap().item::<f32>().unwrap() - 1.0).abs() < 0.05);
}

#[test]
fn unsupported_native_dtypes_are_errors_naming_the_dtype() {
    // Wrapped anyway, every operation is that error, never a result
    // computed on a tensor labelled f32.
    let c = tch::Tensor::zeros([2], (tch::Kind::ComplexFloat, tch::Device::Cpu));
    let tried = ep::try_astensor(c.shallow_clone());
    common::assert_unsupported_native(tried, ep::astensor(c), 2, "ComplexFloat");
}

/// Quantized and float8 tensors, the other kinds eager-tensor lacks: the
/// same contract as complex. `try_astensor` is a `dtype` error naming the
/// kind; `astensor` wraps anyway, `dtype()` then reads `f32` (documented as
/// meaningless: `try_astensor` is the check), and every op is the error
/// naming the kind, a cast to the `f32` it reads as included.
#[test]
fn quantized_and_float8_tensors_are_errors_naming_the_kind() {
    let x = tch::Tensor::from_slice(&[0.5f32, -1.0, 2.0]);
    let kinds = [
        (x.quantize_per_tensor(0.5, 0, tch::Kind::QInt8), "QInt8"),
        (x.quantize_per_tensor(0.5, 10, tch::Kind::QUInt8), "QUInt8"),
        (x.to_kind(tch::Kind::Float8e4m3fn), "Float8e4m3fn"),
        (x.to_kind(tch::Kind::Float8e5m2), "Float8e5m2"),
    ];
    for (native, name) in kinds {
        let tried = ep::try_astensor(native.shallow_clone());
        common::assert_unsupported_native(tried, ep::astensor(native), 3, name);
    }
}

#[test]
fn a_failing_libtorch_call_with_a_scalar_is_an_error_not_a_panic() {
    // With the memory limit lifted, libtorch itself refuses 2^50 floats;
    // tch's Scalar used to panic in its Drop on that error.
    let before = ep::set_max_tensor_bytes(usize::MAX);
    let r = EagerTensor::full_on(Backend::Torch, [1 << 50], 1.5, DType::F32);
    let r2 = EagerTensor::from_vec(Backend::Torch, vec![1.0f32], [1])
        .and_then(|x| x.broadcast_to([1 << 50]))
        .and_then(|x| x.add(1.0));
    ep::set_max_tensor_bytes(before);
    for r in [r, r2] {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), "framework", "{e}");
    }
}

#[test]
fn shape_and_dtype_are_read_once_and_match_libtorch() {
    // Ranks up to 5 keep their sizes inline, higher ones on the heap.
    for shape in [
        vec![],
        vec![0],
        vec![3, 1, 2],
        vec![1, 2, 1, 2, 1],
        vec![2, 1, 1, 1, 1, 1, 2],
    ] {
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        for kind in [
            tch::Kind::Float,
            tch::Kind::Int8,
            tch::Kind::Bool,
            tch::Kind::BFloat16,
        ] {
            let raw = tch::Tensor::zeros(dims.as_slice(), (kind, tch::Device::Cpu));
            let t = ep::astensor(raw.shallow_clone());
            assert_eq!(t.shape(), shape, "{kind:?}");
            assert_eq!(t.shape(), t.shape(), "read twice");
            let want = match kind {
                tch::Kind::Float => DType::F32,
                tch::Kind::Int8 => DType::I8,
                tch::Kind::Bool => DType::Bool,
                _ => DType::BF16,
            };
            assert_eq!(t.dtype(), want);
            // A result's metadata comes from libtorch too.
            let r = t.astype(DType::F64).unwrap().reshape([-1]).unwrap();
            assert_eq!(r.shape(), [shape.iter().product::<usize>()]);
            assert_eq!(r.dtype(), DType::F64);
        }
    }
}

#[test]
fn detach_keeps_an_emulated_unsigned_dtype() {
    let x = EagerTensor::from_vec(Backend::Torch, vec![1u32, 4_000_000_000], [2]).unwrap();
    let d = x.detach();
    assert_eq!(d.dtype(), DType::U32);
    assert_eq!(d.to_vec::<u32>().unwrap(), [1, 4_000_000_000]);
}

#[test]
fn native_gradients_and_value_are_outside_libtorch_graph() {
    let x = EagerTensor::from_vec(Backend::Torch, vec![1.0f32, -2.0, 3.0], [3]).unwrap();
    let w = EagerTensor::from_vec(Backend::Torch, vec![0.5f32, 0.25, 2.0], [3]).unwrap();
    let (v, g) = ep::value_and_grads(|p| p[0].mul(&p[1])?.square()?.sum(), &[&x, &w]).unwrap();
    // d/dx sum((x w)^2) = 2 x w^2, d/dw = 2 w x^2.
    assert_eq!(v.item::<f32>().unwrap(), 0.25 + 0.25 + 36.0);
    assert_eq!(g[0].to_vec::<f32>().unwrap(), [0.5, -0.25, 24.0]);
    assert_eq!(g[1].to_vec::<f32>().unwrap(), [1.0, 2.0, 36.0]);
    for t in [&v, &g[0], &g[1]] {
        let raw = t.as_raw::<tch::Tensor>().unwrap();
        assert!(!raw.requires_grad(), "{t:?} still requires grad");
    }
}

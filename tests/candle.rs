//! The candle backend (issue 15): zero-copy wrapping, and the places where
//! Candle's kernels differ from eager-tensor's rules.
#![cfg(feature = "candle")]

// Wrapping and unwrapping a Candle tensor copies nothing: the data pointer
// is the same before and after, through the backend and through the
// facade (`astensor` / `into_raw`), and host buffers are lent and adopted
// in place.

mod common;

use eager_core::ops::prelude::*;
use eager_tensor::backends::candle::CandleTensor;
use eager_tensor::candle_core::{Device, Tensor};
use eager_tensor::{self as ep, Backend, DType, EagerTensor, HostBuffer, HostData};

fn ptr(t: &Tensor) -> *const u8 {
    CandleTensor::wrap(t.clone())
        .data_ptr()
        .expect("a contiguous CPU tensor has a data pointer")
}

#[test]
fn wrap_and_unwrap_share_the_storage() {
    let t = Tensor::from_vec(vec![1f32, 2.0, 3.0, 4.0], (2, 2), &Device::Cpu).unwrap();
    let p = ptr(&t);
    let w = CandleTensor::wrap(t);
    assert_eq!(w.dtype(), DType::F32);
    assert_eq!(w.shape(), vec![2, 2]);
    let back = w.into_candle().unwrap();
    assert_eq!(ptr(&back), p);
    assert_eq!(
        back.to_vec2::<f32>().unwrap(),
        vec![vec![1.0, 2.0], vec![3.0, 4.0]]
    );
}

#[test]
fn astensor_and_into_raw_copy_nothing() {
    let t = Tensor::from_vec(vec![1f64, -2.0, 3.5], 3, &Device::Cpu).unwrap();
    let p = ptr(&t);
    let e = ep::astensor(t);
    assert_eq!(e.backend(), ep::Backend::Candle);
    assert_eq!(e.dtype(), ep::DType::F64);
    assert_eq!(e.host_ptr().unwrap(), Some(p as usize));
    assert_eq!(e.to_vec::<f64>().unwrap(), vec![1.0, -2.0, 3.5]);
    let back: Tensor = e.into_raw().unwrap();
    assert_eq!(ptr(&back), p);
    // A result computed by the backend comes back as a Candle tensor too.
    let sq: Tensor = ep::astensor(back).square().unwrap().into_raw().unwrap();
    assert_eq!(sq.to_vec1::<f64>().unwrap(), vec![1.0, 4.0, 12.25]);
}

/// Every dtype Candle has natively (candle-core 0.11: u8, u32, i16, i32,
/// i64, f16, bf16, f32, f64) wraps and unwraps with the same data pointer,
/// through the backend and through the facade.
#[test]
fn every_native_dtype_wraps_and_unwraps_in_place() {
    use eager_tensor::candle_core::WithDType;
    fn check<E: ep::Element + WithDType + std::fmt::Debug>(v: Vec<E>, d: DType) {
        let t = Tensor::from_vec(v.clone(), (2, v.len() / 2), &Device::Cpu).unwrap();
        let (p, cd) = (ptr(&t), t.dtype());
        let w = CandleTensor::wrap(t.clone());
        assert_eq!((w.dtype(), w.shape()), (d, vec![2, v.len() / 2]), "[{d}]");
        let back = w.into_candle().unwrap();
        assert_eq!((ptr(&back), back.dtype()), (p, cd), "[{d}] backend");
        let e = ep::try_astensor(t).unwrap();
        assert_eq!(e.dtype(), d);
        assert_eq!(e.host_ptr().unwrap(), Some(p as usize), "[{d}]");
        assert_eq!(e.to_vec::<E>().unwrap(), v, "[{d}]");
        let back: Tensor = e.into_raw().unwrap();
        assert_eq!((ptr(&back), back.dtype()), (p, cd), "[{d}] facade");
        assert_eq!(
            back.flatten_all().unwrap().to_vec1::<E>().unwrap(),
            v,
            "[{d}]"
        );
    }
    check(vec![0u8, 7, 200, 255], DType::U8);
    check(vec![0u32, 7, 1 << 31, u32::MAX], DType::U32);
    check(vec![i16::MIN, -7, 0, i16::MAX], DType::I16);
    check(vec![i32::MIN, -7, 0, i32::MAX], DType::I32);
    check(vec![i64::MIN, -7, 0, i64::MAX], DType::I64);
    let h = |x: f32| ep::f16::from_f32(x);
    check(vec![h(-1.5), h(0.0), h(2.0e-7), h(65504.0)], DType::F16);
    let b = |x: f32| ep::bf16::from_f32(x);
    check(vec![b(-1.5), b(0.0), b(1e-30), b(3e38)], DType::BF16);
    check(vec![-1.5f32, 0.0, 1e-30, 3e38], DType::F32);
    check(vec![-1.5f64, 0.0, 1e-300, 1e300], DType::F64);
}

/// A Candle float8 (`F8E4M3`) tensor: `astensor` wraps it (it cannot fail),
/// `try_astensor` is a `dtype` error naming `F8E4M3`, `dtype()` reads `f32`
/// (documented: meaningless for such a tensor) and every op, a no-op cast
/// to `f32` included, is that error.
#[test]
fn float8_is_refused_naming_the_dtype() {
    use eager_tensor::candle_core::DType as CD;
    let t = Tensor::new(&[1f32, 2.0, -0.5], &Device::Cpu)
        .unwrap()
        .to_dtype(CD::F8E4M3)
        .unwrap();
    let tried = ep::try_astensor(t.clone());
    common::assert_unsupported_native(tried, ep::astensor(t), 3, "F8E4M3");
}

#[test]
fn a_view_lends_from_its_offset() {
    let t = Tensor::arange(0i64, 12, &Device::Cpu)
        .unwrap()
        .reshape((3, 4))
        .unwrap();
    let base = ptr(&t);
    let rows = t.narrow(0, 1, 2).unwrap();
    let buf = CandleTensor::wrap(rows)
        .lend_host()
        .unwrap()
        .expect("contiguous rows lend");
    assert_eq!(buf.ptr(), base.wrapping_add(4 * 8));
    assert_eq!(buf.shape(), &[2, 4]);
    let (data, _) = buf.into_host_data();
    assert_eq!(data, HostData::I64((4..12).collect()));
    // A transposed view is not row-major: nothing is lent.
    let tr = CandleTensor::wrap(t.t().unwrap());
    assert!(tr.lend_host().unwrap().is_none());
}

#[test]
fn adopting_a_lent_vector_moves_it() {
    let data = HostData::F32(vec![0.5, 1.5, 2.5]);
    let buf = HostBuffer::from_host_data(data, &[3]).unwrap();
    let p = buf.ptr();
    let t = CandleTensor::adopt_host(buf).unwrap();
    assert_eq!(t.data_ptr(), Some(p));
    assert_eq!(t.to_host().unwrap(), HostData::F32(vec![0.5, 1.5, 2.5]));
}

#[test]
fn to_backend_round_trip_keeps_values() {
    let nd = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1u16, 65535, 7], [3]).unwrap();
    let c = nd.to_backend(ep::Backend::Candle).unwrap();
    assert_eq!(c.backend(), ep::Backend::Candle);
    assert_eq!(c.dtype(), ep::DType::U16);
    assert_eq!(c.to_vec::<u16>().unwrap(), vec![1, 65535, 7]);
    let f = ep::EagerTensor::from_vec(ep::Backend::Candle, vec![1f32, 2.0], [2]).unwrap();
    let p = f.host_ptr().unwrap().expect("f32 lends");
    // ndarray copies what it receives from another framework, once.
    let back = f.to_backend(ep::Backend::NdArray).unwrap();
    assert_eq!(back.to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
    assert_ne!(back.host_ptr().unwrap(), Some(p));
}

#[test]
fn bool_lends_its_bytes_and_emulated_dtypes_do_not_unwrap() {
    let b = CandleTensor::from_host(HostData::Bool(vec![true, false, true]), &[3]).unwrap();
    assert_eq!(b.dtype(), DType::Bool);
    let buf = b.lend_host().unwrap().expect("bool is stored as 0/1 bytes");
    assert_eq!(buf.as_bytes(), &[1, 0, 1]);
    for h in [
        HostData::Bool(vec![true]),
        HostData::I8(vec![-3]),
        HostData::U16(vec![65535]),
        HostData::U64(vec![u64::MAX]),
    ] {
        let d = h.dtype();
        let t = CandleTensor::from_host(h.clone(), &[1]).unwrap();
        assert_eq!(t.dtype(), d);
        assert_eq!(t.to_host().unwrap(), h);
        let e = t.into_candle().unwrap_err();
        assert_eq!(e.kind(), "dtype", "{d}");
    }
}

#[test]
fn cuda_is_a_clear_error() {
    let t = CandleTensor::from_host(HostData::F32(vec![1.0]), &[1]).unwrap();
    let e = t.to_device(eager_core::Device::Cuda(0)).unwrap_err();
    assert_eq!(e.kind(), "unsupported");
    assert!(e.to_string().contains("CUDA"), "{e}");
    assert_eq!(
        t.to_device(eager_core::Device::Cpu)
            .unwrap()
            .to_host()
            .unwrap(),
        HostData::F32(vec![1.0])
    );
}

// // Places where Candle's own kernels differ from eager-tensor's rules
// (docs/semantics.md), checked on the candle backend through the facade:
// each assertion fails if the backend handed the op to Candle unadjusted.

fn f32s(v: &[f32], shape: &[usize]) -> EagerTensor {
    EagerTensor::from_vec(Backend::Candle, v.to_vec(), shape).unwrap()
}

fn bits(t: &EagerTensor) -> Vec<u32> {
    t.to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|x| x.to_bits())
        .collect()
}

#[test]
fn minimum_and_maximum_propagate_nan_and_take_the_second_zero() {
    let a = f32s(&[f32::NAN, 1.0, 0.0, -0.0], &[4]);
    let b = f32s(&[1.0, f32::NAN, -0.0, 0.0], &[4]);
    let lo = a.minimum(&b).unwrap();
    let v = lo.to_vec::<f32>().unwrap();
    assert!(v[0].is_nan() && v[1].is_nan(), "{v:?}");
    assert_eq!(bits(&lo)[2..], [(-0.0f32).to_bits(), 0.0f32.to_bits()]);
    let hi = a.maximum(&b).unwrap();
    assert!(hi.to_vec::<f32>().unwrap()[1].is_nan());
    assert_eq!(bits(&hi)[2..], [(-0.0f32).to_bits(), 0.0f32.to_bits()]);
}

#[test]
fn sign_relu_and_round_follow_numpy() {
    let x = f32s(&[f32::NAN, -0.0, -2.0, 0.5, 1.5, 2.5], &[6]);
    let s = x.sign().unwrap().to_vec::<f32>().unwrap();
    assert!(s[0].is_nan());
    assert_eq!(s[1..], [0.0, -1.0, 1.0, 1.0, 1.0]);
    let r = x.relu().unwrap();
    assert!(r.to_vec::<f32>().unwrap()[0].is_nan());
    assert_eq!(bits(&r)[1], 0.0f32.to_bits());
    // Half to even, where Candle rounds half away from zero.
    assert_eq!(
        x.round().unwrap().to_vec::<f32>().unwrap()[3..],
        [0.0, 2.0, 2.0]
    );
}

#[test]
fn integer_arithmetic_wraps_and_floors() {
    let a = EagerTensor::from_vec(Backend::Candle, vec![i32::MAX, -7, 7, 5], [4]).unwrap();
    let b = EagerTensor::from_vec(Backend::Candle, vec![1i32, 2, -2, 0], [4]).unwrap();
    assert_eq!(a.add(&b).unwrap().to_vec::<i32>().unwrap()[0], i32::MIN);
    assert_eq!(
        a.floor_div(&b).unwrap().to_vec::<i32>().unwrap()[1..],
        [-4, -4, 0]
    );
    assert_eq!(a.rem(&b).unwrap().to_vec::<i32>().unwrap()[1..], [1, -1, 0]);
    // Emulated dtypes wrap in their own range.
    let i8s = EagerTensor::from_vec(Backend::Candle, vec![127i8, -128], [2]).unwrap();
    assert_eq!(
        i8s.add(1i64).unwrap().to_vec::<i8>().unwrap(),
        vec![-128, -127]
    );
    let u64s = EagerTensor::from_vec(Backend::Candle, vec![u64::MAX, 1], [2]).unwrap();
    assert_eq!(u64s.add(1u64).unwrap().to_vec::<u64>().unwrap(), vec![0, 2]);
    assert_eq!(
        u64s.gt(2u64).unwrap().to_vec::<bool>().unwrap(),
        vec![true, false],
        "u64 order is unsigned"
    );
}

#[test]
fn casts_saturate_and_wrap() {
    let x = f32s(&[f32::NAN, f32::INFINITY, -1e20, 300.7], &[4]);
    assert_eq!(
        x.astype(DType::I32).unwrap().to_vec::<i32>().unwrap(),
        vec![0, i32::MAX, i32::MIN, 300]
    );
    assert_eq!(
        x.astype(DType::I8).unwrap().to_vec::<i8>().unwrap(),
        vec![0, 127, -128, 127]
    );
    assert_eq!(
        x.astype(DType::Bool).unwrap().to_vec::<bool>().unwrap(),
        vec![true; 4]
    );
    let big = EagerTensor::from_vec(Backend::Candle, vec![300i64, -1], [2]).unwrap();
    assert_eq!(
        big.astype(DType::U8).unwrap().to_vec::<u8>().unwrap(),
        vec![44, 255]
    );
    assert_eq!(
        big.astype(DType::U16).unwrap().to_vec::<u16>().unwrap(),
        vec![300, 65535]
    );
}

#[test]
fn sums_are_accurate_and_reductions_keep_nan() {
    let n = 100_000;
    let x = f32s(&vec![0.01f32; n], &[n]);
    let s = x.sum().unwrap().item::<f32>().unwrap();
    // ndarray's blocked pairwise sum, bit for bit (4e-6 relative here; a
    // sequential f32 loop: 7e-4).
    let nd = EagerTensor::from_vec(Backend::NdArray, vec![0.01f32; n], [n]).unwrap();
    assert_eq!(
        s.to_bits(),
        nd.sum().unwrap().item::<f32>().unwrap().to_bits()
    );
    assert!((s - 1000.0).abs() < 1e-2, "{s}");
    let y = f32s(&[1.0, f32::NAN, 3.0], &[3]);
    assert!(y.max().unwrap().item::<f32>().unwrap().is_nan());
    assert_eq!(y.argmax().unwrap().item::<i64>().unwrap(), 1);
    let h =
        EagerTensor::from_vec(Backend::Candle, vec![ep::f16::from_f32(0.1); 4096], [4096]).unwrap();
    let hs = h.sum().unwrap().item::<ep::f16>().unwrap().to_f32();
    assert!((hs - 409.5).abs() < 0.5, "f16 sums accumulate in f32: {hs}");
}

#[test]
fn sorts_are_stable_with_nan_last() {
    let x = f32s(&[2.0, f32::NAN, 1.0, 2.0, -0.0, 0.0], &[6]);
    assert_eq!(
        x.argsort(-1).unwrap().to_vec::<i64>().unwrap(),
        vec![4, 5, 2, 0, 3, 1]
    );
    let v = x.sort(-1).unwrap().to_vec::<f32>().unwrap();
    assert!(v[5].is_nan());
}

#[test]
fn views_and_gathers_on_strided_and_empty_tensors() {
    let x = f32s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let t = x.transpose().unwrap();
    assert_eq!(
        t.matmul(&x).unwrap().to_vec::<f32>().unwrap()[..3],
        [17.0, 22.0, 27.0]
    );
    let idx = EagerTensor::from_vec(Backend::Candle, vec![1i64, 0, 1], [3, 1]).unwrap();
    let g = t.take_along_axis(&idx, 1).unwrap();
    assert_eq!(g.to_vec::<f32>().unwrap(), vec![4.0, 2.0, 6.0]);
    let e = x.index(ep::s![1..1]).unwrap();
    assert_eq!(e.shape(), vec![0, 3]);
    assert_eq!(e.sum_axes([1], false).unwrap().shape(), vec![0]);
    assert_eq!(ep::concatenate(&[&e, &x], 0).unwrap().shape(), vec![2, 3]);
    let every_other = x.index(ep::s![.., ..;2]).unwrap();
    assert_eq!(
        every_other.to_vec::<f32>().unwrap(),
        vec![1.0, 3.0, 4.0, 6.0]
    );
}

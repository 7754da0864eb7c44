//! Wrapping and unwrapping a Candle tensor copies nothing: the data pointer
//! is the same before and after, through the backend and through the
//! facade (`astensor` / `into_raw`), and host buffers are lent and adopted
//! in place.

use candle_core::{Device, Tensor};
use eager_candle::CandleTensor;
use eager_core::{BackendTensor, DType, HostBuffer, HostData};
use eager_tensor as ep;

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
    let buf = HostBuffer::from_host_data(data, &[3]);
    let p = buf.ptr();
    let t = CandleTensor::adopt_host(buf).unwrap();
    assert_eq!(t.data_ptr(), Some(p));
    assert_eq!(t.to_host().unwrap(), HostData::F32(vec![0.5, 1.5, 2.5]));
}

#[test]
fn to_backend_round_trip_keeps_values() {
    let nd = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1u16, 65535, 7], &[3]).unwrap();
    let c = nd.to_backend(ep::Backend::Candle).unwrap();
    assert_eq!(c.backend(), ep::Backend::Candle);
    assert_eq!(c.dtype(), ep::DType::U16);
    assert_eq!(c.to_vec::<u16>().unwrap(), vec![1, 65535, 7]);
    let f = ep::EagerTensor::from_vec(ep::Backend::Candle, vec![1f32, 2.0], &[2]).unwrap();
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

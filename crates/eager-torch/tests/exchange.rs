//! Zero-copy exchange with real libtorch: lending a tensor's memory,
//! adopting foreign memory (and host vectors, through `from_host`), and
//! keeping the lender's owner alive exactly as long as libtorch uses it.

use eager_core::ops::prelude::*;
use eager_core::{DType, Error, HostBuffer, HostData};
use eager_torch::tch::{Device, Kind, Tensor};
use eager_torch::TorchTensor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// `n` elements of `d` from a fixed pseudo-random bit pattern (every bit
/// pattern occurs: u64 above i64::MAX, negative zero, NaN payloads; bools
/// 0 or 1).
fn sample(d: DType, n: usize, seed: u64) -> HostData {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let bytes = (0..n * d.size_of())
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if d == DType::Bool {
                (x & 1) as u8
            } else {
                (x >> 24) as u8
            }
        })
        .collect();
    HostData::from_ne_bytes(d, bytes)
}

/// The dtypes stored in wider signed storage, which are copied instead.
fn widened(d: DType) -> bool {
    matches!(d, DType::U16 | DType::U32)
}

fn ptr(t: &Tensor) -> *const u8 {
    t.data_ptr().cast_const().cast()
}

/// Memory allocated and filled by [`churn`], held until dropped.
#[must_use]
struct Garbage(
    #[allow(dead_code)] Vec<Tensor>,
    #[allow(dead_code)] Vec<Vec<u8>>,
);

/// Allocates and fills lots of memory of the size freed just before, and
/// holds it while the caller reads: memory freed too early is reused here
/// (malloc hands out a freed block of the same size first), so a tensor
/// reading freed memory reads these values instead of its own.
fn churn(bytes_each: usize) -> Garbage {
    let mut keep = Vec::new();
    for i in 0..500 {
        let t = Tensor::f_full(
            [(bytes_each / 4) as i64],
            -12345.0,
            (Kind::Float, Device::Cpu),
        )
        .unwrap();
        keep.push(t);
        keep.push(
            Tensor::f_full(
                [(bytes_each / 8) as i64],
                i as i64,
                (Kind::Int64, Device::Cpu),
            )
            .unwrap(),
        );
    }
    let filler: Vec<Vec<u8>> = (0..500)
        .map(|i| vec![(i % 251) as u8; bytes_each])
        .collect();
    Garbage(keep, filler)
}

#[test]
fn lend_gives_the_tensors_own_memory_for_every_dtype() {
    for (i, d) in DType::ALL.into_iter().enumerate() {
        let data = sample(d, 24, i as u64);
        let t = TorchTensor::from_host(data.clone(), &[2, 3, 4]).unwrap();
        let lent = t.lend_host().unwrap();
        if widened(d) {
            // Stored as i32/i64: the bytes differ, so nothing is lent.
            assert!(lent.is_none(), "{d}");
            continue;
        }
        let buf = lent.unwrap_or_else(|| panic!("{d}: nothing lent"));
        assert_eq!(buf.ptr(), ptr(t.tensor()), "{d}");
        assert_eq!(buf.dtype(), d);
        assert_eq!(buf.shape(), [2, 3, 4]);
        // The buffer keeps the memory alive after the tensor is gone.
        drop(t);
        let _g = churn(24 * d.size_of());
        assert_eq!(buf.as_bytes(), data.as_bytes(), "{d}");
    }
}

#[test]
fn lend_of_a_native_tensor_and_what_is_not_lent() {
    let t = TorchTensor::from(Tensor::f_arange(12i64, (Kind::Float, Device::Cpu)).unwrap());
    let buf = t.lend_host().unwrap().unwrap();
    assert_eq!(buf.ptr(), ptr(t.tensor()));
    assert_eq!(buf.dtype(), DType::F32);
    let want: Vec<u8> = (0..12).flat_map(|x| (x as f32).to_ne_bytes()).collect();
    assert_eq!(buf.as_bytes(), want);

    // A tensor that requires grad lends its data (the owner is detached).
    let g = TorchTensor::from(
        t.tensor()
            .f_reshape([3, 4])
            .unwrap()
            .f_set_requires_grad(true)
            .unwrap(),
    );
    let gbuf = g.lend_host().unwrap().unwrap();
    assert_eq!(gbuf.ptr(), ptr(g.tensor()));
    assert_eq!(gbuf.shape(), [3, 4]);

    // A contiguous slice lends from its offset.
    let s = TorchTensor::from(t.tensor().f_narrow(0, 4, 6).unwrap());
    let sbuf = s.lend_host().unwrap().unwrap();
    assert_eq!(sbuf.ptr(), buf.ptr().wrapping_add(16));
    assert_eq!(sbuf.as_bytes(), &want[16..40]);

    // Strided views and empty tensors are not lent; to_host still copies.
    let tr = TorchTensor::from(
        t.tensor()
            .f_reshape([3, 4])
            .unwrap()
            .f_transpose(0, 1)
            .unwrap(),
    );
    assert!(tr.lend_host().unwrap().is_none());
    assert_eq!(tr.to_host().unwrap().len(), 12);
    let e = TorchTensor::from(Tensor::f_empty([0i64, 3], (Kind::Float, Device::Cpu)).unwrap());
    assert!(e.lend_host().unwrap().is_none());
    if eager_torch::cuda_available() {
        let c = t.to_device(eager_core::Device::Cuda(0)).unwrap();
        assert!(c.lend_host().unwrap().is_none());
    }
}

#[test]
fn adopt_uses_the_buffers_memory_for_every_dtype() {
    for (i, d) in DType::ALL.into_iter().enumerate() {
        let data = sample(d, 24, 100 + i as u64);
        let want = data.as_bytes().to_vec();
        let buf = HostBuffer::from_host_data(data, &[4, 6]).unwrap();
        let p = buf.ptr();
        let t = TorchTensor::adopt_host(buf).unwrap();
        assert_eq!(t.dtype(), d);
        assert_eq!(t.shape(), [4, 6]);
        if widened(d) {
            assert_ne!(ptr(t.tensor()), p, "{d} is widened, so copied");
        } else {
            assert_eq!(ptr(t.tensor()), p, "{d} was copied");
        }
        let _g = churn(24 * d.size_of());
        assert_eq!(t.to_host().unwrap().as_bytes(), want, "{d}");
        // And an op reads the adopted values (a sum over bits of u8).
        if d == DType::U8 {
            let s: u64 = want.iter().map(|&b| u64::from(b)).sum();
            let got = t.tensor().f_sum(Kind::Int64).unwrap().int64_value(&[]);
            assert_eq!(got as u64, s);
        }
    }
}

#[test]
fn from_host_adopts_the_vector() {
    for (i, d) in DType::ALL.into_iter().enumerate() {
        let data = sample(d, 30, 200 + i as u64);
        let want = data.as_bytes().to_vec();
        let p = data.as_bytes().as_ptr();
        let t = TorchTensor::from_host(data, &[5, 6]).unwrap();
        assert_eq!((t.dtype(), t.shape()), (d, vec![5, 6]));
        assert_eq!(ptr(t.tensor()) == p, !widened(d), "{d}");
        assert_eq!(t.to_host().unwrap().as_bytes(), want, "{d}");
    }
    // A length that does not fit the shape is an error naming the op.
    let e = TorchTensor::from_host(HostData::F32(vec![1.0; 3]), &[2, 2]).unwrap_err();
    assert_eq!((e.kind(), e.op()), ("shape", "from_vec"), "{e}");
    let e = TorchTensor::from_host(HostData::U16(vec![1; 3]), &[usize::MAX, 2]).unwrap_err();
    assert_eq!(e.op(), "from_vec", "{e}");
}

#[test]
fn empty_buffers() {
    for d in DType::ALL {
        let buf = HostBuffer::from_host_data(sample(d, 0, 1), &[0, 3]).unwrap();
        let t = TorchTensor::adopt_host(buf).unwrap();
        assert_eq!((t.dtype(), t.shape()), (d, vec![0, 3]));
        assert!(t.to_host().unwrap().is_empty());
        let t = TorchTensor::from_host(sample(d, 0, 1), &[2, 0]).unwrap();
        assert_eq!((t.dtype(), t.shape()), (d, vec![2, 0]));
    }
}

#[test]
fn a_lent_tensor_round_trips_through_adopt_without_a_copy() {
    for (i, d) in DType::ALL.into_iter().enumerate() {
        if widened(d) {
            continue;
        }
        let data = sample(d, 16, 300 + i as u64);
        let want = data.as_bytes().to_vec();
        let src = TorchTensor::from_host(data, &[16]).unwrap();
        let p = ptr(src.tensor());
        let back = TorchTensor::adopt_host(src.lend_host().unwrap().unwrap()).unwrap();
        drop(src);
        assert_eq!(ptr(back.tensor()), p, "{d}");
        let _g = churn(16 * d.size_of());
        assert_eq!(back.to_host().unwrap().as_bytes(), want, "{d}");
    }
}

/// 32 KiB of f32: below malloc's mmap threshold, so freed memory is reused
/// by `churn` rather than unmapped.
const N: i64 = 8192;

#[test]
fn views_outlive_the_source_and_the_adopted_tensor() {
    let want: Vec<f32> = (0..N).map(|x| x as f32).collect();
    let src = Tensor::f_arange(N, (Kind::Float, Device::Cpu)).unwrap();
    let p = ptr(&src);
    // The owner is a separate handle to the source's storage.
    // SAFETY: `src` is a contiguous CPU f32 tensor of N elements whose
    // storage the owner (a shallow clone) keeps alive.
    let buf = unsafe {
        HostBuffer::new(
            p,
            DType::F32,
            vec![N as usize],
            Box::new(src.shallow_clone()),
        )
    };
    drop(src);
    let adopted = TorchTensor::adopt_host(buf).unwrap();
    assert_eq!(ptr(adopted.tensor()), p);
    // Views: a tch slice and reshape, and the backend's own reshape and a
    // tensor handed out as tch's (into_raw).
    let narrow = adopted.tensor().f_narrow(0, 1000, 3000).unwrap();
    assert_eq!(ptr(&narrow), p.wrapping_add(4000));
    let grid = adopted.tensor().f_reshape([64, 128]).unwrap();
    assert_eq!(ptr(&grid), p);
    let reshaped = adopted.reshape(&[128, 64]).unwrap();
    assert_eq!(ptr(reshaped.tensor()), p);
    let raw = adopted.clone().into_tch().unwrap();
    drop(adopted);
    let _g = churn(N as usize * 4);
    assert_eq!(Vec::<f32>::try_from(&narrow).unwrap(), &want[1000..4000]);
    drop(narrow);
    let _g = churn(N as usize * 4);
    let g = Vec::<f32>::try_from(&grid.f_flatten(0, 1).unwrap()).unwrap();
    assert_eq!(g, want);
    drop(grid);
    let _g = churn(N as usize * 4);
    assert_eq!(reshaped.to_host().unwrap(), HostData::F32(want.clone()));
    drop(reshaped);
    let _g = churn(N as usize * 4);
    assert_eq!(Vec::<f32>::try_from(&raw).unwrap(), want);
}

/// An owner that holds the memory and counts its drops.
struct Counted {
    _data: Vec<f64>,
    drops: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn counted(n: usize) -> (HostBuffer, Arc<AtomicUsize>, Vec<f64>) {
    let drops = Arc::new(AtomicUsize::new(0));
    let data: Vec<f64> = (0..n).map(|i| i as f64 * 0.5 - 7.0).collect();
    let want = data.clone();
    let p = data.as_ptr().cast::<u8>();
    let owner = Counted {
        _data: data,
        drops: drops.clone(),
    };
    // SAFETY: the vector's heap memory (n f64, aligned) does not move when
    // the vector moves into the owner, and lives as long as the owner.
    let buf = unsafe { HostBuffer::new(p, DType::F64, vec![n], Box::new(owner)) };
    (buf, drops, want)
}

#[test]
fn the_owner_is_dropped_exactly_once_after_the_last_view() {
    let (buf, drops, want) = counted(N as usize / 2);
    let p = buf.ptr();
    let adopted = TorchTensor::adopt_host(buf).unwrap();
    assert_eq!(ptr(adopted.tensor()), p);
    let clone = adopted.clone();
    let view = adopted.tensor().f_narrow(0, 10, 20).unwrap();
    let raw = adopted.clone().into_tch().unwrap();
    let sliced = adopted
        .tensor()
        .f_reshape([2, -1])
        .unwrap()
        .f_select(0, 1)
        .unwrap();
    drop(adopted);
    drop(clone);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(raw);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    let _g = churn(N as usize * 4);
    assert_eq!(Vec::<f64>::try_from(&view).unwrap(), &want[10..30]);
    drop(view);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    let half = want.len() / 2;
    assert_eq!(Vec::<f64>::try_from(&sliced).unwrap(), &want[half..]);
    drop(sliced);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let _g = churn(N as usize * 4);
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    // Results of ops own new memory: the owner goes with the last view only.
    let (buf, drops, want) = counted(8);
    let t = TorchTensor::adopt_host(buf).unwrap();
    let sum = t.tensor().f_sum(Kind::Double).unwrap();
    drop(t);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(sum.double_value(&[]), want.iter().sum::<f64>());
}

#[test]
fn an_owner_dropped_on_another_thread() {
    let (buf, drops, want) = counted(64);
    let t = TorchTensor::adopt_host(buf).unwrap();
    let view = t.tensor().f_narrow(0, 8, 8).unwrap();
    drop(t);
    let _g = churn(64 * 8);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    let got = std::thread::spawn(move || {
        let v = Vec::<f64>::try_from(&view).unwrap();
        drop(view);
        v
    })
    .join()
    .unwrap();
    assert_eq!(got, &want[8..16]);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn a_misaligned_buffer_is_copied() {
    // Outside `HostBuffer::new`'s contract (f32 at an odd address), which
    // must still not read wrongly: the bytes are copied, then adopted.
    let bytes: Vec<u8> = (0..17).collect();
    let p = bytes.as_ptr().wrapping_add(1);
    // SAFETY: 16 readable bytes at `p` while the owner (the vector) lives;
    // only the alignment is off, which adopt_host checks.
    let buf = unsafe { HostBuffer::new(p, DType::F32, vec![4], Box::new(bytes)) };
    let t = TorchTensor::adopt_host(buf).unwrap();
    assert_ne!(ptr(t.tensor()), p);
    let want: Vec<f32> = (0..4u8)
        .map(|i| f32::from_ne_bytes([4 * i + 1, 4 * i + 2, 4 * i + 3, 4 * i + 4]))
        .collect();
    let got = t.to_host().unwrap();
    assert_eq!(got.as_bytes(), HostData::F32(want).as_bytes());
}

#[test]
fn an_error_names_the_op() {
    // A shape libtorch cannot index.
    let (buf, _drops, _) = counted(0);
    let (p, d, _, owner) = buf.into_parts();
    // SAFETY: zero elements are read.
    let buf = unsafe { HostBuffer::new(p, d, vec![0, usize::MAX], owner) };
    let e: Error = TorchTensor::adopt_host(buf).unwrap_err();
    assert_eq!(e.op(), "adopt_host", "{e}");
}

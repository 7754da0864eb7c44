//! Zero-copy exchange on real libtensorflow: `lend_host` shares the
//! handle's buffer, `adopt_host` shares a suitably aligned foreign buffer
//! and keeps its owner alive exactly as long as TensorFlow uses it, a
//! misaligned one is copied and released at once.

use eager_core::ops::prelude::*;
use eager_core::{BinaryOp, DType, HostBuffer, HostData, ReduceOp};
use eager_tensorflow::TfTensor;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const VALUES: [f64; 6] = [1.0, 0.0, 3.0, 4.0, 5.0, 126.0];

fn tensor(d: DType) -> TfTensor {
    TfTensor::from_host(HostData::from_f64s(d, &VALUES), &[2, 3]).unwrap()
}

/// Bytes placed at an address that is a multiple of `align` but not of
/// `2 * align` (so exactly `align`-aligned).
struct Placed {
    raw: Vec<u8>,
    off: usize,
    len: usize,
}

impl Placed {
    fn new(bytes: &[u8], align: usize) -> Arc<Placed> {
        let mut raw = vec![0u8; bytes.len() + 4 * align];
        let base = raw.as_ptr() as usize;
        let off = (0..4 * align)
            .find(|o| (base + o) % align == 0 && (base + o) % (2 * align) != 0)
            .unwrap();
        raw[off..off + bytes.len()].copy_from_slice(bytes);
        Arc::new(Placed {
            raw,
            off,
            len: bytes.len(),
        })
    }
    fn ptr(&self) -> *const u8 {
        self.raw[self.off..].as_ptr()
    }
    fn bytes(&self) -> &[u8] {
        &self.raw[self.off..self.off + self.len]
    }
}

/// The owner of an adopted buffer: keeps the bytes alive and counts drops.
struct Tracked {
    _mem: Arc<Placed>,
    drops: Arc<AtomicUsize>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A buffer of `data` at exactly `align`-aligned memory, owned by a
/// [`Tracked`]; returns the buffer, the memory (the buffer's source) and the
/// drop counter.
fn placed_buffer(
    data: &HostData,
    shape: &[usize],
    align: usize,
) -> (HostBuffer, Arc<Placed>, Arc<AtomicUsize>) {
    let mem = Placed::new(data.as_bytes(), align);
    let drops = Arc::new(AtomicUsize::new(0));
    let owner = Tracked {
        _mem: mem.clone(),
        drops: drops.clone(),
    };
    // SAFETY: `mem` holds `data`'s bytes (whole elements of its dtype, bools
    // 0 or 1) at `ptr`, aligned to `align` (a multiple of the element size
    // in every call below), and the owner keeps `mem` alive.
    let buf = unsafe { HostBuffer::new(mem.ptr(), data.dtype(), shape.to_vec(), Box::new(owner)) };
    (buf, mem, drops)
}

fn lent_ptr(t: &TfTensor) -> *const u8 {
    t.lend_host().unwrap().expect("a CPU tensor lends").ptr()
}

/// Fills a lot of freshly allocated memory, so that memory freed too early
/// would be overwritten.
fn churn_memory() -> usize {
    let chunks: Vec<Vec<u8>> = (0..96u8).map(|i| vec![i ^ 0xA5; 1 << 20]).collect();
    chunks.iter().map(|c| c[c.len() / 2] as usize).sum()
}

#[test]
fn lend_shares_one_stable_pointer_for_every_dtype() {
    for d in DType::ALL {
        let t = tensor(d);
        let a = t.lend_host().unwrap().expect("a CPU tensor lends");
        let b = t.lend_host().unwrap().expect("a CPU tensor lends");
        assert_eq!(a.ptr(), b.ptr(), "{d}: two resolves share the buffer");
        assert!(!a.ptr().is_null() && a.is_aligned(64), "{d}");
        assert_eq!((a.dtype(), a.shape()), (d, &[2usize, 3][..]), "{d}");
        let host = t.to_host().unwrap();
        assert_eq!(a.as_bytes(), host.as_bytes(), "{d}: same bytes as to_host");
        // The lent buffer keeps the memory after the tensor is gone.
        drop(t);
        churn_memory();
        assert_eq!(b.as_bytes(), host.as_bytes(), "{d}: alive after the tensor");
        let (data, shape) = a.into_host_data();
        assert_eq!((data, shape), (host, vec![2, 3]), "{d}");
    }
    // The same buffer as the tensorflow crate's own resolve.
    let t = tensor(DType::F32);
    let own = t.handle().resolve::<f32>().unwrap();
    assert_eq!(lent_ptr(&t), own.as_ptr().cast::<u8>());
}

#[test]
fn lend_of_an_empty_tensor_is_none() {
    let t = TfTensor::from_host(HostData::F32(vec![]), &[0, 3]).unwrap();
    assert_eq!(t.shape(), vec![0, 3]);
    assert!(t.lend_host().unwrap().is_none());
}

#[test]
fn adopt_of_a_lent_tensorflow_buffer_shares_it() {
    for d in DType::ALL {
        let t = tensor(d);
        let buf = t.lend_host().unwrap().unwrap();
        let ptr = buf.ptr();
        let u = TfTensor::adopt_host(buf).unwrap();
        drop(t);
        assert_eq!(lent_ptr(&u), ptr, "{d}");
        assert_eq!(u.to_host().unwrap(), HostData::from_f64s(d, &VALUES), "{d}");
    }
}

#[test]
fn adopt_of_a_64_byte_aligned_buffer_shares_it_for_every_dtype() {
    for d in DType::ALL {
        let data = HostData::from_f64s(d, &VALUES);
        let (buf, mem, drops) = placed_buffer(&data, &[3, 2], 64);
        let t = TfTensor::adopt_host(buf).unwrap();
        assert_eq!(
            lent_ptr(&t),
            mem.ptr(),
            "{d}: the adopted tensor lends it back"
        );
        assert_eq!((t.dtype(), t.shape()), (d, vec![3, 2]), "{d}");
        assert_eq!(t.to_host().unwrap(), data, "{d}");
        drop(mem);
        assert_eq!(drops.load(Ordering::SeqCst), 0, "{d}: still in use");
        drop(t);
        assert_eq!(drops.load(Ordering::SeqCst), 1, "{d}: released once");
    }
}

/// Which alignments TF_NewTensor shares (its EIGEN_MAX_ALIGN_BYTES): 64
/// and up for this libtensorflow; below, it copies and releases the owner
/// at once, and the values are still right.
#[test]
fn tensorflow_shares_64_byte_aligned_memory_and_copies_the_rest() {
    let data = HostData::U8((0..100u8).collect());
    let mut shared = BTreeMap::new();
    for align in [1, 2, 4, 8, 16, 32, 64, 128, 256] {
        let (buf, mem, drops) = placed_buffer(&data, &[100], align);
        let t = TfTensor::adopt_host(buf).unwrap();
        let same = lent_ptr(&t) == mem.ptr();
        shared.insert(align, same);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            usize::from(!same),
            "align {align}"
        );
        assert_eq!(t.to_host().unwrap(), data, "align {align}");
        drop(t);
        assert_eq!(drops.load(Ordering::SeqCst), 1, "align {align}");
        assert_eq!(mem.bytes(), data.as_bytes(), "TF never writes into it");
    }
    println!("alignment -> shared: {shared:?}");
    let expected: BTreeMap<usize, bool> = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        .into_iter()
        .map(|a| (a, a >= 64))
        .collect();
    assert_eq!(shared, expected);
}

#[test]
fn adopted_values_survive_dropping_the_source_and_memory_churn() {
    let n = 1 << 18;
    let values: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 - 500.0).collect();
    let data = HostData::F32(values.clone());
    let (buf, mem, drops) = placed_buffer(&data, &[n / 4, 4], 64);
    let ptr = mem.ptr();
    let t = TfTensor::adopt_host(buf).unwrap();
    // The source goes first: only TensorFlow keeps the memory now.
    drop(mem);
    assert_eq!(lent_ptr(&t), ptr);
    let ones = TfTensor::from_host(HostData::F32(vec![1.0; 4]), &[4]).unwrap();
    let plus = t.binary(BinaryOp::Add, &ones).unwrap();
    let sums = t.reduce(ReduceOp::Sum, &[1], false).unwrap();
    // A view (Reshape aliases its input's buffer) outlives the tensor.
    let view = t.reshape(&[n]).unwrap();
    assert_eq!(lent_ptr(&view), ptr);
    let lent = t.lend_host().unwrap().unwrap();
    drop(t);
    assert!(churn_memory() > 0);
    let expect_plus: Vec<f32> = values.iter().map(|v| v + 1.0).collect();
    let expect_sums: Vec<f32> = values.chunks(4).map(|c| c.iter().sum()).collect();
    assert_eq!(plus.to_host().unwrap(), HostData::F32(expect_plus));
    assert_eq!(sums.to_host().unwrap(), HostData::F32(expect_sums));
    assert_eq!(view.to_host().unwrap(), HostData::F32(values.clone()));
    assert_eq!(lent.as_bytes(), data.as_bytes());
    // Results of ops have buffers of their own: dropping them keeps it.
    drop((plus, sums, ones));
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(view);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "the lent buffer still holds it"
    );
    drop(lent);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "released after the last reference"
    );
    churn_memory();
    assert_eq!(drops.load(Ordering::SeqCst), 1, "exactly once");
}

#[test]
fn a_misaligned_buffer_is_copied_and_released_at_once() {
    let values: Vec<f32> = (0..1000).map(|i| i as f32 * 0.5).collect();
    let data = HostData::F32(values.clone());
    for align in [4, 16] {
        let (buf, mem, drops) = placed_buffer(&data, &[10, 100], align);
        let t = TfTensor::adopt_host(buf).unwrap();
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "align {align}: released at once"
        );
        assert_ne!(lent_ptr(&t), mem.ptr(), "align {align}: copied");
        drop(mem);
        churn_memory();
        let sums = t.reduce(ReduceOp::Sum, &[0], false).unwrap();
        let expect: Vec<f32> = (0..100)
            .map(|j| (0..10).map(|i| values[i * 100 + j]).sum())
            .collect();
        assert_eq!(sums.to_host().unwrap(), HostData::F32(expect));
        assert_eq!(t.to_host().unwrap(), data);
        drop(t);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "align {align}: exactly once"
        );
    }
}

#[test]
fn from_host_adopts_an_aligned_vector_and_copies_a_misaligned_one() {
    // glibc's malloc aligns to 16 bytes: look for vectors at a 64-byte
    // address and at one that is not (keeping them all, so addresses differ).
    let mut kept = Vec::new();
    let (mut aligned, mut misaligned) = (None, None);
    for i in 0..4096 {
        let v: Vec<f32> = (0..24).map(|j| (i * 24 + j) as f32).collect();
        let p = v.as_ptr() as usize;
        if p % 64 == 0 && aligned.is_none() {
            aligned = Some(v);
        } else if p % 64 != 0 && misaligned.is_none() {
            misaligned = Some(v);
        } else {
            kept.push(v);
        }
        if aligned.is_some() && misaligned.is_some() {
            break;
        }
    }
    let (aligned, misaligned) = (aligned.unwrap(), misaligned.unwrap());
    let (pa, pm) = (
        aligned.as_ptr().cast::<u8>(),
        misaligned.as_ptr().cast::<u8>(),
    );
    let (want_a, want_m) = (
        HostData::F32(aligned.clone()),
        HostData::F32(misaligned.clone()),
    );
    // Moved in: the vectors' memory is handed over as it is.
    let a = TfTensor::from_host(HostData::F32(aligned), &[4, 6]).unwrap();
    let m = TfTensor::from_host(HostData::F32(misaligned), &[4, 6]).unwrap();
    drop(kept);
    churn_memory();
    assert_eq!(lent_ptr(&a), pa, "an aligned vector is adopted");
    assert_ne!(lent_ptr(&m), pm, "a misaligned vector is copied");
    assert_eq!(a.to_host().unwrap(), want_a);
    assert_eq!(m.to_host().unwrap(), want_m);
}

#[test]
fn empty_buffers_and_scalars_round_trip() {
    let data = HostData::I64(vec![]);
    let (buf, _mem, drops) = placed_buffer(&data, &[2, 0, 5], 64);
    let t = TfTensor::adopt_host(buf).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!((t.dtype(), t.shape()), (DType::I64, vec![2, 0, 5]));
    assert_eq!(t.to_host().unwrap(), data);
    let s = TfTensor::from_host(HostData::F64(vec![2.5]), &[]).unwrap();
    assert_eq!(s.shape(), Vec::<usize>::new());
    assert_eq!(
        s.lend_host().unwrap().unwrap().as_bytes(),
        2.5f64.to_ne_bytes()
    );
}

#[test]
fn shapes_tensorflow_would_abort_on_are_errors() {
    // More dimensions than TensorFlow's 254.
    let data = HostData::F32(vec![7.0]);
    let (buf, _mem, drops) = placed_buffer(&data, &[1; 300], 64);
    let e = TfTensor::adopt_host(buf).unwrap_err();
    assert_eq!((e.kind(), e.op()), ("shape", "adopt_host"));
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the owner is released");
    // A dimension beyond i64.
    let (buf, _mem, _) = placed_buffer(&HostData::U8(vec![]), &[0, usize::MAX], 64);
    let e = TfTensor::adopt_host(buf).unwrap_err();
    assert_eq!((e.kind(), e.op()), ("shape", "adopt_host"));
    // A vector that does not match its shape.
    let e = TfTensor::from_host(HostData::F32(vec![1.0; 5]), &[2, 3]).unwrap_err();
    assert_eq!((e.kind(), e.op()), ("shape", "from_vec"));
}

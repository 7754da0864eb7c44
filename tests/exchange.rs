//! Exchange between frameworks (issue 14): `to_backend` for every pair of
//! enabled backends and every dtype, memory shared where the table in the
//! guide (docs/guide/src/files.md) says so, results that outlive their
//! source (dropped first, its memory churned), and DLPack both ways — from
//! eager-tensor's own managed tensors and from a hand-made foreign producer
//! (strides, byte offsets, bad dtypes and devices), with the producer's
//! deleter called exactly once in every case.

use eager_tensor::dlpark::ffi::{
    DataType, DataTypeCode, Device, DeviceType, ManagedTensor, Tensor,
};
use eager_tensor::dlpark::SafeManagedTensor;
use eager_tensor::{self as ep, Backend, DType, EagerTensor, HostData};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Six values every dtype holds exactly.
fn sample(d: DType, n: usize) -> HostData {
    if d == DType::Bool {
        return HostData::Bool((0..n).map(|i| i % 3 == 0).collect());
    }
    HostData::from_f64s(d, &(0..n).map(|i| (i % 100) as f64).collect::<Vec<_>>())
}

/// Whether `to` adopts lent memory at address `p` of dtype `d` without a
/// copy (the guide's table): ndarray and candle never (they own their
/// `Vec`s); torch always, except u16/u32, which tch lacks and the backend
/// stores widened; TensorFlow and xla when `p` is 64-byte aligned (their
/// allocators' alignment; a Rust `Vec` usually is not).
fn adopts(to: Backend, d: DType, p: usize) -> bool {
    match to {
        Backend::NdArray | Backend::Candle => false,
        Backend::Torch => !matches!(d, DType::U16 | DType::U32),
        Backend::TensorFlow | Backend::Xla => p % 64 == 0,
    }
}

#[test]
fn to_backend_every_pair_every_dtype_values_and_sharing() {
    let mut shared = Vec::new();
    for from in Backend::enabled() {
        for to in Backend::enabled() {
            for d in DType::ALL {
                let h = sample(d, 2 * 3 * 50);
                let src = EagerTensor::from_host(from, h.clone(), [2, 3, 50]).unwrap();
                let dst = src.to_backend(to).unwrap();
                assert_eq!(
                    (dst.backend(), dst.dtype(), dst.shape()),
                    (to, d, vec![2, 3, 50])
                );
                assert_eq!(dst.to_host_data().unwrap(), h, "{from} -> {to} {d}");
                let (p, q) = (src.host_ptr().unwrap(), dst.host_ptr().unwrap());
                let same = p.is_some() && p == q;
                if from == to {
                    assert!(
                        same || p.is_none(),
                        "{from} -> itself {d} is the tensor itself"
                    );
                    continue;
                }
                if let Some(p) = p {
                    let want = adopts(to, d, p);
                    assert_eq!(same, want, "{from} -> {to} {d}: shared? ({p:#x}, {q:?})");
                }
                if same {
                    shared.push(format!("{from}->{to}"));
                }
            }
        }
    }
    shared.dedup();
    eprintln!("pairs that shared memory: {shared:?}");
}

/// What a framework computes itself sits at its allocator's alignment, so
/// among torch, TensorFlow and xla every such tensor is shared, both ways.
#[test]
fn framework_allocated_tensors_share_among_torch_tensorflow_and_xla() {
    let native = [Backend::Torch, Backend::TensorFlow, Backend::Xla];
    for from in Backend::enabled()
        .into_iter()
        .filter(|b| native.contains(b))
    {
        for to in Backend::enabled()
            .into_iter()
            .filter(|b| native.contains(b) && *b != from)
        {
            for d in [DType::F32, DType::I64, DType::BF16, DType::U8] {
                let x = EagerTensor::from_host(from, sample(d, 4096), [64, 64]).unwrap();
                // Computed by the framework, in its own memory.
                let src = x.maximum(&x).unwrap();
                let p = src.host_ptr().unwrap().expect("lends");
                assert_eq!(p % 64, 0, "{from} {d}: its allocator aligns to 64");
                let dst = src.to_backend(to).unwrap();
                assert_eq!(dst.host_ptr().unwrap(), Some(p), "{from} -> {to} {d}");
                drop(src);
                churn_light();
                assert_eq!(dst.to_host_data().unwrap(), sample(d, 4096));
            }
        }
    }
}

/// Fills and frees memory on every enabled backend and on the heap, so
/// memory freed too early would be reused and read as garbage.
fn churn() {
    for _ in 0..4 {
        let garbage = vec![0xA5u8; 64 << 20];
        std::hint::black_box(&garbage);
        for b in Backend::enabled() {
            let t =
                EagerTensor::from_host(b, HostData::F32(vec![-7.0; 1 << 20]), [1 << 20]).unwrap();
            std::hint::black_box(t.sum().unwrap().item::<f32>().unwrap());
        }
    }
}

#[test]
fn results_outlive_their_source() {
    let n = 1 << 18;
    let want: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    for from in Backend::enabled() {
        for to in Backend::enabled() {
            let src = EagerTensor::from_host(from, HostData::F32(want.clone()), [n]).unwrap();
            let dst = src.to_backend(to).unwrap();
            drop(src);
            churn();
            assert_eq!(
                dst.to_vec::<f32>().unwrap(),
                want,
                "{from} -> {to}, source dropped"
            );
            // A view (a slice, a reshape) outlives the tensor it came from.
            let view = dst
                .reshape([n as isize / 4, 4])
                .unwrap()
                .index(ep::s![.., 1..3])
                .unwrap();
            let sum = dst.sum().unwrap().item::<f64>().unwrap();
            drop(dst);
            churn();
            let v = view.to_vec::<f32>().unwrap();
            assert_eq!(v.len(), n / 2);
            assert_eq!((v[0], v[1], v[2]), (0.5, 1.0, 2.5), "{from} -> {to}, view");
            assert_eq!(sum, (n as f64 - 1.0) * n as f64 / 4.0);
        }
    }
}

#[test]
fn dlpack_round_trips_on_every_backend() {
    for from in Backend::enabled() {
        for to in Backend::enabled() {
            for d in DType::ALL {
                let h = sample(d, 12);
                let src = EagerTensor::from_host(from, h.clone(), [3, 4]).unwrap();
                let p = src.host_ptr().unwrap();
                let managed = src.to_dlpack().unwrap();
                {
                    use eager_tensor::dlpark::traits::TensorView;
                    assert_eq!(managed.shape(), &[3, 4]);
                    if let Some(p) = p {
                        assert_eq!(
                            managed.data_ptr() as usize,
                            p,
                            "{from} {d}: lent, not copied"
                        );
                    }
                }
                drop(src);
                let back = ep::from_dlpack(managed, to).unwrap();
                churn_light();
                assert_eq!(
                    (back.backend(), back.dtype(), back.shape()),
                    (to, d, vec![3, 4])
                );
                assert_eq!(
                    back.to_host_data().unwrap(),
                    h,
                    "{from} -> dlpack -> {to} {d}"
                );
            }
        }
    }
}

fn churn_light() {
    let garbage = vec![0x5Au8; 1 << 20];
    std::hint::black_box(&garbage);
}

/// A managed tensor as a C producer makes it: its own shape/strides
/// arrays and data, and a deleter that counts its calls.
struct Foreign {
    managed: ManagedTensor,
    _shape: Vec<i64>,
    _strides: Option<Vec<i64>>,
    _data: Vec<u64>, // 8-byte aligned storage for any dtype
}

static DELETED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn deleter(m: *mut ManagedTensor) {
    DELETED.fetch_add(1, Ordering::SeqCst);
    // SAFETY: manager_ctx is the Box<Foreign> leaked by `foreign`.
    drop(unsafe { Box::from_raw((*m).manager_ctx as *mut Foreign) });
}

fn foreign(
    bytes: &[u8],
    dtype: DataType,
    shape: &[i64],
    strides: Option<&[i64]>,
    byte_offset: u64,
    device: Device,
) -> SafeManagedTensor {
    let mut data = vec![0u64; bytes.len().div_ceil(8) + 1];
    // SAFETY: data has at least bytes.len() bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), data.as_mut_ptr().cast::<u8>(), bytes.len())
    };
    let mut f = Box::new(Foreign {
        managed: ManagedTensor::default(),
        _shape: shape.to_vec(),
        _strides: strides.map(<[i64]>::to_vec),
        _data: data,
    });
    let shape_ptr = f._shape.as_mut_ptr();
    let strides_ptr = f
        ._strides
        .as_mut()
        .map_or(std::ptr::null_mut(), |s| s.as_mut_ptr());
    let data_ptr = f._data.as_mut_ptr().cast::<std::ffi::c_void>();
    f.managed.dl_tensor = Tensor {
        data: data_ptr,
        device,
        ndim: shape.len() as i32,
        dtype,
        shape: shape_ptr,
        strides: strides_ptr,
        byte_offset,
    };
    f.managed.deleter = Some(deleter);
    let raw = Box::into_raw(f);
    // SAFETY: `raw` is a live Foreign; its first field is the managed
    // tensor (repr(Rust) is fine: only the field's address is taken).
    unsafe {
        (*raw).managed.manager_ctx = raw.cast();
        SafeManagedTensor::from_raw(&mut (*raw).managed)
    }
}

#[test]
fn dlpack_from_a_foreign_producer() {
    // One test owns the deleter counter.
    let bytes_of = |v: &[f32]| v.iter().flat_map(|x| x.to_ne_bytes()).collect::<Vec<u8>>();
    for b in Backend::enabled() {
        let before = DELETED.load(Ordering::SeqCst);
        // Compact, with a byte offset of one element.
        let v = [9.0f32, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let t = ep::from_dlpack(
            foreign(&bytes_of(&v), DataType::F32, &[2, 3], None, 4, Device::CPU),
            b,
        )
        .unwrap();
        churn_light();
        assert_eq!(
            t.to_vec::<f32>().unwrap(),
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "[{b}]"
        );
        let view = t.index(ep::s![.., 1..3]).unwrap();
        drop(t);
        assert_eq!(
            view.to_vec::<f32>().unwrap(),
            vec![2.0, 3.0, 5.0, 6.0],
            "[{b}] view"
        );
        drop(view);
        assert_eq!(
            DELETED.load(Ordering::SeqCst),
            before + 1,
            "[{b}] deleted once, after the last use"
        );
        // Transposed strides: [[1, 2, 3], [4, 5, 6]] stored column-major.
        let cm = [1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0];
        let t = ep::from_dlpack(
            foreign(
                &bytes_of(&cm),
                DataType::F32,
                &[2, 3],
                Some(&[1, 2]),
                0,
                Device::CPU,
            ),
            b,
        )
        .unwrap();
        assert_eq!(
            t.to_vec::<f32>().unwrap(),
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "[{b}] strided"
        );
        assert_eq!(
            DELETED.load(Ordering::SeqCst),
            before + 2,
            "[{b}] a copy releases at once"
        );
        // Explicit compact strides are compact; a 0-d tensor has no shape.
        let t = ep::from_dlpack(
            foreign(
                &bytes_of(&[1.0, 2.0]),
                DataType::F32,
                &[2],
                Some(&[1]),
                0,
                Device::CPU,
            ),
            b,
        )
        .unwrap();
        assert_eq!(t.to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
        drop(t);
        let t = ep::from_dlpack(
            foreign(&bytes_of(&[2.5]), DataType::F32, &[], None, 0, Device::CPU),
            b,
        )
        .unwrap();
        assert_eq!((t.shape(), t.item::<f32>().unwrap()), (vec![], 2.5));
        drop(t);
        // Errors, each naming from_dlpack, each after the deleter ran.
        let complex = DataType {
            code: DataTypeCode::Complex,
            bits: 64,
            lanes: 1,
        };
        let lanes = DataType {
            code: DataTypeCode::Float,
            bits: 32,
            lanes: 4,
        };
        let cuda = Device {
            device_type: DeviceType::Cuda,
            device_id: 0,
        };
        let cases = [
            (
                foreign(&[0; 16], complex, &[2], None, 0, Device::CPU),
                "dtype",
                "Complex of 64 bits",
            ),
            (
                foreign(&[0; 32], lanes, &[2], None, 0, Device::CPU),
                "dtype",
                "4 lanes",
            ),
            (
                foreign(&[0; 8], DataType::F32, &[2], None, 0, cuda),
                "unsupported",
                "",
            ),
            (
                foreign(&[0; 8], DataType::F32, &[-2], None, 0, Device::CPU),
                "invalid",
                "",
            ),
            (
                foreign(&[0, 2, 1], DataType::BOOL, &[3], None, 0, Device::CPU),
                "invalid",
                "",
            ),
            (
                foreign(&[0; 8], DataType::F32, &[1], None, 1, Device::CPU),
                "invalid",
                "",
            ),
            (
                foreign(
                    &[0; 8],
                    DataType::F32,
                    &[1 << 40, 1 << 40],
                    None,
                    0,
                    Device::CPU,
                ),
                "shape",
                "",
            ),
        ];
        let n = cases.len();
        let before = DELETED.load(Ordering::SeqCst);
        for (i, (m, kind, names)) in cases.into_iter().enumerate() {
            let e = ep::from_dlpack(m, b).unwrap_err();
            assert_eq!(
                (e.kind(), e.op()),
                (kind, "from_dlpack"),
                "[{b}] case {i}: {e}"
            );
            // A dtype eager-tensor lacks is named (complex, lanes).
            assert!(e.to_string().contains(names), "[{b}] case {i}: {e}");
        }
        assert_eq!(
            DELETED.load(Ordering::SeqCst),
            before + n,
            "[{b}] every error released the input"
        );
    }
}

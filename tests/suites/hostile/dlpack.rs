//! `dlpack/…`: DLPack managed tensors from a hand-made producer with
//! hostile descriptors — strides whose reach overflows (`[2, i64::MAX]`,
//! `[i64::MIN, 1]`, `[2⁶², 2⁶²]`), negative strides reaching before the
//! data pointer, byte offsets near `u64::MAX`, a data pointer whose
//! elements run past the end of the address space, a null data pointer
//! with elements, a negative `ndim` — given to `ep::from_dlpack`. Each must be
//! an `invalid` error naming `from_dlpack`, refused before any element is
//! read, with the producer's deleter run once; zero-size tensors with a
//! null data pointer are empty tensors. Every descriptor's data pointer
//! but the two at the top of the address space lies in a buffer the
//! manager context owns, with room on both sides, so a library that did
//! read would still read only memory this test owns (reading at the top
//! of the address space would crash the child, a failure).

use super::{one, Add, Expect};
use eager_tensor::dlpark::ffi::{DataType, Device, ManagedTensor, Tensor};
use eager_tensor::dlpark::SafeManagedTensor;
use eager_tensor::{self as ep, Backend};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Elements (f32) of the buffer each managed tensor owns.
const BUFFER: usize = 128;
/// Where the data pointer points in the buffer, in elements, unless a case
/// says otherwise: the middle, so that reaches either way stay inside.
const MIDDLE: usize = 64;

/// What the manager context owns: the managed tensor, its shape and
/// strides arrays, and the data (`i as f32` at element `i`).
struct Producer {
    managed: ManagedTensor,
    shape: Vec<i64>,
    strides: Option<Vec<i64>>,
    data: Vec<f32>,
}

static DELETED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn deleter(m: *mut ManagedTensor) {
    DELETED.fetch_add(1, Ordering::SeqCst);
    // SAFETY: manager_ctx is the Box<Producer> leaked by `managed`, and
    // the deleter runs once.
    drop(unsafe { Box::from_raw((*m).manager_ctx as *mut Producer) });
}

/// A hostile descriptor.
#[derive(Clone)]
struct Desc {
    shape: Vec<i64>,
    strides: Option<Vec<i64>>,
    /// Where `data` points, in elements of the owned buffer; `None`: null.
    data_at: Option<usize>,
    byte_offset: u64,
    /// `ndim` when it is not the shape's length.
    ndim: Option<i32>,
    /// A data address outside the buffer (near the top of the address
    /// space), which the library must refuse before it reads anything.
    addr: Option<usize>,
}

impl Desc {
    fn new(shape: &[i64]) -> Desc {
        Desc {
            shape: shape.to_vec(),
            strides: None,
            data_at: Some(MIDDLE),
            byte_offset: 0,
            ndim: None,
            addr: None,
        }
    }
    fn addr(mut self, addr: usize) -> Desc {
        self.addr = Some(addr);
        self
    }
    fn strides(mut self, s: &[i64]) -> Desc {
        self.strides = Some(s.to_vec());
        self
    }
    fn at(mut self, data_at: Option<usize>) -> Desc {
        self.data_at = data_at;
        self
    }
    fn offset(mut self, byte_offset: u64) -> Desc {
        self.byte_offset = byte_offset;
        self
    }
    fn ndim(mut self, ndim: i32) -> Desc {
        self.ndim = Some(ndim);
        self
    }

    /// The managed tensor, its memory owned by its manager context.
    fn managed(&self) -> SafeManagedTensor {
        let mut p = Box::new(Producer {
            managed: ManagedTensor::default(),
            shape: self.shape.clone(),
            strides: self.strides.clone(),
            data: (0..BUFFER).map(|i| i as f32).collect(),
        });
        let data = match (self.addr, self.data_at) {
            (Some(a), _) => a as *mut std::ffi::c_void,
            (None, Some(i)) => p.data[i..].as_mut_ptr().cast::<std::ffi::c_void>(),
            (None, None) => std::ptr::null_mut(),
        };
        p.managed.dl_tensor = Tensor {
            data,
            device: Device::CPU,
            ndim: self.ndim.unwrap_or(self.shape.len() as i32),
            dtype: DataType::F32,
            shape: p.shape.as_mut_ptr(),
            strides: p
                .strides
                .as_mut()
                .map_or(std::ptr::null_mut(), |s| s.as_mut_ptr()),
            byte_offset: self.byte_offset,
        };
        p.managed.deleter = Some(deleter);
        let raw = Box::into_raw(p);
        // SAFETY: `raw` is a live Producer whose managed tensor points at
        // its own arrays; the deleter frees it.
        unsafe {
            (*raw).managed.manager_ctx = raw.cast();
            SafeManagedTensor::from_raw(&mut (*raw).managed)
        }
    }
}

pub fn cases(add: &mut Add) {
    let refused = Expect::Err("invalid from_dlpack");
    let descs: Vec<(&str, Desc, Expect)> = vec![
        (
            "strides_2_i64_max",
            Desc::new(&[2, 2]).strides(&[2, i64::MAX]),
            refused,
        ),
        (
            "strides_i64_min_1",
            Desc::new(&[2, 2]).strides(&[i64::MIN, 1]),
            refused,
        ),
        (
            "strides_2^62_2^62",
            Desc::new(&[2, 2]).strides(&[1 << 62, 1 << 62]),
            refused,
        ),
        (
            "strides_i64_min_i64_min",
            Desc::new(&[2, 2]).strides(&[i64::MIN, i64::MIN]),
            refused,
        ),
        (
            "negative_stride_before_data",
            Desc::new(&[4]).strides(&[-1]),
            refused,
        ),
        (
            "negative_strides_2d_before_data",
            Desc::new(&[2, 3]).strides(&[-3, 1]),
            refused,
        ),
        (
            "negative_stride_before_data_near_buffer_start",
            Desc::new(&[3]).strides(&[-1]).at(Some(2)),
            refused,
        ),
        // A negative stride that stays within the byte offset: elements
        // 3, 2, 1, 0 from the data pointer, all after it. Valid.
        (
            "negative_stride_within_byte_offset",
            Desc::new(&[4]).strides(&[-1]).offset(12),
            Expect::Ok,
        ),
        (
            "byte_offset_u64_max",
            Desc::new(&[2]).offset(u64::MAX),
            refused,
        ),
        (
            "byte_offset_u64_max_minus_3",
            Desc::new(&[2]).offset(u64::MAX - 3),
            refused,
        ),
        (
            "byte_offset_u64_max_strided",
            Desc::new(&[2, 2]).strides(&[1, 2]).offset(u64::MAX - 7),
            refused,
        ),
        // Elements past the end of the address space (the last one would
        // wrap around to low addresses): compact and strided.
        (
            "data_at_the_top_of_the_address_space",
            Desc::new(&[4]).addr(usize::MAX - 7),
            refused,
        ),
        (
            "data_at_the_top_of_the_address_space_strided",
            Desc::new(&[2, 2]).strides(&[1, 2]).addr(usize::MAX - 7),
            refused,
        ),
        ("null_data", Desc::new(&[2]).at(None), refused),
        (
            "null_data_strided",
            Desc::new(&[2, 2]).strides(&[1, 2]).at(None),
            refused,
        ),
        (
            "null_data_with_byte_offset",
            Desc::new(&[2]).at(None).offset(64),
            refused,
        ),
        (
            "null_data_zero_size",
            Desc::new(&[0, 3]).at(None),
            Expect::Ok,
        ),
        (
            "null_data_zero_size_hostile_strides",
            Desc::new(&[3, 0])
                .strides(&[i64::MAX, i64::MIN])
                .at(None)
                .offset(u64::MAX),
            Expect::Ok,
        ),
        ("ndim_negative", Desc::new(&[2]).ndim(-1), refused),
        ("ndim_i32_min", Desc::new(&[2]).ndim(i32::MIN), refused),
    ];
    for (what, desc, expect) in descs {
        add(
            format!("dlpack/{what}"),
            expect,
            Box::new(move |b: Backend| {
                let before = DELETED.load(Ordering::SeqCst);
                let r = ep::from_dlpack(desc.managed(), b);
                if r.is_err() {
                    assert_eq!(
                        DELETED.load(Ordering::SeqCst),
                        before + 1,
                        "an error runs the producer's deleter once"
                    );
                }
                one(r)
            }),
        );
    }
}

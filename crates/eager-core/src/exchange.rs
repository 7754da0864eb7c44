//! Host memory one framework lends another, without a copy.
//!
//! A [`HostBuffer`] is a pointer to row-major, contiguous host memory of one
//! dtype, together with an *owner*: whatever keeps that memory alive on the
//! lending side (a clone of an ndarray's `Arc`, a torch tensor handle, a
//! TensorFlow `TF_Tensor`, a PJRT buffer, a DLPack deleter, or a
//! [`HostData`] vector). Dropping the owner is the one way the lender learns
//! the memory is no longer used, so a receiving framework that adopts the
//! memory keeps the owner until its own tensor (and every view of it) is
//! freed — through a deleter callback — and a framework that cannot adopt
//! foreign memory copies it and drops the owner at once.
//!
//! The lent memory is shared, not frozen: as with `torch.from_numpy` or
//! DLPack, an in-place write through either framework is seen by both.
//! eager-tensor's own ops never write in place.

use crate::{DType, HostData};
use std::alloc::Layout;
use std::any::Any;
use std::ptr::NonNull;

/// What keeps lent memory alive; dropping it releases the lender's
/// reference.
pub type Owner = Box<dyn Any + Send>;

/// Row-major, contiguous host memory of one dtype, lent by its owner (see
/// the module docs).
pub struct HostBuffer {
    ptr: *const u8,
    dtype: DType,
    shape: Vec<usize>,
    owner: Owner,
}

// SAFETY: the memory is only read through `&self` and the owner is `Send`;
// `new`'s contract makes the pointer valid for as long as the owner lives,
// on any thread.
unsafe impl Send for HostBuffer {}

impl std::fmt::Debug for HostBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostBuffer")
            .field("ptr", &self.ptr)
            .field("dtype", &self.dtype)
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

impl HostBuffer {
    /// Memory at `ptr` holding `shape`'s elements of `dtype`, row-major and
    /// contiguous, kept alive by `owner`.
    ///
    /// # Safety
    /// `ptr` must be valid for reads of `shape.iter().product() *
    /// dtype.size_of()` bytes, aligned for `dtype`, for as long as `owner` is
    /// not dropped; bool bytes must be 0 or 1.
    pub unsafe fn new(ptr: *const u8, dtype: DType, shape: Vec<usize>, owner: Owner) -> Self {
        HostBuffer {
            ptr,
            dtype,
            shape,
            owner,
        }
    }

    /// Lends a host vector: the buffer owns it, so adopting it is a move.
    /// A length other than the shape's element count is a `shape` error
    /// naming `from_vec`.
    pub fn from_host_data(data: HostData, shape: &[usize]) -> crate::Result<Self> {
        let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if n != Some(data.len()) {
            return Err(crate::Error::shape(
                "from_vec",
                format!("{} values for shape {shape:?}", data.len()),
            ));
        }
        let ptr = data.as_bytes().as_ptr();
        // Moving the vector into the box does not move its heap memory.
        Ok(HostBuffer {
            ptr,
            dtype: data.dtype(),
            shape: shape.to_vec(),
            owner: Box::new(data),
        })
    }

    /// The first byte.
    pub fn ptr(&self) -> *const u8 {
        self.ptr
    }
    /// The dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }
    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Size in bytes.
    pub fn byte_len(&self) -> usize {
        self.len() * self.dtype.size_of()
    }
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        if self.byte_len() == 0 {
            return &[];
        }
        // SAFETY: `new`'s contract (or a live `HostData`).
        unsafe { std::slice::from_raw_parts(self.ptr, self.byte_len()) }
    }
    /// True when the first byte is aligned to `align` bytes (frameworks that
    /// adopt foreign memory need 16 or 64).
    pub fn is_aligned(&self, align: usize) -> bool {
        (self.ptr as usize) % align == 0
    }
    /// The parts, for a framework that adopts the memory: it must keep the
    /// owner alive while it reads `ptr`.
    pub fn into_parts(self) -> (*const u8, DType, Vec<usize>, Owner) {
        (self.ptr, self.dtype, self.shape, self.owner)
    }
    /// The elements as a host vector and the shape: a move when the buffer
    /// lends a [`HostData`] (from [`from_host_data`](Self::from_host_data)),
    /// otherwise one copy (and the owner is released).
    pub fn into_host_data(self) -> (HostData, Vec<usize>) {
        let HostBuffer {
            ptr,
            dtype,
            shape,
            owner,
        } = self;
        match owner.downcast::<HostData>() {
            Ok(data) if data.as_bytes().as_ptr() == ptr && data.dtype() == dtype => (*data, shape),
            other => {
                let n = shape.iter().product::<usize>() * dtype.size_of();
                let bytes = if n == 0 {
                    Vec::new()
                } else {
                    // SAFETY: `new`'s contract; the owner is alive here.
                    unsafe { std::slice::from_raw_parts(ptr, n) }.to_vec()
                };
                drop(other);
                (HostData::from_ne_bytes(dtype, bytes), shape)
            }
        }
    }
}

/// The alignment TensorFlow and XLA need to share host memory instead of
/// copying it (their CPU allocators' own; torch takes any).
pub const SHARE_ALIGN: usize = 64;

/// Zeroed host memory aligned to [`SHARE_ALIGN`] bytes, to be filled (from
/// a file, say) and then lent as a [`HostBuffer`] that every backend but
/// ndarray adopts without a copy. A Rust `Vec` (a [`HostData`]) is only
/// aligned to its element, which TensorFlow and XLA copy.
pub struct AlignedBytes {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: plain owned memory.
unsafe impl Send for AlignedBytes {}

impl AlignedBytes {
    /// `len` zero bytes (allocated zeroed: untouched pages cost nothing
    /// until written); `None` when the allocation fails.
    pub fn zeroed(len: usize) -> Option<Self> {
        if len == 0 {
            // A dangling, aligned pointer: nothing is read or freed.
            let ptr = NonNull::new(SHARE_ALIGN as *mut u8)?;
            return Some(AlignedBytes { ptr, len });
        }
        let layout = Layout::from_size_align(len, SHARE_ALIGN).ok()?;
        // SAFETY: the layout has a non-zero size.
        let ptr = NonNull::new(unsafe { std::alloc::alloc_zeroed(layout) })?;
        Some(AlignedBytes { ptr, len })
    }
    /// The bytes, writable.
    pub fn as_mut_bytes(&mut self) -> &mut [u8] {
        // SAFETY: `len` bytes allocated (or none) and owned by `self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
    /// Lends the memory as `shape`'s elements of `dtype`; `None` when the
    /// length does not match or bool bytes are not 0 or 1.
    pub fn into_host_buffer(mut self, dtype: DType, shape: &[usize]) -> Option<HostBuffer> {
        let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
        if n.checked_mul(dtype.size_of())? != self.len {
            return None;
        }
        if dtype == DType::Bool && self.as_mut_bytes().iter().any(|&b| b > 1) {
            return None;
        }
        let ptr = self.ptr.as_ptr() as *const u8;
        // SAFETY: `len` bytes of `dtype`, aligned to 64, kept alive by the
        // owner (this allocation), bools checked.
        Some(unsafe { HostBuffer::new(ptr, dtype, shape.to_vec(), Box::new(self)) })
    }
}

impl Drop for AlignedBytes {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: allocated in `zeroed` with this layout.
            unsafe {
                std::alloc::dealloc(
                    self.ptr.as_ptr(),
                    Layout::from_size_align_unchecked(self.len, SHARE_ALIGN),
                )
            }
        }
    }
}

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
use std::any::Any;

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
    pub fn from_host_data(data: HostData, shape: &[usize]) -> Self {
        debug_assert_eq!(data.len(), shape.iter().product::<usize>());
        let ptr = data.as_bytes().as_ptr();
        // Moving the vector into the box does not move its heap memory.
        HostBuffer {
            ptr,
            dtype: data.dtype(),
            shape: shape.to_vec(),
            owner: Box::new(data),
        }
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

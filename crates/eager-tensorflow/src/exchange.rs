//! Zero-copy exchange of host memory with TensorFlow (see
//! [`eager_core::exchange`]), through the raw C API.
//!
//! - **Lending** resolves the handle to a `TF_Tensor`
//!   (`TFE_TensorHandleResolve`, which for a handle in host memory shares
//!   the handle's buffer: one more reference, no copy) and lends
//!   `TF_TensorData`; the buffer's owner is that `TF_Tensor`, deleted
//!   (`TF_DeleteTensor`, dropping the reference) when the owner is dropped.
//!   TensorFlow never writes into a buffer another reference can see (input
//!   forwarding needs a reference count of one), so lent memory stays as it
//!   was lent.
//! - **Adopting** wraps foreign memory in a `TF_Tensor` (`TF_NewTensor`)
//!   whose deallocator drops the buffer's owner, then makes an eager handle
//!   of it (`TFE_NewTensorHandle`, which shares the buffer). TensorFlow marks
//!   such buffers as not its own, so no kernel forwards them to an output
//!   and writes into them. `TF_NewTensor` shares memory only when the
//!   pointer is aligned to TensorFlow's `EIGEN_MAX_ALIGN_BYTES`, which is 64
//!   for the libtensorflow 2.13 CPU build this backend links (measured by
//!   tests/exchange.rs: 64-, 128- and 256-byte aligned buffers are shared;
//!   1-, 2-, 4-, 8-, 16- and 32-byte aligned ones are copied; glibc's
//!   `malloc` aligns to 16, and large blocks, which it maps, always sit 16
//!   bytes past a page, so big `Vec`s are copied). Otherwise it copies
//!   into memory of its own and calls the deallocator at once, so the owner
//!   is released right away: a misaligned buffer costs one copy, as the
//!   default `adopt_host` would.
//!
//! Every dtype of eager-tensor is stored by TensorFlow with the same bytes
//! (`bool` one byte 0/1, `f16` IEEE binary16, `bf16` the upper half of an
//! `f32`, integers and floats native-endian): [`crate::WIDENED`] only changes
//! the dtype some ops *compute* in, never how a tensor is stored, so every
//! dtype is lent and adopted as it is. (The check `TF_DataTypeSize == size`
//! below guards that at run time.)
//!
//! # The handle type
//!
//! The `tensorflow` crate keeps `TensorHandle`'s raw `TFE_TensorHandle*`
//! private and has no constructor from one (its own is `pub(super)`), yet
//! every op of this backend takes `&TensorHandle` and [`TfTensor`]'s public
//! API hands out `TensorHandle`s, so replacing [`crate::Handle`]'s contents
//! with a raw pointer would mean rewrapping every call. Instead the two
//! conversions below rely on `TensorHandle`'s layout, which is checked at
//! compile time: `TensorHandle<'a>` is `{ inner: *mut TFE_TensorHandle,
//! ctx: PhantomData<&'a Context> }`, and the assertion that its size is one
//! pointer's leaves the pointer no place but offset 0 (the `PhantomData`
//! has no bytes). The `tensorflow` version is pinned (`=0.21.0`) and a
//! field added in a later version fails the build instead of misreading.

use crate::{context, upload, wrap, TfTensor};
use eager_core::exchange::Owner;
use eager_core::ops::prelude::*;
use eager_core::{Backend, DType, Error, HostBuffer, Result};
use std::ffi::{c_int, c_void, CStr};
use std::mem::size_of;
use tensorflow::eager::TensorHandle;
use tensorflow_sys as tf;

// The layout check the two conversions below rely on (see the module docs).
const _: () = assert!(
    size_of::<TensorHandle<'static>>() == size_of::<*mut tf::TFE_TensorHandle>()
        && std::mem::align_of::<TensorHandle<'static>>()
            == std::mem::align_of::<*mut tf::TFE_TensorHandle>()
);

/// The raw handle inside `h` (still owned by `h`).
fn raw_handle(h: &TensorHandle<'static>) -> *mut tf::TFE_TensorHandle {
    // SAFETY: `TensorHandle` is exactly one `*mut TFE_TensorHandle` (size
    // and alignment asserted above; its only other field is a zero-sized
    // `PhantomData`), so its bytes are that pointer. Copying the bytes
    // transfers no ownership: `h` still deletes the handle.
    unsafe { std::mem::transmute_copy::<TensorHandle<'static>, *mut tf::TFE_TensorHandle>(h) }
}

/// A `TensorHandle` that owns (and deletes on drop) `raw`.
///
/// # Safety
/// `raw` is a live handle this call takes the one reference of; eager
/// handles of this backend belong to its `'static` context.
unsafe fn handle_from_raw(raw: *mut tf::TFE_TensorHandle) -> TensorHandle<'static> {
    // SAFETY: layout as in `raw_handle` (the sizes are checked by
    // `transmute` itself); the caller hands over ownership of `raw`.
    unsafe { std::mem::transmute::<*mut tf::TFE_TensorHandle, TensorHandle<'static>>(raw) }
}

/// A `TF_Status`, deleted on drop.
struct Status(*mut tf::TF_Status);

impl Status {
    fn new(op: &'static str) -> Result<Status> {
        // SAFETY: no preconditions; the result is checked for null.
        let s = unsafe { tf::TF_NewStatus() };
        if s.is_null() {
            return Err(framework(op, "TF_NewStatus failed".into()));
        }
        Ok(Status(s))
    }
    /// `Err` with TensorFlow's message unless the status is OK.
    fn check(&self, op: &'static str) -> Result<()> {
        // SAFETY: `self.0` is a live status.
        let code = unsafe { tf::TF_GetCode(self.0) };
        if code == tf::TF_Code::TF_OK {
            return Ok(());
        }
        // SAFETY: TF_Message returns a NUL-terminated string owned by the
        // status, which outlives this borrow; it is copied at once.
        let msg = unsafe { CStr::from_ptr(tf::TF_Message(self.0)) }
            .to_string_lossy()
            .into_owned();
        Err(framework(op, format!("{code:?}: {msg}")))
    }
}

impl Drop for Status {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from TF_NewStatus and is deleted once.
        unsafe { tf::TF_DeleteStatus(self.0) }
    }
}

/// One reference to a `TF_Tensor` (and so to its buffer), deleted on drop:
/// the owner of lent memory, and the temporary of an adoption.
struct TensorRef(*mut tf::TF_Tensor);

// SAFETY: a TF_Tensor is only read here (type, dims, data pointer), and
// deleting it drops a reference on an atomically reference-counted buffer,
// which TensorFlow allows from any thread.
unsafe impl Send for TensorRef {}

impl Drop for TensorRef {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a live TF_Tensor this value owns, deleted once.
        unsafe { tf::TF_DeleteTensor(self.0) }
    }
}

fn framework(op: &'static str, msg: String) -> Error {
    Error::Framework {
        op,
        backend: Backend::TensorFlow,
        msg,
    }
}

/// TensorFlow's C type of each dtype.
fn c_type(d: DType) -> tf::TF_DataType {
    use tf::TF_DataType::*;
    match d {
        DType::Bool => TF_BOOL,
        DType::U8 => TF_UINT8,
        DType::I8 => TF_INT8,
        DType::I16 => TF_INT16,
        DType::U16 => TF_UINT16,
        DType::I32 => TF_INT32,
        DType::U32 => TF_UINT32,
        DType::I64 => TF_INT64,
        DType::U64 => TF_UINT64,
        DType::F16 => TF_HALF,
        DType::BF16 => TF_BFLOAT16,
        DType::F32 => TF_FLOAT,
        DType::F64 => TF_DOUBLE,
    }
}

/// True for a device name of host memory (`/job:localhost/replica:0/task:0/
/// device:CPU:0`).
fn is_host_device(name: &str) -> bool {
    name.rsplit("device:")
        .next()
        .is_some_and(|d| d.starts_with("CPU:"))
}

/// The most dimensions a TensorFlow shape has (`TensorShape::MaxDimensions`);
/// more is a `CHECK` failure (an abort) inside `TF_NewTensor`.
const MAX_RANK: usize = 254;

/// [`TensorBase::lend_host`] of [`TfTensor`].
pub(crate) fn lend(t: &TfTensor) -> Result<Option<HostBuffer>> {
    const OP: &str = "lend_host";
    t.native_dtype_ok()?;
    let dtype = t.dtype();
    let h = t.handle();
    let device = h
        .backing_device_name()
        .map_err(|e| framework(OP, e.to_string()))?;
    if !is_host_device(&device) {
        // Resolving would copy device memory to the host: nothing to lend.
        return Ok(None);
    }
    let status = Status::new(OP)?;
    // SAFETY: `raw_handle(h)` is live while `h` is borrowed; `status` is a
    // live status. The result is a new TF_Tensor (or null on error).
    let resolved = unsafe { tf::TFE_TensorHandleResolve(raw_handle(h), status.0) };
    if resolved.is_null() {
        status.check(OP)?;
        return Err(framework(
            OP,
            "TFE_TensorHandleResolve returned no tensor".into(),
        ));
    }
    let tensor = TensorRef(resolved);
    status.check(OP)?;
    let c = tensor.0;
    // SAFETY: `c` is a live TF_Tensor (owned by `tensor`); these only read it.
    let (ty, rank, avail, data) = unsafe {
        (
            tf::TF_TensorType(c),
            tf::TF_NumDims(c),
            tf::TF_TensorByteSize(c),
            tf::TF_TensorData(c).cast::<u8>().cast_const(),
        )
    };
    // SAFETY: no preconditions (a size lookup by type).
    if ty != c_type(dtype) || unsafe { tf::TF_DataTypeSize(ty) } != dtype.size_of() {
        return Ok(None);
    }
    let shape = (0..rank)
        .map(|i| {
            // SAFETY: `i` is below the tensor's rank.
            let d = unsafe { tf::TF_Dim(c, i) };
            usize::try_from(d).map_err(|_| framework(OP, format!("dimension {d}")))
        })
        .collect::<Result<Vec<usize>>>()?;
    let bytes = eager_core::shape::checked_numel(OP, &shape)? * dtype.size_of();
    if bytes == 0 || data.is_null() || avail < bytes || (data as usize) % dtype.size_of() != 0 {
        // Nothing worth lending (an empty tensor), or memory not laid out
        // as promised: the caller copies.
        return Ok(None);
    }
    // SAFETY: `data` is the TF_Tensor's buffer, at least `bytes` long and
    // aligned for `dtype` (checked above), with the same bytes as
    // eager-tensor's `dtype` (module docs; TF bools are 0 or 1). The owner
    // holds a reference to that buffer, so it stays allocated, and unwritten
    // (TensorFlow forwards only buffers with one reference), until the owner
    // is dropped.
    Ok(Some(unsafe {
        HostBuffer::new(data, dtype, shape, Box::new(tensor))
    }))
}

/// The deallocator of adopted memory: drops the buffer's owner.
///
/// # Safety
/// `arg` is the `Box<Owner>` that `adopt` leaked, and TensorFlow calls this
/// once per `TF_NewTensor`.
unsafe extern "C" fn release_owner(_data: *mut c_void, _len: usize, arg: *mut c_void) {
    // SAFETY: see the function's contract.
    let owner = unsafe { Box::from_raw(arg.cast::<Owner>()) };
    // A panic must not unwind into TensorFlow's C++ frames; there is no one
    // to report it to, so it ends here.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(owner)));
}

/// [`TensorBase::adopt_host`] of [`TfTensor`] (and its `from_host`): the
/// buffer's memory becomes the tensor's when its alignment allows (see the
/// module docs), else one copy; errors name `op`.
pub(crate) fn adopt(op: &'static str, buf: HostBuffer) -> Result<TfTensor> {
    let shape = buf.shape();
    // Dimensions TF's `TensorShape` would refuse with an abort, refused here.
    let n = eager_core::shape::checked_numel(op, shape)?;
    if shape.len() > MAX_RANK {
        return Err(Error::shape(
            op,
            format!(
                "{} dimensions; TensorFlow allows at most {MAX_RANK}",
                shape.len()
            ),
        ));
    }
    context()?;
    if n == 0 {
        let (data, shape) = buf.into_host_data();
        return upload(op, &data, &shape);
    }
    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    let rank = dims.len() as c_int;
    let status = Status::new(op)?;
    let (ptr, dtype, _, owner) = buf.into_parts();
    let len = n * dtype.size_of();
    let arg = Box::into_raw(Box::new(owner)).cast::<c_void>();
    // SAFETY: `ptr` is valid for reads of `len` bytes while the owner lives
    // (HostBuffer's contract), and the owner now lives until TensorFlow
    // calls `release_owner` (once: when the last reference to the buffer is
    // gone, or at once if it copies). `dims` holds `rank` dimensions, each
    // at most i64::MAX, whose product fits (checked above): TensorShape
    // accepts them. TensorFlow never writes into the memory: a buffer it
    // does not own is never forwarded to a kernel's output.
    let created = unsafe {
        tf::TF_NewTensor(
            c_type(dtype),
            dims.as_ptr(),
            rank,
            ptr.cast_mut().cast::<c_void>(),
            len,
            Some(release_owner),
            arg,
        )
    };
    if created.is_null() {
        // TF_NewTensor released the buffer (and so the owner) before
        // returning null.
        return Err(framework(
            op,
            format!("TF_NewTensor refused a {dtype} buffer of {len} bytes for shape {dims:?}"),
        ));
    }
    let tensor = TensorRef(created);
    // SAFETY: `tensor.0` is a live TF_Tensor; the new handle shares its
    // buffer (one more reference), so deleting the TF_Tensor afterwards
    // leaves the handle the buffer's holder.
    let raw = unsafe { tf::TFE_NewTensorHandle(tensor.0, status.0) };
    drop(tensor);
    if raw.is_null() {
        status.check(op)?;
        return Err(framework(
            op,
            "TFE_NewTensorHandle returned no handle".into(),
        ));
    }
    // SAFETY: `raw` is a new handle whose one reference this takes.
    let handle = unsafe { handle_from_raw(raw) };
    status.check(op)?;
    Ok(wrap(handle))
}

/// The shape of `h` with one `TF_Status` for all its queries (the
/// `tensorflow` crate's `num_dims`/`dim` make one per call). A query
/// TensorFlow refuses reads as 0 dimensions, a refused or negative
/// dimension as 0, as `num_dims().unwrap_or(0)` / `dim(i).unwrap_or(0)`
/// did.
pub(crate) fn shape_of(h: &TensorHandle<'static>) -> Vec<usize> {
    let Ok(status) = Status::new("shape") else {
        return Vec::new();
    };
    let raw = raw_handle(h);
    // SAFETY: `raw` is live while `h` is borrowed; `status` is live.
    let n = unsafe { tf::TFE_TensorHandleNumDims(raw, status.0) };
    if status.check("shape").is_err() || n <= 0 {
        return Vec::new();
    }
    (0..n)
        .map(|i| {
            // SAFETY: as above; `i` is below the rank. The status is reset
            // first so that a failure reads as this dimension's own.
            let d = unsafe {
                tf::TF_SetStatus(status.0, tf::TF_Code::TF_OK, c"".as_ptr());
                tf::TFE_TensorHandleDim(raw, i, status.0)
            };
            if status.check("shape").is_err() {
                0
            } else {
                usize::try_from(d).unwrap_or(0)
            }
        })
        .collect()
}

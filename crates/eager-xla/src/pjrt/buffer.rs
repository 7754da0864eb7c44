//! Device buffers and host transfers.

use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::client::Client;
#[cfg(doc)] // for doc links
use super::executable::Executable;
use super::ffi::{
    args, slot, BufferFromHostArgs, BufferOutArgs, GetMemoryLayoutArgs, HandleArgs, IsOnCpuArgs,
    OnDone, ToHostArgs, P,
};
use super::{PjrtError, Result};

/// The alignment the CPU plugin needs to share host memory instead of
/// copying it ([`Client::buffer_sharing`]; measured with this plugin:
/// XLA's CPU `MinAlign`).
pub const ZERO_COPY_ALIGN: usize = 64;

/// The element types eager-tensor uses, as PJRT numbers them
/// (`PJRT_Buffer_Type` in `pjrt_c_api.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ElementType {
    Pred = 1,
    S8 = 2,
    S16 = 3,
    S32 = 4,
    S64 = 5,
    U8 = 6,
    U16 = 7,
    U32 = 8,
    U64 = 9,
    F16 = 10,
    F32 = 11,
    F64 = 12,
    BF16 = 13,
}

impl ElementType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        use ElementType::*;
        match self {
            Pred | S8 | U8 => 1,
            S16 | U16 | F16 | BF16 => 2,
            S32 | U32 | F32 => 4,
            S64 | U64 | F64 => 8,
        }
    }
}

impl Client {
    /// Copies host data (row-major, `dims`) to the device.
    pub fn buffer(self: &Arc<Self>, data: &[u8], ty: ElementType, dims: &[i64]) -> Result<Buffer> {
        let n: i64 = dims.iter().product();
        if data.len() != n as usize * ty.size() {
            return Err(PjrtError(format!(
                "{} bytes do not fill {dims:?} of {ty:?}",
                data.len()
            )));
        }
        let mut a: BufferFromHostArgs = args();
        a.client = self.client;
        a.data = data.as_ptr() as *const c_void;
        a.element_type = ty as i32;
        a.dims = dims.as_ptr();
        a.num_dims = dims.len();
        a.host_buffer_semantics = 0; // kImmutableOnlyDuringCall: copied before returning
        a.device = self.device;
        self.api.call(slot::CLIENT_BUFFER_FROM_HOST, &mut a)?;
        let buf = self.wrap(a.buffer, ty, dims, true);
        self.api.await_event(a.done_with_host_buffer)?;
        Ok(buf)
    }

    pub(super) fn wrap(
        self: &Arc<Self>,
        buf: P,
        ty: ElementType,
        dims: &[i64],
        donatable: bool,
    ) -> Buffer {
        Buffer {
            client: self.clone(),
            buf,
            ty,
            dims: dims.to_vec(),
            donatable,
            lends: AtomicUsize::new(0),
        }
    }

    /// A buffer over host memory **without a copy** where the plugin can
    /// share it (`PJRT_Client_BufferFromHostBuffer` with
    /// `kImmutableZeroCopy`, or `kMutableZeroCopy` when `mutable`): the
    /// CPU plugin shares memory aligned to [`ZERO_COPY_ALIGN`] bytes and
    /// copies anything else. `done` runs once PJRT no longer uses the
    /// memory: when the last buffer over it is freed (a donated buffer's
    /// memory lives on in the result), or right after the copy.
    ///
    /// An immutable buffer is never donated ([`Buffer::is_donatable`]):
    /// PJRT promises not to write it, and [`Executable::execute_donating`]
    /// copies it instead. A mutable one may be donated, and the result
    /// written into the memory.
    ///
    /// # Safety
    /// `data` must be valid for reads of the bytes `dims` of `ty` take,
    /// and must not be written by anyone else, until `done` runs; with
    /// `mutable` it must also be valid for writes and not be read by
    /// anyone else meanwhile (PJRT may write a result into it).
    pub unsafe fn buffer_sharing(
        self: &Arc<Self>,
        data: *const u8,
        ty: ElementType,
        dims: &[i64],
        mutable: bool,
        done: OnDone,
    ) -> Result<Buffer> {
        byte_len(ty, dims)?;
        let mut a: BufferFromHostArgs = args();
        a.client = self.client;
        a.data = data as *const c_void;
        a.element_type = ty as i32;
        a.dims = dims.as_ptr();
        a.num_dims = dims.len();
        // kImmutableZeroCopy = 2, kMutableZeroCopy = 3.
        a.host_buffer_semantics = if mutable { 3 } else { 2 };
        a.device = self.device;
        // On an error no buffer exists and PJRT keeps nothing: `done` is
        // dropped unrun, which releases the memory at once.
        self.api.call(slot::CLIENT_BUFFER_FROM_HOST, &mut a)?;
        let buf = self.wrap(a.buffer, ty, dims, mutable);
        if a.done_with_host_buffer.is_null() {
            // No way to learn when the memory is free: keep it for ever (a
            // leak, never a use after free). The CPU plugin always gives
            // the event.
            std::mem::forget(done);
            return Ok(buf);
        }
        let event = a.done_with_host_buffer;
        match self.api.on_ready(event, done) {
            Ok(()) => Ok(buf),
            Err((e, done)) => {
                // Free the buffer, wait until PJRT lets go of the memory,
                // and only then release it.
                drop(buf);
                match self.api.await_event(event) {
                    Ok(()) => drop(done),
                    Err(_) => std::mem::forget(done),
                }
                Err(e)
            }
        }
    }
}

/// A device buffer (freed on drop).
pub struct Buffer {
    client: Arc<Client>,
    pub(super) buf: P,
    ty: ElementType,
    dims: Vec<i64>,
    /// False over foreign memory PJRT must not write.
    donatable: bool,
    /// Live [`Lend`]s of the memory.
    lends: AtomicUsize,
}

// SAFETY: see `Api`; a buffer is immutable once created.
unsafe impl Send for Buffer {}
unsafe impl Sync for Buffer {}

impl Drop for Buffer {
    fn drop(&mut self) {
        // Work still computing this buffer finishes first: then nothing we
        // queued is left running when the process exits (the plugin's
        // teardown under a running computation crashes).
        let _ = self.block_until_ready();
        self.client.api.destroy(slot::BUFFER_DESTROY, self.buf);
    }
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pjrt::Buffer({:?}, {:?})", self.ty, self.dims)
    }
}

impl Buffer {
    /// Element type.
    pub fn element_type(&self) -> ElementType {
        self.ty
    }
    /// Dimensions.
    pub fn dims(&self) -> &[i64] {
        &self.dims
    }
    /// Copies the contents to the host (row-major bytes). On a CPU client
    /// the buffer is read in place once it is ready (a `memcpy` instead of
    /// PJRT's `ToHostBuffer`); anything else falls back to `ToHostBuffer`.
    pub fn to_host(&self) -> Result<Vec<u8>> {
        // The error of the computation that made this buffer (an allocation
        // that failed, say) surfaces here, before any host memory is taken.
        self.block_until_ready()?;
        if let Some(v) = self.read_in_place() {
            return v;
        }
        self.to_host_buffer()
    }

    /// Waits until the buffer's contents are computed (JAX's
    /// `block_until_ready`): executions are asynchronous, and an error of
    /// the computation that produces the buffer surfaces here.
    pub fn block_until_ready(&self) -> Result<()> {
        let api = &self.client.api;
        let mut e: BufferOutArgs = args();
        e.buffer = self.buf;
        api.call(slot::BUFFER_READY_EVENT, &mut e)?;
        api.await_event(e.out as P)
    }

    /// The buffer's device address (host memory on the CPU plugin), once
    /// it is ready: shows whether two buffers share memory (donation).
    pub fn device_address(&self) -> Result<usize> {
        self.block_until_ready()?;
        let mut a: BufferOutArgs = args();
        a.buffer = self.buf;
        self.client.api.call(slot::BUFFER_UNSAFE_POINTER, &mut a)?;
        Ok(a.out)
    }

    /// The in-place read: `ReadyEvent`, then `UnsafePointer`. Buffers this
    /// layer creates and executables return on the CPU plugin use the
    /// default dense row-major layout, so the bytes are the result.
    pub(crate) fn read_in_place(&self) -> Option<Result<Vec<u8>>> {
        let api = &self.client.api;
        self.block_until_ready().ok()?;
        let mut a: BufferOutArgs = args();
        a.buffer = self.buf;
        api.call(slot::BUFFER_UNSAFE_POINTER, &mut a).ok()?;
        let len = match self.byte_len() {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        if len == 0 {
            return Some(Ok(Vec::new()));
        }
        if a.out == 0 {
            return None;
        }
        let mut v = match host_vec(len) {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        };
        // SAFETY: the buffer is ready, lives as long as `self`, and holds
        // `len` bytes at this host address (CPU device memory).
        v.extend_from_slice(unsafe { std::slice::from_raw_parts(a.out as *const u8, len) });
        Some(Ok(v))
    }

    /// The buffer's size in bytes, checked.
    fn byte_len(&self) -> Result<usize> {
        byte_len(self.ty, &self.dims)
    }

    /// Whether [`Executable::execute_donating`] may donate this buffer:
    /// not while it is lent ([`lend`](Self::lend)), never over foreign
    /// memory PJRT must not write ([`Client::buffer_sharing`]).
    pub fn is_donatable(&self) -> bool {
        self.donatable && self.lends.load(Ordering::SeqCst) == 0
    }

    /// Whether the buffer is on the host (`PJRT_Buffer_IsOnCpu`).
    pub fn is_on_cpu(&self) -> Result<bool> {
        let mut a: IsOnCpuArgs = args();
        a.buffer = self.buf;
        self.client.api.call(slot::BUFFER_IS_ON_CPU, &mut a)?;
        Ok(a.is_on_cpu)
    }

    /// Whether the buffer's memory layout is dense and row-major (PJRT's
    /// default: `minor_to_major` = `[n-1, ..., 0]`, no tiles; or strides
    /// that say the same), from `PJRT_Buffer_GetMemoryLayout`.
    pub fn is_dense_row_major(&self) -> Result<bool> {
        let mut a: GetMemoryLayoutArgs = args();
        a.buffer = self.buf;
        self.client
            .api
            .call(slot::BUFFER_GET_MEMORY_LAYOUT, &mut a)?;
        let l = &a.layout;
        let n = self.dims.len();
        if l.minor_to_major_size != n || (n > 0 && l.minor_to_major.is_null()) {
            return Ok(false);
        }
        let v: &[i64] = if n == 0 {
            &[]
        } else {
            // SAFETY: the plugin returned `n` values at this address, alive
            // as long as the buffer.
            unsafe { std::slice::from_raw_parts(l.minor_to_major, n) }
        };
        Ok(match l.kind {
            0 => l.num_tiles == 0 && v.iter().enumerate().all(|(i, &d)| d == (n - 1 - i) as i64),
            1 => {
                // Strides of a row-major dense array (any stride of a
                // dimension of size 1 is as good).
                let mut want = self.ty.size() as i64;
                let mut ok = true;
                for k in (0..n).rev() {
                    ok &= self.dims[k] <= 1 || v[k] == want;
                    want = want.saturating_mul(self.dims[k]);
                }
                ok
            }
            _ => false,
        })
    }

    /// Lends the buffer's host memory without a copy: `None` when it is
    /// not dense row-major memory on the host. While the [`Lend`] lives,
    /// the memory stays valid and unchanged: the buffer is kept alive, PJRT
    /// is told of the external reference
    /// (`PJRT_Buffer_IncreaseExternalReferenceCount`, so it neither moves
    /// nor donates the memory), and [`Executable::execute_donating`] copies
    /// the buffer instead of donating it.
    pub fn lend(self: &Arc<Self>) -> Result<Option<Lend>> {
        self.block_until_ready()?;
        if !self.is_on_cpu().unwrap_or(false) || !self.is_dense_row_major().unwrap_or(false) {
            return Ok(None);
        }
        let mut h: HandleArgs = args();
        h.handle = self.buf;
        // Where the plugin lacks external references, the count of lends
        // still keeps this layer from donating the memory.
        let external = self
            .client
            .api
            .call(slot::BUFFER_INCREASE_EXTERNAL_REF, &mut h)
            .is_ok();
        self.lends.fetch_add(1, Ordering::SeqCst);
        let mut lend = Lend {
            buf: self.clone(),
            address: 0,
            external,
        };
        let mut a: BufferOutArgs = args();
        a.buffer = self.buf;
        self.client.api.call(slot::BUFFER_UNSAFE_POINTER, &mut a)?;
        if a.out == 0 && self.byte_len()? > 0 {
            return Ok(None);
        }
        lend.address = a.out;
        Ok(Some(lend))
    }

    /// `PJRT_Buffer_ToHostBuffer` (works for every device).
    pub fn to_host_buffer(&self) -> Result<Vec<u8>> {
        let len = self.byte_len()?;
        let mut v = host_vec(len)?;
        v.resize(len, 0);
        let mut a: ToHostArgs = args();
        a.src = self.buf;
        a.host_layout = null_mut();
        a.dst = v.as_mut_ptr() as *mut c_void;
        a.dst_size = v.len();
        self.client.api.call(slot::BUFFER_TO_HOST, &mut a)?;
        self.client.api.await_event(a.event)?;
        Ok(v)
    }
}

/// A loan of a [`Buffer`]'s host memory ([`Buffer::lend`]): the memory at
/// [`address`](Self::address) stays valid and unchanged until this is
/// dropped.
pub struct Lend {
    buf: Arc<Buffer>,
    address: usize,
    external: bool,
}

impl Lend {
    /// The first byte of the lent memory.
    pub fn address(&self) -> usize {
        self.address
    }
    /// The lent buffer.
    pub fn buffer(&self) -> &Arc<Buffer> {
        &self.buf
    }
}

impl Drop for Lend {
    fn drop(&mut self) {
        if self.external {
            let mut h: HandleArgs = args();
            h.handle = self.buf.buf;
            let _ = self
                .buf
                .client
                .api
                .call(slot::BUFFER_DECREASE_EXTERNAL_REF, &mut h);
        }
        self.buf.lends.fetch_sub(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for Lend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pjrt::Lend({:?} at {:#x})", self.buf, self.address)
    }
}

/// The size in bytes of `dims` of `ty`, checked.
fn byte_len(ty: ElementType, dims: &[i64]) -> Result<usize> {
    dims.iter()
        .try_fold(ty.size(), |acc, &d| {
            usize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
        })
        .ok_or_else(|| PjrtError(format!("a buffer of shape {dims:?} is too large")))
}

/// An empty vector with room for `len` bytes, or an error where the
/// allocator has none (instead of the abort of `vec![0; len]`).
fn host_vec(len: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| PjrtError(format!("{len} bytes of host memory could not be allocated")))?;
    Ok(v)
}

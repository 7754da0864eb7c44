//! DLPack: exchanging tensors with any library that speaks the standard C
//! ABI (`DLManagedTensor`: PyTorch's `torch.utils.dlpack`, JAX, CuPy,
//! TVM, NumPy's `from_dlpack`, and C or Rust code), through the `dlpark`
//! crate's definitions of the ABI.
//!
//! [`EagerTensor::to_dlpack`] lends the tensor's host memory where its
//! backend can (the same memory [`EagerTensor::to_backend`] shares, kept
//! alive until the consumer calls the deleter), or a host copy.
//! [`from_dlpack`] makes a tensor of any backend from a managed tensor; the
//! memory is adopted without a copy where the backend can borrow it (see
//! the table in the guide's "Exchange and files" chapter) and the DLPack
//! deleter runs when the last tensor using it is freed, or at once after a
//! copy. CPU memory only: another device is an `unsupported` error.
//!
//! ```
//! use eager_tensor as ep;
//! let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1i32, 2, 3, 4], &[2, 2])?;
//! let managed = t.to_dlpack()?; // a dlpark::SafeManagedTensor
//! // `managed.into_raw()` is the `DLManagedTensor*` a C library takes.
//! let u = ep::from_dlpack(managed, ep::Backend::NdArray)?;
//! assert_eq!(u.to_vec::<i32>()?, vec![1, 2, 3, 4]);
//! # Ok::<(), ep::Error>(())
//! ```

use crate::{Backend, DType, EagerTensor, Error, HostBuffer, Result};
use dlpark::ffi::{DataType, Device, DeviceType};
use dlpark::traits::{RowMajorCompactLayout, TensorLike};
use dlpark::SafeManagedTensor;

/// The DLPack dtype of a dtype.
fn dl_dtype(d: DType) -> DataType {
    match d {
        DType::Bool => DataType::BOOL,
        DType::U8 => DataType::U8,
        DType::I8 => DataType::I8,
        DType::I16 => DataType::I16,
        DType::U16 => DataType::U16,
        DType::I32 => DataType::I32,
        DType::U32 => DataType::U32,
        DType::I64 => DataType::I64,
        DType::U64 => DataType::U64,
        DType::F16 => DataType::F16,
        DType::BF16 => DataType::BF16,
        DType::F32 => DataType::F32,
        DType::F64 => DataType::F64,
    }
}

/// What a managed tensor made here owns: the lent buffer (and with it the
/// lender's owner) and the shape its `DLTensor` points to.
struct Exported(HostBuffer);

impl TensorLike<RowMajorCompactLayout> for Exported {
    type Error = Error;
    fn data_ptr(&self) -> *mut std::ffi::c_void {
        self.0.ptr() as *mut std::ffi::c_void
    }
    fn memory_layout(&self) -> RowMajorCompactLayout {
        RowMajorCompactLayout::new(self.0.shape().iter().map(|&d| d as i64).collect())
    }
    fn device(&self) -> Result<Device> {
        Ok(Device::CPU)
    }
    fn data_type(&self) -> Result<DataType> {
        Ok(dl_dtype(self.0.dtype()))
    }
    fn byte_offset(&self) -> u64 {
        0
    }
}

/// A received managed tensor as an owner: dropping it calls the producer's
/// deleter (once).
struct Imported {
    _managed: SafeManagedTensor,
}
// SAFETY: DLPack lets the consumer call the deleter from any thread for
// CPU memory; the tensor is only read.
unsafe impl Send for Imported {}

impl EagerTensor {
    /// The tensor as a DLPack `DLManagedTensor` (CPU memory, row-major,
    /// compact, `byte_offset` 0), sharing the tensor's memory where the
    /// backend can lend it and a host copy otherwise (see the module
    /// docs). The result's `into_raw()` is the pointer a C consumer takes;
    /// dropping it unused calls the deleter.
    ///
    /// ```
    /// use eager_tensor as ep;
    /// use ep::dlpark::traits::TensorView;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f32, 2.0, 3.0], &[3])?;
    /// let managed = t.to_dlpack()?;
    /// assert_eq!(managed.shape(), &[3]);
    /// // ndarray lends its memory: the DLPack tensor points at the same bytes.
    /// assert_eq!(Some(managed.data_ptr() as usize), t.host_ptr()?);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn to_dlpack(&self) -> Result<SafeManagedTensor> {
        crate::jit::no_host_read("to_dlpack", self)?;
        let buf = self.lend_host()?;
        SafeManagedTensor::new(Exported(buf))
    }
}

/// A tensor on `backend` from a DLPack managed tensor (see the module
/// docs): CPU memory of a dtype eager-tensor has (bool, u8–u64, i8–i64,
/// f16, bf16, f32, f64, one lane), any strides (a non-compact layout is
/// gathered into one copy). Anything else is an error naming
/// `from_dlpack`, after which the deleter has run.
///
/// # Safety of the input
/// A `SafeManagedTensor` made with `from_raw` must describe memory that is
/// valid as its `DLTensor` says, as the DLPack standard requires of every
/// producer.
///
/// ```
/// use eager_tensor as ep;
/// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1u8, 2, 3, 4], &[2, 2])?;
/// let u = ep::from_dlpack(t.to_dlpack()?, ep::Backend::NdArray)?;
/// assert_eq!((u.shape(), u.to_vec::<u8>()?), (vec![2, 2], vec![1, 2, 3, 4]));
/// # Ok::<(), ep::Error>(())
/// ```
pub fn from_dlpack(t: SafeManagedTensor, backend: Backend) -> Result<EagerTensor> {
    let op = "from_dlpack";
    use dlpark::traits::TensorView;
    let dl = *t.dl_tensor();
    if dl.device.device_type != DeviceType::Cpu {
        return Err(Error::Unsupported {
            op,
            backend,
            msg: format!(
                "DLPack memory on {:?} (only CPU memory is read)",
                dl.device.device_type
            ),
        });
    }
    let dt = dl.dtype;
    let dtype = DType::ALL
        .into_iter()
        .find(|&d| dl_dtype(d) == dt)
        .ok_or_else(|| {
            Error::dtype(
                op,
                format!(
                    "DLPack dtype {:?} of {} bits and {} lanes is not supported",
                    dt.code, dt.bits, dt.lanes
                ),
            )
        })?;
    let ndim = usize::try_from(dl.ndim)
        .map_err(|_| Error::invalid(op, format!("ndim {} is negative", dl.ndim)))?;
    let read = |p: *const i64| -> Vec<i64> {
        if ndim == 0 || p.is_null() {
            return Vec::new();
        }
        // SAFETY: a DLTensor's shape (and non-null strides) hold ndim values.
        unsafe { std::slice::from_raw_parts(p, ndim) }.to_vec()
    };
    let shape: Vec<usize> = read(dl.shape)
        .into_iter()
        .map(|d| {
            usize::try_from(d).map_err(|_| Error::invalid(op, format!("dimension {d} is negative")))
        })
        .collect::<Result<_>>()?;
    if ndim > 0 && shape.len() != ndim {
        return Err(Error::invalid(op, "the shape pointer is null"));
    }
    let n = eager_core::shape::check_size(op, &shape, dtype)?;
    let strides = read(dl.strides);
    if n == 0 {
        // Nothing to read: the pointer and strides are never used.
        drop(t);
        return EagerTensor::from_host(backend, crate::HostData::zeroed(dtype, 0), &shape);
    }
    if dl.data.is_null() {
        return Err(Error::invalid(op, "the data pointer is null"));
    }
    let base = usize::try_from(dl.byte_offset)
        .ok()
        .and_then(|off| (dl.data as usize).checked_add(off))
        .ok_or_else(|| Error::invalid(op, format!("byte_offset {} overflows", dl.byte_offset)))?
        as *const u8;
    check_extent(
        op,
        &shape,
        &strides,
        dtype.size_of(),
        dl.data as usize,
        dl.byte_offset,
    )?;
    if (base as usize) % dtype.size_of() != 0 {
        return Err(Error::invalid(
            op,
            format!("the data is not aligned for {dtype}"),
        ));
    }
    let compact = strides.is_empty() || is_row_major(&shape, &strides);
    if compact && dtype == DType::Bool {
        // SAFETY: as below; bytes are read as u8, any value is valid.
        let bytes = unsafe { std::slice::from_raw_parts(base, n) };
        if bytes.iter().any(|&b| b > 1) {
            return Err(Error::invalid(op, "a bool byte is not 0 or 1"));
        }
    }
    if compact {
        // SAFETY: the producer's DLTensor describes n elements of dtype at
        // base, valid until its deleter runs, which dropping `Imported` does.
        let buf =
            unsafe { HostBuffer::new(base, dtype, shape, Box::new(Imported { _managed: t })) };
        return EagerTensor::adopt_host(backend, buf);
    }
    // Strided: gather the elements in row-major order, one copy.
    let size = dtype.size_of();
    let mut bytes = Vec::with_capacity(n * size);
    let mut index = vec![0usize; shape.len()];
    for _ in 0..n {
        // `check_strides` bounded every offset: no sum here overflows.
        let off: isize = index
            .iter()
            .zip(&strides)
            .map(|(&i, &s)| i as isize * s as isize)
            .sum();
        // SAFETY: the producer's strides address elements inside its
        // allocation for every in-range index, as DLPack requires.
        let p = unsafe { base.offset(off * size as isize) };
        bytes.extend_from_slice(unsafe { std::slice::from_raw_parts(p, size) });
        for ax in (0..shape.len()).rev() {
            index[ax] += 1;
            if index[ax] < shape[ax] {
                break;
            }
            index[ax] = 0;
        }
    }
    drop(t);
    if dtype == DType::Bool && bytes.iter().any(|&b| b > 1) {
        return Err(Error::invalid(op, "a bool byte is not 0 or 1"));
    }
    EagerTensor::from_host(
        backend,
        crate::HostData::from_ne_bytes(dtype, bytes),
        &shape,
    )
}

/// Checks, with checked arithmetic, that every element of a non-empty
/// `shape` lies at or after `data` (DLPack's `data` is where the allocation
/// starts, and the tensor begins `byte_offset` bytes into it), within
/// `isize` of it (pointer offsets), and within the address space. With
/// `strides` (in elements, one per dimension) the lowest and highest
/// offsets are sums of `(d - 1) · s`; without, the tensor is compact.
fn check_extent(
    op: &'static str,
    shape: &[usize],
    strides: &[i64],
    size: usize,
    data: usize,
    byte_offset: u64,
) -> Result<()> {
    let bad = || {
        Error::invalid(
            op,
            format!(
                "strides {strides:?} for shape {shape:?} (byte_offset {byte_offset}) address \
                 memory before the data pointer or beyond the address space"
            ),
        )
    };
    let (mut lo, mut hi) = (0i128, 0i128);
    if strides.is_empty() {
        // Compact: the last element is `numel - 1` elements on (the size
        // was checked to fit the memory limit).
        hi = shape.iter().map(|&d| d as i128).product::<i128>() - 1;
    }
    for (&d, &s) in shape.iter().zip(strides) {
        let reach = (d as i128 - 1).checked_mul(s as i128).ok_or_else(bad)?;
        let end = if reach < 0 { &mut lo } else { &mut hi };
        *end = end.checked_add(reach).ok_or_else(bad)?;
    }
    // In bytes from `data`: not before it, within `isize`, and the last
    // byte within the address space.
    let bytes = |v: i128| v.checked_mul(size as i128).ok_or_else(bad);
    let start = byte_offset as i128;
    let (lo, hi) = (bytes(lo)?, bytes(hi.checked_add(1).ok_or_else(bad)?)?);
    if start + lo < 0
        || start + hi > isize::MAX as i128
        || data as i128 + start + hi > usize::MAX as i128
    {
        return Err(bad());
    }
    Ok(())
}

/// True when `strides` (in elements) are the row-major compact ones for
/// `shape` (dimensions of size 1 may have any stride).
fn is_row_major(shape: &[usize], strides: &[i64]) -> bool {
    let mut expect = 1i64;
    for (&d, &s) in shape.iter().zip(strides).rev() {
        if d != 1 && s != expect {
            return false;
        }
        expect = expect.saturating_mul(d as i64);
    }
    true
}

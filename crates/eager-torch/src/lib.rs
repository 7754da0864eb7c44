//! The PyTorch backend of eager-tensor, through [tch](https://docs.rs/tch)
//! and libtorch 2.13.0.
//!
//! [`TorchTensor`] is the native handle (`tch::Tensor`) made cheaply
//! clonable (`shallow_clone`: the clone shares the storage, as a framework
//! handle does). Every op calls tch's fallible `f_` function, so libtorch's
//! C++ exceptions become [`Error::Framework`] with libtorch's message; where
//! libtorch's semantics differ from eager-tensor's (integer division by
//! zero raises, NaN to integer casts are undefined, reductions over an empty
//! list of axes reduce everything, bool is not accepted by some kernels),
//! the backend adjusts the call so the results match `docs/semantics.md`.
#![warn(missing_docs)]

use eager_core::ops::prelude::*;
use eager_core::shape::SliceRange;
use eager_core::{
    ArgReduceOp, Backend, BinaryOp, DType, Device, Distribution, Error, HostBuffer, HostData,
    ReduceOp, Result, Scalar, UnaryOp,
};
use smallvec::SmallVec;
use std::ffi::{c_char, c_int, c_void};
pub use tch;
use tch::{Kind, Tensor};

mod autograd;
mod cast;
mod create;
mod elementwise;
mod exchange;
mod index;
mod linalg;
mod once;
mod reduce;
mod shape;
mod unsigned;

use once::Once;

/// The native tensor of the torch backend: a `tch::Tensor`, and for the
/// unsigned dtypes tch has no `Kind` for (`u16`, `u32`, `u64`) that dtype:
/// their values live in a signed libtorch tensor (`u16` in `i32`, `u32` in
/// `i64`, exactly; `u64` in `i64`, bit for bit) and the ops whose meaning
/// depends on the sign (order, division, casts, wrapping) are computed as
/// unsigned (module `unsigned`).
///
/// The kind and shape are read from libtorch once, on first use, and kept
/// with the handle (`shape()`, `dtype()` and the checks every op makes are
/// then free of FFI calls). A tensor that is resized in place through
/// another handle after wrapping (`resize_`, `set_`, in-place
/// `unsqueeze_`) is not seen: wrap it again.
#[derive(Debug)]
pub struct TorchTensor {
    /// The libtorch tensor.
    tensor: Tensor,
    /// For u16/u32/u64 (held in libtorch's signed kinds of the same
    /// width), that dtype; `None` for the kinds libtorch has.
    unsigned: Option<DType>,
    /// The kind and shape, read from libtorch on first use.
    meta: Once<Meta>,
}

/// What [`TorchTensor`] reads from libtorch once (one FFI call, no
/// allocation up to five dimensions).
#[derive(Debug, Clone)]
struct Meta {
    /// The stored tensor's dtype (for `u16`/`u32`/`u64` the signed one
    /// that holds them); `None` for a scalar type eager-tensor lacks, or
    /// when libtorch could not give the metadata (`shape` is then empty).
    stored: Option<DType>,
    shape: SmallVec<[usize; 5]>,
}

impl Meta {
    fn read(t: &Tensor) -> Meta {
        // libtorch's sizes are int64_t and never negative: written straight
        // into `usize`s (the same size and alignment on the 64-bit targets
        // libtorch supports), the shape needs no conversion loop.
        const _: () = assert!(std::mem::size_of::<usize>() == std::mem::size_of::<i64>());
        let mut dims = [0usize; 5];
        let mut st: c_int = -1;
        let p = t.as_ptr().cast::<c_void>();
        // SAFETY: `p` is a live tch handle (an `at::Tensor*`); the shim
        // writes at most `cap` sizes and never throws.
        let n = unsafe { eager_torch_meta(p, &mut st, dims.as_mut_ptr().cast(), dims.len()) };
        let Ok(n) = usize::try_from(n) else {
            return Meta {
                stored: None,
                shape: SmallVec::new(),
            };
        };
        let shape = if n <= dims.len() {
            SmallVec::from_buf_and_len(dims, n)
        } else {
            let mut big = vec![0usize; n];
            // SAFETY: as above, with room for all `n` sizes.
            unsafe { eager_torch_meta(p, &mut st, big.as_mut_ptr().cast(), n) };
            SmallVec::from_vec(big)
        };
        Meta {
            stored: exchange::dtype_of_scalar_type(st),
            shape,
        }
    }
}

extern "C" {
    /// src/adopt.cpp: the scalar type and sizes of an `at::Tensor*` in one
    /// call; the number of dimensions (sizes written when at most `cap`),
    /// or -1 when libtorch cannot give them.
    fn eager_torch_meta(
        t: *const c_void,
        scalar_type: *mut c_int,
        dims: *mut i64,
        cap: usize,
    ) -> i64;
    /// src/adopt.cpp: `at::get_cpu_capability()` into `buf`; its length,
    /// or -1.
    fn eager_torch_cpu_capability(buf: *mut c_char, cap: usize) -> i64;
}

/// The instruction set libtorch's CPU kernels run with: `"DEFAULT"`,
/// `"AVX2"` or `"AVX512"` on x86-64 (PyTorch's
/// `torch.backends.cpu.get_cpu_capability()`). ATen picks the best one the
/// CPU has; the environment variable `ATEN_CPU_CAPABILITY` (`default`,
/// `avx2`, `avx512`) lowers it, read once per process. `None` when libtorch
/// cannot say.
///
/// ```
/// let isa = eager_torch::cpu_capability().unwrap();
/// assert!(["DEFAULT", "AVX2", "AVX512"].iter().any(|s| isa.starts_with(s)), "{isa}");
/// ```
pub fn cpu_capability() -> Option<String> {
    let mut buf = [0 as c_char; 64];
    // SAFETY: the shim writes at most `buf.len()` bytes, NUL-terminated.
    let n = unsafe { eager_torch_cpu_capability(buf.as_mut_ptr(), buf.len()) };
    if n < 0 {
        return None;
    }
    // SAFETY: NUL-terminated by the shim.
    let s = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(s.to_string_lossy().into_owned())
}

impl Clone for TorchTensor {
    /// Shares the storage (`shallow_clone`), like cloning a framework handle.
    fn clone(&self) -> Self {
        TorchTensor {
            tensor: self.tensor.shallow_clone(),
            unsigned: self.unsigned,
            meta: self.meta.clone(),
        }
    }
}

// SAFETY: tch marks `Tensor` Send but not Sync. Every method of this backend
// takes `&self` and calls out-of-place libtorch functions, which only read
// the tensor; libtorch's tensor handles are reference counted atomically and
// safe to read from several threads at once (PyTorch's own data-parallel
// code relies on it). No method mutates a tensor that another handle can see.
unsafe impl Sync for TorchTensor {}

impl From<Tensor> for TorchTensor {
    /// Wraps without copying, in the tensor's own kind (see [`TorchTensor::wrap`]).
    fn from(t: Tensor) -> Self {
        TorchTensor::wrap(t)
    }
}

/// Seeds libtorch's global generator (`torch.manual_seed`).
pub fn seed(seed: u64) {
    tch::manual_seed(seed as i64);
}

/// Sets libtorch's intra-op thread count (`torch.set_num_threads`), which
/// may change at any time. (Its inter-op pool, used only by `torch.jit`'s
/// forks, is left alone: libtorch refuses a change once it has started.)
pub fn set_num_threads(n: usize) {
    tch::set_num_threads(i32::try_from(n).unwrap_or(i32::MAX));
}

/// Applies the thread count of `EAGER_TENSOR_NUM_THREADS` once, when this
/// backend makes its first tensor (`op`); a malformed value is an error of
/// every tensor-making call until it is fixed.
pub(crate) fn threads_at_start(op: &'static str) -> Result<()> {
    static STARTED: std::sync::OnceLock<Result<()>> = std::sync::OnceLock::new();
    STARTED
        .get_or_init(|| {
            if let Some(n) = eager_core::threads::requested(op)? {
                set_num_threads(n);
            }
            Ok(())
        })
        .clone()
}

/// Whether libtorch sees a CUDA device.
pub fn cuda_available() -> bool {
    tch::Cuda::is_available()
}

/// libtorch's error as an [`Error::Framework`] naming `op`, without the C++
/// stack trace libtorch appends.
pub fn error(op: &'static str, e: tch::TchError) -> Error {
    let msg = e.to_string();
    let msg = msg
        .split("\nException raised from")
        .next()
        .unwrap_or(&msg)
        .trim()
        .to_string();
    Error::Framework {
        op,
        backend: Backend::Torch,
        msg,
    }
}

fn fw(op: &'static str) -> impl Fn(tch::TchError) -> Error {
    move |e| error(op, e)
}

/// Runs a tch call that takes a `tch::Scalar`, turning a panic into an
/// error. tch frees the scalar (`ats_free`) while libtorch's error of a
/// failed call is still pending, and that free then panics with the error
/// instead of the call returning it (any failure does it: an allocation too
/// large, a kernel that refuses). The panic happens in Rust code, so it can
/// be caught; the message is libtorch's.
fn scalar_call<T>(
    op: &'static str,
    f: impl FnOnce() -> std::result::Result<T, tch::TchError>,
) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(fw(op)),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "libtorch call failed".into());
            Err(error(op, tch::TchError::Torch(msg)))
        }
    }
}

/// The libtorch kind a dtype is stored in: its own, or for `u16`/`u32`/`u64`
/// (which tch cannot name) the signed kind that holds it.
fn kind(d: DType) -> Kind {
    match d {
        DType::Bool => Kind::Bool,
        DType::U8 => Kind::Uint8,
        DType::I8 => Kind::Int8,
        DType::I16 => Kind::Int16,
        DType::I32 | DType::U16 => Kind::Int,
        DType::I64 | DType::U32 | DType::U64 => Kind::Int64,
        DType::F16 => Kind::Half,
        DType::BF16 => Kind::BFloat16,
        DType::F32 => Kind::Float,
        DType::F64 => Kind::Double,
    }
}

/// The dtype stored in a libtorch kind, `None` for kinds eager-tensor lacks.
fn dtype_of(k: Kind) -> Option<DType> {
    Some(match k {
        Kind::Bool => DType::Bool,
        Kind::Uint8 => DType::U8,
        Kind::Int8 => DType::I8,
        Kind::Int16 => DType::I16,
        Kind::Int => DType::I32,
        Kind::Int64 => DType::I64,
        Kind::Half => DType::F16,
        Kind::BFloat16 => DType::BF16,
        Kind::Float => DType::F32,
        Kind::Double => DType::F64,
        _ => return None,
    })
}

/// f64 to f16 rounded once, as NumPy does: libtorch converts through f32,
/// rounding twice (`1 + 2^-11 + 2^-30` would become `1.0`, not
/// `1.0009765625`). Rounding to f32 *to odd* first (truncate, then set the
/// last bit when the truncation was inexact) keeps the information the
/// second rounding needs, since f32 has more than 11 + 2 bits; the
/// f32 -> f16 step then rounds to nearest even correctly. NaN and
/// infinities pass through, values beyond f32 become the odd `f32::MAX`
/// and then f16's infinity.
fn f64_to_f16(x: &Tensor) -> std::result::Result<Tensor, tch::TchError> {
    let y = x.f_to_kind(Kind::Float)?;
    let back = y.f_to_kind(Kind::Double)?;
    let inexact = back.f_ne_tensor(x)?;
    // Rounded away from zero: step the magnitude back by one ulp (the
    // bits of an f32 order its magnitude).
    let away = back.f_abs()?.f_gt_tensor(&x.f_abs()?)?;
    let bits = y
        .f_view_dtype(Kind::Int)?
        .f_sub(&away.f_to_kind(Kind::Int)?)?
        .f_bitwise_or_tensor(&inexact.f_to_kind(Kind::Int)?)?;
    bits.f_view_dtype(Kind::Float)?.f_to_kind(Kind::Half)
}

/// NumPy's float `a % b` on the host, for the elements libtorch's fmod
/// gets wrong: Rust's `%` on f64 is C's exact fmod, and the sign rules are
/// NumPy's (the divisor's sign; a zero remainder takes it too). `like` is
/// libtorch's result: the broadcast shape, kind and device.
fn host_rem(a: &Tensor, b: &Tensor, like: &Tensor) -> std::result::Result<Tensor, tch::TchError> {
    let shape = like.size();
    let host = |t: &Tensor| -> std::result::Result<Vec<f64>, tch::TchError> {
        let t = t
            .f_broadcast_to(shape.as_slice())?
            .f_to_kind(Kind::Double)?
            .f_to_device(tch::Device::Cpu)?
            .f_contiguous()?;
        let n = t.numel();
        let mut v = vec![0.0; n];
        t.f_copy_data(&mut v, n)?;
        Ok(v)
    };
    let r: Vec<f64> = host(a)?
        .into_iter()
        .zip(host(b)?)
        .map(|(x, y)| {
            let m = x % y;
            if y == 0.0 || m.is_nan() {
                m
            } else if m == 0.0 {
                0.0f64.copysign(y)
            } else if (y < 0.0) != (m < 0.0) {
                m + y
            } else {
                m
            }
        })
        .collect();
    Tensor::from_slice(&r)
        .f_reshape(shape.as_slice())?
        .f_to_kind(like.kind())?
        .f_to_device(like.device())
}

/// The dtype tag for a tensor of `dtype`: `Some` for the emulated unsigned ones.
fn tag(dtype: DType) -> Option<DType> {
    matches!(dtype, DType::U16 | DType::U32 | DType::U64).then_some(dtype)
}

fn tdevice(d: Device) -> tch::Device {
    match d {
        Device::Cpu => tch::Device::Cpu,
        Device::Cuda(i) => tch::Device::Cuda(i),
    }
}

/// Sizes or axes as libtorch takes them (inline up to five: no allocation
/// on an op's path).
fn dims(shape: &[usize]) -> SmallVec<[i64; 5]> {
    shape.iter().map(|&d| d as i64).collect()
}

fn scalar(v: Scalar) -> tch::Scalar {
    match v {
        // u64 as its bits, the way the emulated u64 stores it.
        Scalar::U64(x) => tch::Scalar::int(x as i64),
        other if other.dtype().is_float() => tch::Scalar::float(other.to_f64()),
        other => tch::Scalar::int(other.to_i64().unwrap_or(0)),
    }
}

impl TorchTensor {
    /// Wraps a tensor without copying, in its own kind: every kind tch names
    /// but complex, quantized and float8 is a dtype of eager-tensor; those
    /// are kept as they are and every op on them is the error of
    /// [`native_dtype_ok`](TensorBase::native_dtype_ok), naming the kind.
    ///
    /// An undefined tensor (`Tensor::new()`) has no shape or dtype to work
    /// with; it becomes an empty f32 tensor of shape `[0]` rather than a
    /// handle that would make libtorch fail on every call.
    pub fn wrap(t: Tensor) -> TorchTensor {
        // A malformed EAGER_TENSOR_NUM_THREADS is reported by the next
        // fallible call that makes a tensor.
        let _ = threads_at_start("astensor");
        // SAFETY: a live tch handle; `at_defined` never throws, so there is
        // no error for tch's check to clear (one FFI call instead of two).
        let defined = unsafe { torch_sys::at_defined(t.as_ptr().cast_mut()) } == 1;
        if !defined {
            if let Ok(e) = Tensor::f_empty([0i64], (Kind::Float, tch::Device::Cpu)) {
                return TorchTensor::new(e, None);
            }
        }
        TorchTensor::new(t, None)
    }
    /// The stored libtorch tensor as it is (for `u16`/`u32`/`u64` the
    /// signed tensor that holds their values; [`as_tch`](Self::as_tch)
    /// refuses those).
    pub fn tensor(&self) -> &Tensor {
        &self.tensor
    }
    /// The same values cut from libtorch's autograd graph (`detach`), with
    /// this tensor's dtype.
    pub fn detach(&self) -> Result<Self> {
        self.keep(self.tensor.f_detach().map_err(fw("detach"))?)
    }
    /// The tensor as tch sees it; an error for `u16`/`u32`/`u64`, which tch
    /// has no kind for (cast to `i64` first, or use another backend).
    pub fn into_tch(self) -> Result<Tensor> {
        match self.unsigned {
            None => Ok(self.tensor),
            Some(d) => Err(no_tch_kind(d)),
        }
    }
    /// Borrows the tensor as tch sees it; an error for `u16`/`u32`/`u64`.
    pub fn as_tch(&self) -> Result<&Tensor> {
        match self.unsigned {
            None => Ok(&self.tensor),
            Some(d) => Err(no_tch_kind(d)),
        }
    }
    /// A handle with an unsigned tag (or none); kind and shape are read
    /// when first asked for.
    const fn new(t: Tensor, tag: Option<DType>) -> Self {
        TorchTensor {
            tensor: t,
            unsigned: tag,
            meta: Once::new(),
        }
    }
    /// The kind and shape, read from libtorch on first use.
    #[inline]
    fn meta(&self) -> &Meta {
        self.meta.get_or_init(|| Meta::read(&self.tensor))
    }
    /// The stored tensor's dtype (for `u16`/`u32`/`u64` the signed one
    /// that holds them); `None` for a kind eager-tensor lacks.
    fn stored(&self) -> Option<DType> {
        self.meta().stored
    }
    fn t(&self) -> &Tensor {
        &self.tensor
    }
    fn ok(t: Tensor) -> Result<Self> {
        Ok(TorchTensor::new(t, None))
    }
    /// A result with this tensor's dtype (the tag of an emulated unsigned
    /// dtype carries over).
    fn keep(&self, t: Tensor) -> Result<Self> {
        Ok(TorchTensor::new(t, self.unsigned))
    }
    /// `f` of the stored tensor, in this tensor's dtype; a libtorch
    /// error names `op`.
    fn apply(
        &self,
        op: &'static str,
        f: impl FnOnce(&Tensor) -> std::result::Result<Tensor, tch::TchError>,
    ) -> Result<Self> {
        self.keep(f(&self.tensor).map_err(fw(op))?)
    }
    fn opts(&self) -> tch::Device {
        self.tensor.device()
    }
    /// `where(b == 0, 0, f(a, where(b == 0, 1, b)))`: integer division and
    /// remainder by zero give 0 (NumPy) instead of libtorch's exception.
    fn int_div(
        &self,
        rhs: &Self,
        op: &'static str,
        f: impl Fn(&Tensor, &Tensor) -> std::result::Result<Tensor, tch::TchError>,
    ) -> Result<Self> {
        Self::ok(scalar_call(op, || {
            let zero = rhs.t().f_eq(0)?;
            let safe = rhs.t().f_masked_fill(&zero, 1)?;
            f(self.t(), &safe)?.f_masked_fill(&zero, 0)
        })?)
    }
    fn is_float(&self) -> bool {
        self.unsigned.is_none() && self.stored().is_some_and(DType::is_float)
    }
    fn is_half(&self) -> bool {
        self.unsigned.is_none() && matches!(self.stored(), Some(DType::F16 | DType::BF16))
    }
    /// `f(self as f32)` rounded back to this 16-bit float dtype, for the
    /// kernels libtorch lacks (or rounds per step) for f16/bf16 on the CPU.
    fn via_f32(&self, f: impl FnOnce(&Self) -> Result<Self>) -> Result<Self> {
        eager_core::ops::via_f32(self, f)
    }
}

/// The error for handing a `u16`/`u32`/`u64` tensor to tch.
fn no_tch_kind(d: DType) -> Error {
    Error::dtype(
        "into_raw",
        format!(
            "tch has no {d} kind (libtorch's unsigned 16/32/64-bit types are not \
             exposed); cast to i64 with astype first, or use another backend"
        ),
    )
}

impl TensorBase for TorchTensor {
    const BACKEND: Backend = Backend::Torch;
    /// libtorch's kernels (TensorIterator) handle at most 64 dimensions
    /// ("only tensors with up to 64 dims are supported").
    const MAX_RANK: usize = 64;
    fn shape(&self) -> Vec<usize> {
        self.meta().shape.to_vec()
    }
    fn shape_ref(&self) -> Option<&[usize]> {
        Some(&self.meta().shape)
    }
    /// The dtype; a kind eager-tensor lacks (complex, quantized) reads as
    /// `f32` here, and every operation on it is the error of
    /// [`native_dtype_ok`](TensorBase::native_dtype_ok).
    fn dtype(&self) -> DType {
        match self.unsigned {
            Some(d) => d,
            None => self.stored().unwrap_or(DType::F32),
        }
    }
    fn native_dtype_ok(&self) -> Result<()> {
        let meta = self.meta();
        if meta.stored.is_some() && meta.shape.len() <= Self::MAX_RANK {
            return Ok(());
        }
        // A native tensor wrapped as it is may have more dimensions than
        // the kernels handle (the facade refuses to make one).
        Self::check_rank("astensor", &meta.shape)?;
        // The error path only: the kind's name as tch spells it.
        let what = match self.tensor.f_kind() {
            Ok(k) => format!("{k:?}"),
            Err(_) => "of a scalar type or layout tch does not know".to_string(),
        };
        Err(Error::dtype(
            "astensor",
            format!(
                "torch {what} tensors are not supported (eager-tensor's dtypes: \
                 bool, u8, i8, i16, u16, i32, u32, i64, u64, f16, bf16, f32, f64)"
            ),
        ))
    }
    fn device(&self) -> Device {
        match self.tensor.device() {
            tch::Device::Cuda(i) => Device::Cuda(i),
            _ => Device::Cpu,
        }
    }
    fn to_device(&self, device: Device) -> Result<Self> {
        if let Device::Cuda(i) = device {
            let n = tch::Cuda::device_count() as usize;
            if i >= n {
                return Err(Error::Unsupported {
                    op: "to_device",
                    backend: Backend::Torch,
                    msg: format!("libtorch sees {n} CUDA device(s); cuda:{i} is not one of them"),
                });
            }
        }
        self.apply("to_device", |t| t.f_to_device(tdevice(device)))
    }
    /// Adopts the vector's memory without a copy (`u16`/`u32`, stored
    /// widened, take one widening copy).
    fn from_host(data: HostData, shape: &[usize]) -> Result<Self> {
        exchange::from_host(data, shape)
    }
    fn from_host_like(&self, data: HostData, shape: &[usize]) -> Result<Self> {
        let t = Self::from_host(data, shape)?;
        if self.opts() == tch::Device::Cpu {
            Ok(t)
        } else {
            t.keep(t.tensor.f_to_device(self.opts()).map_err(fw("from_vec"))?)
        }
    }
    fn to_host(&self) -> Result<HostData> {
        let e = fw("to_vec");
        let t = self
            .tensor
            .f_to_device(tch::Device::Cpu)
            .map_err(&e)?
            .f_contiguous()
            .map_err(&e)?;
        let n = t.numel();
        fn copy<T: tch::kind::Element + Default + Clone>(
            t: &Tensor,
            n: usize,
        ) -> std::result::Result<Vec<T>, tch::TchError> {
            let mut v = vec![T::default(); n];
            t.f_copy_data(&mut v, n)?;
            Ok(v)
        }
        Ok(match self.dtype() {
            DType::Bool => HostData::Bool(copy(&t, n).map_err(&e)?),
            DType::U8 => HostData::U8(copy(&t, n).map_err(&e)?),
            DType::I8 => HostData::I8(copy(&t, n).map_err(&e)?),
            DType::I16 => HostData::I16(copy(&t, n).map_err(&e)?),
            DType::I32 => HostData::I32(copy(&t, n).map_err(&e)?),
            DType::I64 => HostData::I64(copy(&t, n).map_err(&e)?),
            DType::F16 => HostData::F16(copy(&t, n).map_err(&e)?),
            DType::BF16 => {
                let bits = t.f_view_dtype(Kind::Int16).map_err(&e)?;
                let v: Vec<i16> = copy(&bits, n).map_err(&e)?;
                HostData::BF16(
                    v.into_iter()
                        .map(|b| eager_core::bf16::from_bits(b as u16))
                        .collect(),
                )
            }
            DType::F32 => HostData::F32(copy(&t, n).map_err(&e)?),
            DType::F64 => HostData::F64(copy(&t, n).map_err(&e)?),
            DType::U16 => {
                let v: Vec<i32> = copy(&t, n).map_err(&e)?;
                HostData::U16(v.into_iter().map(|x| x as u16).collect())
            }
            DType::U32 => {
                let v: Vec<i64> = copy(&t, n).map_err(&e)?;
                HostData::U32(v.into_iter().map(|x| x as u32).collect())
            }
            DType::U64 => {
                let v: Vec<i64> = copy(&t, n).map_err(&e)?;
                HostData::U64(v.into_iter().map(|x| x as u64).collect())
            }
        })
    }
    /// Lends a CPU, row-major contiguous tensor's memory (`None` for CUDA,
    /// strided views, empty tensors and the widened `u16`/`u32`).
    fn lend_host(&self) -> Result<Option<HostBuffer>> {
        exchange::lend(self)
    }
    /// Adopts the memory without a copy; libtorch keeps the owner until
    /// the last tensor or view of it is freed (`u16`/`u32`: one widening
    /// copy; a buffer misaligned for its dtype: one copy).
    fn adopt_host(buf: HostBuffer) -> Result<Self> {
        threads_at_start("adopt_host")?;
        exchange::adopt(buf)
    }
}

//! The Candle backend of eager-tensor: Hugging Face's
//! [candle-core](https://docs.rs/candle-core) 0.11, its pure-Rust CPU
//! kernels (default features: no CUDA, Metal or MKL).
//!
//! [`CandleTensor`] is the native handle (`candle_core::Tensor`, which is
//! reference counted: a clone shares the storage) plus, for the dtypes
//! Candle has no type for, that dtype (its `tag` field): `bool`
//! lives in Candle's `u8` (0 or 1), `i8` in `i16`, `u16` in `i32` (exactly), `u64`
//! in `i64` (bit for bit). Structural ops (reshape, permute, broadcast,
//! slices, concatenation, gathers, `where`) and comparisons work on the
//! stored values unchanged; arithmetic on them is computed on the host.
//!
//! Where Candle's kernels differ from `docs/semantics.md` the backend
//! makes the result match:
//!
//! - float `minimum`/`maximum` (Candle drops a NaN in the second operand and
//!   keeps the first of two equal values) are a compare and select;
//! - `sign(NaN)` (Candle: 0) keeps NaN; `relu` (Candle: `max(x, 0)`, which
//!   drops NaN) is a select;
//! - f32 sums and means (Candle's sum is a plain f32 loop, off by ~1e-4
//!   at 10⁵ elements): a full sum is `eager_core::sum`'s blocked pairwise
//!   sum, ndarray's bits; sums over some axes accumulate in f64;
//! - the 16-bit floats compute element-wise functions, reductions and
//!   `matmul` in f32 and round once;
//! - casts from f64 and integers to f16/bf16 round on the host as NumPy
//!   (f16, once) and ml_dtypes (bf16, through f32) do
//!   (`eager_core::round`).
//!
//! Ops Candle has no kernel for, or whose kernels would panic or differ
//! (integer arithmetic: Candle's integer kernels use Rust's `+`, which
//! panics on overflow in a debug build, and its integer unary kernels are
//! unimplemented: they panic), are computed on a host copy with the ndarray backend's
//! kernels, each listed at [`HOST_OPS`].
#![warn(missing_docs)]

mod autograd;
pub mod backprop;
mod cast;
mod create;
mod elementwise;
mod index;
mod linalg;
mod reduce;
mod shape;

use candle_core::op::CmpOp;
use candle_core::{CpuStorage, DType as CD, Device as CDevice, Storage, Tensor};
use eager_core::ops::prelude::*;
use eager_core::ops::via_f32;
use eager_core::shape::SliceRange;
use eager_core::{
    ArgReduceOp, Backend, BinaryOp, DType, Device, Distribution, Error, HostBuffer, HostData,
    ReduceOp, Result, Scalar, UnaryOp,
};
use eager_host::HostTensor;

pub use candle_core;

/// What this backend computes on a host copy with the ndarray backend's
/// kernels (the input is copied out of Candle, the result copied back), and
/// why; `docs/semantics.md` lists the same.
///
/// - integer and bool arithmetic (`+ - * // % **`, `abs`, `neg`, `sign`,
///   `square`, `relu`, integer sums, products and cumulative sums, integer
///   `matmul`, integer `scatter_add`): Candle's integer kernels panic on
///   overflow in debug builds, where eager-tensor wraps, and its integer
///   unary kernels are unimplemented (they panic);
/// - float `//`, `%`, `**`: Candle has no floor division or remainder, and
///   its `pow` is `exp(b · ln a)` (NaN for a negative base);
/// - `log2`, `log10`, `log1p`, `tan`, `sinh`, `cosh`, the inverse
///   trigonometric and hyperbolic functions, `round` (Candle rounds half
///   away from zero; eager-tensor half to even): no Candle kernel;
/// - float `min`/`max` reductions (Candle's skip NaN and order `-0.0`
///   against `0.0` differently), `prod` (no kernel), `cumsum` (Candle's is a
///   matmul with a triangular matrix: not the sequential sum),
///   `argmin`/`argmax` (NumPy's first-NaN rule), `sort`/`argsort` (Candle's
///   sort is not stable), `nonzero`, `inv`, `slogdet` (no kernels);
/// - everything on `u64` but structural ops, and casts to or from the
///   emulated dtypes `i8`, `u16`, `u64` (saturation and wrapping to a range
///   the storage type does not have);
/// - casts from `f64` and the integers to `f16`/`bf16` (Candle's round
///   through `half`'s `from_f64`, which drops the low 32 bits of the f64,
///   or through f32; `eager_core::round` rounds as NumPy and ml_dtypes);
/// - random numbers (drawn by the ndarray backend's seeded generator, so
///   `ep::seed` repeats them).
pub const HOST_OPS: &str = "integer arithmetic, float floor_div/rem/pow, log2/log10/log1p/\
tan/sinh/cosh/arc*/round, float min/max reductions, prod, cumsum, argmin/argmax, sort/argsort, \
nonzero, inv, slogdet, u64 arithmetic and order, casts to or from i8/u16/u64, casts from f64 or \
integers to f16/bf16, random";

/// The native tensor of the candle backend: a `candle_core::Tensor`, and for
/// the dtypes Candle lacks (`bool`, `i8`, `u16`, `u64`) that dtype, whose
/// values live in a Candle dtype that holds each of them exactly (`bool` in
/// `u8`, `i8` in `i16`, `u16` in `i32`, `u64` in `i64` bit for bit).
#[derive(Clone, Debug)]
pub struct CandleTensor {
    /// The Candle tensor.
    tensor: Tensor,
    /// For `bool`, `i8`, `u16` and `u64` (held in a Candle dtype that
    /// stores them), that dtype; `None` for the dtypes Candle has.
    tag: Option<DType>,
}

impl From<Tensor> for CandleTensor {
    /// Wraps without copying, in the tensor's own dtype.
    fn from(t: Tensor) -> Self {
        CandleTensor::wrap(t)
    }
}

/// This backend's own generator, one per thread (`uniform`/`normal` are
/// drawn on the host): `seed` and `sample`.
mod random {
    eager_host::generator!("candle");
}
pub use random::seed;

/// The thread count this backend started with (`Some(0)`: Candle's
/// default), set when it makes its first tensor.
static STARTED: std::sync::OnceLock<Result<usize>> = std::sync::OnceLock::new();

/// Applies the requested thread count (`ep::set_num_threads` or
/// `EAGER_TENSOR_NUM_THREADS`) when this backend makes its first tensor:
/// Candle sizes its thread pools, and rayon its global pool, from
/// `RAYON_NUM_THREADS` and `CANDLE_NUM_THREADS` when they start, so both
/// are set then (Candle has no other knob). Without a request they are
/// left as they are: one thread per physical core.
pub(crate) fn threads_at_start(op: &'static str) -> Result<()> {
    STARTED
        .get_or_init(|| {
            let n = eager_core::threads::requested(op)?;
            if let Some(n) = n {
                std::env::set_var("RAYON_NUM_THREADS", n.to_string());
                std::env::set_var("CANDLE_NUM_THREADS", n.to_string());
            }
            Ok(n.unwrap_or(0))
        })
        .as_ref()
        .map(|_| ())
        .map_err(Clone::clone)
}

/// `ep::set_num_threads` on Candle: the count applies when the backend
/// starts, so it is an error once it has started with another.
pub fn set_num_threads(op: &'static str, n: usize) -> Result<()> {
    let started = STARTED.get().cloned().transpose()?;
    eager_core::threads::fixed_at_start(op, "Candle has started already", "candle", started, n)
}

/// Candle's error as an [`Error::Framework`] naming `op`.
pub fn error(op: &'static str, e: candle_core::Error) -> Error {
    Error::Framework {
        op,
        backend: Backend::Candle,
        msg: e.to_string(),
    }
}

fn fw(op: &'static str) -> impl Fn(candle_core::Error) -> Error {
    move |e| error(op, e)
}

/// The Candle dtype a dtype is stored in.
fn store(d: DType) -> CD {
    match d {
        DType::Bool | DType::U8 => CD::U8,
        DType::I8 | DType::I16 => CD::I16,
        DType::U16 | DType::I32 => CD::I32,
        DType::U32 => CD::U32,
        DType::I64 | DType::U64 => CD::I64,
        DType::F16 => CD::F16,
        DType::BF16 => CD::BF16,
        DType::F32 => CD::F32,
        DType::F64 => CD::F64,
    }
}

/// The tag of a tensor of `d`: `Some` for the emulated dtypes.
fn tag(d: DType) -> Option<DType> {
    matches!(d, DType::Bool | DType::I8 | DType::U16 | DType::U64).then_some(d)
}

/// The dtype of an untagged Candle dtype; `None` for the 8-, 6- and 4-bit
/// floats eager-tensor does not have.
fn dtype_of(d: CD) -> Option<DType> {
    Some(match d {
        CD::U8 => DType::U8,
        CD::U32 => DType::U32,
        CD::I16 => DType::I16,
        CD::I32 => DType::I32,
        CD::I64 => DType::I64,
        CD::BF16 => DType::BF16,
        CD::F16 => DType::F16,
        CD::F32 => DType::F32,
        CD::F64 => DType::F64,
        _ => return None,
    })
}

const CPU: CDevice = CDevice::Cpu;

/// A 0-d tensor of Candle dtype `d` holding `v`, broadcast to `shape`.
fn filled(op: &'static str, v: f64, d: CD, shape: &[usize]) -> Result<Tensor> {
    Tensor::new(v, &CPU)
        .and_then(|t| t.to_dtype(d))
        .and_then(|t| t.broadcast_as(shape))
        .map_err(fw(op))
}

/// Both operands broadcast to their common shape (views).
fn bcast(op: &'static str, a: &Tensor, b: &Tensor) -> Result<(Tensor, Tensor)> {
    if a.dims() == b.dims() {
        return Ok((a.clone(), b.clone()));
    }
    let s = eager_core::shape::broadcast_shapes(op, a.dims(), b.dims())?;
    let e = fw(op);
    // An operand already of the result's shape is used as it is: a no-op
    // `broadcast_as` would add a Broadcast node to Candle's backprop graph,
    // whose backward is a full-size reduction over no axes.
    Ok((broadcast_as(a, &s, &e)?, broadcast_as(b, &s, &e)?))
}

fn cmp_op(op: BinaryOp) -> Option<CmpOp> {
    Some(match op {
        BinaryOp::Lt => CmpOp::Lt,
        BinaryOp::Le => CmpOp::Le,
        BinaryOp::Gt => CmpOp::Gt,
        BinaryOp::Ge => CmpOp::Ge,
        BinaryOp::Eq => CmpOp::Eq,
        BinaryOp::Ne => CmpOp::Ne,
        _ => return None,
    })
}

/// The shape after reducing `axes`.
fn reduced_shape(shape: &[usize], axes: &[usize], keepdims: bool) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .filter_map(|(i, &n)| match (axes.contains(&i), keepdims) {
            (false, _) => Some(n),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

impl CandleTensor {
    /// Wraps a tensor without copying, in its own dtype. A dtype eager-tensor
    /// lacks (Candle's 8-, 6- and 4-bit floats) is kept as it is, and every
    /// op on it is the error of
    /// [`native_dtype_ok`](TensorBase::native_dtype_ok), naming it.
    pub fn wrap(t: Tensor) -> CandleTensor {
        // A malformed EAGER_TENSOR_NUM_THREADS is reported by the next
        // fallible call that makes a tensor.
        let _ = threads_at_start("astensor");
        CandleTensor {
            tensor: t,
            tag: None,
        }
    }
    /// The tensor as Candle sees it; a `dtype` error for `bool`, `i8`,
    /// `u16` and `u64`, which Candle has no type for (cast first).
    pub fn into_candle(self) -> Result<Tensor> {
        match self.tag {
            None => Ok(self.tensor),
            Some(d) => Err(no_candle_dtype(d)),
        }
    }
    /// Borrows the tensor as Candle sees it; a `dtype` error for `bool`,
    /// `i8`, `u16` and `u64`.
    pub fn as_candle(&self) -> Result<&Tensor> {
        match self.tag {
            None => Ok(&self.tensor),
            Some(d) => Err(no_candle_dtype(d)),
        }
    }
    /// The address of the first element when the tensor is contiguous CPU
    /// memory (for zero-copy checks), else `None`.
    pub fn data_ptr(&self) -> Option<*const u8> {
        let (storage, layout) = self.tensor.storage_and_layout();
        let (start, _) = layout.contiguous_offsets()?;
        let Storage::Cpu(cpu) = &*storage else {
            return None;
        };
        let (base, size): (*const u8, usize) = match cpu {
            CpuStorage::U8(v) => (v.as_ptr(), 1),
            CpuStorage::U32(v) => (v.as_ptr().cast(), 4),
            CpuStorage::I16(v) => (v.as_ptr().cast(), 2),
            CpuStorage::I32(v) => (v.as_ptr().cast(), 4),
            CpuStorage::I64(v) => (v.as_ptr().cast(), 8),
            CpuStorage::BF16(v) => (v.as_ptr().cast(), 2),
            CpuStorage::F16(v) => (v.as_ptr().cast(), 2),
            CpuStorage::F32(v) => (v.as_ptr().cast(), 4),
            CpuStorage::F64(v) => (v.as_ptr().cast(), 8),
            _ => return None,
        };
        Some(base.wrapping_add(start * size))
    }
    /// `f` of the f32 elements when the tensor is contiguous f32 CPU
    /// storage (no copy), `None` otherwise.
    fn with_f32_slice<R>(&self, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
        if self.tag.is_some() {
            return None;
        }
        let (storage, layout) = self.tensor.storage_and_layout();
        let (start, end) = layout.contiguous_offsets()?;
        match &*storage {
            Storage::Cpu(CpuStorage::F32(v)) => v.get(start..end).map(f),
            _ => None,
        }
    }
    /// The same tensor cut from Candle's backprop graph (shares the
    /// storage; `Tensor::detach`).
    pub fn detach(&self) -> CandleTensor {
        CandleTensor {
            tensor: self.tensor.detach(),
            tag: self.tag,
        }
    }
    fn ok(t: Tensor) -> Result<Self> {
        Ok(CandleTensor {
            tensor: t,
            tag: None,
        })
    }
    /// A result in this tensor's dtype (the tag of an emulated dtype
    /// carries over).
    fn keep(&self, t: Tensor) -> Result<Self> {
        Ok(CandleTensor {
            tensor: t,
            tag: self.tag,
        })
    }
    /// A Candle `u8` 0/1 result as a `bool` tensor.
    fn boolean(t: Tensor) -> Result<Self> {
        Ok(CandleTensor {
            tensor: t,
            tag: Some(DType::Bool),
        })
    }
    fn is_float(&self) -> bool {
        self.dtype().is_float()
    }

    /// A host copy as an ndarray-backend tensor.
    fn nd(&self) -> Result<HostTensor> {
        HostTensor::from_host(self.to_host()?, &self.shape())
    }
    fn from_nd(t: HostTensor) -> Result<Self> {
        let shape = t.shape().to_vec();
        Self::from_host(t.to_host()?, &shape)
    }
    /// `f` on a host copy with the host engine's kernels (see [`HOST_OPS`]).
    fn host(&self, f: impl FnOnce(&HostTensor) -> Result<HostTensor>) -> Result<Self> {
        Self::from_nd(f(&self.nd()?)?)
    }
    /// `f` on host copies of two tensors.
    fn host2(
        &self,
        rhs: &Self,
        f: impl FnOnce(&HostTensor, &HostTensor) -> Result<HostTensor>,
    ) -> Result<Self> {
        Self::from_nd(f(&self.nd()?, &rhs.nd()?)?)
    }

    /// `isnan` as a Candle `u8` mask (`x != x`).
    fn nan_mask(x: &Tensor, op: &'static str) -> Result<Tensor> {
        x.ne(x).map_err(fw(op))
    }

    /// Float `minimum`/`maximum` with NumPy's rules: NaN propagates, and of
    /// two equal values (`0.0`, `-0.0`) the second.
    fn float_min_max(a: &Tensor, b: &Tensor, op: BinaryOp) -> Result<Tensor> {
        let n = op.name();
        let e = fw(n);
        let first = if op == BinaryOp::Minimum {
            a.lt(b)
        } else {
            a.gt(b)
        }
        .map_err(&e)?;
        // a strictly better: a; else b (ties, NaN in b); then NaN in a.
        let m = first.where_cond(a, b).map_err(&e)?;
        Self::nan_mask(a, n)?.where_cond(a, &m).map_err(e)
    }

    /// Sum over `axes` (non-empty) of a float tensor: a full f32 sum is
    /// ndarray's (`eager_core::sum::pairwise`, the same bits), other f32
    /// sums accumulate in f64 (Candle's own f32 sum adds in sequence).
    fn float_sum(&self, axes: &[usize], op: &'static str) -> Result<Tensor> {
        let e = fw(op);
        let x = &self.tensor;
        if x.dtype() == CD::F32 && axes.len() == x.rank() && !backprop::tracked(x) {
            // One vectorized pass over the storage (the cast-then-sum below
            // reads the data twice and writes an f64 copy: 3.4x Candle's
            // own f32 sum at 10^6; f64 accumulators in one pass: 1.065x).
            if let Some(total) = self.with_f32_slice(eager_core::sum::pairwise) {
                return Tensor::new(&[total], &CPU)
                    .and_then(|t| t.reshape(vec![1; x.rank()]))
                    .map_err(e);
            }
        }
        match x.dtype() {
            CD::F32 => x
                .to_dtype(CD::F64)
                .and_then(|t| t.sum_keepdim(axes.to_vec()))
                .map_err(e),
            _ => x.sum_keepdim(axes.to_vec()).map_err(e),
        }
    }

    /// Casts between dtypes Candle has (no emulated one on either side) with
    /// Candle's kernels, which use Rust's `as` (NaN → 0, saturating float →
    /// int, wrapping int → int: eager-tensor's rules).
    fn candle_cast(&self, to: DType) -> Result<Self> {
        let e = fw("astype");
        let from = self.dtype();
        let x = &self.tensor;
        if to.is_half() && (from.is_int() || from == DType::F64) {
            // Candle's f64 -> f16/bf16 kernels are `half`'s `from_f64`,
            // which drops the low 32 bits of the f64 before rounding (a
            // value just above a tie rounds as the tie), and its int ->
            // f16/bf16 ones round through f32 or that: the host rounds as
            // NumPy (f16) and ml_dtypes (bf16) do (`eager_core::round`).
            return self.host(|t| t.cast(to));
        }
        Self::ok(x.to_dtype(store(to)).map_err(e)?)
    }

    /// A float `min`/`max` reduction of a tensor Candle's backprop tracks:
    /// computed on the host (NumPy's NaN and `-0.0` rules), entered into
    /// Candle's graph as [`backprop::MinMax`], whose backward splits the
    /// gradient between ties.
    fn min_max_tracked(
        &self,
        op: ReduceOp,
        axes: &[usize],
        keepdims: bool,
        out: Vec<usize>,
    ) -> Result<Self> {
        let name = if op == ReduceOp::Min { "min" } else { "max" };
        let r = self.detach().nd()?.reduce(op, axes, keepdims)?.to_host()?;
        let storage = match r {
            HostData::F32(v) => CpuStorage::F32(v),
            HostData::F64(v) => CpuStorage::F64(v),
            other => {
                return Err(Error::dtype(
                    name,
                    format!("internal: a {} result for a float reduction", other.dtype()),
                ))
            }
        };
        let mut kept = self.tensor.dims().to_vec();
        for &a in axes {
            kept[a] = 1;
        }
        let custom = backprop::MinMax {
            out: std::sync::Mutex::new(Some(storage)),
            shape: out.into(),
            kept,
            axes: axes.to_vec(),
        };
        Self::ok(self.tensor.apply_op1(custom).map_err(fw(name))?)
    }
}

/// The error for handing an emulated dtype to Candle.
fn no_candle_dtype(d: DType) -> Error {
    Error::dtype(
        "into_raw",
        format!(
            "candle has no {d} dtype (the candle backend stores it in {:?}); cast with \
             astype first, or use another backend",
            store(d)
        ),
    )
}

/// `t` itself when contiguous, else a contiguous copy (Candle's index
/// kernels refuse strided operands).
fn contiguous(t: &Tensor, e: &impl Fn(candle_core::Error) -> Error) -> Result<Tensor> {
    if t.is_contiguous() {
        Ok(t.clone())
    } else {
        t.contiguous().map_err(e)
    }
}

/// [`host_data`] of an emulated dtype: the stored elements, each mapped
/// `t` broadcast to `shape`: `t` itself when it has that shape already (a
/// no-op `broadcast_as` would add a Broadcast node to Candle's backprop
/// graph, whose backward is a full-size reduction over no axes).
fn broadcast_as(
    t: &Tensor,
    shape: &[usize],
    e: &impl Fn(candle_core::Error) -> Error,
) -> Result<Tensor> {
    if t.dims() == shape {
        Ok(t.clone())
    } else {
        t.broadcast_as(shape).map_err(e)
    }
}

/// to the dtype they stand for.
fn host_data_as<S: candle_core::WithDType, T>(
    t: &Tensor,
    op: &'static str,
    f: impl Fn(S) -> T,
) -> Result<Vec<T>> {
    Ok(host_data::<S>(t, op)?.into_iter().map(f).collect())
}

fn host_data<T: candle_core::WithDType>(t: &Tensor, op: &'static str) -> Result<Vec<T>> {
    if t.elem_count() == 0 {
        // Candle's `to_vec1` slices its storage from the layout's offset,
        // which an empty view can put past the end (a panic).
        return Ok(Vec::new());
    }
    t.flatten_all()
        .and_then(|f| f.to_vec1::<T>())
        .map_err(fw(op))
}

impl TensorBase for CandleTensor {
    const BACKEND: Backend = Backend::Candle;
    /// Candle's CPU kernels index at most 8 dimensions
    /// (`candle_core::nditer::MAX_DIMS`: a binary op on 9 panics).
    const MAX_RANK: usize = 8;
    fn shape(&self) -> Vec<usize> {
        self.tensor.dims().to_vec()
    }
    /// The dtype; a Candle dtype eager-tensor lacks (the 8-, 6- and 4-bit
    /// floats) reads as `f32` here, and every operation on it is the error
    /// of [`native_dtype_ok`](TensorBase::native_dtype_ok).
    fn dtype(&self) -> DType {
        match self.tag {
            Some(d) => d,
            None => dtype_of(self.tensor.dtype()).unwrap_or(DType::F32),
        }
    }
    fn native_dtype_ok(&self) -> Result<()> {
        // A native tensor wrapped as it is may have more dimensions than
        // Candle's kernels index (the facade refuses to make one).
        Self::check_rank("astensor", self.tensor.dims())?;
        if self.tag.is_some() || dtype_of(self.tensor.dtype()).is_some() {
            return Ok(());
        }
        Err(Error::dtype(
            "astensor",
            format!(
                "candle {:?} tensors are not supported (eager-tensor's dtypes: bool, u8, i8, \
                 i16, u16, i32, u32, i64, u64, f16, bf16, f32, f64)",
                self.tensor.dtype()
            ),
        ))
    }
    fn device(&self) -> Device {
        Device::Cpu
    }
    /// The tensor itself for the CPU; CUDA is an `unsupported` error: this
    /// build of candle-core has no CUDA support (its `cuda` feature is off).
    fn to_device(&self, device: Device) -> Result<Self> {
        match device {
            Device::Cpu => Ok(self.clone()),
            Device::Cuda(_) => Err(Error::Unsupported {
                op: "to_device",
                backend: Backend::Candle,
                msg: format!(
                    "candle-core is built without CUDA support (default features), so the \
                     candle backend has no device {device}"
                ),
            }),
        }
    }
    /// One move for the dtypes Candle has (`Tensor::from_vec` takes the
    /// vector), one converting copy for the emulated ones.
    fn from_host(data: HostData, shape: &[usize]) -> Result<Self> {
        threads_at_start("from_vec")?;
        let e = fw("from_vec");
        let d = data.dtype();
        let s = shape.to_vec();
        let t = match data {
            HostData::Bool(v) => {
                Tensor::from_vec(v.into_iter().map(u8::from).collect::<Vec<_>>(), s, &CPU)
            }
            HostData::U8(v) => Tensor::from_vec(v, s, &CPU),
            HostData::I8(v) => {
                Tensor::from_vec(v.into_iter().map(i16::from).collect::<Vec<_>>(), s, &CPU)
            }
            HostData::I16(v) => Tensor::from_vec(v, s, &CPU),
            HostData::U16(v) => {
                Tensor::from_vec(v.into_iter().map(i32::from).collect::<Vec<_>>(), s, &CPU)
            }
            HostData::I32(v) => Tensor::from_vec(v, s, &CPU),
            HostData::U32(v) => Tensor::from_vec(v, s, &CPU),
            HostData::I64(v) => Tensor::from_vec(v, s, &CPU),
            HostData::U64(v) => {
                Tensor::from_vec(v.into_iter().map(|x| x as i64).collect::<Vec<_>>(), s, &CPU)
            }
            HostData::F16(v) => Tensor::from_vec(v, s, &CPU),
            HostData::BF16(v) => Tensor::from_vec(v, s, &CPU),
            HostData::F32(v) => Tensor::from_vec(v, s, &CPU),
            HostData::F64(v) => Tensor::from_vec(v, s, &CPU),
        }
        .map_err(e)?;
        Ok(CandleTensor {
            tensor: t,
            tag: tag(d),
        })
    }
    /// A copy of the values; a tracked float tensor leaving Candle this way
    /// marks the current [`backprop::Watch`] uncovered.
    fn to_host(&self) -> Result<HostData> {
        backprop::uncovered_if(&[&self.tensor]);
        let op = "to_vec";
        let t = &self.tensor;
        Ok(match self.dtype() {
            DType::Bool => HostData::Bool(host_data_as(t, op, |x: u8| x != 0)?),
            DType::U8 => HostData::U8(host_data(t, op)?),
            DType::I8 => HostData::I8(host_data_as(t, op, |x: i16| x as i8)?),
            DType::I16 => HostData::I16(host_data(t, op)?),
            DType::U16 => HostData::U16(host_data_as(t, op, |x: i32| x as u16)?),
            DType::I32 => HostData::I32(host_data(t, op)?),
            DType::U32 => HostData::U32(host_data(t, op)?),
            DType::I64 => HostData::I64(host_data(t, op)?),
            DType::U64 => HostData::U64(host_data_as(t, op, |x: i64| x as u64)?),
            DType::F16 => HostData::F16(host_data(t, op)?),
            DType::BF16 => HostData::BF16(host_data(t, op)?),
            DType::F32 => HostData::F32(host_data(t, op)?),
            DType::F64 => HostData::F64(host_data(t, op)?),
        })
    }
    /// Lends a contiguous CPU tensor's storage: the owner is a clone of the
    /// `Tensor` (one reference to Candle's storage), so the memory stays
    /// alive. `bool` (stored as 0/1 bytes) is lent too; the other emulated
    /// dtypes (stored wider) and strided views are not.
    fn lend_host(&self) -> Result<Option<HostBuffer>> {
        backprop::uncovered_if(&[&self.tensor]);
        let dtype = match self.tag {
            None => self.dtype(),
            Some(DType::Bool) => DType::Bool,
            Some(_) => return Ok(None),
        };
        let Some(ptr) = self.data_ptr() else {
            return Ok(None);
        };
        // SAFETY: `data_ptr` is the first of the tensor's `numel` contiguous
        // elements in Candle's CPU storage, of `dtype`'s size and alignment
        // (bool: 0/1 bytes); the owner (a clone of the tensor, which holds
        // the storage's `Arc`) keeps that `Vec` alive and Candle never
        // reallocates a storage in place.
        Ok(Some(unsafe {
            HostBuffer::new(ptr, dtype, self.shape(), Box::new(self.tensor.clone()))
        }))
    }
    /// Candle's CPU storage owns `Vec`s and cannot borrow foreign memory:
    /// a lent [`HostData`] (from `HostBuffer::from_host_data`) is moved in
    /// without a copy (`Tensor::from_vec`), anything else is copied once
    /// (and the emulated dtypes converted).
    fn adopt_host(buf: HostBuffer) -> Result<Self> {
        let (data, shape) = buf.into_host_data();
        Self::from_host(data, &shape)
    }
}

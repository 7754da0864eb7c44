//! The TensorFlow backend of eager-tensor, through the TensorFlow 2.13 eager
//! C API ([`tensorflow`] crate, feature `eager`).
//!
//! [`TfTensor`] holds an eager `TensorHandle` of one process-wide eager
//! context (TensorFlow handles borrow their context, so the context lives
//! for the whole program). Every op is a TF raw op; `TF_Status` failures
//! become [`Error::Framework`] with TensorFlow's message. Where TensorFlow's
//! semantics differ from eager-tensor's the backend adjusts the call (see
//! `docs/semantics.md`): integer `//` and `%` by zero give 0 instead of an
//! error, `log2`/`log10` come from `log`, NaN-to-integer casts saturate,
//! and where TensorFlow's CPU kernels lack a dtype, or would round a 16-bit
//! float more than once, the op computes in a wider dtype ([`WIDENED`]).
//! Sorting, `take_along_axis`-style gathers and scatters build their index
//! tables on the host (TF's C API has no stable sort and no axis-wise
//! gather). Host memory crosses without a copy where TensorFlow allows:
//! `lend_host` shares a CPU handle's buffer, `adopt_host` (and `from_host`)
//! share a 64-byte-aligned foreign buffer and copy any other.
#![warn(missing_docs)]

use eager_core::ops::prelude::*;
use eager_core::shape::SliceRange;
use eager_core::{
    ArgReduceOp, Backend, BinaryOp, DType, Distribution, Error, HostBuffer, HostData, ReduceOp,
    Result, Scalar, UnaryOp,
};
use std::sync::{Arc, OnceLock};
pub use tensorflow;
mod cast;
mod create;
mod elementwise;
mod exchange;
mod index;
mod linalg;
mod reduce;
mod shape;
use tensorflow::eager::{raw_ops as ops, Context, ContextOptions, TensorHandle};
use tensorflow::{BFloat16, DataType, Tensor, TensorType};

/// Classes of kernels whose dtype coverage in TensorFlow 2.13's CPU kernel
/// registry differs; see [`WIDENED`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Every element-wise op of one or two tensors but `pow`, and the
    /// reductions `sum`, `mean`, `prod`, `min`, `max` and `cumsum`.
    Elementwise,
    /// `pow`, whose kernel lacks the unsigned integers.
    Pow,
    /// `matmul` (`BatchMatMulV2`), which lacks `i8` and the unsigned integers.
    Matmul,
    /// `inv` and `slogdet` (`MatrixInverse` lacks bf16, `LogMatrixDeterminant`
    /// both 16-bit floats).
    Linalg,
    /// `<`, `<=`, `>`, `>=` (no bool kernels).
    Order,
}

/// Where the backend computes in a wider dtype than it was given, and casts
/// the result back (integers wrap, so modular results are unchanged; a
/// 16-bit float result is rounded once from f32, the rule every backend
/// follows): `(ops, given dtype, dtype computed in)`. Comparisons and other
/// ops whose result is `bool` or `i64` are not cast back.
///
/// - every element-wise op and reduction ([`Work::Elementwise`]) of `f16`,
///   `bf16`: `f32`;
/// - `pow` ([`Work::Pow`]) and `matmul` ([`Work::Matmul`]) of `f16`, `bf16`:
///   `f32`; of `u8`, `u16` (and `i8` for `matmul`): `i32`; of `u32`: `i64`;
///   of `u64`: `i64` with the same bits (products and sums are the same
///   modulo 2^64; a `pow` exponent ≥ 2^62 is first reduced to one that
///   gives the same power modulo 2^64);
/// - `inv`, `slogdet` ([`Work::Linalg`]) of `f16`, `bf16`: `f64` (as the
///   ndarray backend);
/// - `<`, `<=`, `>`, `>=` ([`Work::Order`]) of `bool`: `u8`.
///
/// Without a wider dtype: `abs` of unsigned integers is the identity, `neg`
/// is `0 - x` (wrapping), `sign` is `min(x, 1)`; `round`, `ceil`, `floor` of
/// integers are the identity; `f16`/`bf16` cast to an integer through `f32`
/// (exactly) and saturate there. Every other (op, dtype) pair has its own
/// TensorFlow kernel.
pub const WIDENED: &[(Work, DType, DType)] = &[
    (Work::Elementwise, DType::F16, DType::F32),
    (Work::Elementwise, DType::BF16, DType::F32),
    (Work::Pow, DType::F16, DType::F32),
    (Work::Pow, DType::BF16, DType::F32),
    (Work::Pow, DType::U8, DType::I32),
    (Work::Pow, DType::U16, DType::I32),
    (Work::Pow, DType::U32, DType::I64),
    (Work::Pow, DType::U64, DType::I64),
    (Work::Matmul, DType::F16, DType::F32),
    (Work::Matmul, DType::BF16, DType::F32),
    (Work::Matmul, DType::U8, DType::I32),
    (Work::Matmul, DType::I8, DType::I32),
    (Work::Matmul, DType::U16, DType::I32),
    (Work::Matmul, DType::U32, DType::I64),
    (Work::Matmul, DType::U64, DType::I64),
    (Work::Linalg, DType::F16, DType::F64),
    (Work::Linalg, DType::BF16, DType::F64),
    (Work::Order, DType::Bool, DType::U8),
];

/// The dtype the backend computes `work` of a `dtype` tensor in (see
/// [`WIDENED`]).
pub fn compute_dtype(work: Work, dtype: DType) -> DType {
    WIDENED
        .iter()
        .find(|&&(w, d, _)| w == work && d == dtype)
        .map_or(dtype, |&(_, _, c)| c)
}

/// The native tensor of the TensorFlow backend: an eager tensor handle,
/// shared on clone.
#[derive(Clone)]
pub struct TfTensor {
    /// The handle and what is read of it once, shared by clones.
    handle: Arc<Handle>,
}

/// An eager `TensorHandle` of the backend's process-wide context, with its
/// dtype and shape (which never change) read once, so the per-op queries
/// cost no FFI call.
pub struct Handle {
    /// The eager handle.
    raw: TensorHandle<'static>,
    /// Its dtype and shape, read once.
    meta: Meta,
}

/// What [`Handle`] keeps of its handle: the dtype (read when wrapped, `None`
/// for a type eager-tensor lacks) and the shape (read on first use).
struct Meta {
    dtype: Option<DType>,
    shape: OnceLock<Vec<usize>>,
}

impl Meta {
    fn of(h: &TensorHandle<'static>) -> Meta {
        Meta {
            dtype: dtype_of(h.data_type()),
            shape: OnceLock::new(),
        }
    }
}

// SAFETY: a TFE_TensorHandle is an immutable, reference-counted handle to a
// tensor; the eager runtime allows using handles and executing ops from
// several threads with one context (TensorFlow's own Python API does so).
// This backend never mutates a handle in place.
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

impl std::fmt::Debug for TfTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TfTensor({:?}, {:?})",
            self.handle.raw.data_type(),
            self.shape()
        )
    }
}

static CONTEXT: OnceLock<std::result::Result<Context, String>> = OnceLock::new();
/// The thread count the context was created with (0: TensorFlow's default).
static CONTEXT_THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The process-wide eager context (created on first use), with the thread
/// count of `ep::set_num_threads` or `EAGER_TENSOR_NUM_THREADS` for both
/// its intra-op and inter-op pools, when one is set (TensorFlow's default:
/// one thread per core each).
pub fn context() -> Result<&'static Context> {
    CONTEXT
        .get_or_init(|| {
            let mut opts = ContextOptions::new();
            let threads = eager_core::threads::requested("context").map_err(|e| e.to_string())?;
            if let Some(n) = threads {
                opts.set_config(&thread_config(n))
                    .map_err(|e| e.to_string())?;
                CONTEXT_THREADS.store(n, std::sync::atomic::Ordering::Relaxed);
            }
            Context::new(opts).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Framework {
            op: "context",
            backend: Backend::TensorFlow,
            msg: e.clone(),
        })
}

/// A serialized `tensorflow.ConfigProto` with `intra_op_parallelism_threads`
/// (field 2) and `inter_op_parallelism_threads` (field 5) set to `n`.
fn thread_config(n: usize) -> Vec<u8> {
    let n = n.min(i32::MAX as usize) as u64;
    let mut bytes = Vec::new();
    for field in [2u8, 5] {
        bytes.push(field << 3); // wire type 0: varint
        let mut v = n;
        while v >= 0x80 {
            bytes.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        bytes.push(v as u8);
    }
    bytes
}

/// `ep::set_num_threads` on TensorFlow: the count applies when the context
/// is created, so it is an error once the context exists with another.
pub fn set_num_threads(op: &'static str, n: usize) -> Result<()> {
    let started = CONTEXT
        .get()
        .map(|_| CONTEXT_THREADS.load(std::sync::atomic::Ordering::Relaxed));
    eager_core::threads::fixed_at_start(
        op,
        "TensorFlow's eager context exists already",
        "tensorflow",
        started,
        n,
    )
}

fn fw(op: &'static str) -> impl Fn(tensorflow::Status) -> Error {
    move |e| Error::Framework {
        op,
        backend: Backend::TensorFlow,
        msg: e.to_string(),
    }
}

/// TensorFlow's type of each eager-tensor dtype.
fn tf_type(d: DType) -> DataType {
    match d {
        DType::Bool => DataType::Bool,
        DType::U8 => DataType::UInt8,
        DType::I8 => DataType::Int8,
        DType::I16 => DataType::Int16,
        DType::U16 => DataType::UInt16,
        DType::I32 => DataType::Int32,
        DType::U32 => DataType::UInt32,
        DType::I64 => DataType::Int64,
        DType::U64 => DataType::UInt64,
        DType::F16 => DataType::Half,
        DType::BF16 => DataType::BFloat16,
        DType::F32 => DataType::Float,
        DType::F64 => DataType::Double,
    }
}

/// The eager-tensor dtype of a TensorFlow type, if it has one.
fn dtype_of(t: DataType) -> Option<DType> {
    DType::ALL.into_iter().find(|&d| tf_type(d) == t)
}

fn wrap(h: TensorHandle<'static>) -> TfTensor {
    let meta = Meta::of(&h);
    TfTensor {
        handle: Arc::new(Handle { raw: h, meta }),
    }
}

fn host_tensor<T: TensorType>(op: &'static str, v: &[T], shape: &[usize]) -> Result<TfTensor> {
    let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let t = Tensor::<T>::new(&dims).with_values(v).map_err(fw(op))?;
    Ok(wrap(t.into_handle(context()?).map_err(fw(op))?))
}

/// Uploads a host buffer (bf16 through TensorFlow's own `BFloat16` type,
/// bit for bit).
fn upload(op: &'static str, data: &HostData, shape: &[usize]) -> Result<TfTensor> {
    match data {
        HostData::Bool(v) => host_tensor(op, v, shape),
        HostData::U8(v) => host_tensor(op, v, shape),
        HostData::I8(v) => host_tensor(op, v, shape),
        HostData::I16(v) => host_tensor(op, v, shape),
        HostData::U16(v) => host_tensor(op, v, shape),
        HostData::I32(v) => host_tensor(op, v, shape),
        HostData::U32(v) => host_tensor(op, v, shape),
        HostData::I64(v) => host_tensor(op, v, shape),
        HostData::U64(v) => host_tensor(op, v, shape),
        HostData::F16(v) => host_tensor(op, v, shape),
        HostData::BF16(v) => {
            let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
            let mut t = Tensor::<BFloat16>::new(&dims);
            if t.len() != v.len() {
                return Err(Error::shape(
                    op,
                    format!("{} values for shape {shape:?}", v.len()),
                ));
            }
            // A bf16 is the upper half of an f32; BFloat16::from truncates
            // the (zero) lower half, so the bits are kept.
            for (d, x) in t.iter_mut().zip(v) {
                *d = BFloat16::from(x.to_f32());
            }
            Ok(wrap(t.into_handle(context()?).map_err(fw(op))?))
        }
        HostData::F32(v) => host_tensor(op, v, shape),
        HostData::F64(v) => host_tensor(op, v, shape),
    }
}

type HandleCache<T> = std::sync::Mutex<std::collections::HashMap<Vec<T>, TfTensor>>;

/// A 1-D host vector as a handle. Short ones (axes, shapes, permutations)
/// recur on almost every call, so their handles (immutable) are kept and
/// shared instead of uploaded again; long ones (index tables) are not.
fn small_vector<T: TensorType + std::hash::Hash + Eq>(
    cache: &HandleCache<T>,
    op: &'static str,
    v: &[T],
) -> Result<TfTensor> {
    if v.len() > 8 {
        return host_tensor(op, v, &[v.len()]);
    }
    if let Some(t) = cache.lock().ok().and_then(|m| m.get(v).cloned()) {
        return Ok(t);
    }
    let t = host_tensor(op, v, &[v.len()])?;
    if let Ok(mut m) = cache.lock() {
        if m.len() >= 4096 {
            m.clear();
        }
        m.insert(v.to_vec(), t.clone());
    }
    Ok(t)
}

fn i64s(op: &'static str, v: &[i64]) -> Result<TfTensor> {
    static CACHE: std::sync::OnceLock<HandleCache<i64>> = std::sync::OnceLock::new();
    small_vector(CACHE.get_or_init(Default::default), op, v)
}

/// [`i64s`] of sizes or axes.
fn sizes(op: &'static str, v: &[usize]) -> Result<TfTensor> {
    i64s(op, &v.iter().map(|&d| d as i64).collect::<Vec<_>>())
}

fn i32s(op: &'static str, v: &[i32]) -> Result<TfTensor> {
    static CACHE: std::sync::OnceLock<HandleCache<i32>> = std::sync::OnceLock::new();
    small_vector(CACHE.get_or_init(Default::default), op, v)
}

impl TfTensor {
    fn h(&self) -> &TensorHandle<'static> {
        &self.handle.raw
    }
    /// The shape, read from TensorFlow on first use.
    fn dims(&self) -> &[usize] {
        self.handle
            .meta
            .shape
            .get_or_init(|| exchange::shape_of(self.h()))
    }
    fn is_float(&self) -> bool {
        self.dtype().is_float()
    }
    /// Wraps an eager handle of the backend's context.
    pub fn from_handle(h: TensorHandle<'static>) -> TfTensor {
        wrap(h)
    }
    /// Wraps a new handle sharing `h`'s buffer (no copy), leaving `h` to
    /// the caller.
    pub fn sharing(h: &TensorHandle<'static>) -> TfTensor {
        // TFE_TensorHandleCopySharingTensor only fails for a handle that is
        // not a tensor handle, which a `TensorHandle` always is.
        wrap(
            h.copy_sharing_tensor()
                .expect("TFE_TensorHandleCopySharingTensor of a live handle"),
        )
    }
    /// The eager handle.
    pub fn handle(&self) -> &TensorHandle<'static> {
        self.h()
    }
    /// The eager handle, owned: the handle itself when this tensor is its
    /// only owner, else a new handle sharing the same buffer
    /// (`copy_sharing_tensor`: no copy).
    pub fn into_handle(self) -> Result<TensorHandle<'static>> {
        match Arc::try_unwrap(self.handle) {
            Ok(h) => Ok(h.raw),
            Err(shared) => shared.raw.copy_sharing_tensor().map_err(fw("into_raw")),
        }
    }
    fn cast_tf(&self, op: &'static str, to: DataType) -> Result<TfTensor> {
        if self.h().data_type() == to {
            return Ok(self.clone());
        }
        let ctx = context()?;
        Ok(wrap(
            ops::Cast::new()
                .DstT(to)
                .call(ctx, self.h())
                .map_err(fw(op))?,
        ))
    }
    /// `self` cast to the dtype `work` of [`WIDENED`].
    fn widen(&self, op: &'static str, work: DType) -> Result<TfTensor> {
        self.cast_tf(op, tf_type(work))
    }
    /// A result computed in the dtype `work` cast back to `dtype`; results
    /// of another dtype (`bool`, `i64`) stay as they are.
    fn narrow(self, op: &'static str, work: DType, dtype: DType) -> Result<TfTensor> {
        if self.dtype() == work && work != dtype {
            self.cast_tf(op, tf_type(dtype))
        } else {
            Ok(self)
        }
    }
    fn scalar_of(&self, op: &'static str, v: f64) -> Result<TfTensor> {
        let d = self.dtype();
        self.full(
            &[],
            Scalar::F64(v).cast(op, d).unwrap_or(Scalar::I64(v as i64)),
            d,
        )
    }
    /// `where(b == 0, 0, f(a, where(b == 0, 1, b)))`: TF raises on integer
    /// division by zero; NumPy (and we) give 0.
    fn int_div(
        &self,
        rhs: &Self,
        op: &'static str,
        f: impl Fn(
            &TensorHandle<'static>,
            &TensorHandle<'static>,
        ) -> tensorflow::Result<TensorHandle<'static>>,
    ) -> Result<Self> {
        let ctx = context()?;
        let e = fw(op);
        let zero = self.scalar_of(op, 0.0)?;
        let one = self.scalar_of(op, 1.0)?;
        let is_zero = ops::equal(ctx, rhs.h(), zero.h()).map_err(&e)?;
        let safe = ops::select_v2(ctx, &is_zero, one.h(), rhs.h()).map_err(&e)?;
        let out = f(self.h(), &safe).map_err(&e)?;
        let out = wrap(out);
        let zeros = ops::zeros_like(ctx, out.h()).map_err(&e)?;
        Ok(wrap(
            ops::select_v2(ctx, &is_zero, &zeros, out.h()).map_err(&e)?,
        ))
    }
    /// Float `//` by NumPy's `npy_divmod`: TF's `FloorDiv` is `floor(a / b)`,
    /// which differs at the edges (`-1e30 // inf` is -1 in NumPy, -0 there;
    /// `inf // 1` is NaN in NumPy, inf there).
    fn float_floor_div(&self, rhs: &Self) -> Result<Self> {
        let op = "floor_div";
        let ctx = context()?;
        let e = fw(op);
        let (a, b) = (self.h(), rhs.h());
        let zero = self.scalar_of(op, 0.0)?;
        let one = self.scalar_of(op, 1.0)?;
        let half = self.scalar_of(op, 0.5)?;
        let (zero, one, half) = (zero.h(), one.h(), half.h());
        let m = ops::truncate_mod(ctx, a, b).map_err(&e)?;
        let mnz = ops::not_equal(ctx, &m, zero).map_err(&e)?;
        let mneg = ops::less(ctx, &m, zero).map_err(&e)?;
        let bneg = ops::less(ctx, b, zero).map_err(&e)?;
        let differ = ops::not_equal(ctx, &mneg, &bneg).map_err(&e)?;
        let adj = ops::logical_and(ctx, &mnz, &differ).map_err(&e)?;
        let am = ops::sub(ctx, a, &m).map_err(&e)?;
        let div = ops::real_div(ctx, &am, b).map_err(&e)?;
        let div1 = ops::sub(ctx, &div, one).map_err(&e)?;
        let div = ops::select_v2(ctx, &adj, &div1, &div).map_err(&e)?;
        let fl = ops::floor(ctx, &div).map_err(&e)?;
        let frac = ops::sub(ctx, &div, &fl).map_err(&e)?;
        let up = ops::greater(ctx, &frac, half).map_err(&e)?;
        let fl1 = ops::add_v2(ctx, &fl, one).map_err(&e)?;
        let fl = ops::select_v2(ctx, &up, &fl1, &fl).map_err(&e)?;
        // A zero quotient keeps the sign of a / b (q * 0 is a signed zero).
        let q = ops::real_div(ctx, a, b).map_err(&e)?;
        let signed_zero = ops::mul(ctx, &q, zero).map_err(&e)?;
        let dz = ops::equal(ctx, &div, zero).map_err(&e)?;
        let res = ops::select_v2(ctx, &dz, &signed_zero, &fl).map_err(&e)?;
        let b0 = ops::equal(ctx, b, zero).map_err(&e)?;
        Ok(wrap(ops::select_v2(ctx, &b0, &q, &res).map_err(&e)?))
    }
    /// A `u64` exponent that gives the same powers modulo 2^64 and fits
    /// `i64`: exponents ≥ 2^62 become `(e mod 2^62) + 2^62` (odd bases
    /// repeat with period 2^62 modulo 2^64, even ones are 0 from 64 on).
    fn u64_exponent(&self) -> Result<TfTensor> {
        let op = "pow";
        let ctx = context()?;
        let e = fw(op);
        let big = self.full(&[], Scalar::U64(1 << 62), DType::U64)?;
        let mask = self.full(&[], Scalar::U64((1 << 62) - 1), DType::U64)?;
        let is_big = ops::greater_equal(ctx, self.h(), big.h()).map_err(&e)?;
        let low = ops::bitwise_and(ctx, self.h(), mask.h()).map_err(&e)?;
        let reduced = ops::bitwise_or(ctx, &low, big.h()).map_err(&e)?;
        Ok(wrap(
            ops::select_v2(ctx, &is_big, &reduced, self.h()).map_err(&e)?,
        ))
    }
    fn axes(op: &'static str, axes: &[usize]) -> Result<TfTensor> {
        i32s(op, &axes.iter().map(|&a| a as i32).collect::<Vec<_>>())
    }
}

fn to_vec<T: TensorType + Copy>(op: &'static str, h: &TensorHandle<'static>) -> Result<Vec<T>> {
    Ok(h.resolve::<T>().map_err(fw(op))?.to_vec())
}

/// This backend's own generator, one per thread (values are drawn on the
/// host and uploaded): `seed` and `sample`.
mod random {
    eager_host::generator!("tensorflow");
}
pub use random::seed;

impl eager_core::Capabilities for TfTensor {
    /// TensorFlow adopts 64-byte-aligned host memory without a copy.
    const ADOPTS_ALIGNED_HOST: bool = true;
    fn seed(seed: u64) {
        random::seed(seed);
    }
    fn set_num_threads(op: &'static str, n: usize) -> Result<()> {
        set_num_threads(op, n)
    }
}

/// Row-major strides of a shape.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Flat positions in a tensor of `shape` of every element of `index`
/// (shape `ishape`) with its `axis` coordinate replaced by the index value.
fn axis_positions(shape: &[usize], axis: usize, index: &[i64], ishape: &[usize]) -> Vec<i64> {
    let st = strides(shape);
    let ist = strides(ishape);
    index
        .iter()
        .enumerate()
        .map(|(flat, &iv)| {
            let mut pos = 0i64;
            for d in 0..ishape.len() {
                let c = if d == axis {
                    iv as usize
                } else {
                    (flat / ist[d]) % ishape[d].max(1)
                };
                pos += (c * st[d]) as i64;
            }
            pos
        })
        .collect()
}

impl TensorBase for TfTensor {
    const BACKEND: Backend = Backend::TensorFlow;
    /// TensorFlow's CPU kernels handle at most 8 dimensions in most ops
    /// (`StridedSlice`, `ReverseV2`, `SelectV2` and every broadcasting
    /// binary op answer "Unimplemented" beyond).
    const MAX_RANK: usize = 8;
    fn shape(&self) -> Vec<usize> {
        self.dims().to_vec()
    }
    /// The shape read from TensorFlow once per handle (a handle's shape
    /// never changes).
    fn shape_ref(&self) -> Option<&[usize]> {
        Some(self.dims())
    }
    /// The dtype; a type eager-tensor lacks (string, complex, ...) reads as
    /// `f32` here, and every operation on it is the error of
    /// [`native_dtype_ok`](TensorBase::native_dtype_ok).
    fn dtype(&self) -> DType {
        self.handle.meta.dtype.unwrap_or(DType::F32)
    }
    fn native_dtype_ok(&self) -> Result<()> {
        // A native handle wrapped as it is may have more dimensions than
        // the kernels handle (the facade refuses to make one).
        Self::check_rank("astensor", self.dims())?;
        match self.handle.meta.dtype {
            Some(_) => Ok(()),
            None => Err(Error::dtype(
                "astensor",
                format!(
                    "tensorflow {:?} tensors are not supported (eager-tensor's dtypes: \
                     bool, u8, i8, i16, u16, i32, u32, i64, u64, f16, bf16, f32, f64)",
                    self.h().data_type()
                ),
            )),
        }
    }
    /// Adopts the vector's memory without a copy where it is aligned for
    /// TensorFlow (64 bytes), else one copy (see [`adopt_host`](Self::adopt_host)).
    fn from_host(data: HostData, shape: &[usize]) -> Result<Self> {
        let op = "from_vec";
        let n = eager_core::shape::checked_numel(op, shape)?;
        if data.len() != n {
            return Err(Error::shape(
                op,
                format!("{} values for shape {shape:?}", data.len()),
            ));
        }
        exchange::adopt(op, HostBuffer::from_host_data(data, shape)?)
    }
    fn to_host(&self) -> Result<HostData> {
        let op = "to_vec";
        let h = self.h();
        self.native_dtype_ok()?;
        Ok(match self.dtype() {
            DType::Bool => HostData::Bool(to_vec(op, h)?),
            DType::U8 => HostData::U8(to_vec(op, h)?),
            DType::I8 => HostData::I8(to_vec(op, h)?),
            DType::I16 => HostData::I16(to_vec(op, h)?),
            DType::U16 => HostData::U16(to_vec(op, h)?),
            DType::I32 => HostData::I32(to_vec(op, h)?),
            DType::U32 => HostData::U32(to_vec(op, h)?),
            DType::I64 => HostData::I64(to_vec(op, h)?),
            DType::U64 => HostData::U64(to_vec(op, h)?),
            DType::F16 => HostData::F16(to_vec(op, h)?),
            DType::BF16 => HostData::BF16(
                h.resolve::<BFloat16>()
                    .map_err(fw(op))?
                    .iter()
                    // The upper half of the f32 is the bf16, bit for bit.
                    .map(|&b| eager_core::bf16::from_bits((f32::from(b).to_bits() >> 16) as u16))
                    .collect(),
            ),
            DType::F32 => HostData::F32(to_vec(op, h)?),
            DType::F64 => HostData::F64(to_vec(op, h)?),
        })
    }
    /// Lends the buffer of a handle in host memory (every dtype: TensorFlow
    /// stores each with eager-tensor's bytes); `None` for a handle on
    /// another device and for an empty tensor. The buffer holds a
    /// `TF_Tensor` resolved from the handle, which shares its memory.
    fn lend_host(&self) -> Result<Option<HostBuffer>> {
        exchange::lend(self)
    }
    /// Shares `buf`'s memory when it is aligned to 64 bytes (TensorFlow's
    /// `EIGEN_MAX_ALIGN_BYTES`); otherwise TensorFlow copies it and the
    /// owner is dropped at once. The owner is dropped when the last
    /// TensorFlow reference to the memory (this tensor, its views, lent
    /// buffers) is gone.
    fn adopt_host(buf: HostBuffer) -> Result<Self> {
        exchange::adopt("adopt_host", buf)
    }
}

/// A host copy as an ndarray-backed tensor, for the few ops computed there.
fn eager_host(t: &TfTensor) -> Result<eager_host::HostTensor> {
    eager_host::HostTensor::from_host(t.to_host()?, &t.shape())
}

fn from_host_tensor(t: &eager_host::HostTensor) -> Result<TfTensor> {
    TfTensor::from_host(t.to_host()?, t.shape())
}

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

use eager_core::shape::SliceRange;
use eager_core::{
    ArgReduceOp, Backend, BackendTensor, BinaryOp, DType, Distribution, Error, HostBuffer,
    HostData, ReduceOp, Result, Scalar, UnaryOp,
};
use std::sync::{Arc, OnceLock};
pub use tensorflow;
mod exchange;
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

/// The process-wide eager context (created on first use).
pub fn context() -> Result<&'static Context> {
    CONTEXT
        .get_or_init(|| {
            let opts = ContextOptions::new();
            Context::new(opts).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Framework {
            op: "context",
            backend: Backend::TensorFlow,
            msg: e.clone(),
        })
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

impl BackendTensor for TfTensor {
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
    /// [`native_dtype_ok`](BackendTensor::native_dtype_ok).
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
    fn full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<Self> {
        let op = "full";
        let v = upload(op, &HostData::filled(op, value, dtype, 1)?, &[])?;
        if shape.is_empty() {
            return Ok(v);
        }
        let dims = i64s(op, &shape.iter().map(|&d| d as i64).collect::<Vec<_>>())?;
        Ok(wrap(
            ops::fill(context()?, dims.h(), v.h()).map_err(fw(op))?,
        ))
    }
    fn random(&self, dist: Distribution, shape: &[usize], dtype: DType) -> Result<Self> {
        Self::from_host(
            random::sample(dist, eager_core::shape::numel(shape), dtype)?,
            shape,
        )
    }

    fn unary(&self, op: UnaryOp) -> Result<Self> {
        use UnaryOp::*;
        let ctx = context()?;
        let e = fw(op.name());
        let x = self.h();
        let d = self.dtype();
        let work = compute_dtype(Work::Elementwise, d);
        if work != d {
            return self
                .widen(op.name(), work)?
                .unary(op)?
                .narrow(op.name(), work, d);
        }
        let unsigned = d.is_unsigned();
        let r = match op {
            // TF has no Abs/Neg/Sign kernels for unsigned integers.
            Abs if unsigned => return Ok(self.clone()),
            Neg if unsigned => {
                let zero = self.scalar_of(op.name(), 0.0)?;
                ops::sub(ctx, zero.h(), x)
            }
            Sign if unsigned => {
                let one = self.scalar_of(op.name(), 1.0)?;
                ops::minimum(ctx, x, one.h())
            }
            Round | Ceil | Floor if d.is_int() => return Ok(self.clone()),
            Abs => ops::abs(ctx, x),
            Neg => ops::neg(ctx, x),
            Sign => ops::sign(ctx, x),
            Sqrt => ops::sqrt(ctx, x),
            Square => ops::square(ctx, x),
            Exp => ops::exp(ctx, x),
            Log => ops::log(ctx, x),
            Log2 | Log10 => {
                let base = if op == Log2 {
                    std::f64::consts::LN_2
                } else {
                    std::f64::consts::LN_10
                };
                let l = ops::log(ctx, x).map_err(&e)?;
                let b = self.scalar_of(op.name(), base)?;
                ops::real_div(ctx, &l, b.h())
            }
            Log1p => ops::log1p(ctx, x),
            Sin => ops::sin(ctx, x),
            Cos => ops::cos(ctx, x),
            Tan => ops::tan(ctx, x),
            Sinh => ops::sinh(ctx, x),
            Cosh => ops::cosh(ctx, x),
            Tanh => ops::tanh(ctx, x),
            Arcsin => ops::asin(ctx, x),
            Arccos => ops::acos(ctx, x),
            Arctan => ops::atan(ctx, x),
            Arcsinh => ops::asinh(ctx, x),
            Arccosh => ops::acosh(ctx, x),
            Arctanh => ops::atanh(ctx, x),
            // TF's Round is half to even, as NumPy's.
            Round => ops::round(ctx, x),
            Ceil => ops::ceil(ctx, x),
            Floor => ops::floor(ctx, x),
            IsNan => ops::is_nan(ctx, x),
            IsInf => ops::is_inf(ctx, x),
            LogicalNot => ops::logical_not(ctx, x),
            Sigmoid => ops::sigmoid(ctx, x),
            // `+ 0` makes relu(-0.0) 0.0 (NumPy's maximum(x, 0)).
            Relu if self.is_float() => {
                let r = ops::relu(ctx, x).map_err(&e)?;
                let zero = self.scalar_of("relu", 0.0)?;
                ops::add_v2(ctx, &r, zero.h())
            }
            Relu => ops::relu(ctx, x),
        };
        Ok(wrap(r.map_err(e)?))
    }
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Result<Self> {
        use BinaryOp::*;
        let ctx = context()?;
        let e = fw(op.name());
        let (a, b) = (self.h(), rhs.h());
        let d = self.dtype();
        let work = compute_dtype(
            match op {
                Pow => Work::Pow,
                Lt | Le | Gt | Ge => Work::Order,
                _ => Work::Elementwise,
            },
            d,
        );
        if work != d {
            let n = op.name();
            let x = self.widen(n, work)?;
            let y = if op == Pow && d == DType::U64 {
                rhs.u64_exponent()?.widen(n, work)?
            } else {
                rhs.widen(n, work)?
            };
            return x.binary(op, &y)?.narrow(n, work, d);
        }
        let int = !self.is_float();
        let boolean = d == DType::Bool;
        let r = match op {
            Add => ops::add_v2(ctx, a, b),
            Sub => ops::sub(ctx, a, b),
            Mul => ops::mul(ctx, a, b),
            Div => ops::real_div(ctx, a, b),
            FloorDiv if int => {
                return self.int_div(rhs, "floor_div", |x, y| ops::floor_div(ctx, x, y))
            }
            FloorDiv => return self.float_floor_div(rhs),
            Rem if int => return self.int_div(rhs, "rem", |x, y| ops::floor_mod(ctx, x, y)),
            Rem => {
                // A zero remainder takes the divisor's sign (NumPy: 0.0 % -1
                // is -0.0); TF's is always +0.0. `sign(b) * 0` is that zero.
                let r = ops::floor_mod(ctx, a, b).map_err(&e)?;
                let zero = self.scalar_of("rem", 0.0)?;
                let sb = ops::sign(ctx, b).map_err(&e)?;
                let signed = ops::mul(ctx, &sb, zero.h()).map_err(&e)?;
                let is_zero = ops::equal(ctx, &r, zero.h()).map_err(&e)?;
                ops::select_v2(ctx, &is_zero, &signed, &r)
            }
            Pow => ops::pow(ctx, a, b),
            Minimum | LogicalAnd if boolean => ops::logical_and(ctx, a, b),
            Maximum | LogicalOr if boolean => ops::logical_or(ctx, a, b),
            Minimum | Maximum if self.is_float() => {
                // Of two equal values (0.0 and -0.0) NumPy takes the second.
                let m = if op == Minimum {
                    ops::minimum(ctx, a, b)
                } else {
                    ops::maximum(ctx, a, b)
                }
                .map_err(&e)?;
                let zero = self.scalar_of(op.name(), 0.0)?;
                let az = ops::equal(ctx, a, zero.h()).map_err(&e)?;
                let bz = ops::equal(ctx, b, zero.h()).map_err(&e)?;
                let zeros = ops::logical_and(ctx, &az, &bz).map_err(&e)?;
                ops::select_v2(ctx, &zeros, b, &m)
            }
            Minimum => ops::minimum(ctx, a, b),
            Maximum => ops::maximum(ctx, a, b),
            LogicalAnd => ops::logical_and(ctx, a, b),
            LogicalOr => ops::logical_or(ctx, a, b),
            Lt => ops::less(ctx, a, b),
            Le => ops::less_equal(ctx, a, b),
            Gt => ops::greater(ctx, a, b),
            Ge => ops::greater_equal(ctx, a, b),
            Eq => ops::equal(ctx, a, b),
            Ne => ops::not_equal(ctx, a, b),
        };
        Ok(wrap(r.map_err(e)?))
    }
    fn where_cond(&self, x: &Self, y: &Self) -> Result<Self> {
        Ok(wrap(
            ops::select_v2(context()?, self.h(), x.h(), y.h()).map_err(fw("where_cond"))?,
        ))
    }
    fn cast(&self, dtype: DType) -> Result<Self> {
        let op = "astype";
        let ctx = context()?;
        let e = fw(op);
        if self.dtype().is_half() && dtype.is_int() {
            // f16/bf16 widen to f32 exactly and saturate there.
            return self.cast_tf(op, DataType::Float)?.cast(dtype);
        }
        if let Some((lo, hi, above)) = self.dtype().saturating_cast_bounds(dtype) {
            // NaN and out-of-range floats saturate (NaN -> 0), as on every
            // backend: clip to bounds the float dtype holds exactly, cast,
            // and put the maximum where the value reached 2^bits.
            let nan = ops::is_nan(ctx, self.h()).map_err(&e)?;
            let zero = self.scalar_of(op, 0.0)?;
            let clean = ops::select_v2(ctx, &nan, zero.h(), self.h()).map_err(&e)?;
            let (lo, hi) = (self.scalar_of(op, lo)?, self.scalar_of(op, hi)?);
            let clipped = ops::clip_by_value(ctx, &clean, lo.h(), hi.h()).map_err(&e)?;
            let cast = ops::Cast::new()
                .DstT(tf_type(dtype))
                .call(ctx, &clipped)
                .map_err(&e)?;
            let top =
                ops::greater_equal(ctx, self.h(), self.scalar_of(op, above)?.h()).map_err(&e)?;
            let max = dtype
                .max_scalar()
                .ok_or_else(|| Error::dtype(op, format!("{dtype} has no saturation bound")))?;
            let max = self.full(&[], max, dtype)?;
            return Ok(wrap(ops::select_v2(ctx, &top, max.h(), &cast).map_err(&e)?));
        }
        let from = self.dtype();
        if from == DType::F64 && dtype == DType::F16 {
            // TF's f64 -> f16 Cast goes through f32 and rounds twice (a
            // value just above a tie rounds as the tie); NumPy rounds once,
            // as the host does (`eager_core::round`). (f64 -> bf16 through
            // f32 is ml_dtypes' and JAX's rule: TF's Cast is right there.)
            return from_host_tensor(&eager_host(self)?.cast(dtype)?);
        }
        if dtype == DType::Bool {
            // TF's Cast to bool is `x != 0`, as NumPy's, but not for every type: compare.
            let zero = self.scalar_of(op, 0.0)?;
            return Ok(wrap(ops::not_equal(ctx, self.h(), zero.h()).map_err(&e)?));
        }
        self.cast_tf(op, tf_type(dtype))
    }

    fn reduce(&self, op: ReduceOp, axes: &[usize], keepdims: bool) -> Result<Self> {
        let d = self.dtype();
        let work = compute_dtype(Work::Elementwise, d);
        if work != d {
            return self
                .widen("reduce", work)?
                .reduce(op, axes, keepdims)?
                .narrow("reduce", work, d);
        }
        let ctx = context()?;
        let e = fw("reduce");
        let idx = Self::axes("reduce", axes)?;
        let (x, i) = (self.h(), idx.h());
        let boolean = x.data_type() == DataType::Bool;
        let r = match op {
            ReduceOp::Sum => ops::Sum::new().keep_dims(keepdims).call(ctx, x, i),
            ReduceOp::Mean => ops::Mean::new().keep_dims(keepdims).call(ctx, x, i),
            ReduceOp::Prod => ops::Prod::new().keep_dims(keepdims).call(ctx, x, i),
            ReduceOp::Min | ReduceOp::All if boolean => {
                ops::All::new().keep_dims(keepdims).call(ctx, x, i)
            }
            ReduceOp::Max | ReduceOp::Any if boolean => {
                ops::Any::new().keep_dims(keepdims).call(ctx, x, i)
            }
            ReduceOp::Min | ReduceOp::Max => {
                // TF's Min/Max skip NaN; NumPy's propagate it: put NaN back where any was reduced.
                let r = if op == ReduceOp::Min {
                    ops::Min::new().keep_dims(keepdims).call(ctx, x, i)
                } else {
                    ops::Max::new().keep_dims(keepdims).call(ctx, x, i)
                }
                .map_err(&e)?;
                if !self.is_float() {
                    return Ok(wrap(r));
                }
                let nan = ops::is_nan(ctx, x).map_err(&e)?;
                let any = ops::Any::new()
                    .keep_dims(keepdims)
                    .call(ctx, &nan, i)
                    .map_err(&e)?;
                let n = self.scalar_of("reduce", f64::NAN)?;
                ops::select_v2(ctx, &any, n.h(), &r)
            }
            ReduceOp::All => ops::All::new().keep_dims(keepdims).call(ctx, x, i),
            ReduceOp::Any => ops::Any::new().keep_dims(keepdims).call(ctx, x, i),
        };
        Ok(wrap(r.map_err(e)?))
    }
    fn arg_reduce(&self, op: ArgReduceOp, axis: usize) -> Result<Self> {
        // TF's ArgMax skips NaN and lacks bool; the host gives NumPy's answer.
        let host = eager_host(self)?;
        let out = host.arg_reduce(op, axis)?;
        from_host_tensor(&out)
    }
    fn sort(&self, axis: usize, descending: bool) -> Result<Self> {
        from_host_tensor(&eager_host(self)?.sort(axis, descending)?)
    }
    fn argsort(&self, axis: usize, descending: bool) -> Result<Self> {
        from_host_tensor(&eager_host(self)?.argsort(axis, descending)?)
    }
    fn cumsum(&self, axis: usize) -> Result<Self> {
        let d = self.dtype();
        let work = compute_dtype(Work::Elementwise, d);
        if work != d {
            return self
                .widen("cumsum", work)?
                .cumsum(axis)?
                .narrow("cumsum", work, d);
        }
        let a = host_tensor("cumsum", &[axis as i32], &[])?;
        Ok(wrap(
            ops::cumsum(context()?, self.h(), a.h()).map_err(fw("cumsum"))?,
        ))
    }
    fn matmul(&self, rhs: &Self) -> Result<Self> {
        self.matmul_t(rhs, false, false)
    }
    fn matmul_t(&self, rhs: &Self, transpose_a: bool, transpose_b: bool) -> Result<Self> {
        let d = self.dtype();
        let work = compute_dtype(Work::Matmul, d);
        if work != d {
            let (a, b) = (self.widen("matmul", work)?, rhs.widen("matmul", work)?);
            return a
                .matmul_t(&b, transpose_a, transpose_b)?
                .narrow("matmul", work, d);
        }
        let ctx = context()?;
        // Plain 2-D products go to `MatMul`, whose eager call is cheaper;
        // its CPU kernels cover f32, f64, i32 and i64 of the dtypes left
        // after widening (i16 stays on `BatchMatMulV2`). Its f32 sums may
        // round differently from `BatchMatMulV2`'s (matrix-vector shapes),
        // as they would for a TensorFlow user calling `MatMul`.
        let plain = matches!(d, DType::F32 | DType::F64 | DType::I32 | DType::I64)
            && self.dims().len() == 2
            && rhs.dims().len() == 2;
        if plain {
            let op = ops::MatMul::new()
                .transpose_a(transpose_a)
                .transpose_b(transpose_b);
            return Ok(wrap(op.call(ctx, self.h(), rhs.h()).map_err(fw("matmul"))?));
        }
        // adj_x / adj_y (the adjoint is the transpose for real dtypes).
        let op = ops::BatchMatMulV2::new()
            .adj_x(transpose_a)
            .adj_y(transpose_b);
        Ok(wrap(op.call(ctx, self.h(), rhs.h()).map_err(fw("matmul"))?))
    }

    fn reshape(&self, shape: &[usize]) -> Result<Self> {
        let s = i64s(
            "reshape",
            &shape.iter().map(|&d| d as i64).collect::<Vec<_>>(),
        )?;
        Ok(wrap(
            ops::reshape(context()?, self.h(), s.h()).map_err(fw("reshape"))?,
        ))
    }
    fn permute(&self, axes: &[usize]) -> Result<Self> {
        let p = i64s(
            "permute",
            &axes.iter().map(|&d| d as i64).collect::<Vec<_>>(),
        )?;
        Ok(wrap(
            ops::transpose(context()?, self.h(), p.h()).map_err(fw("permute"))?,
        ))
    }
    fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        let s = i64s(
            "broadcast_to",
            &shape.iter().map(|&d| d as i64).collect::<Vec<_>>(),
        )?;
        Ok(wrap(
            ops::broadcast_to(context()?, self.h(), s.h()).map_err(fw("broadcast_to"))?,
        ))
    }
    fn slice(&self, ranges: &[SliceRange]) -> Result<Self> {
        if ranges.is_empty() {
            return Ok(self.clone());
        }
        let op = "slice";
        let begin = i64s(
            op,
            &ranges.iter().map(|r| r.start as i64).collect::<Vec<_>>(),
        )?;
        let end = i64s(
            op,
            &ranges.iter().map(|r| r.end() as i64).collect::<Vec<_>>(),
        )?;
        let step = i64s(
            op,
            &ranges.iter().map(|r| r.step as i64).collect::<Vec<_>>(),
        )?;
        Ok(wrap(
            ops::strided_slice(context()?, self.h(), begin.h(), end.h(), step.h())
                .map_err(fw(op))?,
        ))
    }
    fn flip(&self, axes: &[usize]) -> Result<Self> {
        if axes.is_empty() {
            return Ok(self.clone());
        }
        let a = i64s("flip", &axes.iter().map(|&d| d as i64).collect::<Vec<_>>())?;
        Ok(wrap(
            ops::reverse_v2(context()?, self.h(), a.h()).map_err(fw("flip"))?,
        ))
    }
    fn concat(tensors: &[&Self], axis: usize) -> Result<Self> {
        let hs: Vec<&TensorHandle<'static>> = tensors.iter().map(|t| t.h()).collect();
        let a = host_tensor("concatenate", &[axis as i32], &[])?;
        Ok(wrap(
            ops::concat_v2(context()?, &hs, a.h()).map_err(fw("concatenate"))?,
        ))
    }
    fn index_select(&self, axis: usize, index: &Self) -> Result<Self> {
        let a = host_tensor("index_select", &[axis as i64], &[])?;
        Ok(wrap(
            ops::gather_v2(context()?, self.h(), index.h(), a.h()).map_err(fw("index_select"))?,
        ))
    }
    fn gather(&self, axis: usize, index: &Self) -> Result<Self> {
        // Flat positions of the picked elements, built on the host from the index.
        let op = "take_along_axis";
        let ishape = index.shape();
        let idx = to_vec::<i64>(op, index.h())?;
        let pos = axis_positions(&self.shape(), axis, &idx, &ishape);
        let flat = self.reshape(&[eager_core::shape::numel(&self.shape())])?;
        let p = host_tensor(op, &pos, &ishape)?;
        let z = host_tensor(op, &[0i64], &[])?;
        Ok(wrap(
            ops::gather_v2(context()?, flat.h(), p.h(), z.h()).map_err(fw(op))?,
        ))
    }
    fn scatter(&self, positions: &Self, values: &Self) -> Result<Self> {
        let op = "index_update";
        let n = positions.shape().first().copied().unwrap_or(0);
        let p = positions.reshape(&[n, 1])?;
        Ok(wrap(
            ops::tensor_scatter_update(context()?, self.h(), p.h(), values.h()).map_err(fw(op))?,
        ))
    }
    fn scatter_add(&self, axis: usize, index: &Self, src: &Self) -> Result<Self> {
        let op = "scatter_add";
        let shape = self.shape();
        let ishape = index.shape();
        let idx = to_vec::<i64>(op, index.h())?;
        let pos = axis_positions(&shape, axis, &idx, &ishape);
        let n = pos.len();
        let total = eager_core::shape::numel(&shape);
        let p = host_tensor(op, &pos, &[n, 1])?;
        let flat = self.reshape(&[total])?;
        let vals = src.reshape(&[n])?;
        let out = ops::tensor_scatter_add(context()?, flat.h(), p.h(), vals.h()).map_err(fw(op))?;
        wrap(out).reshape(&shape)
    }
    fn nonzero(&self) -> Result<Self> {
        Ok(wrap(
            ops::where_(context()?, self.h()).map_err(fw("nonzero"))?,
        ))
    }

    fn inv(&self) -> Result<Self> {
        let d = self.dtype();
        let work = compute_dtype(Work::Linalg, d);
        if work != d {
            return self.widen("inv", work)?.inv()?.narrow("inv", work, d);
        }
        ops::matrix_inverse(context()?, self.h())
            .map(wrap)
            .map_err(|e| {
                let msg = e.to_string();
                if msg.contains("not invertible") {
                    Error::invalid("inv", "the matrix is singular")
                } else {
                    Error::Framework {
                        op: "inv",
                        backend: Backend::TensorFlow,
                        msg,
                    }
                }
            })
    }
    fn slogdet(&self) -> Result<(Self, Self)> {
        let d = self.dtype();
        let work = compute_dtype(Work::Linalg, d);
        if work != d {
            let (s, l) = self.widen("slogdet", work)?.slogdet()?;
            return Ok((s.narrow("slogdet", work, d)?, l.narrow("slogdet", work, d)?));
        }
        let [s, l] = ops::log_matrix_determinant(context()?, self.h()).map_err(fw("slogdet"))?;
        Ok((wrap(s), wrap(l)))
    }
}

/// A host copy as an ndarray-backed tensor, for the few ops computed there.
fn eager_host(t: &TfTensor) -> Result<eager_host::HostTensor> {
    eager_host::HostTensor::from_host(t.to_host()?, &t.shape())
}

fn from_host_tensor(t: &eager_host::HostTensor) -> Result<TfTensor> {
    TfTensor::from_host(t.to_host()?, t.shape())
}

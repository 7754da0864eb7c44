//! The op contract: what every backend implements.
//!
//! Calls arrive validated and normalized by the facade (see the crate docs):
//! axes are in range and sorted, shapes are known to fit, operands of binary
//! ops already have the same dtype, index tensors are `i64` and in range. A
//! backend only translates a valid call into its framework; anything the
//! framework still refuses becomes an [`Error::Framework`](crate::Error).

use crate::shape::SliceRange;
use crate::{Backend, DType, HostBuffer, HostData, Result, Scalar};

/// Element-wise operations of one tensor. Dtype rules are applied by the
/// facade: float-only ops always get a float tensor; `abs`, `neg`, `sign`,
/// `square`, `relu`, `round`, `ceil`, `floor` get a numeric tensor and keep
/// its dtype; `IsNan`/`IsInf` get a float and return `bool`; `LogicalNot`
/// gets a `bool`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum UnaryOp {
    Abs,
    Neg,
    Sign,
    Sqrt,
    Square,
    Exp,
    Log,
    Log2,
    Log10,
    Log1p,
    Sin,
    Cos,
    Tan,
    Sinh,
    Cosh,
    Tanh,
    Arcsin,
    Arccos,
    Arctan,
    Arcsinh,
    Arccosh,
    Arctanh,
    /// Half to even.
    Round,
    Ceil,
    Floor,
    IsNan,
    IsInf,
    LogicalNot,
    Sigmoid,
    Relu,
}

impl UnaryOp {
    /// Every element-wise op of one tensor.
    pub const ALL: [UnaryOp; 30] = {
        use UnaryOp::*;
        [
            Abs, Neg, Sign, Sqrt, Square, Exp, Log, Log2, Log10, Log1p, Sin, Cos, Tan, Sinh, Cosh,
            Tanh, Arcsin, Arccos, Arctan, Arcsinh, Arccosh, Arctanh, Round, Ceil, Floor, IsNan,
            IsInf, LogicalNot, Sigmoid, Relu,
        ]
    };
    /// Ops that only make sense on floats (integers are cast to `f64` first).
    pub fn is_float_only(self) -> bool {
        use UnaryOp::*;
        matches!(
            self,
            Sqrt | Exp
                | Log
                | Log2
                | Log10
                | Log1p
                | Sin
                | Cos
                | Tan
                | Sinh
                | Cosh
                | Tanh
                | Arcsin
                | Arccos
                | Arctan
                | Arcsinh
                | Arccosh
                | Arctanh
                | Sigmoid
        )
    }
    /// The user-facing name of the op.
    pub fn name(self) -> &'static str {
        use UnaryOp::*;
        match self {
            Abs => "abs",
            Neg => "neg",
            Sign => "sign",
            Sqrt => "sqrt",
            Square => "square",
            Exp => "exp",
            Log => "log",
            Log2 => "log2",
            Log10 => "log10",
            Log1p => "log1p",
            Sin => "sin",
            Cos => "cos",
            Tan => "tan",
            Sinh => "sinh",
            Cosh => "cosh",
            Tanh => "tanh",
            Arcsin => "arcsin",
            Arccos => "arccos",
            Arctan => "arctan",
            Arcsinh => "arcsinh",
            Arccosh => "arccosh",
            Arctanh => "arctanh",
            Round => "round",
            Ceil => "ceil",
            Floor => "floor",
            IsNan => "isnan",
            IsInf => "isinf",
            LogicalNot => "logical_not",
            Sigmoid => "sigmoid",
            Relu => "relu",
        }
    }
}

/// Element-wise operations of two tensors of the same dtype, broadcasting as
/// NumPy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    /// True division; the facade only sends floats.
    Div,
    /// Floors (NumPy's `//`); integer division by zero gives 0.
    FloorDiv,
    /// Takes the divisor's sign (Python's `%`); integer `% 0` gives 0.
    Rem,
    /// Integers: the facade rejects negative exponents.
    Pow,
    /// NaN propagates.
    Minimum,
    /// NaN propagates.
    Maximum,
    /// `bool` only.
    LogicalAnd,
    /// `bool` only.
    LogicalOr,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl BinaryOp {
    /// Every element-wise op of two tensors.
    pub const ALL: [BinaryOp; 17] = {
        use BinaryOp::*;
        [
            Add, Sub, Mul, Div, FloorDiv, Rem, Pow, Minimum, Maximum, LogicalAnd, LogicalOr, Lt,
            Le, Gt, Ge, Eq, Ne,
        ]
    };
    /// Comparisons return `bool` tensors.
    pub fn is_comparison(self) -> bool {
        use BinaryOp::*;
        matches!(self, Lt | Le | Gt | Ge | Eq | Ne)
    }
    /// The user-facing name of the op.
    pub fn name(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "add",
            Sub => "sub",
            Mul => "mul",
            Div => "div",
            FloorDiv => "floor_div",
            Rem => "rem",
            Pow => "pow",
            Minimum => "minimum",
            Maximum => "maximum",
            LogicalAnd => "logical_and",
            LogicalOr => "logical_or",
            Lt => "lt",
            Le => "le",
            Gt => "gt",
            Ge => "ge",
            Eq => "eq",
            Ne => "ne",
        }
    }
}

/// Reductions over a set of axes. `Sum`/`Prod` get a tensor already widened
/// by the facade; `Mean` gets a float tensor (an empty reduction is NaN);
/// `All`/`Any` get `bool`; `Min`/`Max` never see an empty reduction (NaN
/// propagates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ReduceOp {
    Sum,
    Mean,
    Prod,
    Min,
    Max,
    All,
    Any,
}

/// `argmin`/`argmax` along one non-empty axis: the first index of ties, the
/// first NaN if there is one. Result dtype `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ArgReduceOp {
    ArgMin,
    ArgMax,
}

/// Random distributions for [`CreateOps::random`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    /// Uniform on `[low, high)`.
    Uniform {
        /// Lower bound (inclusive).
        low: f64,
        /// Upper bound (exclusive).
        high: f64,
    },
    /// Normal with the given mean and standard deviation.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
}

/// Where a tensor lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// Host memory.
    Cpu,
    /// A CUDA GPU by ordinal.
    Cuda(usize),
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

/// The contract every backend's native tensor implements: the op families
/// below, as Burn splits its backend traits, each in its own file of a
/// backend crate. Implemented for every type that implements them all.
///
/// Each method receives a call the facade has already validated (see the
/// module docs); each returns the framework's own tensor.
pub trait BackendTensor:
    TensorBase + CreateOps + ElementwiseOps + CastOps + ReduceOps + ShapeOps + IndexOps + LinalgOps
{
}

impl<T> BackendTensor for T where
    T: TensorBase
        + CreateOps
        + ElementwiseOps
        + CastOps
        + ReduceOps
        + ShapeOps
        + IndexOps
        + LinalgOps
{
}

/// The base of the contract: which backend, the shape and dtype, the
/// device, and the exchange with host memory.
pub trait TensorBase: Clone + Send + Sync + std::fmt::Debug + Sized + 'static {
    /// Which backend this is.
    const BACKEND: Backend;
    /// The most dimensions a tensor of this backend may have: 8 on Candle
    /// (`candle_core::nditer::MAX_DIMS`) and TensorFlow (most of its CPU
    /// kernels), 64 on torch (libtorch's `TensorIterator`); ndarray and xla
    /// meet no limit first (`usize::MAX`, the default). The facade refuses
    /// a larger shape before the backend sees it
    /// ([`check_rank`](Self::check_rank)).
    const MAX_RANK: usize = usize::MAX;
    /// A `shape` error of `op`, naming the backend, when `shape` has more
    /// dimensions than [`MAX_RANK`](Self::MAX_RANK).
    fn check_rank(op: &'static str, shape: &[usize]) -> Result<()> {
        if shape.len() <= Self::MAX_RANK {
            return Ok(());
        }
        Err(crate::Error::shape(
            op,
            format!(
                "the {} backend holds tensors of at most {} dimensions, not {} (shape {shape:?})",
                Self::BACKEND,
                Self::MAX_RANK,
                shape.len()
            ),
        ))
    }
    /// The shape.
    fn shape(&self) -> Vec<usize>;
    /// The shape borrowed from the tensor, where the backend keeps it in
    /// memory as `usize`s (ndarray): the per-op hot path compares and
    /// broadcasts shapes through this without allocating. `None` (the
    /// default) sends callers to [`shape`](Self::shape).
    fn shape_ref(&self) -> Option<&[usize]> {
        None
    }
    /// The dtype.
    fn dtype(&self) -> DType;
    /// An error when the native tensor has a dtype eager-tensor does not
    /// support (a torch complex tensor, a TensorFlow string tensor, ...):
    /// such a tensor can be wrapped, but every operation on it is this
    /// error, never a result computed on a mislabelled tensor. Backends
    /// whose tensors can only hold supported dtypes keep the default.
    fn native_dtype_ok(&self) -> Result<()> {
        Ok(())
    }
    /// Where the data lives (CPU unless the backend has devices).
    fn device(&self) -> Device {
        Device::Cpu
    }
    /// A copy on `device` (the tensor itself when it is there already).
    fn to_device(&self, device: Device) -> Result<Self> {
        if device == self.device() {
            Ok(self.clone())
        } else {
            Err(crate::Error::Unsupported {
                op: "to_device",
                backend: Self::BACKEND,
                msg: format!("the {} backend has no device {device}", Self::BACKEND),
            })
        }
    }
    /// A tensor from a row-major host buffer, on the default device.
    /// `data.len()` equals the product of `shape`.
    fn from_host(data: HostData, shape: &[usize]) -> Result<Self>;
    /// A tensor from a row-major host buffer, on the device of `self`.
    #[allow(clippy::wrong_self_convention)]
    fn from_host_like(&self, data: HostData, shape: &[usize]) -> Result<Self> {
        Self::from_host(data, shape)
    }
    /// A row-major host copy.
    fn to_host(&self) -> Result<HostData>;
    /// Lends this tensor's memory without a copy (see
    /// [`exchange`](crate::exchange)), or `None` where it is not row-major
    /// contiguous host memory the framework can expose (device memory, a
    /// strided view, an emulated dtype): callers then copy with
    /// [`to_host`](Self::to_host). The default lends nothing.
    fn lend_host(&self) -> Result<Option<HostBuffer>> {
        Ok(None)
    }
    /// A tensor on the default device that adopts `buf`'s memory, keeping
    /// its owner alive until the framework frees the tensor, where the
    /// framework can borrow foreign memory and `buf`'s alignment suits it;
    /// otherwise one copy (the default, through
    /// [`from_host`](Self::from_host)).
    fn adopt_host(buf: HostBuffer) -> Result<Self> {
        let (data, shape) = buf.into_host_data();
        Self::from_host(data, &shape)
    }
}

/// New tensors like `self`: filled with a value, or random.
pub trait CreateOps: TensorBase {
    /// A tensor of `shape` filled with `value` (already of `dtype`), on the
    /// device of `self`.
    fn full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<Self>;
    /// Random numbers of a float `dtype`, on the device of `self`.
    fn random(&self, dist: Distribution, shape: &[usize], dtype: DType) -> Result<Self>;
}

/// Element-wise ops of one, two or three tensors.
pub trait ElementwiseOps: CreateOps {
    /// An element-wise op (see [`UnaryOp`]).
    fn unary(&self, op: UnaryOp) -> Result<Self>;
    /// An element-wise op of two tensors of the same dtype (see [`BinaryOp`]).
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Result<Self>;
    /// `self op value` for a scalar already of `self`'s dtype (broadcast).
    /// The default makes a 0-d tensor and calls [`binary`](Self::binary);
    /// frameworks with scalar kernels override it.
    fn binary_scalar(&self, op: BinaryOp, value: Scalar) -> Result<Self> {
        let s = self.full(&[], value, self.dtype())?;
        self.binary(op, &s)
    }
    /// `self` is a `bool` condition; `x` and `y` have one dtype; all three
    /// broadcast together.
    fn where_cond(&self, x: &Self, y: &Self) -> Result<Self>;
}

/// Dtype conversion.
pub trait CastOps: TensorBase {
    /// Converts the dtype (NumPy's `astype`: floats to ints truncate).
    fn cast(&self, dtype: DType) -> Result<Self>;
}

/// Reductions and scans along axes: sums and friends, arg-reductions,
/// sorting, cumulative sums.
pub trait ReduceOps: TensorBase {
    /// Reduces `axes` (sorted, unique, possibly empty).
    fn reduce(&self, op: ReduceOp, axes: &[usize], keepdims: bool) -> Result<Self>;
    /// Index of the min/max along `axis`, which is removed.
    fn arg_reduce(&self, op: ArgReduceOp, axis: usize) -> Result<Self>;
    /// Stable sort along `axis`; NaN counts as the largest value.
    fn sort(&self, axis: usize, descending: bool) -> Result<Self>;
    /// Indices (`i64`) of a stable sort along `axis`.
    fn argsort(&self, axis: usize, descending: bool) -> Result<Self>;
    /// Inclusive cumulative sum along `axis` (dtype already widened).
    fn cumsum(&self, axis: usize) -> Result<Self>;
}

/// Ops that move elements without computing: reshape, permute,
/// broadcast, slice, flip, concatenate.
pub trait ShapeOps: TensorBase {
    /// Same elements, new shape (same element count).
    fn reshape(&self, shape: &[usize]) -> Result<Self>;
    /// Reorders axes (`axes` is a permutation).
    fn permute(&self, axes: &[usize]) -> Result<Self>;
    /// Broadcasts to `shape` (checked to be valid).
    fn broadcast_to(&self, shape: &[usize]) -> Result<Self>;
    /// One [`SliceRange`] per axis.
    fn slice(&self, ranges: &[SliceRange]) -> Result<Self>;
    /// Reverses the given axes.
    fn flip(&self, axes: &[usize]) -> Result<Self>;
    /// Joins tensors of one dtype along `axis`; the other dimensions match.
    fn concat(tensors: &[&Self], axis: usize) -> Result<Self>;
}

/// Indexing with index tensors: select, gather, scatter, nonzero.
pub trait IndexOps: TensorBase {
    /// `index` is 1-D `i64` with values in `0..shape[axis]`.
    fn index_select(&self, axis: usize, index: &Self) -> Result<Self>;
    /// `index` is `i64`, of the same shape as `self` except along `axis`,
    /// values in range (NumPy's `take_along_axis`).
    fn gather(&self, axis: usize, index: &Self) -> Result<Self>;
    /// `self` is 1-D; writes `values[i]` at `positions[i]` (both 1-D, same
    /// length, `i64` positions in range); with repeated positions the last
    /// write wins.
    fn scatter(&self, positions: &Self, values: &Self) -> Result<Self>;
    /// Adds `src` into a copy of `self` along `axis`: for every position `p`
    /// of `index` (and `src`, same shape), `out[p with axis = index[p]] +=
    /// src[p]`; repeated indices accumulate (the backward of gathers).
    /// `self` and `src` share a numeric dtype; `index` is `i64` in range and
    /// matches `self`'s shape except along `axis`.
    fn scatter_add(&self, axis: usize, index: &Self, src: &Self) -> Result<Self>;
    /// Coordinates of the non-zero (true) elements, `i64` of shape
    /// `[count, ndim]`, in row-major order.
    fn nonzero(&self) -> Result<Self>;
}

/// Linear algebra: matrix products, inverse, log-determinant.
pub trait LinalgOps: ShapeOps {
    /// `[..., m, k] x [..., k, n]` with identical batch dimensions.
    fn matmul(&self, rhs: &Self) -> Result<Self>;
    /// [`matmul`](Self::matmul) with the last two axes of `self`
    /// (`transpose_a`) and/or `rhs` (`transpose_b`) swapped first — the
    /// products of matmul's backward. The default swaps with `permute`
    /// (a view where the framework has views); frameworks whose matmul
    /// takes transposed operands override it and save that op.
    fn matmul_t(&self, rhs: &Self, transpose_a: bool, transpose_b: bool) -> Result<Self> {
        let swap = |t: &Self| {
            let n = t.shape().len();
            let mut p: Vec<usize> = (0..n).collect();
            p.swap(n - 2, n - 1);
            t.permute(&p)
        };
        match (transpose_a, transpose_b) {
            (false, false) => self.matmul(rhs),
            (true, false) => swap(self)?.matmul(rhs),
            (false, true) => self.matmul(&swap(rhs)?),
            (true, true) => swap(self)?.matmul(&swap(rhs)?),
        }
    }
    /// Inverse of a float `[..., n, n]`; a singular matrix is an error.
    fn inv(&self) -> Result<Self>;
    /// `(sign, log|det|)` of a float `[..., n, n]`.
    fn slogdet(&self) -> Result<(Self, Self)>;
}

/// `f` on `t` widened to `f32`, with an `f32` result rounded back to `t`'s
/// dtype: how a backend computes a 16-bit float op whose kernel is missing
/// or rounds more than once (eager-tensor's rule: compute in f32, round
/// once). Results of another dtype (bool, indices) come back as they are.
pub fn via_f32<T: BackendTensor>(t: &T, f: impl FnOnce(&T) -> Result<T>) -> Result<T> {
    via_f32_with(t, T::dtype, T::cast, f)
}

/// [`via_f32`] for a tensor type that is not a backend's, given its
/// `dtype` and `cast` (the host engine's kernels).
pub fn via_f32_with<T>(
    t: &T,
    dtype: impl Fn(&T) -> DType,
    cast: impl Fn(&T, DType) -> Result<T>,
    f: impl FnOnce(&T) -> Result<T>,
) -> Result<T> {
    let d = dtype(t);
    let r = f(&cast(t, DType::F32)?)?;
    if dtype(&r) == DType::F32 && d != DType::F32 {
        cast(&r, d)
    } else {
        Ok(r)
    }
}

/// The contract's traits, to bring every op into scope at once:
/// `use eager_core::ops::prelude::*`.
pub mod prelude {
    pub use super::{
        BackendTensor, CastOps, CreateOps, ElementwiseOps, IndexOps, LinalgOps, ReduceOps,
        ShapeOps, TensorBase,
    };
}

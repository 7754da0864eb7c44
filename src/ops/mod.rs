//! The operations of `EagerTensor`: validation and dtype rules once, here,
//! then one call to the owning backend.

use crate::free::methods_and_fns;
use crate::tensor::DynOps;
use crate::{
    ArgReduceOp, BinaryOp, DType, EagerTensor, Error, Operand, ReduceOp, Result, Scalar, UnaryOp,
};
use eager_core::shape::{self, normalize_axes, normalize_axis};
use eager_core::Kind;
use std::borrow::Cow;

pub(crate) mod linalg;
pub(crate) mod nn;
pub(crate) mod reduce;

/// The dtype a binary op computes in, after NumPy's promotion with weak
/// scalars.
fn operand_dtype(op: &'static str, a: &Operand, b: &Operand) -> Result<DType> {
    Ok(match (a, b) {
        (Operand::Tensor(x), Operand::Tensor(y)) => x.dtype().promote(y.dtype()),
        (Operand::Tensor(x), Operand::Scalar(s)) | (Operand::Scalar(s), Operand::Tensor(x)) => {
            x.dtype().promote_scalar(*s)
        }
        (Operand::Scalar(s), Operand::Scalar(t)) => {
            let _ = op;
            s.dtype().promote(t.dtype())
        }
    })
}

/// Turns an operand into a tensor of `dtype` on the backend of `like`
/// (borrowed when it already is one: no handle clone on the hot path).
fn materialize<'a>(
    op: &'static str,
    o: &Operand<'a>,
    dtype: DType,
    like: &EagerTensor,
) -> Result<Cow<'a, EagerTensor>> {
    Ok(match o {
        Operand::Tensor(t) if t.dtype() == dtype => Cow::Borrowed(*t),
        Operand::Tensor(t) => Cow::Owned(t.dyn_cast(dtype)?),
        Operand::Scalar(s) => Cow::Owned(like.dyn_full(&[], s.cast(op, dtype)?, dtype)?),
    })
}

fn like_of<'a>(op: &'static str, ops: &[&Operand<'a>]) -> Result<&'a EagerTensor> {
    ops.iter()
        .find_map(|o| match o {
            Operand::Tensor(t) => Some(*t),
            Operand::Scalar(_) => None,
        })
        .ok_or_else(|| Error::invalid(op, "needs at least one tensor operand"))
}

/// A binary op on any two operands (at least one a tensor).
pub(crate) fn binary_operands(op: BinaryOp, a: Operand, b: Operand) -> Result<EagerTensor> {
    use BinaryOp::*;
    let name = op.name();
    if let (Operand::Tensor(x), Operand::Tensor(y)) = (&a, &b) {
        if let Some(r) = same_kind_binary(op, x, y) {
            return r;
        }
    }
    let like = like_of(name, &[&a, &b])?;
    let promoted = operand_dtype(name, &a, &b)?;
    if let (Operand::Tensor(x), Operand::Tensor(y)) = (&a, &b) {
        // Shapes borrowed where the backend keeps them (no allocation);
        // equal shapes (the common case) need no broadcasting.
        let (sx, sy) = (x.shape_cow(), y.shape_cow());
        let checked = |s: &[usize]| {
            if x.backend() != y.backend() {
                return Err(crate::tensor::mismatch(name, &[x, y]));
            }
            shape::check_size(name, s, promoted)
        };
        if sx == sy {
            checked(&sx)?;
        } else {
            shape::with_broadcast_shape(name, &sx, &sy, checked)?;
        }
    }
    let compute = match op {
        LogicalAnd | LogicalOr => {
            // EagerPy's (and TensorFlow's) rule: logical ops take bool only.
            for o in [&a, &b] {
                let d = match o {
                    Operand::Tensor(t) => t.dtype(),
                    Operand::Scalar(s) => s.dtype(),
                };
                if d != DType::Bool {
                    return Err(Error::dtype(
                        name,
                        format!("needs bool operands, got {d}; compare or cast with astype first"),
                    ));
                }
            }
            DType::Bool
        }
        Div => promoted.to_float(),
        Add | Sub | Mul | FloorDiv | Rem | Pow if promoted == DType::Bool => {
            return Err(Error::dtype(
                name,
                "arithmetic on two bool operands; cast one with astype first",
            ))
        }
        _ => promoted,
    };
    if op == Pow && compute.is_int() && !compute.is_unsigned() {
        let negative = match &b {
            Operand::Scalar(s) => s.to_f64() < 0.0,
            // Inside jit there is no value to check (the power is computed
            // as integers over every exponent bit, as on the device).
            Operand::Tensor(t) if t.in_jit() => false,
            Operand::Tensor(t) => t.numel() > 0 && t.min()?.cast_to(DType::I64)?.item::<i64>()? < 0,
        };
        if negative {
            return Err(Error::invalid(
                name,
                "integers to negative integer powers are not allowed",
            ));
        }
    }
    let x = materialize(name, &a, compute, like)?;
    if let (Operand::Scalar(s), false) = (&b, x.is_traced()) {
        // A scalar on the right: frameworks have a kernel for it.
        return x.dyn_binary_scalar(op, s.cast(name, compute)?);
    }
    let y = materialize(name, &b, compute, like)?;
    crate::prim::binary(op, &x, &y)
}

/// The common case in one pass: two tensors of one dtype (shapes kept by
/// their backend) under an op that computes in that dtype, so there is
/// nothing to promote or materialize (`None` otherwise: the general path
/// decides). Broadcasting and the size limit are checked as on the
/// general path.
fn same_kind_binary(op: BinaryOp, x: &EagerTensor, y: &EagerTensor) -> Option<Result<EagerTensor>> {
    use BinaryOp::*;
    let d = x.dtype();
    let keeps = match op {
        Add | Sub | Mul => d != DType::Bool,
        Div => d.is_float(),
        Minimum | Maximum | Lt | Le | Gt | Ge | Eq | Ne => true,
        FloorDiv | Rem | Pow | LogicalAnd | LogicalOr => false,
    };
    if !keeps || y.dtype() != d || x.backend() != y.backend() {
        return None;
    }
    let (sx, sy) = (x.dyn_shape_ref()?, y.dyn_shape_ref()?);
    // A result of the operands' shape and dtype (or bool) is no larger than
    // either operand: only a broadcast result needs the size check.
    let checked = if sx == sy {
        Ok(())
    } else {
        shape::with_broadcast_shape(op.name(), sx, sy, |s| {
            shape::check_size(op.name(), s, d).map(drop)
        })
    };
    Some(checked.and_then(|_| crate::prim::binary(op, x, y)))
}

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> Result<EagerTensor> {
            self.unary(UnaryOp::$op)
        }
    )*};
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name<'a>(&self, rhs: impl Into<Operand<'a>>) -> Result<EagerTensor> {
            binary_operands(BinaryOp::$op, Operand::Tensor(self), rhs.into())
        }
    )*};
}

macro_rules! reduce_methods {
    ($($(#[$doc:meta])* $name:ident, $axes_name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> Result<EagerTensor> {
            self.reduce_impl(stringify!($name), $op, None, false)
        }
        /// The same reduction over `axes` (negative axes count from the end),
        /// keeping the reduced axes as size 1 when `keepdims`.
        pub fn $axes_name(&self, axes: impl crate::args::IntoAxes, keepdims: bool) -> Result<EagerTensor> {
            self.reduce_impl(stringify!($name), $op, Some(&axes.into_axes()), keepdims)
        }
    )*};
}

/// The unary_ops, written once: `$m!` gets the list (methods on
/// [`EagerTensor`] and the free functions of `ep::` are both made from it).
macro_rules! unary_ops {
    ($m:ident) => {
        $m! {
            /// |x|.
            abs => Abs,
            /// -x (wrapping for integers, as NumPy).
            neg => Neg,
            /// -1, 0 or 1.
            sign => Sign,
            /// Square root (integers compute in f64).
            sqrt => Sqrt,
            /// x².
            square => Square,
            /// eˣ.
            exp => Exp,
            /// Natural logarithm.
            log => Log,
            /// Base-2 logarithm.
            log2 => Log2,
            /// Base-10 logarithm.
            log10 => Log10,
            /// ln(1 + x).
            log1p => Log1p,
            /// Sine.
            sin => Sin,
            /// Cosine.
            cos => Cos,
            /// Tangent.
            tan => Tan,
            /// Hyperbolic sine.
            sinh => Sinh,
            /// Hyperbolic cosine.
            cosh => Cosh,
            /// Hyperbolic tangent.
            tanh => Tanh,
            /// Inverse sine.
            arcsin => Arcsin,
            /// Inverse cosine.
            arccos => Arccos,
            /// Inverse tangent.
            arctan => Arctan,
            /// Inverse hyperbolic sine.
            arcsinh => Arcsinh,
            /// Inverse hyperbolic cosine.
            arccosh => Arccosh,
            /// Inverse hyperbolic tangent.
            arctanh => Arctanh,
            /// Rounds half to even (NumPy's rule; `2.5 → 2`).
            round => Round,
            /// Ceiling.
            ceil => Ceil,
            /// Floor.
            floor => Floor,
            /// NaN test (`bool`).
            isnan => IsNan,
            /// Infinity test (`bool`).
            isinf => IsInf,
            /// Logical not (`bool` tensors only; others are a `dtype` error).
            logical_not => LogicalNot,
            /// 1 / (1 + e⁻ˣ).
            sigmoid => Sigmoid,
            /// max(x, 0).
            relu => Relu,
        }
    };
}
pub(crate) use unary_ops;

/// The binary_ops, written once: `$m!` gets the list (methods on
/// [`EagerTensor`] and the free functions of `ep::` are both made from it).
macro_rules! binary_ops {
    ($m:ident) => {
        $m! {
            /// `self + rhs`.
            add => Add,
            /// `self - rhs`.
            sub => Sub,
            /// `self * rhs`.
            mul => Mul,
            /// True division; integers divide in f64.
            div => Div,
            /// Floor division (`//`): rounds toward -∞; integer division by zero gives 0.
            floor_div => FloorDiv,
            /// Remainder with the divisor's sign (Python's `%`); integer `% 0` gives 0.
            rem => Rem,
            /// `self ** rhs`; integers to negative integer powers are an error.
            pow => Pow,
            /// Element-wise minimum (NaN propagates).
            ///
            /// ```
            /// # use eager_tensor as ep;
            /// let n = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![0.5f32, 2.0], &[2])?;
            /// assert_eq!(n.minimum(1.0)?.to_vec::<f32>()?, vec![0.5, 1.0]);
            /// assert_eq!(ep::minimum(1.0, &n)?.to_vec::<f32>()?, vec![0.5, 1.0]); // EagerPy's ep.minimum(1, n)
            /// # Ok::<(), ep::Error>(())
            /// ```
            minimum => Minimum,
            /// Element-wise maximum (NaN propagates).
            maximum => Maximum,
            /// Logical and (`bool` operands only; others are a `dtype` error).
            logical_and => LogicalAnd,
            /// Logical or (`bool` operands only; others are a `dtype` error).
            logical_or => LogicalOr,
            /// `self < rhs` (`bool`).
            lt => Lt,
            /// `self <= rhs` (`bool`).
            le => Le,
            /// `self > rhs` (`bool`).
            gt => Gt,
            /// `self >= rhs` (`bool`).
            ge => Ge,
            /// `self == rhs` (`bool`).
            eq => Eq,
            /// `self != rhs` (`bool`).
            ne => Ne,
        }
    };
}
pub(crate) use binary_ops;

/// The reduce_ops, written once: `$m!` gets the list (methods on
/// [`EagerTensor`] and the free functions of `ep::` are both made from it).
macro_rules! reduce_ops {
    ($m:ident) => {
        $m! {
            /// Sum of all elements (bool/u8/i32 accumulate in i64).
            sum, sum_axes => SUM,
            /// Product of all elements (bool/u8/i32 accumulate in i64).
            prod, prod_axes => PROD,
            /// Mean of all elements (float tensors only, as in EagerPy).
            mean, mean_axes => MEAN,
            /// Minimum (NaN propagates; empty is an error).
            min, min_axes => MIN,
            /// Maximum (NaN propagates; empty is an error).
            max, max_axes => MAX,
            /// True if all elements are true (bool tensors only).
            all, all_axes => ALL,
            /// True if any element is true (bool tensors only).
            any, any_axes => ANY,
        }
    };
}
pub(crate) use reduce_ops;

const MEAN: Option<ReduceOp> = Some(ReduceOp::Mean);
const SUM: Option<ReduceOp> = Some(ReduceOp::Sum);
const PROD: Option<ReduceOp> = Some(ReduceOp::Prod);
const MIN: Option<ReduceOp> = Some(ReduceOp::Min);
const MAX: Option<ReduceOp> = Some(ReduceOp::Max);
const ALL: Option<ReduceOp> = Some(ReduceOp::All);
const ANY: Option<ReduceOp> = Some(ReduceOp::Any);

impl EagerTensor {
    unary_ops!(unary_methods);
    binary_ops!(binary_methods);
    reduce_ops!(reduce_methods);

    /// Casts to `dtype` (a cheap clone when it already has it).
    pub(crate) fn cast_to(&self, dtype: DType) -> Result<EagerTensor> {
        if self.dtype() == dtype {
            // A native dtype eager-tensor lacks reads as f32: no silent no-op.
            self.dyn_native_dtype_ok()?;
            Ok(self.clone())
        } else {
            self.dyn_cast(dtype)
        }
    }

    /// Applies an element-wise op with eager-tensor's dtype rules.
    pub fn unary(&self, op: UnaryOp) -> Result<EagerTensor> {
        use UnaryOp::*;
        let d = self.dtype();
        match op {
            LogicalNot if d != DType::Bool => Err(Error::dtype(
                op.name(),
                format!("needs a bool tensor, got {d}; compare or cast with astype first"),
            )),
            LogicalNot => self.dyn_unary(op),
            IsNan | IsInf if !d.is_float() => {
                self.dyn_full(&self.shape(), Scalar::Bool(false), DType::Bool)
            }
            // A float already: no cast and no handle clone (`dyn_unary`
            // checks the native dtype as `cast_to` would).
            _ if op.is_float_only() && d.unary_float() == d => self.dyn_unary(op),
            _ if op.is_float_only() => self.cast_to(d.unary_float())?.dyn_unary(op),
            _ if d == DType::Bool => Err(Error::dtype(op.name(), "not defined for bool tensors")),
            Round | Ceil | Floor if d.is_int() => Ok(self.clone()),
            _ => self.dyn_unary(op),
        }
    }

    /// Applies a binary op to `self` and `rhs` with broadcasting and dtype
    /// promotion.
    pub fn binary<'a>(&self, op: BinaryOp, rhs: impl Into<Operand<'a>>) -> Result<EagerTensor> {
        binary_operands(op, Operand::Tensor(self), rhs.into())
    }

    /// `astype(F32)`.
    pub fn float32(&self) -> Result<EagerTensor> {
        self.cast_to(DType::F32)
    }
    /// `astype(F64)`.
    pub fn float64(&self) -> Result<EagerTensor> {
        self.cast_to(DType::F64)
    }
    /// `astype(Bool)` (non-zero is true).
    pub fn bool(&self) -> Result<EagerTensor> {
        self.cast_to(DType::Bool)
    }
}

methods_and_fns! {
    /// Picks `x` where `self` is true, else `y` (EagerPy's `where`); all
    /// three broadcast, `x` and `y` promote as a binary op does.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![-1.0f32, 2.0], &[2])?;
    /// let y = x.gt(0.0)?.where_cond(&x, 0.0)?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![0.0, 2.0]);
    /// // EagerPy's ep.where(cond, x, y), as a function:
    /// let z = ep::where_(&x.lt(0.0)?, 0.0, &x)?;
    /// assert_eq!(z.to_vec::<f32>()?, vec![0.0, 2.0]);
    /// assert_eq!(ep::where_cond(&x.lt(0.0)?, 1, 2)?.to_vec::<i64>()?, vec![1, 2]);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn where_cond<'a, 'b>(
        &self as cond,
        x: impl Into<Operand<'a>>,
        y: impl Into<Operand<'b>>,
    ) -> Result<EagerTensor> {
        let op = "where_cond";
        let (x, y) = (x.into(), y.into());
        let cond = self.cast_to(DType::Bool)?;
        let mut out_shape = self.shape();
        for o in [&x, &y] {
            if let Operand::Tensor(t) = o {
                out_shape = shape::broadcast_shapes(op, &out_shape, &t.shape())?;
                if t.backend() != self.backend() {
                    return Err(crate::tensor::mismatch(op, &[self, t]));
                }
            }
        }
        let dtype = operand_dtype(op, &x, &y)?;
        shape::check_size(op, &out_shape, dtype)?;
        let xt = materialize(op, &x, dtype, self)?;
        let yt = materialize(op, &y, dtype, self)?;
        crate::prim::where_cond(&cond, &xt, &yt)
    }
    /// Clips to `[min, max]` (`minimum(maximum(x, min), max)`); the bounds
    /// are scalars or tensors that broadcast.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![-0.5f32, 0.25, 2.0], &[3])?;
    /// assert_eq!(x.clip(0.0, 1.0)?.to_vec::<f32>()?, vec![0.0, 0.25, 1.0]);
    /// let (lo, hi) = (0.0, 1.0);
    /// assert_eq!(ep::clip(&x, lo, hi)?.to_vec::<f32>()?, vec![0.0, 0.25, 1.0]); // ep.clip(x, *bounds)
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn clip<'a, 'b>(
        &self,
        min: impl Into<Operand<'a>>,
        max: impl Into<Operand<'b>>,
    ) -> Result<EagerTensor> {
        self.maximum(min)?.minimum(max)
    }
    /// Converts the dtype (floats to integers truncate toward zero).
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![-1.7f32, 2.9], &[2])?;
    /// let i = x.astype(ep::DType::I32)?;
    /// assert_eq!((i.dtype(), i.to_vec::<i32>()?), (ep::DType::I32, vec![-1, 2]));
    /// assert_eq!(ep::astype(&i, ep::DType::Bool)?.to_vec::<bool>()?, vec![true, true]);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn astype(&self, dtype: DType) -> Result<EagerTensor> {
        self.cast_to(dtype)
    }
}

pub(crate) fn kind_allows(from: DType, to: DType) -> bool {
    from.kind() <= to.kind() || (from.kind() == Kind::Bool)
}

pub(crate) fn concat_refs(
    op: &'static str,
    ts: &[&EagerTensor],
    axis: isize,
) -> Result<EagerTensor> {
    let first = ts
        .first()
        .ok_or_else(|| Error::invalid(op, "needs at least one tensor"))?;
    let nd = first.ndim();
    if nd == 0 {
        return Err(Error::shape(op, "0-d tensors cannot be concatenated"));
    }
    let ax = normalize_axis(op, axis, nd)?;
    let s0 = first.shape();
    let mut dtype = first.dtype();
    for t in ts {
        let s = t.shape();
        if s.len() != nd
            || s.iter()
                .zip(&s0)
                .enumerate()
                .any(|(i, (a, b))| i != ax && a != b)
        {
            return Err(Error::shape(
                op,
                format!("shapes {s0:?} and {s:?} do not match outside axis {ax}"),
            ));
        }
        dtype = dtype.promote(t.dtype());
    }
    let mut out_shape = s0;
    out_shape[ax] = ts
        .iter()
        .try_fold(0usize, |acc, t| acc.checked_add(t.shape()[ax]))
        .unwrap_or(usize::MAX);
    shape::check_size(op, &out_shape, dtype)?;
    let cast = ts
        .iter()
        .map(|t| t.cast_to(dtype))
        .collect::<Result<Vec<_>>>()?;
    if let [only] = cast.as_slice() {
        // Nothing to join (TensorFlow's ConcatV2 refuses a single input).
        return Ok(only.clone());
    }
    let refs: Vec<&EagerTensor> = cast.iter().collect();
    crate::prim::concat(op, &refs, ax)
}

/// Whether `a` and `b` are equal within tolerances, element by element
/// after broadcasting, as NumPy's `allclose`: `|a - b| <= atol + rtol *
/// |b|`, equal infinities are close, NaN is close to nothing. Compares in
/// the promoted float dtype; both on one backend.
///
/// ```
/// # use eager_tensor as ep;
/// let a = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f32, 2.0], &[2])?;
/// let b = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f64, 2.000001], &[2])?;
/// assert!(ep::allclose(&a, &b, 1e-5, 1e-8)?);
/// assert!(!ep::allclose(&a, &b, 1e-9, 0.0)?);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn allclose(a: &EagerTensor, b: &EagerTensor, rtol: f64, atol: f64) -> Result<bool> {
    let d = a.dtype().promote(b.dtype()).to_float();
    let (x, y) = (a.cast_to(d)?, b.cast_to(d)?);
    let within = x.sub(&y)?.abs()?.le(&y.abs()?.mul(rtol)?.add(atol)?)?;
    let close = within.logical_or(&x.eq(&y)?)?;
    close.all()?.item::<bool>()
}

impl EagerTensor {
    /// [`allclose`] of `self` and `other`.
    pub fn allclose(&self, other: &EagerTensor, rtol: f64, atol: f64) -> Result<bool> {
        allclose(self, other, rtol, atol)
    }
}

/// Joins tensors along an existing `axis` (dtypes promote).
pub fn concatenate<T: AsRef<EagerTensor>>(
    tensors: &[T],
    axis: impl crate::args::IntoAxis,
) -> Result<EagerTensor> {
    let axis = axis.into_axis();
    let refs: Vec<&EagerTensor> = tensors.iter().map(|t| t.as_ref()).collect();
    concat_refs("concatenate", &refs, axis)
}

/// Stacks tensors of one shape along a new `axis`.
pub fn stack<T: AsRef<EagerTensor>>(
    tensors: &[T],
    axis: impl crate::args::IntoAxis,
) -> Result<EagerTensor> {
    let axis = axis.into_axis();
    let op = "stack";
    let refs: Vec<&EagerTensor> = tensors.iter().map(|t| t.as_ref()).collect();
    let first = refs
        .first()
        .ok_or_else(|| Error::invalid(op, "needs at least one tensor"))?;
    let s0 = first.shape();
    if let Some(t) = refs.iter().find(|t| t.shape() != s0) {
        return Err(Error::shape(
            op,
            format!("all tensors need one shape, got {s0:?} and {:?}", t.shape()),
        ));
    }
    let ax = normalize_axis(op, axis, s0.len() + 1)?;
    let expanded = refs
        .iter()
        .map(|t| t.expand_dims(ax as isize))
        .collect::<Result<Vec<_>>>()?;
    concat_refs(op, &expanded.iter().collect::<Vec<_>>(), ax as isize)
}

impl AsRef<EagerTensor> for EagerTensor {
    fn as_ref(&self) -> &EagerTensor {
        self
    }
}

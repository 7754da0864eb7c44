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

    fn reduce_impl(
        &self,
        name: &'static str,
        op: Option<ReduceOp>,
        axes: Option<&[isize]>,
        keepdims: bool,
    ) -> Result<EagerTensor> {
        /// Every axis of a tensor of up to 16 dimensions, without allocating.
        const ALL_AXES: [usize; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
        let shape = self.shape_cow();
        let axes: Cow<[usize]> = match axes {
            Some(a) => Cow::Owned(normalize_axes(name, a, shape.len())?),
            None if shape.len() <= ALL_AXES.len() => Cow::Borrowed(&ALL_AXES[..shape.len()]),
            None => Cow::Owned((0..shape.len()).collect()),
        };
        let count: usize = axes.iter().map(|&a| shape[a]).product();
        let d = self.dtype();
        let out_dtype = match op {
            Some(ReduceOp::Sum | ReduceOp::Prod) => d.sum_dtype(),
            _ => d,
        };
        if count == 0 || out_dtype.size_of() > d.size_of() {
            // The only reductions whose result can be larger than their
            // input: over an empty axis (`[0, 2^40]` summed over axis 0 is
            // 2^40 zeros) or into a wider dtype.
            let out: Vec<usize> = (0..shape.len())
                .filter_map(|i| match axes.contains(&i) {
                    false => Some(shape[i]),
                    true => keepdims.then_some(1),
                })
                .collect();
            shape::check_size(name, &out, out_dtype)?;
        }
        match op {
            // Already the sum's dtype: no cast and no handle clone
            // (`dyn_reduce` checks the native dtype as `cast_to` would).
            Some(ReduceOp::Sum) | Some(ReduceOp::Prod) if d.sum_dtype() == d => {
                self.dyn_reduce(op.unwrap_or(ReduceOp::Sum), &axes, keepdims)
            }
            Some(ReduceOp::Sum) | Some(ReduceOp::Prod) => self.cast_to(d.sum_dtype())?.dyn_reduce(
                op.unwrap_or(ReduceOp::Sum),
                &axes,
                keepdims,
            ),
            Some(r @ (ReduceOp::Min | ReduceOp::Max)) => {
                if count == 0 {
                    return Err(Error::invalid(name, "zero-size reduction has no identity"));
                }
                self.dyn_reduce(r, &axes, keepdims)
            }
            Some(r @ (ReduceOp::All | ReduceOp::Any)) => {
                if d != DType::Bool {
                    return Err(Error::dtype(name, format!("needs a bool tensor, got {d}")));
                }
                self.dyn_reduce(r, &axes, keepdims)
            }
            Some(ReduceOp::Mean) | None => {
                if !d.is_float() {
                    return Err(Error::dtype(
                        name,
                        format!("needs a float tensor, got {d}; cast with astype first"),
                    ));
                }
                self.dyn_reduce(ReduceOp::Mean, &axes, keepdims)
            }
        }
    }

    fn arg_impl(
        &self,
        name: &'static str,
        op: ArgReduceOp,
        axis: Option<isize>,
    ) -> Result<EagerTensor> {
        let (t, axis) = match axis {
            None => (self.dyn_reshape(&[self.numel()])?, 0),
            Some(a) => (self.clone(), normalize_axis(name, a, self.ndim())?),
        };
        if t.shape()[axis] == 0 {
            return Err(Error::invalid(
                name,
                "attempt to get the arg of an empty sequence",
            ));
        }
        t.dyn_arg_reduce(op, axis)
    }

    /// True when every element is finite (no NaN, no ±inf).
    fn isfinite_all(&self) -> Result<bool> {
        if self.in_jit() {
            // No values inside jit: a non-finite matrix gives what the
            // elimination gives (NaN/inf), as in `jax.jit`.
            return Ok(true);
        }
        let bad = self.isnan()?.logical_or(&self.isinf()?)?;
        Ok(!bad.any()?.item::<bool>()?)
    }
    fn check_square(&self, op: &'static str) -> Result<EagerTensor> {
        let s = self.shape();
        if s.len() < 2 || s[s.len() - 1] != s[s.len() - 2] {
            return Err(Error::shape(
                op,
                format!("needs square matrices [..., n, n], got {s:?}"),
            ));
        }
        if self.dtype() == DType::Bool {
            return Err(Error::dtype(op, "not defined for bool tensors"));
        }
        self.cast_to(self.dtype().to_float())
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
    /// Matrix product with NumPy's rules: 1-D operands are promoted to
    /// matrices and the added axis removed again; batch axes broadcast.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let a = ep::astensor(ep::ndarray::arr2(&[[1.0f32, 2.0], [3.0, 4.0]]));
    /// let v = ep::astensor(ep::ndarray::arr1(&[1.0f32, -1.0]));
    /// assert_eq!(a.matmul(&a)?.to_vec::<f32>()?, vec![7.0, 10.0, 15.0, 22.0]);
    /// assert_eq!(ep::matmul(&a, &v)?.to_vec::<f32>()?, vec![-1.0, -1.0]); // shape [2]
    /// assert_eq!(a.matmul(&a.index(ep::s![0])?.reshape([1, 2])?).unwrap_err().op(), "matmul");
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn matmul(&self, rhs: &EagerTensor) -> Result<EagerTensor> {
        let op = "matmul";
        let (sa, sb) = (self.shape_cow(), rhs.shape_cow());
        if sa.is_empty() || sb.is_empty() {
            return Err(Error::shape(
                op,
                "0-d tensors cannot be matrix-multiplied; use mul",
            ));
        }
        if self.backend() != rhs.backend() {
            return Err(crate::tensor::mismatch(op, &[self, rhs]));
        }
        let dtype = self.dtype().promote(rhs.dtype());
        if dtype == DType::Bool {
            return Err(Error::dtype(op, "not defined for bool tensors"));
        }
        let plain_2d =
            sa.len() == 2 && sb.len() == 2 && self.dtype() == dtype && rhs.dtype() == dtype;
        if plain_2d {
            // The common case: no promotion, reshape or broadcast to do.
            if sa[1] != sb[0] {
                return Err(Error::shape(
                    op,
                    format!(
                        "shapes {sa:?} and {sb:?}: inner dimensions {} and {} differ",
                        sa[1], sb[0]
                    ),
                ));
            }
            shape::check_size(op, &[sa[0], sb[1]], dtype)?;
            return crate::prim::matmul(self, rhs);
        }
        let a2 = if sa.len() == 1 {
            vec![1, sa[0]]
        } else {
            sa.to_vec()
        };
        let b2 = if sb.len() == 1 {
            vec![sb[0], 1]
        } else {
            sb.to_vec()
        };
        let (m, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
        let (k2, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
        if k != k2 {
            return Err(Error::shape(
                op,
                format!("shapes {sa:?} and {sb:?}: inner dimensions {k} and {k2} differ"),
            ));
        }
        let batch = shape::broadcast_shapes(op, &a2[..a2.len() - 2], &b2[..b2.len() - 2])?;
        let with_batch = |r: usize, c: usize| {
            let mut s = batch.clone();
            s.extend([r, c]);
            s
        };
        let (fa, fb) = (with_batch(m, k), with_batch(k, n));
        for s in [&fa, &fb, &with_batch(m, n)] {
            shape::check_size(op, s, dtype)?;
        }
        let a = self.cast_to(dtype)?.reshape_exact(&a2)?;
        let b = rhs.cast_to(dtype)?.reshape_exact(&b2)?;
        let a = if a2 == fa {
            a
        } else {
            a.dyn_broadcast_to(&fa)?
        };
        let b = if b2 == fb {
            b
        } else {
            b.dyn_broadcast_to(&fb)?
        };
        let out = crate::prim::matmul(&a, &b)?;
        let mut out_shape = batch;
        if sa.len() > 1 {
            out_shape.push(m);
        }
        if sb.len() > 1 {
            out_shape.push(n);
        }
        if out_shape == out.shape() {
            Ok(out)
        } else {
            out.dyn_reshape(&out_shape)
        }
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
    /// Flat index of the minimum (first of ties; the first NaN if any).
    pub fn argmin(&self) -> Result<EagerTensor> {
        self.arg_impl("argmin", ArgReduceOp::ArgMin, None)
    }
    /// Flat index of the maximum (first of ties; the first NaN if any).
    pub fn argmax(&self) -> Result<EagerTensor> {
        self.arg_impl("argmax", ArgReduceOp::ArgMax, None)
    }
    /// Index of the minimum along `axis`.
    pub fn argmin_axis(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        self.arg_impl("argmin", ArgReduceOp::ArgMin, Some(axis))
    }
    /// Index of the maximum along `axis` (negative from the end), as `i64`.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let logits = ep::astensor(ep::ndarray::arr2(&[[0.1f32, 0.7, 0.2], [0.9, 0.0, 0.1]]));
    /// let pred = logits.argmax_axis(-1)?;
    /// assert_eq!((pred.dtype(), pred.to_vec::<i64>()?), (ep::DType::I64, vec![1, 0]));
    /// assert_eq!(ep::argmax_axis(&logits, 0)?.to_vec::<i64>()?, vec![1, 0, 0]);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn argmax_axis(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        self.arg_impl("argmax", ArgReduceOp::ArgMax, Some(axis))
    }
    /// Indices that sort along `axis` (stable; NaN last).
    pub fn argsort(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        let axis = normalize_axis("argsort", axis, self.ndim())?;
        self.dyn_argsort(axis, false)
    }
    /// Sorts along `axis` (stable; NaN last).
    pub fn sort(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        let axis = normalize_axis("sort", axis, self.ndim())?;
        self.dyn_sort(axis, false)
    }
    /// The `k` largest elements along the last axis and their indices,
    /// largest first; ties keep the lower index first; NaN counts as the
    /// largest. Results are always sorted, whatever `sorted` says.
    pub fn topk(&self, k: usize, sorted: bool) -> Result<(EagerTensor, EagerTensor)> {
        let _ = sorted;
        let op = "topk";
        let nd = self.ndim();
        if nd == 0 {
            return Err(Error::Axis {
                op,
                axis: -1,
                ndim: 0,
            });
        }
        let n = self.shape()[nd - 1];
        if k > n {
            return Err(Error::invalid(
                op,
                format!("k = {k} is larger than the last axis ({n})"),
            ));
        }
        let order = self.dyn_argsort(nd - 1, true)?;
        let mut ranges: Vec<_> = self
            .shape()
            .iter()
            .map(|&d| shape::SliceRange::full(d))
            .collect();
        ranges[nd - 1].len = k;
        let idx = order.dyn_slice(&ranges)?;
        let values = crate::prim::gather(op, self, nd - 1, &idx)?;
        Ok((values, idx))
    }
    /// Cumulative sum of the flattened tensor (bool/u8/i32 accumulate in i64).
    pub fn cumsum(&self) -> Result<EagerTensor> {
        self.dyn_reshape(&[self.numel()])?
            .cast_to(self.dtype().sum_dtype())?
            .dyn_cumsum(0)
    }
    /// Cumulative sum along `axis`.
    pub fn cumsum_axis(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        let axis = normalize_axis("cumsum", axis, self.ndim())?;
        self.cast_to(self.dtype().sum_dtype())?.dyn_cumsum(axis)
    }
    /// Softmax along `axis` (integers compute in f64).
    pub fn softmax(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        let x = self.cast_to(self.dtype().to_float())?;
        let e = x.sub(&x.max_axes([axis], true)?)?.exp()?;
        e.div(&e.sum_axes([axis], true)?)
    }
    /// Log-softmax along `axis`, computed stably.
    pub fn log_softmax(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        let x = self.cast_to(self.dtype().to_float())?;
        let shifted = x.sub(&x.max_axes([axis], true)?)?;
        shifted.sub(&shifted.exp()?.sum_axes([axis], true)?.log()?)
    }
    /// Per-row cross-entropy of 2-D logits `self` against 1-D integer
    /// `labels` (class indices): `-log_softmax(self)[i, labels[i]]`.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let logits = ep::astensor(ep::ndarray::arr2(&[[0.0f64, 0.0], [0.0, 3f64.ln()]]));
    /// let labels = ep::astensor(ep::ndarray::arr1(&[0i64, 1]));
    /// let ce = logits.crossentropy(&labels)?.to_vec::<f64>()?;
    /// assert!((ce[0] - 2f64.ln()).abs() < 1e-12); // -log(1/2)
    /// assert!((ce[1] - (4.0f64 / 3.0).ln()).abs() < 1e-12); // -log(3/4)
    /// assert_eq!(ep::crossentropy(&logits, &labels.index(ep::s![..1])?).unwrap_err().op(), "crossentropy");
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn crossentropy(&self, labels: &EagerTensor) -> Result<EagerTensor> {
        let op = "crossentropy";
        let (s, l) = (self.shape(), labels.shape());
        if s.len() != 2 || l.len() != 1 || s[0] != l[0] {
            return Err(Error::shape(
                op,
                format!("needs 2-D logits and 1-D labels of matching length, got {s:?} and {l:?}"),
            ));
        }
        let idx = labels.reshape([-1, 1])?;
        let picked = self.log_softmax(-1)?.take_along_axis_named(op, &idx, -1)?;
        picked.reshape([-1])?.neg()
    }
    /// Inverse of a square matrix or a batch of them (integers compute in
    /// f64); a singular matrix is an error.
    pub fn inv(&self) -> Result<EagerTensor> {
        let x = self.check_square("inv")?;
        if x.numel() == 0 {
            // No matrix, or 0×0 ones (each its own inverse): nothing to
            // compute, and no loop over a batch of empty matrices.
            return Ok(x);
        }
        // One rule where the frameworks' LU kernels disagree (NumPy calls a
        // matrix with NaN singular, PyTorch returns NaN, ...): a matrix with
        // NaN or ±inf is an `invalid` error, as a singular one is.
        if x.dtype().is_float() && x.numel() > 0 && !x.isfinite_all()? {
            return Err(Error::invalid(
                "inv",
                "the matrix has NaN or infinite entries (treated as singular)",
            ));
        }
        x.dyn_inv()
    }
    /// Sign and natural log of the absolute determinant (NumPy's `slogdet`).
    /// A matrix with NaN or ±inf gives NaN for both.
    pub fn slogdet(&self) -> Result<(EagerTensor, EagerTensor)> {
        let x = self.check_square("slogdet")?;
        let s = x.shape();
        let batch = &s[..s.len() - 2];
        shape::check_size("slogdet", batch, x.dtype())?;
        if x.numel() == 0 {
            // No matrix, or 0×0 ones, whose determinant is 1 (NumPy's
            // answer): sign 1, log 0, without a loop over the batch.
            let ones = crate::full(&x, batch.to_vec(), 1.0)?;
            return Ok((ones, crate::full(&x, batch.to_vec(), 0.0)?));
        }
        let (sign, logdet) = x.dyn_slogdet()?;
        if !x.dtype().is_float() {
            return Ok((sign, logdet));
        }
        // The frameworks disagree on a matrix with NaN or inf (NumPy: sign
        // -1 or 1, PyTorch: 0, TensorFlow: (0, -inf), ...); one rule here
        // for all.
        let bad = x
            .isnan()?
            .logical_or(&x.isinf()?)?
            .any_axes([-2, -1], false)?;
        Ok((
            bad.where_cond(f64::NAN, &sign)?,
            bad.where_cond(f64::NAN, &logdet)?,
        ))
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

//! EagerPy's module-level functions (`ep.clip(x, *bounds)`, `ep.minimum(1,
//! n)`, `ep.sum(x)`, ...) as free functions of `eager_tensor`, so ported
//! code reads as it did: `ep::clip(&x, 0.0, 1.0)`, `ep::minimum(1.0, &n)`.
//!
//! They are generated, not written twice: the element-wise, binary and
//! reduction functions from the same lists as the methods of
//! [`EagerTensor`] (in `ops.rs`), the others by `methods_and_fns!`, which
//! defines each such method and its function together. Each does exactly
//! what the method of the same name does. Binary functions
//! take a tensor or a scalar of any element type on **either** side (the
//! way to put an `f32` or `u8` scalar on the left, which Rust's operators
//! cannot do without breaking `2.0 * &x` inference).
//!
//! ```
//! use eager_tensor as ep;
//! let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![-0.5f32, 0.25, 2.0], &[3])?;
//! let y = ep::clip(&x, 0.0, 1.0)?;
//! assert_eq!(y.to_vec::<f32>()?, vec![0.0, 0.25, 1.0]);
//! let eps = 0.5f32;
//! assert_eq!(ep::sub(eps, &x)?.to_vec::<f32>()?, vec![1.0, 0.25, -1.5]);
//! assert_eq!(ep::minimum(1.0, &x)?.to_vec::<f32>()?, vec![-0.5, 0.25, 1.0]);
//! assert_eq!(ep::sum(&ep::abs(&x)?)?.item::<f32>()?, 2.75);
//! assert!(ep::istensor(&x) && !ep::istensor(&1.0));
//! # Ok::<(), ep::Error>(())
//! ```

use crate::args::{IntoAxes, IntoAxis};
use crate::ops::{binary_operands, binary_ops, reduce_ops, unary_ops};
use crate::{BinaryOp, EagerTensor, Native, Operand, Result};

macro_rules! unary_fns {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[doc = concat!("\n\n[`EagerTensor::", stringify!($name), "`] as a function.")]
        pub fn $name(x: &EagerTensor) -> Result<EagerTensor> {
            x.$name()
        }
    )*};
}
unary_ops!(unary_fns);

macro_rules! binary_fns {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[doc = concat!("\n\n[`EagerTensor::", stringify!($name), "`] as a function: a tensor or a scalar on either side.")]
        pub fn $name<'a, 'b>(
            a: impl Into<Operand<'a>>,
            b: impl Into<Operand<'b>>,
        ) -> Result<EagerTensor> {
            binary_operands(BinaryOp::$op, a.into(), b.into())
        }
    )*};
}
binary_ops!(binary_fns);

macro_rules! reduce_fns {
    ($($(#[$doc:meta])* $name:ident, $axes_name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[doc = concat!("\n\n[`EagerTensor::", stringify!($name), "`] as a function.")]
        pub fn $name(x: &EagerTensor) -> Result<EagerTensor> {
            x.$name()
        }
        #[doc = concat!("[`EagerTensor::", stringify!($axes_name), "`] as a function.")]
        pub fn $axes_name(x: &EagerTensor, axes: impl IntoAxes, keepdims: bool) -> Result<EagerTensor> {
            x.$axes_name(axes, keepdims)
        }
    )*};
}
reduce_ops!(reduce_fns);

/// Methods of [`EagerTensor`] that are EagerPy module-level functions too,
/// each written once: every `pub fn name(&self, args..) -> Result<T> {..}`
/// given becomes the method and, in a `fns` module of the invoking file
/// (re-exported at the crate root), the free function `name(x, args..)`
/// that calls it. `&self as cond` names the free function's first
/// argument (default `x`).
macro_rules! methods_and_fns {
    ($(
        $(#[$attr:meta])*
        pub fn $name:ident $(<$($lt:lifetime),*>)? (
            &$self:tt $(as $first:ident)? $(, $arg:ident: $ty:ty)* $(,)?
        ) -> Result<$out:ty> $body:block
    )*) => {
        impl EagerTensor {$(
            $(#[$attr])*
            pub fn $name $(<$($lt),*>)? (&$self $(, $arg: $ty)*) -> Result<$out> $body
        )*}

        /// The free-function forms of this file's methods.
        pub(crate) mod fns {
            #[allow(unused_imports)]
            use super::*;
            $($crate::free::methods_and_fns!(
                @free $name [$($($lt),*)?] [$($first)? x] [$($arg: $ty),*] $out
            );)*
        }
    };
    (@free $name:ident [$($lt:lifetime),*] [$first:ident $($default:ident)?] [$($arg:ident: $ty:ty),*] $out:ty) => {
        #[doc = concat!("[`EagerTensor::", stringify!($name), "`] as a function.")]
        pub fn $name<$($lt),*>($first: &EagerTensor $(, $arg: $ty)*) -> Result<$out> {
            $first.$name($($arg),*)
        }
    };
}
pub(crate) use methods_and_fns;

pub use crate::index::fns::*;
pub use crate::ops::fns::*;
pub use crate::ops::linalg::fns::*;
pub use crate::ops::nn::fns::*;
pub use crate::ops::reduce::fns::*;
pub use crate::shape_ops::fns::*;

/// `where(cond, x, y)`: [`where_cond`] under EagerPy's name (`where` is a
/// Rust keyword).
pub use crate::ops::fns::where_cond as where_;

/// Wraps several native tensors (EagerPy's `astensors(*xs)`).
///
/// ```
/// # use eager_tensor as ep;
/// let [a, b] = ep::astensors([ep::ndarray::arr1(&[1.0f32]), ep::ndarray::arr1(&[2.0f32])]);
/// assert_eq!(ep::add(&a, &b)?.item::<f32>()?, 3.0);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn astensors<T: Native, const N: usize>(xs: [T; N]) -> [EagerTensor; N] {
    xs.map(crate::astensor)
}

/// Whether `x` is an [`EagerTensor`] (EagerPy's `istensor`); a native
/// tensor or anything else is not.
pub fn istensor<T: 'static>(_x: &T) -> bool {
    std::any::TypeId::of::<T>() == std::any::TypeId::of::<EagerTensor>()
}

/// The Kullback–Leibler divergence KL(p ‖ q) of the distributions given by
/// two sets of logits, along `axis` (EagerPy's `kl_div_with_logits`):
/// `sum(softmax(p) * (log_softmax(p) - log_softmax(q)))`.
///
/// ```
/// # use eager_tensor as ep;
/// let p = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![0.0f64, 0.0], &[2])?;
/// let q = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![0.0f64, 3f64.ln()], &[2])?;
/// let kl = ep::kl_div_with_logits(&p, &q, -1, false)?.item::<f64>()?;
/// assert!((kl - 0.5 * (4.0f64 / 3.0).ln()).abs() < 1e-12);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn kl_div_with_logits(
    logits_p: &EagerTensor,
    logits_q: &EagerTensor,
    axis: impl IntoAxis,
    keepdims: bool,
) -> Result<EagerTensor> {
    let axis = axis.into_axis();
    let log_p = logits_p.log_softmax(axis)?;
    let log_q = logits_q.log_softmax(axis)?;
    log_p
        .exp()?
        .mul(&log_p.sub(&log_q)?)?
        .sum_axes(axis, keepdims)
}

/// This crate's version (EagerPy's `__version__`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

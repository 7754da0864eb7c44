//! Operands of binary operations (a tensor or a weak Rust scalar) and the
//! arithmetic operators.

use crate::{EagerTensor, Result, Scalar};
use std::ops::{Add, Div, Mul, Neg, Rem, Sub};

/// The right-hand side of a binary operation: another tensor of the same
/// backend, or a Rust scalar of any element type (`f64`, `f32`, `ep::f16`,
/// `ep::bf16`, `i64`, `u8`, `bool`, ...).
///
/// Scalars are *weak* (NumPy's NEP 50): `f32 tensor + 2.5 → f32`,
/// `i64 tensor + 2.5 → f64`, `i32 tensor + 7 → i32`.
#[derive(Debug, Clone, Copy)]
pub enum Operand<'a> {
    /// A tensor.
    Tensor(&'a EagerTensor),
    /// A scalar.
    Scalar(Scalar),
}

impl<'a> From<&'a EagerTensor> for Operand<'a> {
    fn from(t: &'a EagerTensor) -> Self {
        Operand::Tensor(t)
    }
}
impl From<Scalar> for Operand<'_> {
    fn from(s: Scalar) -> Self {
        Operand::Scalar(s)
    }
}
macro_rules! operand_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Operand<'_> {
            fn from(v: $t) -> Self {
                Operand::Scalar(Scalar::from(v))
            }
        }
    )*};
}
operand_from!(
    bool,
    u8,
    i8,
    i16,
    u16,
    i32,
    u32,
    i64,
    u64,
    f32,
    f64,
    crate::f16,
    crate::bf16
);

macro_rules! operator {
    ($Trait:ident, $method:ident, $variant:ident) => {
        impl<'a, R: Into<Operand<'a>>> $Trait<R> for &EagerTensor {
            type Output = Result<EagerTensor>;
            fn $method(self, rhs: R) -> Result<EagerTensor> {
                EagerTensor::$method(self, rhs)
            }
        }
        impl<'a, R: Into<Operand<'a>>> $Trait<R> for EagerTensor {
            type Output = Result<EagerTensor>;
            fn $method(self, rhs: R) -> Result<EagerTensor> {
                EagerTensor::$method(&self, rhs)
            }
        }
        impl $Trait<EagerTensor> for &EagerTensor {
            type Output = Result<EagerTensor>;
            fn $method(self, rhs: EagerTensor) -> Result<EagerTensor> {
                EagerTensor::$method(self, &rhs)
            }
        }
        impl $Trait<EagerTensor> for EagerTensor {
            type Output = Result<EagerTensor>;
            fn $method(self, rhs: EagerTensor) -> Result<EagerTensor> {
                EagerTensor::$method(&self, &rhs)
            }
        }
        // Scalars on the left: `f64` and `i64` only. With an impl for every
        // scalar type, a bare literal no longer infers where it matters
        // most: `(2.0 - &x)?` is "type annotations needed" (the `?` needs
        // the impl before Rust's literal fallback picks f64). For a typed
        // scalar of another type use the free function (`ep::sub(eps, &x)`,
        // any scalar type on either side) or widen it (`f64::from(eps) *
        // &x`: a weak scalar, the result keeps the tensor's dtype).
        operator!(@scalars $Trait, $method, $variant; i64, f64);
    };
    (@scalars $Trait:ident, $method:ident, $variant:ident; $($s:ty),*) => {$(
        impl $Trait<&EagerTensor> for $s {
            type Output = Result<EagerTensor>;
            fn $method(self, rhs: &EagerTensor) -> Result<EagerTensor> {
                crate::ops::binary_operands(crate::BinaryOp::$variant, Operand::from(self), Operand::Tensor(rhs))
            }
        }
        impl $Trait<EagerTensor> for $s {
            type Output = Result<EagerTensor>;
            fn $method(self, rhs: EagerTensor) -> Result<EagerTensor> {
                crate::ops::binary_operands(crate::BinaryOp::$variant, Operand::from(self), Operand::Tensor(&rhs))
            }
        }
    )*};
}

operator!(Add, add, Add);
operator!(Sub, sub, Sub);
operator!(Mul, mul, Mul);
operator!(Div, div, Div);
operator!(Rem, rem, Rem);

impl Neg for &EagerTensor {
    type Output = Result<EagerTensor>;
    fn neg(self) -> Result<EagerTensor> {
        EagerTensor::neg(self)
    }
}
impl Neg for EagerTensor {
    type Output = Result<EagerTensor>;
    fn neg(self) -> Result<EagerTensor> {
        EagerTensor::neg(&self)
    }
}

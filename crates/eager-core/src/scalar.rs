//! Scalars: operands and fill values, weak in promotion (NEP 50).

use crate::{DType, Element, Error, Result};
use half::{bf16, f16};
use std::fmt;

/// A Rust scalar used as an operand or a fill value.
///
/// As an operand it is *weak* (NumPy's NEP 50): it takes the tensor's dtype
/// unless its kind is higher (`f32 tensor + 2.5 → f32`, `i64 tensor + 2.5 → f64`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    /// A `bool`.
    Bool(bool),
    /// A `u8`.
    U8(u8),
    /// An `i8`.
    I8(i8),
    /// An `i16`.
    I16(i16),
    /// A `u16`.
    U16(u16),
    /// An `i32`.
    I32(i32),
    /// A `u32`.
    U32(u32),
    /// An `i64`.
    I64(i64),
    /// A `u64`.
    U64(u64),
    /// An `f16`.
    F16(f16),
    /// A `bf16`.
    BF16(bf16),
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
}

macro_rules! scalar_dispatch {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            Scalar::Bool($v) => $body,
            Scalar::U8($v) => $body,
            Scalar::I8($v) => $body,
            Scalar::I16($v) => $body,
            Scalar::U16($v) => $body,
            Scalar::I32($v) => $body,
            Scalar::U32($v) => $body,
            Scalar::I64($v) => $body,
            Scalar::U64($v) => $body,
            Scalar::F16($v) => $body,
            Scalar::BF16($v) => $body,
            Scalar::F32($v) => $body,
            Scalar::F64($v) => $body,
        }
    };
}

impl Scalar {
    /// The scalar's own dtype.
    pub fn dtype(self) -> DType {
        scalar_dispatch!(self, v => Element::dtype_of(&v))
    }
    /// The value as `f64` (rounded to nearest for integers beyond 2^53).
    pub fn to_f64(self) -> f64 {
        scalar_dispatch!(self, v => Element::to_f64(v))
    }
    /// The exact value if it is a bool or an integer.
    pub fn to_i128(self) -> Option<i128> {
        scalar_dispatch!(self, v => Element::to_i128(v))
    }
    /// The value as `i64` if it is a bool or an integer that fits.
    pub fn to_i64(self) -> Option<i64> {
        self.to_i128().and_then(|v| i64::try_from(v).ok())
    }

    /// Converts the value to `dtype`. Integers that do not fit the target
    /// integer type and floats that are not whole numbers (or NaN) going to
    /// an integer type are an error rather than silently wrapped; floats
    /// round to nearest (even) going to a narrower float.
    pub fn cast(self, op: &'static str, dtype: DType) -> Result<Scalar> {
        let out_of_range = || Error::invalid(op, format!("scalar {self} does not fit {dtype}"));
        let exact = match self.to_i128() {
            Some(v) => Some(v),
            None => {
                let v = self.to_f64();
                if dtype.is_float() {
                    return Ok(Scalar::from_f64(v, dtype));
                }
                if dtype == DType::Bool {
                    return Ok(Scalar::Bool(v != 0.0));
                }
                if v.is_finite() && v.fract() == 0.0 && v.abs() < 1.9e19 {
                    Some(v as i128)
                } else {
                    return Err(out_of_range());
                }
            }
        };
        let v = exact.unwrap_or_default();
        if dtype == DType::Bool {
            return Ok(Scalar::Bool(v != 0));
        }
        if dtype.is_float() {
            // One rounding to the 16-bit floats (i128 -> f64 -> f16 would
            // round twice); i128 -> f64 and -> f32 are Rust's single roundings.
            return Ok(match dtype {
                DType::F16 => Scalar::F16(crate::round::f16_from_i128(v)),
                DType::BF16 => Scalar::BF16(crate::round::bf16_from_i128(v)),
                DType::F32 => Scalar::F32(v as f32),
                _ => Scalar::F64(v as f64),
            });
        }
        let (min, max) = dtype.int_range().unwrap_or_default();
        if v < min || v > max {
            return Err(out_of_range());
        }
        Ok(match dtype {
            DType::U8 => Scalar::U8(v as u8),
            DType::I8 => Scalar::I8(v as i8),
            DType::I16 => Scalar::I16(v as i16),
            DType::U16 => Scalar::U16(v as u16),
            DType::I32 => Scalar::I32(v as i32),
            DType::U32 => Scalar::U32(v as u32),
            DType::I64 => Scalar::I64(v as i64),
            _ => Scalar::U64(v as u64),
        })
    }

    /// `v` rounded to the float dtype `dtype` (any other dtype gives `f64`).
    fn from_f64(v: f64, dtype: DType) -> Scalar {
        match dtype {
            DType::F16 => Scalar::F16(crate::round::f16_from_f64(v)),
            DType::BF16 => Scalar::BF16(crate::round::bf16_from_f64(v)),
            DType::F32 => Scalar::F32(v as f32),
            _ => Scalar::F64(v),
        }
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        scalar_dispatch!(self, v => fmt::Display::fmt(v, f))
    }
}

//! Element types and NumPy 2's promotion rules (JAX's for bf16).

use crate::{Error, HostData, Result, Scalar};
use std::fmt;
use std::str::FromStr;

pub use half::{bf16, f16};

/// The element type of a tensor.
///
/// ```
/// use eager_core::DType;
/// assert_eq!(DType::I32.promote(DType::F32), DType::F64); // as in NumPy 2
/// assert_eq!(DType::I8.promote(DType::F16), DType::F16);
/// assert_eq!(DType::BF16.promote(DType::F16), DType::F32); // as in JAX
/// assert_eq!("f32".parse::<DType>().unwrap(), DType::F32);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// `bool`
    Bool,
    /// `u8`
    U8,
    /// `i8`
    I8,
    /// `i16`
    I16,
    /// `u16`
    U16,
    /// `i32`
    I32,
    /// `u32`
    U32,
    /// `i64` (the default integer dtype)
    I64,
    /// `u64`
    U64,
    /// `f16`: IEEE half precision ([`half::f16`])
    F16,
    /// `bf16`: bfloat16 ([`half::bf16`]), not a NumPy dtype; promotes as in JAX
    BF16,
    /// `f32`
    F32,
    /// `f64` (the default float dtype, as in NumPy)
    F64,
}

/// The kind of a dtype, ordered as NumPy orders them: bool < integer < float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `bool`
    Bool,
    /// `u8`, `i8`, `i16`, `u16`, `i32`, `u32`, `i64`, `u64`
    Int,
    /// `f16`, `bf16`, `f32`, `f64`
    Float,
}

impl DType {
    /// All dtypes.
    pub const ALL: [DType; 13] = [
        DType::Bool,
        DType::U8,
        DType::I8,
        DType::I16,
        DType::U16,
        DType::I32,
        DType::U32,
        DType::I64,
        DType::U64,
        DType::F16,
        DType::BF16,
        DType::F32,
        DType::F64,
    ];

    /// The dtype's kind.
    pub fn kind(self) -> Kind {
        use DType::*;
        match self {
            Bool => Kind::Bool,
            U8 | I8 | I16 | U16 | I32 | U32 | I64 | U64 => Kind::Int,
            F16 | BF16 | F32 | F64 => Kind::Float,
        }
    }
    /// A float dtype.
    pub fn is_float(self) -> bool {
        self.kind() == Kind::Float
    }
    /// An integer dtype (signed or unsigned).
    pub fn is_int(self) -> bool {
        self.kind() == Kind::Int
    }
    /// An unsigned integer dtype.
    pub fn is_unsigned(self) -> bool {
        matches!(self, DType::U8 | DType::U16 | DType::U32 | DType::U64)
    }
    /// `f16` or `bf16`: the 16-bit floats, which most frameworks compute in
    /// `f32` and round.
    pub fn is_half(self) -> bool {
        matches!(self, DType::F16 | DType::BF16)
    }
    /// Size of one element in bytes.
    pub fn size_of(self) -> usize {
        use DType::*;
        match self {
            Bool | U8 | I8 => 1,
            I16 | U16 | F16 | BF16 => 2,
            I32 | U32 | F32 => 4,
            I64 | U64 | F64 => 8,
        }
    }
    /// The NumPy-style name (`bool`, `uint8`, `int32`, `bfloat16`, ...).
    pub fn numpy_name(self) -> &'static str {
        use DType::*;
        match self {
            Bool => "bool",
            U8 => "uint8",
            I8 => "int8",
            I16 => "int16",
            U16 => "uint16",
            I32 => "int32",
            U32 => "uint32",
            I64 => "int64",
            U64 => "uint64",
            F16 => "float16",
            BF16 => "bfloat16",
            F32 => "float32",
            F64 => "float64",
        }
    }

    /// The smallest and largest value of an integer or bool dtype.
    pub fn int_range(self) -> Option<(i128, i128)> {
        use DType::*;
        Some(match self {
            Bool => (0, 1),
            U8 => (0, u8::MAX as i128),
            I8 => (i8::MIN as i128, i8::MAX as i128),
            I16 => (i16::MIN as i128, i16::MAX as i128),
            U16 => (0, u16::MAX as i128),
            I32 => (i32::MIN as i128, i32::MAX as i128),
            U32 => (0, u32::MAX as i128),
            I64 => (i64::MIN as i128, i64::MAX as i128),
            U64 => (0, u64::MAX as i128),
            F16 | BF16 | F32 | F64 => return None,
        })
    }

    /// Whether every value of `self` converts to `to` exactly (NumPy's
    /// `can_cast(from, to, "safe")`, with bf16 by its 8-bit significand):
    /// bool to anything, an integer to an integer whose range contains it
    /// or to a float whose significand holds it (`i16 → f32`, `i32 → f64`,
    /// `u8 → bf16`), a float to a wider float (`f16`/`bf16 → f32`).
    ///
    /// ```
    /// use eager_core::DType;
    /// assert!(DType::F32.can_cast_losslessly(DType::F64));
    /// assert!(DType::I32.can_cast_losslessly(DType::F64));
    /// assert!(!DType::I32.can_cast_losslessly(DType::F32));
    /// assert!(!DType::F16.can_cast_losslessly(DType::BF16));
    /// ```
    pub fn can_cast_losslessly(self, to: DType) -> bool {
        use DType::*;
        // Significand digits of each float.
        let digits = |f: DType| match f {
            F16 => 11,
            BF16 => 8,
            F32 => 24,
            _ => 53,
        };
        if self == to || self == Bool {
            return true;
        }
        match (self.kind(), to.kind()) {
            (Kind::Int, Kind::Int) => {
                let ((a, b), (c, d)) = (
                    self.int_range().unwrap_or_default(),
                    to.int_range().unwrap_or_default(),
                );
                c <= a && b <= d
            }
            (Kind::Int, Kind::Float) => {
                let value_bits = 8 * self.size_of() - usize::from(!self.is_unsigned());
                value_bits <= digits(to)
            }
            (Kind::Float, Kind::Float) => {
                digits(self) <= digits(to) && to.size_of() > self.size_of()
            }
            _ => false,
        }
    }

    /// The dtype of a binary operation between tensors of dtypes `self` and
    /// `other`: NumPy 2's promotion table, and for `bf16` (not a NumPy
    /// dtype) JAX's lattice. The whole table is in docs/semantics.md and is
    /// checked against `numpy.result_type` / `jax.numpy.promote_types`.
    pub fn promote(self, other: DType) -> DType {
        use DType::*;
        if self == other {
            return self;
        }
        let (a, b) = (self, other);
        match (a.kind(), b.kind()) {
            (Kind::Bool, _) => b,
            (_, Kind::Bool) => a,
            (Kind::Float, Kind::Float) => match (a, b) {
                // JAX: bf16 and f16 meet in f32.
                (BF16, F16) | (F16, BF16) => F32,
                _ => {
                    if a.size_of() >= b.size_of() {
                        a
                    } else {
                        b
                    }
                }
            },
            (Kind::Int, Kind::Float) => b.promote_int_float(a),
            (Kind::Float, Kind::Int) => a.promote_int_float(b),
            (Kind::Int, Kind::Int) => {
                if a.is_unsigned() == b.is_unsigned() {
                    return if a.size_of() >= b.size_of() { a } else { b };
                }
                let (u, s) = if a.is_unsigned() { (a, b) } else { (b, a) };
                if s.size_of() > u.size_of() {
                    s
                } else {
                    match u {
                        U8 => I16,
                        U16 => I32,
                        U32 => I64,
                        _ => F64,
                    }
                }
            }
        }
    }

    /// `self` a float, `int` an integer: the float that holds both (NumPy:
    /// f16 holds 8-bit integers, f32 16-bit ones, f64 the rest; JAX: bf16
    /// with any integer stays bf16).
    fn promote_int_float(self, int: DType) -> DType {
        if self == DType::BF16 {
            return self;
        }
        let need = match int.size_of() {
            1 => DType::F16,
            2 => DType::F32,
            _ => DType::F64,
        };
        if need.size_of() > self.size_of() {
            need
        } else {
            self
        }
    }

    /// The dtype of a binary operation between a tensor of dtype `self` and a
    /// weak Rust scalar (NEP 50): the tensor's dtype unless the scalar's kind
    /// is higher, in which case the scalar's own type.
    pub fn promote_scalar(self, s: Scalar) -> DType {
        if s.dtype().kind() <= self.kind() {
            self
        } else {
            s.dtype()
        }
    }

    /// The default float dtype of a computation on this dtype: the dtype
    /// itself if it is a float, else `f64` (true division, `mean`, norms,
    /// `inv` and `softmax` of integers, as NumPy's `true_divide` and
    /// `linalg`).
    pub fn to_float(self) -> DType {
        if self.is_float() {
            self
        } else {
            DType::F64
        }
    }

    /// The dtype a float-only element-wise function (`sqrt`, `exp`, `sin`,
    /// ...) returns, as NumPy's ufuncs choose it: the smallest float that
    /// holds every value (`bool`, `u8`, `i8` → `f16`; `i16`, `u16` → `f32`;
    /// wider integers → `f64`); floats keep their dtype.
    pub fn unary_float(self) -> DType {
        use DType::*;
        match self {
            Bool | U8 | I8 => F16,
            I16 | U16 => F32,
            I32 | U32 | I64 | U64 => F64,
            f => f,
        }
    }

    /// How a float tensor of this dtype casts to the integer dtype `to` with
    /// saturation: clamp to `[lo, hi]`, cast (truncating), then put `to`'s
    /// maximum where the value was `>= above` (`hi` is the largest value of
    /// this float dtype below `above`, so the clamp itself never rounds up
    /// past the integer range, which made `inf → i32` give `i32::MIN` on
    /// frameworks whose casts are undefined out of range). NaN becomes 0
    /// separately. `None` unless `self` is `f32` or `f64` and `to` an
    /// integer: `f16`/`bf16` widen to `f32` first (exactly).
    ///
    /// ```
    /// use eager_core::DType;
    /// let (lo, hi, above) = DType::F32.saturating_cast_bounds(DType::I32).unwrap();
    /// assert_eq!((lo, above), (-2147483648.0, 2147483648.0));
    /// assert_eq!(hi, 2147483520.0); // the f32 just below 2^31
    /// ```
    pub fn saturating_cast_bounds(self, to: DType) -> Option<(f64, f64, f64)> {
        if !matches!(self, DType::F32 | DType::F64) || !to.is_int() {
            return None;
        }
        let (min, max) = to.int_range()?;
        let (lo, above) = (min as f64, (max + 1) as f64);
        let hi = match self {
            DType::F32 => f32::from_bits((above as f32).to_bits() - 1) as f64,
            _ => f64::from_bits(above.to_bits() - 1),
        };
        Some((lo, hi, above))
    }

    /// The largest value of an integer or bool dtype, as a [`Scalar`].
    pub fn max_scalar(self) -> Option<Scalar> {
        Some(match self {
            DType::Bool => Scalar::Bool(true),
            DType::U8 => Scalar::U8(u8::MAX),
            DType::I8 => Scalar::I8(i8::MAX),
            DType::I16 => Scalar::I16(i16::MAX),
            DType::U16 => Scalar::U16(u16::MAX),
            DType::I32 => Scalar::I32(i32::MAX),
            DType::U32 => Scalar::U32(u32::MAX),
            DType::I64 => Scalar::I64(i64::MAX),
            DType::U64 => Scalar::U64(u64::MAX),
            _ => return None,
        })
    }

    /// The dtype `sum`, `prod` and `cumsum` accumulate in (NumPy's rule):
    /// `bool` and signed integers narrower than 64 bits widen to `i64`,
    /// unsigned ones to `u64`; floats keep their dtype.
    pub fn sum_dtype(self) -> DType {
        use DType::*;
        match self {
            Bool | I8 | I16 | I32 => I64,
            U8 | U16 | U32 => U64,
            d => d,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DType::*;
        f.write_str(match self {
            Bool => "bool",
            U8 => "u8",
            I8 => "i8",
            I16 => "i16",
            U16 => "u16",
            I32 => "i32",
            U32 => "u32",
            I64 => "i64",
            U64 => "u64",
            F16 => "f16",
            BF16 => "bf16",
            F32 => "f32",
            F64 => "f64",
        })
    }
}

impl FromStr for DType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        DType::ALL
            .into_iter()
            .find(|d| d.to_string() == s || d.numpy_name() == s)
            .ok_or_else(|| Error::invalid("DType::from_str", format!("unknown dtype {s:?}")))
    }
}

/// A Rust element type that a tensor can hold: `bool`, `u8`, `i8`, `i16`,
/// `u16`, `i32`, `u32`, `i64`, `u64`, [`f16`](struct@f16), [`bf16`], `f32`, `f64`.
pub trait Element: Copy + Send + Sync + fmt::Debug + fmt::Display + PartialOrd + 'static {
    /// The matching [`DType`].
    const DTYPE: DType;
    /// Wraps a vector as [`HostData`] (no copy).
    fn into_host(v: Vec<Self>) -> HostData;
    /// Unwraps [`HostData`] of this dtype (no copy); `None` for another dtype.
    fn from_host(h: HostData) -> Option<Vec<Self>>;
    /// Borrows the elements of [`HostData`] of this dtype.
    fn host_slice(h: &HostData) -> Option<&[Self]>;
    /// Converts to a [`Scalar`].
    fn to_scalar(self) -> Scalar;
    /// The value as `f64` (exact but for 64-bit integers beyond 2^53).
    fn to_f64(self) -> f64;
    /// The exact value of a bool or an integer; `None` for floats.
    fn to_i128(self) -> Option<i128>;
    /// From `f64`: floats round to nearest, integers truncate and wrap,
    /// bool is `x != 0`. For building data, not a tensor cast.
    fn from_f64_lossy(v: f64) -> Self;
    /// The dtype of a value (for macros that only have a value).
    fn dtype_of(&self) -> DType {
        Self::DTYPE
    }
}

macro_rules! element {
    ($($t:ty => $v:ident, $to_f64:expr, $to_i128:expr, $from_f64:expr);* $(;)?) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$v;
            fn into_host(v: Vec<Self>) -> HostData {
                HostData::$v(v)
            }
            fn from_host(h: HostData) -> Option<Vec<Self>> {
                match h {
                    HostData::$v(v) => Some(v),
                    _ => None,
                }
            }
            fn host_slice(h: &HostData) -> Option<&[Self]> {
                match h {
                    HostData::$v(v) => Some(v),
                    _ => None,
                }
            }
            fn to_scalar(self) -> Scalar {
                Scalar::$v(self)
            }
            fn to_f64(self) -> f64 {
                let f: fn($t) -> f64 = $to_f64;
                f(self)
            }
            fn to_i128(self) -> Option<i128> {
                let f: fn($t) -> Option<i128> = $to_i128;
                f(self)
            }
            fn from_f64_lossy(v: f64) -> Self {
                let f: fn(f64) -> $t = $from_f64;
                f(v)
            }
        }
        impl From<$t> for Scalar {
            fn from(v: $t) -> Self {
                Scalar::$v(v)
            }
        }
    )*};
}
element!(
    bool => Bool, |x| x as u8 as f64, |x| Some(x as i128), |v| v != 0.0;
    u8 => U8, |x| x as f64, |x| Some(x as i128), |v| v as i128 as u8;
    i8 => I8, |x| x as f64, |x| Some(x as i128), |v| v as i128 as i8;
    i16 => I16, |x| x as f64, |x| Some(x as i128), |v| v as i128 as i16;
    u16 => U16, |x| x as f64, |x| Some(x as i128), |v| v as i128 as u16;
    i32 => I32, |x| x as f64, |x| Some(x as i128), |v| v as i128 as i32;
    u32 => U32, |x| x as f64, |x| Some(x as i128), |v| v as i128 as u32;
    i64 => I64, |x| x as f64, |x| Some(x as i128), |v| v as i128 as i64;
    u64 => U64, |x| x as f64, |x| Some(x as i128), |v| v as i128 as u64;
    f16 => F16, |x| x.to_f64(), |_| None, crate::round::f16_from_f64;
    bf16 => BF16, |x| x.to_f64(), |_| None, crate::round::bf16_from_f64;
    f32 => F32, |x| x as f64, |_| None, |v| v as f32;
    f64 => F64, |x| x, |_| None, |v| v;
);

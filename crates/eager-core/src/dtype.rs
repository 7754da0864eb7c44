//! Element types, scalars, host buffers and NumPy 2's promotion rules.

use crate::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// The element type of a tensor.
///
/// ```
/// use eager_core::DType;
/// assert_eq!(DType::I32.promote(DType::F32), DType::F64); // as in NumPy 2
/// assert_eq!("f32".parse::<DType>().unwrap(), DType::F32);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// `bool`
    Bool,
    /// `u8`
    U8,
    /// `i32`
    I32,
    /// `i64` (the default integer dtype)
    I64,
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
    /// `u8`, `i32`, `i64`
    Int,
    /// `f32`, `f64`
    Float,
}

impl DType {
    /// All dtypes.
    pub const ALL: [DType; 6] = [
        DType::Bool,
        DType::U8,
        DType::I32,
        DType::I64,
        DType::F32,
        DType::F64,
    ];

    /// The dtype's kind.
    pub fn kind(self) -> Kind {
        match self {
            DType::Bool => Kind::Bool,
            DType::U8 | DType::I32 | DType::I64 => Kind::Int,
            DType::F32 | DType::F64 => Kind::Float,
        }
    }
    /// `f32` or `f64`.
    pub fn is_float(self) -> bool {
        self.kind() == Kind::Float
    }
    /// `u8`, `i32` or `i64`.
    pub fn is_int(self) -> bool {
        self.kind() == Kind::Int
    }
    /// Size of one element in bytes.
    pub fn size_of(self) -> usize {
        match self {
            DType::Bool | DType::U8 => 1,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }
    /// The NumPy-style name (`bool`, `uint8`, `int32`, ...).
    pub fn numpy_name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "uint8",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// The dtype of a binary operation between tensors of dtypes `self` and
    /// `other`: NumPy 2's promotion table restricted to our dtypes
    /// (`u8+i32 → i32`, `i32+f32 → f64`, `u8+f32 → f32`, ...).
    pub fn promote(self, other: DType) -> DType {
        use DType::*;
        if self == other {
            return self;
        }
        let (a, b) = if self < other {
            (self, other)
        } else {
            (other, self)
        };
        match (a, b) {
            (Bool, x) => x,
            (U8, x) => x,
            (I32, I64) => I64,
            (I32, F32) | (I64, F32) => F64,
            (_, F64) => F64,
            (F32, _) | (I64, _) | (I32, _) | (F64, _) => b,
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

    /// The float dtype that float-only operations (sqrt, exp, true division,
    /// ...) compute in: the dtype itself if it is a float, else `f64`.
    pub fn to_float(self) -> DType {
        if self.is_float() {
            self
        } else {
            DType::F64
        }
    }

    /// How a float tensor of this dtype casts to the integer dtype `to` with
    /// saturation: clamp to `[lo, hi]`, cast (truncating), then put `to`'s
    /// maximum where the value was `>= above` (`hi` is the largest value of
    /// this float dtype below `above`, so the clamp itself never rounds up
    /// past the integer range, which made `inf → i32` give `i32::MIN` on
    /// frameworks whose casts are undefined out of range). NaN becomes 0
    /// separately. `None` unless `self` is a float and `to` an integer.
    ///
    /// ```
    /// use eager_core::DType;
    /// let (lo, hi, above) = DType::F32.saturating_cast_bounds(DType::I32).unwrap();
    /// assert_eq!((lo, above), (-2147483648.0, 2147483648.0));
    /// assert_eq!(hi, 2147483520.0); // the f32 just below 2^31
    /// ```
    pub fn saturating_cast_bounds(self, to: DType) -> Option<(f64, f64, f64)> {
        if !self.is_float() || !to.is_int() {
            return None;
        }
        let (lo, above): (f64, f64) = match to {
            DType::U8 => (0.0, 256.0),
            DType::I32 => (-2147483648.0, 2147483648.0),
            _ => (-9223372036854775808.0, 9223372036854775808.0),
        };
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
            DType::I32 => Scalar::I32(i32::MAX),
            DType::I64 => Scalar::I64(i64::MAX),
            DType::F32 | DType::F64 => return None,
        })
    }

    /// The dtype `sum`, `prod` and `cumsum` accumulate in: `bool`, `u8` and
    /// `i32` widen to `i64`.
    pub fn sum_dtype(self) -> DType {
        match self {
            DType::Bool | DType::U8 | DType::I32 => DType::I64,
            d => d,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::Bool => "bool",
            DType::U8 => "u8",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::F32 => "f32",
            DType::F64 => "f64",
        })
    }
}

impl FromStr for DType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "bool" => DType::Bool,
            "u8" | "uint8" => DType::U8,
            "i32" | "int32" => DType::I32,
            "i64" | "int64" => DType::I64,
            "f32" | "float32" => DType::F32,
            "f64" | "float64" => DType::F64,
            _ => {
                return Err(Error::invalid(
                    "DType::from_str",
                    format!("unknown dtype {s:?}"),
                ))
            }
        })
    }
}

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
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
}

impl Scalar {
    /// The scalar's own dtype.
    pub fn dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::U8(_) => DType::U8,
            Scalar::I32(_) => DType::I32,
            Scalar::I64(_) => DType::I64,
            Scalar::F32(_) => DType::F32,
            Scalar::F64(_) => DType::F64,
        }
    }
    /// The value as `f64` (exact for every value but i64 beyond 2^53).
    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::U8(v) => v as f64,
            Scalar::I32(v) => v as f64,
            Scalar::I64(v) => v as f64,
            Scalar::F32(v) => v as f64,
            Scalar::F64(v) => v,
        }
    }
    /// The value as `i64` if it is a bool or an integer.
    pub fn to_i64(self) -> Option<i64> {
        match self {
            Scalar::Bool(b) => Some(b as i64),
            Scalar::U8(v) => Some(v as i64),
            Scalar::I32(v) => Some(v as i64),
            Scalar::I64(v) => Some(v),
            Scalar::F32(_) | Scalar::F64(_) => None,
        }
    }

    /// Converts the value to `dtype`. Integers that do not fit the target
    /// integer type and floats that are not whole numbers (or NaN) going to
    /// an integer type are an error rather than silently wrapped.
    pub fn cast(self, op: &'static str, dtype: DType) -> Result<Scalar> {
        let out_of_range = || Error::invalid(op, format!("scalar {self} does not fit {dtype}"));
        let int = |v: i64| -> Result<Scalar> {
            Ok(match dtype {
                DType::Bool => Scalar::Bool(v != 0),
                DType::U8 => Scalar::U8(u8::try_from(v).map_err(|_| out_of_range())?),
                DType::I32 => Scalar::I32(i32::try_from(v).map_err(|_| out_of_range())?),
                DType::I64 => Scalar::I64(v),
                DType::F32 => Scalar::F32(v as f32),
                DType::F64 => Scalar::F64(v as f64),
            })
        };
        match self.to_i64() {
            Some(v) => int(v),
            None => {
                let v = self.to_f64();
                match dtype {
                    DType::F32 => Ok(Scalar::F32(v as f32)),
                    DType::F64 => Ok(Scalar::F64(v)),
                    DType::Bool => Ok(Scalar::Bool(v != 0.0)),
                    _ => {
                        if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.2e18 {
                            int(v as i64)
                        } else {
                            Err(out_of_range())
                        }
                    }
                }
            }
        }
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(v) => write!(f, "{v}"),
            Scalar::U8(v) => write!(f, "{v}"),
            Scalar::I32(v) => write!(f, "{v}"),
            Scalar::I64(v) => write!(f, "{v}"),
            Scalar::F32(v) => write!(f, "{v}"),
            Scalar::F64(v) => write!(f, "{v}"),
        }
    }
}

macro_rules! scalar_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for Scalar {
            fn from(v: $t) -> Self {
                Scalar::$v(v)
            }
        }
    )*};
}
scalar_from!(bool => Bool, u8 => U8, i32 => I32, i64 => I64, f32 => F32, f64 => F64);

/// A row-major host buffer of one dtype: what crosses between a backend and
/// the user (`to_vec`, `from_vec`) and between backends.
#[derive(Debug, Clone, PartialEq)]
pub enum HostData {
    /// `bool` elements.
    Bool(Vec<bool>),
    /// `u8` elements.
    U8(Vec<u8>),
    /// `i32` elements.
    I32(Vec<i32>),
    /// `i64` elements.
    I64(Vec<i64>),
    /// `f32` elements.
    F32(Vec<f32>),
    /// `f64` elements.
    F64(Vec<f64>),
}

impl HostData {
    /// The buffer's dtype.
    pub fn dtype(&self) -> DType {
        match self {
            HostData::Bool(_) => DType::Bool,
            HostData::U8(_) => DType::U8,
            HostData::I32(_) => DType::I32,
            HostData::I64(_) => DType::I64,
            HostData::F32(_) => DType::F32,
            HostData::F64(_) => DType::F64,
        }
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            HostData::Bool(v) => v.len(),
            HostData::U8(v) => v.len(),
            HostData::I32(v) => v.len(),
            HostData::I64(v) => v.len(),
            HostData::F32(v) => v.len(),
            HostData::F64(v) => v.len(),
        }
    }
    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `n` copies of `value` (converted to `dtype` with [`Scalar::cast`]).
    pub fn filled(op: &'static str, value: Scalar, dtype: DType, n: usize) -> Result<HostData> {
        Ok(match value.cast(op, dtype)? {
            Scalar::Bool(v) => HostData::Bool(vec![v; n]),
            Scalar::U8(v) => HostData::U8(vec![v; n]),
            Scalar::I32(v) => HostData::I32(vec![v; n]),
            Scalar::I64(v) => HostData::I64(vec![v; n]),
            Scalar::F32(v) => HostData::F32(vec![v; n]),
            Scalar::F64(v) => HostData::F64(vec![v; n]),
        })
    }
    /// The element at `i` as a [`Scalar`], if there is one.
    pub fn get(&self, i: usize) -> Option<Scalar> {
        Some(match self {
            HostData::Bool(v) => Scalar::Bool(*v.get(i)?),
            HostData::U8(v) => Scalar::U8(*v.get(i)?),
            HostData::I32(v) => Scalar::I32(*v.get(i)?),
            HostData::I64(v) => Scalar::I64(*v.get(i)?),
            HostData::F32(v) => Scalar::F32(*v.get(i)?),
            HostData::F64(v) => Scalar::F64(*v.get(i)?),
        })
    }
}

/// A Rust element type that a tensor can hold: `bool`, `u8`, `i32`, `i64`,
/// `f32`, `f64`.
pub trait Element: Copy + Send + Sync + fmt::Debug + PartialOrd + 'static {
    /// The matching [`DType`].
    const DTYPE: DType;
    /// Wraps a vector as [`HostData`] (no copy).
    fn into_host(v: Vec<Self>) -> HostData;
    /// Unwraps [`HostData`] of this dtype (no copy); `None` for another dtype.
    fn from_host(h: HostData) -> Option<Vec<Self>>;
    /// Converts to a [`Scalar`].
    fn to_scalar(self) -> Scalar;
}

macro_rules! element {
    ($($t:ty => $v:ident),*) => {$(
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
            fn to_scalar(self) -> Scalar {
                Scalar::$v(self)
            }
        }
    )*};
}
element!(bool => Bool, u8 => U8, i32 => I32, i64 => I64, f32 => F32, f64 => F64);

/// The frameworks eager-tensor can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `ndarray`: pure Rust, NumPy's role. The default.
    NdArray,
    /// `torch`: PyTorch through tch / libtorch.
    Torch,
    /// `tensorflow`: TensorFlow's eager C API.
    TensorFlow,
    /// `xla`: XLA through the PJRT C API (JAX's compiler).
    Xla,
}

impl Backend {
    /// Every backend, compiled in or not.
    pub const ALL: [Backend; 4] = [
        Backend::NdArray,
        Backend::Torch,
        Backend::TensorFlow,
        Backend::Xla,
    ];

    /// The backends compiled into this build (by cargo features).
    ///
    /// ```
    /// # use eager_core::Backend;
    /// # #[cfg(feature = "ndarray")]
    /// assert!(Backend::enabled().contains(&Backend::NdArray));
    /// ```
    pub fn enabled() -> Vec<Backend> {
        Backend::ALL
            .into_iter()
            .filter(|b| b.is_enabled())
            .collect()
    }

    /// Whether this backend is compiled in.
    pub fn is_enabled(self) -> bool {
        match self {
            Backend::NdArray => cfg!(feature = "ndarray"),
            Backend::Torch => cfg!(feature = "torch"),
            Backend::TensorFlow => cfg!(feature = "tensorflow"),
            Backend::Xla => cfg!(feature = "xla"),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::NdArray => "ndarray",
            Backend::Torch => "torch",
            Backend::TensorFlow => "tensorflow",
            Backend::Xla => "xla",
        })
    }
}

impl FromStr for Backend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "ndarray" | "numpy" => Backend::NdArray,
            "torch" | "pytorch" => Backend::Torch,
            "tensorflow" | "tf" => Backend::TensorFlow,
            "xla" | "jax" => Backend::Xla,
            _ => {
                return Err(Error::invalid(
                    "Backend::from_str",
                    format!("unknown backend {s:?}"),
                ))
            }
        })
    }
}

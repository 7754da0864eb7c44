//! Per-element arithmetic with eager-tensor's semantics (NumPy's): integer
//! arithmetic wraps, `//` floors, `%` takes the divisor's sign, integer
//! division by zero gives 0, `round` is half to even, NaN propagates through
//! `minimum`/`maximum` and sorts last.

use eager_core::{bf16, f16, Element};
use std::cmp::Ordering;

/// An element type with conversions used by casts.
pub trait Elem: Element + Default {
    /// Whether this is a float type.
    const FLOAT: bool;
    /// Value as i128 (integers exactly; floats truncate, NaN gives 0).
    fn to_int(self) -> i128;
    /// Non-zero test (NaN is true, as in NumPy).
    fn to_bool(self) -> bool;
    /// From f64 (floats round to nearest; ints truncate toward zero,
    /// saturating, NaN gives 0).
    fn from_f64(v: f64) -> Self;
    /// From i128 (integers wrap, as NumPy's casts do; floats round).
    fn from_int(v: i128) -> Self;
    /// Total order with NaN as the largest value, NaNs equal.
    fn total(&self, other: &Self) -> Ordering;
    /// Converts from another element type with NumPy's `astype` rules.
    fn cast_from<S: Elem>(s: S) -> Self {
        if S::FLOAT {
            Self::from_f64(s.to_f64())
        } else {
            Self::from_int(s.to_int())
        }
    }
}

impl Elem for bool {
    const FLOAT: bool = false;
    fn to_int(self) -> i128 {
        self as i128
    }
    fn to_bool(self) -> bool {
        self
    }
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    fn from_int(v: i128) -> Self {
        v != 0
    }
    fn total(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
    fn cast_from<S: Elem>(s: S) -> Self {
        s.to_bool()
    }
}

/// Numeric element types (everything but `bool`).
pub trait Num: Elem {
    /// 0
    const ZERO: Self;
    /// 1
    const ONE: Self;
    /// |x| (wrapping for the most negative integer)
    fn abs_(self) -> Self;
    /// -x (wrapping)
    fn neg_(self) -> Self;
    /// -1, 0 or 1 (NaN stays NaN)
    fn sign_(self) -> Self;
    /// x + y (wrapping for integers)
    fn add_(self, o: Self) -> Self;
    /// x - y (wrapping for integers)
    fn sub_(self, o: Self) -> Self;
    /// x * y (wrapping for integers)
    fn mul_(self, o: Self) -> Self;
    /// x / y (integers: truncating, 0 on division by zero)
    fn div_(self, o: Self) -> Self;
    /// floor(x / y)
    fn floordiv_(self, o: Self) -> Self;
    /// x mod y with the sign of y
    fn rem_(self, o: Self) -> Self;
    /// x ** y (integers: y is non-negative, wrapping)
    fn pow_(self, o: Self) -> Self;
    /// Half to even for floats, identity for integers.
    fn round_(self) -> Self;
    /// Ceiling (identity for integers).
    fn ceil_(self) -> Self;
    /// Floor (identity for integers).
    fn floor_(self) -> Self;
    /// NaN test.
    fn isnan_(self) -> bool;
    /// Infinity test.
    fn isinf_(self) -> bool;
    /// Minimum propagating NaN; of two equal values (`0.0` and `-0.0`)
    /// the second, as NumPy's `minimum`.
    fn min_(self, o: Self) -> Self {
        if self.isnan_() || o.isnan_() {
            if self.isnan_() {
                self
            } else {
                o
            }
        } else if self < o {
            self
        } else {
            o
        }
    }
    /// Maximum propagating NaN; of two equal values the second, as
    /// NumPy's `maximum`.
    fn max_(self, o: Self) -> Self {
        if self.isnan_() || o.isnan_() {
            if self.isnan_() {
                self
            } else {
                o
            }
        } else if self > o {
            self
        } else {
            o
        }
    }
}

macro_rules! int_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            const FLOAT: bool = false;
            fn to_int(self) -> i128 { self as i128 }
            fn to_bool(self) -> bool { self != 0 }
            fn from_f64(v: f64) -> Self { v as $t }
            fn from_int(v: i128) -> Self { v as $t }
            fn total(&self, other: &Self) -> Ordering { self.cmp(other) }
        }
        impl Num for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            #[allow(unused_comparisons)]
            fn abs_(self) -> Self { if self < 0 { (0 as $t).wrapping_sub(self) } else { self } }
            fn neg_(self) -> Self { (0 as $t).wrapping_sub(self) }
            #[allow(unused_comparisons)]
            fn sign_(self) -> Self { if self > 0 { 1 } else if self < 0 { (0 as $t).wrapping_sub(1) } else { 0 } }
            fn add_(self, o: Self) -> Self { self.wrapping_add(o) }
            fn sub_(self, o: Self) -> Self { self.wrapping_sub(o) }
            fn mul_(self, o: Self) -> Self { self.wrapping_mul(o) }
            fn div_(self, o: Self) -> Self { if o == 0 { 0 } else { self.wrapping_div(o) } }
            #[allow(unused_comparisons)]
            fn floordiv_(self, o: Self) -> Self {
                if o == 0 { return 0; }
                let q = self.wrapping_div(o);
                let r = self.wrapping_rem(o);
                if r != 0 && ((r < 0) != (o < 0)) { q.wrapping_sub(1) } else { q }
            }
            #[allow(unused_comparisons)]
            fn rem_(self, o: Self) -> Self {
                if o == 0 { return 0; }
                let r = self.wrapping_rem(o);
                if r != 0 && ((r < 0) != (o < 0)) { r.wrapping_add(o) } else { r }
            }
            fn pow_(self, o: Self) -> Self {
                let mut e = o as u64;
                let mut base = self;
                let mut acc: $t = 1;
                while e > 0 {
                    if e & 1 == 1 { acc = acc.wrapping_mul(base); }
                    base = base.wrapping_mul(base);
                    e >>= 1;
                }
                acc
            }
            fn round_(self) -> Self { self }
            fn ceil_(self) -> Self { self }
            fn floor_(self) -> Self { self }
            fn isnan_(self) -> bool { false }
            fn isinf_(self) -> bool { false }
        }
    )*};
}
int_elem!(u8, i8, i16, u16, i32, u32, i64, u64);

/// Float element types.
pub trait Flt: Num + num_traits::Float + eager_core::sum::Summand {
    /// Round half to even.
    fn round_even(self) -> Self;
}

macro_rules! float_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            const FLOAT: bool = true;
            fn to_int(self) -> i128 { self as i128 }
            fn to_bool(self) -> bool { self != 0.0 }
            fn from_f64(v: f64) -> Self { v as $t }
            fn from_int(v: i128) -> Self { v as $t }
            fn total(&self, other: &Self) -> Ordering {
                match (self.is_nan(), other.is_nan()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    // -0.0 and 0.0 compare equal, which keeps the sort stable as NumPy's.
                    (false, false) => self.partial_cmp(other).unwrap_or(Ordering::Equal),
                }
            }
        }
        impl Num for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn abs_(self) -> Self { self.abs() }
            fn neg_(self) -> Self { -self }
            fn sign_(self) -> Self { if self > 0.0 { 1.0 } else if self < 0.0 { -1.0 } else if self.is_nan() { self } else { 0.0 } }
            fn add_(self, o: Self) -> Self { self + o }
            fn sub_(self, o: Self) -> Self { self - o }
            fn mul_(self, o: Self) -> Self { self * o }
            fn div_(self, o: Self) -> Self { self / o }
            // NumPy's npy_divmod: floor division consistent with `%`.
            fn floordiv_(self, o: Self) -> Self {
                if o == 0.0 { return self / o; }
                let m = self % o;
                let mut div = (self - m) / o;
                if m != 0.0 && ((o < 0.0) != (m < 0.0)) { div -= 1.0; }
                if div != 0.0 {
                    let f = div.floor();
                    if div - f > 0.5 { f + 1.0 } else { f }
                } else {
                    (0.0 as $t).copysign(self / o)
                }
            }
            fn rem_(self, o: Self) -> Self {
                if o == 0.0 { return self % o; }
                let m = self % o;
                if m != 0.0 {
                    if (o < 0.0) != (m < 0.0) { m + o } else { m }
                } else {
                    (0.0 as $t).copysign(o)
                }
            }
            fn pow_(self, o: Self) -> Self { self.powf(o) }
            fn round_(self) -> Self { self.round_ties_even() }
            fn ceil_(self) -> Self { self.ceil() }
            fn floor_(self) -> Self { self.floor() }
            fn isnan_(self) -> bool { self.is_nan() }
            fn isinf_(self) -> bool { self.is_infinite() }
        }
        impl Flt for $t {
            fn round_even(self) -> Self { self.round_ties_even() }
        }
    )*};
}
float_elem!(f32, f64);

/// Integers to the 16-bit floats, rounded once (`eager_core::round`).
trait FromI128Rounded {
    fn from_i128_rounded(v: i128) -> Self;
}
impl FromI128Rounded for f16 {
    fn from_i128_rounded(v: i128) -> Self {
        eager_core::round::f16_from_i128(v)
    }
}
impl FromI128Rounded for bf16 {
    fn from_i128_rounded(v: i128) -> Self {
        eager_core::round::bf16_from_i128(v)
    }
}

/// The 16-bit floats: every operation computes in `f32` and rounds the
/// result once, as NumPy's `float16` loops, PyTorch and XLA do (f32 has
/// more than twice the precision, so one `+ - * /` rounded from f32 is the
/// correctly rounded 16-bit result).
macro_rules! half_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            const FLOAT: bool = true;
            fn to_int(self) -> i128 { self.to_f32() as i128 }
            fn to_bool(self) -> bool { self.to_f32() != 0.0 }
            fn from_f64(v: f64) -> Self { Self::from_f64_lossy(v) }
            fn from_int(v: i128) -> Self { <$t>::from_i128_rounded(v) }
            fn total(&self, other: &Self) -> Ordering { self.to_f32().total(&other.to_f32()) }
        }
        impl Num for $t {
            const ZERO: Self = <$t>::ZERO;
            const ONE: Self = <$t>::ONE;
            fn abs_(self) -> Self { Self::from_f32(self.to_f32().abs()) }
            fn neg_(self) -> Self { -self }
            fn sign_(self) -> Self { Self::from_f32(self.to_f32().sign_()) }
            fn add_(self, o: Self) -> Self { Self::from_f32(self.to_f32() + o.to_f32()) }
            fn sub_(self, o: Self) -> Self { Self::from_f32(self.to_f32() - o.to_f32()) }
            fn mul_(self, o: Self) -> Self { Self::from_f32(self.to_f32() * o.to_f32()) }
            fn div_(self, o: Self) -> Self { Self::from_f32(self.to_f32() / o.to_f32()) }
            fn floordiv_(self, o: Self) -> Self { Self::from_f32(self.to_f32().floordiv_(o.to_f32())) }
            fn rem_(self, o: Self) -> Self { Self::from_f32(self.to_f32().rem_(o.to_f32())) }
            fn pow_(self, o: Self) -> Self { Self::from_f32(self.to_f32().powf(o.to_f32())) }
            fn round_(self) -> Self { Self::from_f32(self.to_f32().round_ties_even()) }
            fn ceil_(self) -> Self { Self::from_f32(self.to_f32().ceil()) }
            fn floor_(self) -> Self { Self::from_f32(self.to_f32().floor()) }
            fn isnan_(self) -> bool { self.is_nan() }
            fn isinf_(self) -> bool { self.is_infinite() }
        }
        impl Flt for $t {
            fn round_even(self) -> Self { self.round_() }
        }
    )*};
}
half_elem!(f16, bf16);

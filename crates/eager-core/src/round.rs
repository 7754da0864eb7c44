//! Conversions to the 16-bit floats from `f64` and from integers, with the
//! reference libraries' rounding.
//!
//! - **f16** follows NumPy: one rounding to nearest even, from `f64` and
//!   from integers alike.
//! - **bf16** follows `ml_dtypes` and JAX (bf16 is not a NumPy dtype): from
//!   `f64` and from integers through `f32`, each step rounded to nearest
//!   even (so twice: `1 + 3·2^-8 - 2^-30` becomes the tie `1 + 3·2^-8` in
//!   f32, then `1 + 2^-6`). PyTorch and TensorFlow do the same.
//!
//! `half`'s `f16::from_f64` and `bf16::from_f64` do neither: they drop the
//! low 32 bits of the `f64` before rounding (a value just above a tie then
//! rounds as the tie: `1 + 2^-11 + 2^-30` becomes `1.0` in f16, NumPy says
//! `1.0009765625`). The f16 conversions here go through `f32` **rounded to
//! odd** instead: the `f32` is the truncated value with its last bit set
//! when anything was dropped, which keeps the information "above or below
//! the tie" that the final round-to-nearest-even needs. With `f32`'s 24
//! bits, at least two more than f16's 11, that second rounding is the
//! correct single rounding (Boldo and Melquiond, "When double rounding is
//! odd", 2005). Integers go to `f64` rounded to odd first, for the same
//! reason.

use half::{bf16, f16};

/// `v` rounded to `f32` with round-to-odd: exact values are kept; an
/// inexact one becomes whichever neighbouring `f32` has an odd last bit
/// (infinity is never the answer for a finite `v`: beyond `f32::MAX` gives
/// `f32::MAX`, whose last bit is odd).
fn f32_round_to_odd(v: f64) -> f32 {
    let r = v as f32;
    if v.is_nan() || r as f64 == v || r.to_bits() & 1 == 1 {
        return r;
    }
    // `r` is even and inexact: its neighbour towards `v` is odd.
    let bits = r.to_bits();
    let away = (r as f64).abs() > v.abs();
    f32::from_bits(if away { bits - 1 } else { bits + 1 })
}

/// `v` rounded to `f64` with round-to-odd (see [`f32_round_to_odd`]).
fn f64_round_to_odd(v: i128) -> f64 {
    let r = v as f64;
    // Only `2^127` (from values near `i128::MAX`) does not convert back.
    let (exact, away) = if r >= 2f64.powi(127) {
        (false, true)
    } else {
        let back = r as i128;
        (back == v, back.unsigned_abs() > v.unsigned_abs())
    };
    if exact || r.to_bits() & 1 == 1 {
        return r;
    }
    let bits = r.to_bits();
    f64::from_bits(if away { bits - 1 } else { bits + 1 })
}

/// `v` rounded once to the nearest `f16` (ties to even; overflow to
/// infinity; subnormals kept).
pub fn f16_from_f64(v: f64) -> f16 {
    f16::from_f32(f32_round_to_odd(v))
}

/// `v` rounded to `bf16` as `ml_dtypes` and JAX do: to the nearest `f32`,
/// then to the nearest `bf16` (ties to even both times; overflow to
/// infinity; subnormals kept).
pub fn bf16_from_f64(v: f64) -> bf16 {
    bf16::from_f32(v as f32)
}

/// The integer `v` rounded once to the nearest `f16`.
pub fn f16_from_i128(v: i128) -> f16 {
    f16_from_f64(f64_round_to_odd(v))
}

/// The integer `v` rounded to `bf16` as `ml_dtypes` and JAX do: to the
/// nearest `f32`, then to the nearest `bf16`.
pub fn bf16_from_i128(v: i128) -> bf16 {
    bf16::from_f32(v as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_and_just_above_ties() {
        let t = 2f64.powi(-11);
        assert_eq!(f16_from_f64(1.0 + t).to_f64(), 1.0);
        assert_eq!(
            f16_from_f64(1.0 + t + 2f64.powi(-30)).to_f64(),
            1.0 + 2.0 * t
        );
        assert_eq!(
            f16_from_f64(-(1.0 + t + 2f64.powi(-50))).to_f64(),
            -(1.0 + 2.0 * t)
        );
        assert_eq!(f16_from_f64(1.0 + 3.0 * t).to_f64(), 1.0 + 4.0 * t);
        assert_eq!(
            f16_from_f64(1.0 + 3.0 * t - 2f64.powi(-40)).to_f64(),
            1.0 + 2.0 * t
        );
        let b = 2f64.powi(-8);
        assert_eq!(bf16_from_f64(1.0 + b).to_f64(), 1.0);
        assert_eq!(
            bf16_from_f64(1.0 + b + 2f64.powi(-23)).to_f64(),
            1.0 + 2.0 * b
        );
        assert_eq!(bf16_from_f64(1.0 + 3.0 * b).to_f64(), 1.0 + 4.0 * b);
        // bf16 rounds through f32 (ml_dtypes, JAX): below the f32 ulp, a
        // hair off the tie is the tie; `half`'s `from_f64` truncates instead.
        assert_eq!(bf16_from_f64(1.0 + b + 2f64.powi(-45)).to_f64(), 1.0);
        let below = 1.0 + 3.0 * b - 2f64.powi(-30);
        assert_eq!(bf16_from_f64(below).to_f64(), 1.0 + 4.0 * b);
        assert_eq!(bf16::from_f64(below).to_f64(), 1.0 + 2.0 * b);
    }

    #[test]
    fn specials_overflow_and_subnormals() {
        assert!(f16_from_f64(f64::NAN).is_nan());
        assert!(bf16_from_f64(f64::NAN).is_nan());
        assert_eq!(f16_from_f64(f64::INFINITY), f16::INFINITY);
        assert_eq!(f16_from_f64(1e300), f16::INFINITY);
        assert_eq!(bf16_from_f64(-1e300), bf16::NEG_INFINITY);
        assert_eq!(f16_from_f64(65519.99).to_f64(), 65504.0);
        assert_eq!(f16_from_f64(65520.0), f16::INFINITY);
        assert_eq!(f16_from_f64(-0.0).to_bits(), 0x8000);
        assert_eq!(f16_from_f64(-1e-300).to_bits(), 0x8000);
        // Subnormal f16: 2^-25 is the tie between 0 and 2^-24.
        assert_eq!(f16_from_f64(2f64.powi(-25)).to_bits(), 0);
        assert_eq!(f16_from_f64(2f64.powi(-25) + 2f64.powi(-60)).to_bits(), 1);
        assert_eq!(f16_from_f64(3.0 * 2f64.powi(-25)).to_bits(), 2);
        // Subnormal bf16 (f32's range).
        assert_eq!(bf16_from_f64(2f64.powi(-134)).to_bits(), 0);
        assert_eq!(bf16_from_f64(3.0 * 2f64.powi(-134)).to_bits(), 2);
    }

    #[test]
    fn integers_round_once() {
        // bf16 through f32 (ml_dtypes, JAX): 2^24 + 2^16 + 1 is the tie
        // 2^24 + 2^16 in f32, then 2^24.
        let v = (1i128 << 24) + (1 << 16) + 1;
        assert_eq!(bf16_from_i128(v).to_f64(), 2f64.powi(24));
        assert_eq!(bf16_from_i128(-v).to_f64(), -(2f64.powi(24)));
        assert_eq!(
            bf16_from_i128(v + 1).to_f64(),
            2f64.powi(24) + 2f64.powi(17)
        );
        // f16 once: 2^53 + 1 rounds to 2^53 in f64, and to inf anyway; a
        // small tie goes to even.
        assert_eq!(f16_from_i128(2049).to_f64(), 2048.0);
        assert_eq!(
            f64_round_to_odd((1 << 60) + (1 << 52) + 1),
            2f64.powi(60) + 2f64.powi(52) + 2f64.powi(8)
        );
        assert_eq!(f64_round_to_odd(i128::MIN), -(2f64.powi(127)));
        assert_eq!(f16_from_i128(2051).to_f64(), 2052.0);
        assert_eq!(f16_from_i128(65520), f16::INFINITY);
        assert_eq!(f16_from_i128(u64::MAX as i128), f16::INFINITY);
        assert_eq!(bf16_from_i128(i128::MAX).to_f64(), 2f64.powi(127));
        assert_eq!(bf16_from_i128(i128::MIN).to_f64(), -(2f64.powi(127)));
        assert_eq!(bf16_from_i128(0).to_bits(), 0);
    }
}

//! `u16`, `u32` and `u64` on libtorch, which tch has no kinds for.
//!
//! Their values live in a signed libtorch tensor: `u16` in `i32` and `u32`
//! in `i64` exactly (so order, division and casts need nothing special, and
//! wrapping arithmetic is masked back into range), `u64` in `i64` bit for
//! bit (so `+ - *`, sums and products are already right modulo 2^64, and
//! order, division and casts to floats are computed as unsigned here).

use crate::{fw, kind, scalar_call, TorchTensor};
use eager_core::ops::prelude::*;
use eager_core::{BinaryOp, DType, Error, Result, UnaryOp};
use tch::{Kind, Tensor};

/// The bits of `i64::MIN`: flipping them maps unsigned order onto signed.
const SIGN: i64 = i64::MIN;

/// Masks a wrapping result of an op on `like`'s dtype back into range and
/// tags it (untagged tensors pass through).
pub(crate) fn wrap(like: &TorchTensor, t: Tensor) -> Result<TorchTensor> {
    let Some(d) = like.unsigned else {
        return Ok(TorchTensor::new(t, None));
    };
    Ok(TorchTensor::new(mask(t, d)?, Some(d)))
}

fn mask(t: Tensor, d: DType) -> Result<Tensor> {
    let e = fw("unsigned");
    Ok(match d {
        DType::U16 => t.f_bitwise_and(0xFFFF).map_err(e)?,
        DType::U32 => t.f_bitwise_and(0xFFFF_FFFF_i64).map_err(e)?,
        _ => t,
    })
}

/// The `u64` tensor with its sign bit flipped, as a plain `i64` tensor:
/// ordered as the unsigned values are.
pub(crate) fn order_key(t: &TorchTensor) -> Result<TorchTensor> {
    Ok(TorchTensor::new(flip(&t.tensor)?, None))
}

fn flip(t: &Tensor) -> Result<Tensor> {
    scalar_call("unsigned", || t.f_bitwise_xor(SIGN))
}

/// `f` on the order keys of a `u64` tensor, its result mapped back to `u64`.
pub(crate) fn ordered(
    t: &TorchTensor,
    f: impl FnOnce(&TorchTensor) -> Result<TorchTensor>,
) -> Result<TorchTensor> {
    let r = f(&order_key(t)?)?;
    Ok(TorchTensor::new(flip(&r.tensor)?, Some(DType::U64)))
}

pub(crate) fn unary(t: &TorchTensor, d: DType, op: UnaryOp) -> Result<TorchTensor> {
    use UnaryOp::*;
    let x = &t.tensor;
    let r = scalar_call(op.name(), || match op {
        Abs | Relu => Ok(x.shallow_clone()),
        Sign => x.f_ne(0)?.f_to_kind(kind(d)),
        Neg => x.f_neg(),
        Square => x.f_mul(x),
        _ => Err(tch::TchError::Kind(format!(
            "{} is not defined for {d}",
            op.name()
        ))),
    })?;
    wrap(t, r)
}

pub(crate) fn binary(
    a: &TorchTensor,
    b: &TorchTensor,
    d: DType,
    op: BinaryOp,
) -> Result<TorchTensor> {
    use BinaryOp::*;
    let (x, y) = (&a.tensor, &b.tensor);
    let name = op.name();
    let big = d == DType::U64;
    match op {
        Add | Sub | Mul | Pow => {
            let r = scalar_call(name, || match op {
                Add => x.f_add(y),
                Sub => x.f_sub(y),
                Mul => x.f_mul(y),
                // An exponent of 2^63 or more reads as negative in i64 (and
                // libtorch gives 0). Modulo 2^64 an odd base repeats with
                // period 2^62 and an even one is 0 from the 64th power on,
                // so any exponent from 2^62 up may be taken modulo 2^62 and
                // then lifted by 2^62: the same power, and positive.
                _ if big => {
                    const P: i64 = 1 << 62;
                    let huge = y.f_lt(0)?.f_logical_or(&y.f_ge(P)?)?;
                    let e = y
                        .f_bitwise_and(P - 1)?
                        .f_add_scalar(P)?
                        .f_where_self(&huge, y)?;
                    x.f_pow(&e)
                }
                _ => x.f_pow(y),
            })?;
            wrap(a, r)
        }
        FloorDiv | Rem if big => {
            let (q, r) = divmod_u64(x, y)?;
            Ok(TorchTensor::new(
                if op == FloorDiv { q } else { r },
                Some(d),
            ))
        }
        Minimum | Maximum if big => {
            let (kx, ky) = (flip(x)?, flip(y)?);
            let m = scalar_call(name, || {
                if op == Minimum {
                    kx.f_minimum(&ky)
                } else {
                    kx.f_maximum(&ky)
                }
            })?;
            Ok(TorchTensor::new(flip(&m)?, Some(d)))
        }
        Lt | Le | Gt | Ge | Eq | Ne if big => {
            let (kx, ky) = (
                TorchTensor::new(flip(x)?, None),
                TorchTensor::new(flip(y)?, None),
            );
            kx.binary(op, &ky)
        }
        // u16 and u32 hold their exact values: the signed kernels are right.
        _ => {
            let r = TorchTensor::new(x.shallow_clone(), None)
                .binary(op, &TorchTensor::new(y.shallow_clone(), None))?;
            if r.dtype() == DType::Bool {
                Ok(r)
            } else {
                Ok(TorchTensor::new(r.tensor, Some(d)))
            }
        }
    }
}

/// Unsigned 64-bit floor division and remainder of bit patterns held in
/// `i64`, with NumPy's 0 for a zero divisor. A divisor with its top bit set
/// goes into the dividend at most once; otherwise halve the dividend (a
/// logical shift, so it is non-negative), divide as signed, double, and
/// correct the last step.
fn divmod_u64(x: &Tensor, y: &Tensor) -> Result<(Tensor, Tensor)> {
    scalar_call("floor_div", || {
        let zero = y.f_eq(0)?;
        let y = y.f_masked_fill(&zero, 1)?;
        let ky = y.f_bitwise_xor(SIGN)?;
        let kx = x.f_bitwise_xor(SIGN)?;
        let top = y.f_lt(0)?;
        // Top-bit divisors: q = x >= y.
        let q_top = kx.f_ge_tensor(&ky)?.f_to_kind(Kind::Int64)?;
        // Others: halve x logically, divide, double, then one correction.
        let safe_y = y.f_masked_fill(&top, 1)?;
        let half = x
            .f_bitwise_right_shift_tensor_scalar(1)?
            .f_bitwise_and(i64::MAX)?;
        let q = half
            .f_floor_divide(&safe_y)?
            .f_bitwise_left_shift_tensor_scalar(1)?;
        let r = x.f_sub(&q.f_mul(&safe_y)?)?;
        let more = r
            .f_bitwise_xor(SIGN)?
            .f_ge_tensor(&safe_y.f_bitwise_xor(SIGN)?)?;
        let q_low = q.f_add(&more.f_to_kind(Kind::Int64)?)?;
        let q = q_low.f_where_self(&top.f_logical_not()?, &q_top)?;
        let r = x.f_sub(&q.f_mul(&y)?)?;
        Ok((q.f_masked_fill(&zero, 0)?, r.f_masked_fill(&zero, 0)?))
    })
}

/// Casts to or from an emulated unsigned dtype.
pub(crate) fn cast(t: &TorchTensor, to: DType) -> Result<TorchTensor> {
    let from = t.dtype();
    let x = &t.tensor;
    let op = "astype";
    if t.unsigned.is_some() {
        // From u16/u32/u64.
        if to == DType::Bool {
            return Ok(TorchTensor::new(scalar_call(op, || x.f_ne(0))?, None));
        }
        if to.is_float() {
            if from != DType::U64 {
                return TorchTensor::new(x.shallow_clone(), None).cast(to);
            }
            let f = scalar_call(op, || {
                if to == DType::F64 {
                    // High and low 32-bit halves, one rounding in f64.
                    let hi = x
                        .f_bitwise_right_shift_tensor_scalar(32)?
                        .f_bitwise_and(0xFFFF_FFFF_i64)?;
                    let lo = x.f_bitwise_and(0xFFFF_FFFF_i64)?;
                    return hi
                        .f_to_kind(Kind::Double)?
                        .f_mul_scalar(4294967296.0)?
                        .f_add(&lo.f_to_kind(Kind::Double)?);
                }
                // To f32 (and on to f16/bf16, which round from f32 as
                // NumPy and ml_dtypes do) in one rounding: through f64 it
                // would round twice (2^63 + 2^39 + 1 became 2^63). A value
                // with the top bit set is halved with its lowest bit kept
                // as a sticky bit (which decides a tie f32's 24 bits
                // cannot see), converted as a non-negative i64, doubled.
                let big = x.f_lt(0)?;
                let halved = x
                    .f_bitwise_right_shift_tensor_scalar(1)?
                    .f_bitwise_and(i64::MAX)?
                    .f_bitwise_or_tensor(&x.f_bitwise_and(1)?)?;
                let f = x.f_where_self(&big.f_logical_not()?, &halved)?;
                let f = f.f_to_kind(Kind::Float)?;
                f.f_mul_scalar(2.0)?.f_where_self(&big, &f)
            })?;
            return TorchTensor::new(f, None).cast(to);
        }
        // To an integer: the stored value wraps as C's casts do.
        let r = x.f_to_kind(kind(to)).map_err(fw(op))?;
        return Ok(TorchTensor::new(mask(r, to)?, crate::tag(to)));
    }
    // To u16/u32/u64 from a signed, bool or float dtype.
    if from.is_float() {
        let x32 = if t.is_half() {
            t.cast(DType::F32)?
        } else {
            t.clone()
        };
        let (lo, hi, above) = x32
            .dtype()
            .saturating_cast_bounds(to)
            .ok_or_else(|| Error::dtype(op, format!("no saturating cast {from} -> {to}")))?;
        let max = to
            .max_scalar()
            .map(crate::scalar)
            .unwrap_or(tch::Scalar::int(0));
        let r = scalar_call(op, || {
            let v = x32.tensor.f_nan_to_num(0.0, hi, lo)?.f_clamp(lo, hi)?;
            let two63 = 9223372036854775808.0;
            let big = v.f_ge(two63)?;
            let low = v.f_sub_scalar(two63)?.f_where_self(&big, &v)?;
            let i = low.f_to_kind(Kind::Int64)?;
            let i = i.f_bitwise_xor(SIGN)?.f_where_self(&big, &i)?;
            i.f_masked_fill(&x32.tensor.f_ge(above)?, max)
        })?;
        return Ok(TorchTensor::new(
            mask(r.f_to_kind(kind(to)).map_err(fw(op))?, to)?,
            Some(to),
        ));
    }
    let r = x.f_to_kind(kind(to)).map_err(fw(op))?;
    Ok(TorchTensor::new(mask(r, to)?, Some(to)))
}

//! ElementwiseOps of [`TorchTensor`]: element-wise ops.

use super::*;

impl ElementwiseOps for TorchTensor {
    fn unary(&self, op: UnaryOp) -> Result<Self> {
        use UnaryOp::*;
        if let Some(d) = self.unsigned {
            return unsigned::unary(self, d, op);
        }
        let t = self.t();
        let r = || match op {
            Abs => t.f_abs(),
            Neg => t.f_neg(),
            // libtorch's sign(NaN) is 0; NumPy's (and ours) is NaN.
            Sign if self.is_float() => t
                .f_sign()
                .and_then(|s| s.f_where_self(&t.f_isnan()?.f_logical_not()?, t)),
            Sign => t.f_sign(),
            Sqrt => t.f_sqrt(),
            // The faster of libtorch's two kernels for each dtype (same
            // values: a 16-bit square is exact in f32, rounded once):
            // `square` (pow) takes 15x as long as `x * x` for f16, half as
            // long for bf16 (10^6 elements, libtorch 2.13 CPU).
            Square if self.stored() == Some(DType::BF16) => t.f_square(),
            Square => t.f_mul(t),
            Exp => t.f_exp(),
            Log => t.f_log(),
            Log2 => t.f_log2(),
            Log10 => t.f_log10(),
            Log1p => t.f_log1p(),
            Sin => t.f_sin(),
            Cos => t.f_cos(),
            Tan => t.f_tan(),
            Sinh => t.f_sinh(),
            Cosh => t.f_cosh(),
            Tanh => t.f_tanh(),
            Arcsin => t.f_arcsin(),
            Arccos => t.f_arccos(),
            Arctan => t.f_arctan(),
            Arcsinh => t.f_arcsinh(),
            Arccosh => t.f_arccosh(),
            Arctanh => t.f_arctanh(),
            // libtorch rounds half to even, as NumPy.
            Round => t.f_round(),
            Ceil => t.f_ceil(),
            Floor => t.f_floor(),
            IsNan => t.f_isnan(),
            IsInf => t.f_isinf(),
            LogicalNot => t.f_logical_not(),
            Sigmoid => t.f_sigmoid(),
            // `+ 0.0` makes relu(-0.0) 0.0 (NumPy's maximum(x, 0)); in place
            // on the fresh result.
            Relu if self.is_float() => t.f_clamp_min(0)?.f_add_scalar_(0.0),
            Relu => t.f_clamp_min(0),
        };
        Self::ok(scalar_call(op.name(), r)?)
    }
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Result<Self> {
        use BinaryOp::*;
        if let Some(d) = self.unsigned {
            return unsigned::binary(self, rhs, d, op);
        }
        let e = fw(op.name());
        let (a, b) = (self.t(), rhs.t());
        let int = !self.is_float();
        let r = match op {
            Add => a.f_add(b),
            Sub => a.f_sub(b),
            Mul => a.f_mul(b),
            Div => a.f_div(b),
            FloorDiv if int => return self.int_div(rhs, "floor_div", |x, y| x.f_floor_divide(y)),
            // libtorch has no derivative for floor_divide; its gradient is zero.
            FloorDiv => a.f_detach().and_then(|a| a.f_floor_divide(&b.f_detach()?)),
            Rem if int => return self.int_div(rhs, "rem", |x, y| x.f_remainder_tensor(y)),
            // NumPy's float remainder, from fmod plus NumPy's sign rules:
            // libtorch's `remainder` is `a - b * floor(a / b)`, NaN for
            // `-1e30 % inf` (NumPy: inf), and its zero remainders are +0.0
            // where NumPy's take the divisor's sign. (A quotient that
            // overflows, f32::MAX % 0.5, stays NaN in libtorch's fmod too:
            // a documented difference.)
            Rem => {
                let r = scalar_call("rem", || {
                    let m = a.f_fmod_tensor(b)?;
                    let differ = m.f_lt(0.0)?.f_ne_tensor(&b.f_lt(0.0)?)?;
                    let adj = m.f_ne(0.0)?.f_logical_and(&differ)?;
                    let r = m.f_add(b)?.f_where_self(&adj, &m)?;
                    let zero = r.f_eq(0.0)?;
                    r.f_copysign(b)?.f_where_self(&zero, &r)
                })?;
                // libtorch's fmod is NaN where `a / b` overflows (f32::MAX %
                // 0.5, 1e20 % f32::MIN_POSITIVE); where any result is NaN
                // the op is computed on the host instead, exactly (fmod is
                // exact, so f64 arithmetic gives the dtype's result).
                let nan = scalar_call("rem", || r.f_isnan()?.f_any())?;
                if bool::try_from(&nan).map_err(fw("rem"))? {
                    return self.keep(host_rem(a, b, &r).map_err(fw("rem"))?);
                }
                return Self::ok(r);
            }
            Pow => a.f_pow(b),
            Minimum if self.stored() == Some(DType::Bool) => a.f_logical_and(b),
            Maximum if self.stored() == Some(DType::Bool) => a.f_logical_or(b),
            Minimum | Maximum if self.is_float() => {
                // libtorch orders -0.0 below 0.0; NumPy takes the second of
                // two equal values: where both are zero, `b`.
                return Self::ok(scalar_call(op.name(), || {
                    let m = if op == Minimum {
                        a.f_minimum(b)?
                    } else {
                        a.f_maximum(b)?
                    };
                    let zeros = a.f_eq(0.0)?.f_logical_and(&b.f_eq(0.0)?)?;
                    b.f_where_self(&zeros, &m)
                })?);
            }
            Minimum => a.f_minimum(b),
            Maximum => a.f_maximum(b),
            LogicalAnd => a.f_logical_and(b),
            LogicalOr => a.f_logical_or(b),
            Lt => a.f_lt_tensor(b),
            Le => a.f_le_tensor(b),
            Gt => a.f_gt_tensor(b),
            Ge => a.f_ge_tensor(b),
            Eq => a.f_eq_tensor(b),
            Ne => a.f_ne_tensor(b),
        };
        Self::ok(r.map_err(e)?)
    }
    fn binary_scalar(&self, op: BinaryOp, value: Scalar) -> Result<Self> {
        use BinaryOp::*;
        let (t, s) = (self.t(), scalar(value));
        let r = match op {
            _ if self.unsigned.is_some() => {
                let s = self.full(&[], value, self.dtype())?;
                return self.binary(op, &s);
            }
            Add | Sub | Mul | Lt | Le | Gt | Ge | Eq | Ne => op,
            Div if self.is_float() => op,
            // libtorch computes `x ** ±0.5` with a scalar exponent as
            // (r)sqrt(x): -inf gives NaN and -0.0 gives -0.0 (-inf), where
            // IEEE pow (NumPy) gives inf and 0.0 (inf). The tensor
            // exponent's kernel is IEEE's.
            Pow if self.is_float() && value.to_f64().abs() != 0.5 => op,
            _ => {
                let s = self.full(&[], value, self.dtype())?;
                return self.binary(op, &s);
            }
        };
        Self::ok(scalar_call(op.name(), || match r {
            Add => t.f_add_scalar(s),
            Sub => t.f_sub_scalar(s),
            Mul => t.f_mul_scalar(s),
            Div => t.f_div_scalar(s),
            Pow => t.f_pow_tensor_scalar(s),
            Lt => t.f_lt(s),
            Le => t.f_le(s),
            Gt => t.f_gt(s),
            Ge => t.f_ge(s),
            Eq => t.f_eq(s),
            _ => t.f_ne(s),
        })?)
    }
    fn where_cond(&self, x: &Self, y: &Self) -> Result<Self> {
        x.keep(
            x.t()
                .f_where_self(self.t(), y.t())
                .map_err(fw("where_cond"))?,
        )
    }
}

//! ElementwiseOps of [`TfTensor`]: element-wise ops.

use super::*;

impl ElementwiseOps for TfTensor {
    fn unary(&self, op: UnaryOp) -> Result<Self> {
        use UnaryOp::*;
        let ctx = context()?;
        let e = fw(op.name());
        let x = self.h();
        let d = self.dtype();
        let work = compute_dtype(Work::Elementwise, d);
        if work != d {
            return self
                .widen(op.name(), work)?
                .unary(op)?
                .narrow(op.name(), work, d);
        }
        let unsigned = d.is_unsigned();
        let r = match op {
            // TF has no Abs/Neg/Sign kernels for unsigned integers.
            Abs if unsigned => return Ok(self.clone()),
            Neg if unsigned => {
                let zero = self.scalar_of(op.name(), 0.0)?;
                ops::sub(ctx, zero.h(), x)
            }
            Sign if unsigned => {
                let one = self.scalar_of(op.name(), 1.0)?;
                ops::minimum(ctx, x, one.h())
            }
            Round | Ceil | Floor if d.is_int() => return Ok(self.clone()),
            Abs => ops::abs(ctx, x),
            Neg => ops::neg(ctx, x),
            Sign => ops::sign(ctx, x),
            Sqrt => ops::sqrt(ctx, x),
            Square => ops::square(ctx, x),
            Exp => ops::exp(ctx, x),
            Log => ops::log(ctx, x),
            Log2 | Log10 => {
                let base = if op == Log2 {
                    std::f64::consts::LN_2
                } else {
                    std::f64::consts::LN_10
                };
                let l = ops::log(ctx, x).map_err(&e)?;
                let b = self.scalar_of(op.name(), base)?;
                ops::real_div(ctx, &l, b.h())
            }
            Log1p => ops::log1p(ctx, x),
            Sin => ops::sin(ctx, x),
            Cos => ops::cos(ctx, x),
            Tan => ops::tan(ctx, x),
            Sinh => ops::sinh(ctx, x),
            Cosh => ops::cosh(ctx, x),
            Tanh => ops::tanh(ctx, x),
            Arcsin => ops::asin(ctx, x),
            Arccos => ops::acos(ctx, x),
            Arctan => ops::atan(ctx, x),
            Arcsinh => ops::asinh(ctx, x),
            Arccosh => ops::acosh(ctx, x),
            Arctanh => ops::atanh(ctx, x),
            // TF's Round is half to even, as NumPy's.
            Round => ops::round(ctx, x),
            Ceil => ops::ceil(ctx, x),
            Floor => ops::floor(ctx, x),
            IsNan => ops::is_nan(ctx, x),
            IsInf => ops::is_inf(ctx, x),
            LogicalNot => ops::logical_not(ctx, x),
            Sigmoid => ops::sigmoid(ctx, x),
            // `+ 0` makes relu(-0.0) 0.0 (NumPy's maximum(x, 0)).
            Relu if self.is_float() => {
                let r = ops::relu(ctx, x).map_err(&e)?;
                let zero = self.scalar_of("relu", 0.0)?;
                ops::add_v2(ctx, &r, zero.h())
            }
            Relu => ops::relu(ctx, x),
        };
        Ok(wrap(r.map_err(e)?))
    }
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Result<Self> {
        use BinaryOp::*;
        let ctx = context()?;
        let e = fw(op.name());
        let (a, b) = (self.h(), rhs.h());
        let d = self.dtype();
        let work = compute_dtype(
            match op {
                Pow => Work::Pow,
                Lt | Le | Gt | Ge => Work::Order,
                _ => Work::Elementwise,
            },
            d,
        );
        if work != d {
            let n = op.name();
            let x = self.widen(n, work)?;
            let y = if op == Pow && d == DType::U64 {
                rhs.u64_exponent()?.widen(n, work)?
            } else {
                rhs.widen(n, work)?
            };
            return x.binary(op, &y)?.narrow(n, work, d);
        }
        let int = !self.is_float();
        let boolean = d == DType::Bool;
        let r = match op {
            Add => ops::add_v2(ctx, a, b),
            Sub => ops::sub(ctx, a, b),
            Mul => ops::mul(ctx, a, b),
            Div => ops::real_div(ctx, a, b),
            FloorDiv if int => {
                return self.int_div(rhs, "floor_div", |x, y| ops::floor_div(ctx, x, y))
            }
            FloorDiv => return self.float_floor_div(rhs),
            Rem if int => return self.int_div(rhs, "rem", |x, y| ops::floor_mod(ctx, x, y)),
            Rem => {
                // A zero remainder takes the divisor's sign (NumPy: 0.0 % -1
                // is -0.0); TF's is always +0.0. `sign(b) * 0` is that zero.
                let r = ops::floor_mod(ctx, a, b).map_err(&e)?;
                let zero = self.scalar_of("rem", 0.0)?;
                let sb = ops::sign(ctx, b).map_err(&e)?;
                let signed = ops::mul(ctx, &sb, zero.h()).map_err(&e)?;
                let is_zero = ops::equal(ctx, &r, zero.h()).map_err(&e)?;
                ops::select_v2(ctx, &is_zero, &signed, &r)
            }
            Pow => ops::pow(ctx, a, b),
            Minimum | LogicalAnd if boolean => ops::logical_and(ctx, a, b),
            Maximum | LogicalOr if boolean => ops::logical_or(ctx, a, b),
            Minimum | Maximum if self.is_float() => {
                // Of two equal values (0.0 and -0.0) NumPy takes the second.
                let m = if op == Minimum {
                    ops::minimum(ctx, a, b)
                } else {
                    ops::maximum(ctx, a, b)
                }
                .map_err(&e)?;
                let zero = self.scalar_of(op.name(), 0.0)?;
                let az = ops::equal(ctx, a, zero.h()).map_err(&e)?;
                let bz = ops::equal(ctx, b, zero.h()).map_err(&e)?;
                let zeros = ops::logical_and(ctx, &az, &bz).map_err(&e)?;
                ops::select_v2(ctx, &zeros, b, &m)
            }
            Minimum => ops::minimum(ctx, a, b),
            Maximum => ops::maximum(ctx, a, b),
            LogicalAnd => ops::logical_and(ctx, a, b),
            LogicalOr => ops::logical_or(ctx, a, b),
            Lt => ops::less(ctx, a, b),
            Le => ops::less_equal(ctx, a, b),
            Gt => ops::greater(ctx, a, b),
            Ge => ops::greater_equal(ctx, a, b),
            Eq => ops::equal(ctx, a, b),
            Ne => ops::not_equal(ctx, a, b),
        };
        Ok(wrap(r.map_err(e)?))
    }
    fn where_cond(&self, x: &Self, y: &Self) -> Result<Self> {
        Ok(wrap(
            ops::select_v2(context()?, self.h(), x.h(), y.h()).map_err(fw("where_cond"))?,
        ))
    }
}

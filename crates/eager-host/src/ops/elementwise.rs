//! The element-wise kernels of [`HostTensor`].

use super::*;

fn unary_num<T: Num + HostElem>(a: &Arr<T>, op: UnaryOp) -> Result<HostTensor> {
    use UnaryOp::*;
    Ok(match op {
        Abs => map(a, T::abs_),
        Neg => map(a, T::neg_),
        Sign => map(a, T::sign_),
        Square => map(a, |x| x.mul_(x)),
        Round => map(a, T::round_),
        Ceil => map(a, T::ceil_),
        Floor => map(a, T::floor_),
        IsNan => map(a, T::isnan_),
        IsInf => map(a, T::isinf_),
        // NaN propagates (as in every framework): only numbers below or at 0 become 0.
        Relu => map(a, |x| {
            if x > T::ZERO || x.isnan_() {
                x
            } else {
                T::ZERO
            }
        }),
        _ => {
            return Err(internal(
                op.name(),
                format!("{} is not defined for {}", op.name(), T::DTYPE),
            ))
        }
    })
}

fn unary_float<T: Flt + HostElem>(a: &Arr<T>, op: UnaryOp) -> Result<HostTensor> {
    use UnaryOp::*;
    Ok(match op {
        Sqrt => map(a, T::sqrt),
        Exp => map(a, T::exp),
        Log => map(a, T::ln),
        Log2 => map(a, T::log2),
        Log10 => map(a, T::log10),
        Log1p => map(a, T::ln_1p),
        Sin => map(a, T::sin),
        Cos => map(a, T::cos),
        Tan => map(a, T::tan),
        Sinh => map(a, T::sinh),
        Cosh => map(a, T::cosh),
        Tanh => map(a, T::tanh),
        Arcsin => map(a, T::asin),
        Arccos => map(a, T::acos),
        Arctan => map(a, T::atan),
        // Rust's asinh/acosh overflow to inf for |x| near the maximum; past
        // 1/eps both are ln(2|x|) to the last bit (NumPy's values).
        Arcsinh => map(a, |x| {
            if x.abs() > T::epsilon().recip() {
                (x.abs().ln() + T::from_f64(std::f64::consts::LN_2)).copysign(x)
            } else {
                x.asinh()
            }
        }),
        Arccosh => map(a, |x| {
            if x > T::epsilon().recip() {
                x.ln() + T::from_f64(std::f64::consts::LN_2)
            } else {
                x.acosh()
            }
        }),
        Arctanh => map(a, T::atanh),
        Sigmoid => map(a, |x| {
            // Stable for large |x|.
            if x >= T::ZERO {
                T::ONE / (T::ONE + (-x).exp())
            } else {
                let e = x.exp();
                e / (T::ONE + e)
            }
        }),
        Round => map(a, T::round_even),
        _ => unary_num(a, op)?,
    })
}

fn binary_num<T: Num + HostElem>(op: BinaryOp, a: &Arr<T>, b: &Arr<T>) -> Result<HostTensor> {
    use BinaryOp::*;
    let n = op.name();
    match op {
        Add => zip(n, a, b, T::add_),
        Sub => zip(n, a, b, T::sub_),
        Mul => zip(n, a, b, T::mul_),
        Div => zip(n, a, b, T::div_),
        FloorDiv => zip(n, a, b, T::floordiv_),
        Rem => zip(n, a, b, T::rem_),
        Pow => zip(n, a, b, T::pow_),
        Minimum => zip(n, a, b, T::min_),
        Maximum => zip(n, a, b, T::max_),
        Lt => zip(n, a, b, |x, y| x < y),
        Le => zip(n, a, b, |x, y| x <= y),
        Gt => zip(n, a, b, |x, y| x > y),
        Ge => zip(n, a, b, |x, y| x >= y),
        Eq => zip(n, a, b, |x, y| x == y),
        Ne => zip(n, a, b, |x, y| x != y),
        LogicalAnd | LogicalOr => Err(internal(n, "logical ops take bool tensors")),
    }
}

fn binary_bool(op: BinaryOp, a: &Arr<bool>, b: &Arr<bool>) -> Result<HostTensor> {
    use BinaryOp::*;
    let n = op.name();
    match op {
        LogicalAnd | Minimum => zip(n, a, b, |x, y| x & y),
        LogicalOr | Maximum => zip(n, a, b, |x, y| x | y),
        Lt => zip(n, a, b, |x, y| !x & y),
        Le => zip(n, a, b, |x, y| x <= y),
        Gt => zip(n, a, b, |x, y| x & !y),
        Ge => zip(n, a, b, |x, y| x >= y),
        Eq => zip(n, a, b, |x, y| x == y),
        Ne => zip(n, a, b, |x, y| x != y),
        _ => Err(internal(n, "arithmetic on bool tensors")),
    }
}

/// The ops of the contract ([`BackendTensor`](eager_core::BackendTensor)),
/// with its names and meanings, for the backends that run them on the host.
impl HostTensor {
    /// [`ElementwiseOps::unary`](eager_core::ElementwiseOps::unary) on the host.
    pub fn unary(&self, op: UnaryOp) -> Result<Self> {
        match self {
            HostTensor::F16(_) | HostTensor::BF16(_) => self.via_f32(|t| t.unary(op)),
            HostTensor::F32(a) => unary_float(a, op),
            HostTensor::F64(a) => unary_float(a, op),
            HostTensor::Bool(a) => match op {
                UnaryOp::LogicalNot => Ok(map(a, |x: bool| !x)),
                _ => Err(internal(op.name(), "not defined for bool")),
            },
            other => each_num!(other, a => unary_num(a, op), _b => unreachable!()),
        }
    }
    /// [`ElementwiseOps::binary`](eager_core::ElementwiseOps::binary) on the host.
    pub fn binary(&self, op: BinaryOp, rhs: &Self) -> Result<Self> {
        if let (HostTensor::Bool(a), HostTensor::Bool(b)) = (self, rhs) {
            return binary_bool(op, a, b);
        }
        each_num!(self, a => {
            let b = HostElem::peek(rhs).ok_or_else(|| internal(op.name(), "operands of different dtypes"))?;
            binary_num(op, a, b)
        }, _b => Err(internal(op.name(), "operands of different dtypes")))
    }
    /// [`ElementwiseOps::where_cond`](eager_core::ElementwiseOps::where_cond) on the host.
    pub fn where_cond(&self, x: &Self, y: &Self) -> Result<Self> {
        let op = "where_cond";
        let HostTensor::Bool(c) = self else {
            return Err(internal(op, "the condition must be bool"));
        };
        let shape = eager_core::shape::broadcast_shapes(op, c.shape(), x.shape())?;
        let shape = eager_core::shape::broadcast_shapes(op, &shape, y.shape())?;
        let cv = c
            .broadcast(IxDyn(&shape))
            .ok_or_else(|| internal(op, "broadcast"))?;
        macro_rules! sel {
            ($($v:ident),*) => {
                match (x, y) {
                    $((HostTensor::$v(a), HostTensor::$v(b)) => {
                        let av = a.broadcast(IxDyn(&shape)).ok_or_else(|| internal(op, "broadcast"))?;
                        let bv = b.broadcast(IxDyn(&shape)).ok_or_else(|| internal(op, "broadcast"))?;
                        Ok(HostTensor::$v(Zip::from(&cv).and(&av).and(&bv).map_collect(|&c, &a, &b| if c { a } else { b }).into_shared()))
                    })*
                    _ => Err(internal(op, "x and y of different dtypes")),
                }
            };
        }
        sel!(Bool, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16, F32, F64)
    }
}

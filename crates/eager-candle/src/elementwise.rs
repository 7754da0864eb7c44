//! ElementwiseOps of [`CandleTensor`]: element-wise ops.

use super::*;

impl ElementwiseOps for CandleTensor {
    fn unary(&self, op: UnaryOp) -> Result<Self> {
        use UnaryOp::*;
        let d = self.dtype();
        let n = op.name();
        let e = fw(n);
        let x = &self.tensor;
        if d == DType::Bool && op == LogicalNot {
            return Self::boolean(x.eq(0u8).map_err(e)?);
        }
        if !d.is_float() {
            return self.host(|t| t.unary(op));
        }
        let tracked = backprop::tracked(x);
        if d.is_half() && !matches!(op, Abs | Neg | IsNan | IsInf) {
            // Computed in f32 and rounded once: the tape differentiates it.
            backprop::uncovered_if(&[x]);
            return via_f32(self, |t| t.unary(op));
        }
        // On a tensor Candle's backprop tracks, the step functions read a
        // detached copy (zero gradient, the tape's rule).
        let detached;
        let xd = if tracked && matches!(op, Sign | Ceil | Floor) {
            detached = x.detach();
            &detached
        } else {
            x
        };
        let r = match op {
            // Candle's abs' (0) is 1; eager-tensor's is sign(0) = 0. So a
            // tracked |x| is x · sign(x) (sign detached: the gradient is
            // g · sign(x), NaN for NaN), and +0.0 where x == 0 (so -0.0
            // gives 0.0, as abs does).
            Abs if tracked => {
                let zero = filled(n, 0.0, x.dtype(), x.dims())?;
                let s = self.detach().unary(Sign)?.tensor;
                x.mul(&s).and_then(|v| x.eq(&zero)?.where_cond(&zero, &v))
            }
            Abs => x.abs(),
            Neg => x.neg(),
            Sqrt => x.sqrt(),
            Square => x.sqr(),
            Exp => x.exp(),
            Log => x.log(),
            Sin => x.sin(),
            Cos => x.cos(),
            Tanh => x.tanh(),
            Ceil => xd.ceil(),
            Floor => xd.floor(),
            IsNan => return Self::boolean(Self::nan_mask(x, n)?),
            IsInf => {
                let inf = filled(n, f64::INFINITY, x.dtype(), x.dims())?;
                return Self::boolean(x.abs().and_then(|a| a.eq(&inf)).map_err(e)?);
            }
            // Candle's sign(NaN) is 0; NumPy's is NaN.
            Sign => xd.sign().and_then(|s| xd.ne(xd)?.where_cond(xd, &s)),
            // NumPy's maximum(x, 0): NaN propagates, relu(-0.0) is 0.0.
            Relu => {
                let zero = filled(n, 0.0, x.dtype(), x.dims())?;
                let xd = x.detach();
                x.gt(&zero).and_then(|p| {
                    let r = p.maximum(&xd.ne(&xd)?)?.where_cond(&xd, &zero)?;
                    if tracked {
                        // The gradient flows where x > 0 only (not to a
                        // NaN, which the tape's g · (x > 0) gives 0).
                        p.where_cond(x, &r)
                    } else {
                        Ok(r)
                    }
                })
            }
            // The ndarray backend's stable formula, op for op (so the
            // results are identical): 1 / (1 + e^-x) for x >= 0, else
            // e^x / (1 + e^x).
            Sigmoid => {
                // Candle's backprop through both branches gives 0 · inf =
                // NaN for large |x|: the tape differentiates sigmoid.
                backprop::uncovered_if(&[x]);
                let zero = filled(n, 0.0, x.dtype(), x.dims())?;
                (|| {
                    let pos = x.neg()?.exp()?.affine(1.0, 1.0)?.recip()?;
                    let ex = x.exp()?;
                    let neg = ex.div(&ex.affine(1.0, 1.0)?)?;
                    x.ge(&zero)?.where_cond(&pos, &neg)
                })()
            }
            // Flat (zero gradient): the untracked host result is right.
            Round => return self.detach().host(|t| t.unary(op)),
            _ => return self.host(|t| t.unary(op)),
        };
        Self::ok(r.map_err(e)?)
    }
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Result<Self> {
        use BinaryOp::*;
        let d = self.dtype();
        let n = op.name();
        let e = fw(n);
        if d == DType::U64 {
            return self.host2(rhs, |a, b| a.binary(op, b));
        }
        if let Some(c) = cmp_op(op) {
            let (a, b) = bcast(n, &self.tensor, &rhs.tensor)?;
            return Self::boolean(a.cmp(&b, c).map_err(e)?);
        }
        match op {
            LogicalAnd | LogicalOr if d == DType::Bool => {
                let (a, b) = bcast(n, &self.tensor, &rhs.tensor)?;
                let r = if op == LogicalAnd {
                    a.minimum(&b)
                } else {
                    a.maximum(&b)
                };
                Self::boolean(r.map_err(e)?)
            }
            Add | Sub | Mul | Div if d.is_float() => {
                let (a, b) = bcast(n, &self.tensor, &rhs.tensor)?;
                let r = match op {
                    Add => a.add(&b),
                    Sub => a.sub(&b),
                    Mul => a.mul(&b),
                    _ => a.div(&b),
                };
                Self::ok(r.map_err(e)?)
            }
            Minimum | Maximum if d.is_float() => {
                // Candle's where_cond rule gives a NaN operand or the second
                // of a tie the whole gradient; the tape splits ties.
                backprop::uncovered_if(&[&self.tensor, &rhs.tensor]);
                let (a, b) = bcast(n, &self.tensor, &rhs.tensor)?;
                Self::ok(Self::float_min_max(&a, &b, op)?)
            }
            // Integers (and bool as 0/1): no NaN, and equal values are
            // identical, so Candle's kernels are NumPy's.
            Minimum | Maximum => {
                let (a, b) = bcast(n, &self.tensor, &rhs.tensor)?;
                let r = if op == Minimum {
                    a.minimum(&b)
                } else {
                    a.maximum(&b)
                };
                self.keep(r.map_err(e)?)
            }
            // Flat (zero gradient): the untracked host result is right.
            FloorDiv => self.detach().host2(&rhs.detach(), |a, b| a.binary(op, b)),
            _ => self.host2(rhs, |a, b| a.binary(op, b)),
        }
    }
    fn where_cond(&self, x: &Self, y: &Self) -> Result<Self> {
        let op = "where_cond";
        let s = eager_core::shape::broadcast_shapes(op, self.tensor.dims(), x.tensor.dims())?;
        let s = eager_core::shape::broadcast_shapes(op, &s, y.tensor.dims())?;
        let e = fw(op);
        let b = |t: &Tensor| broadcast_as(t, &s, &e);
        let (c, a, o) = (b(&self.tensor)?, b(&x.tensor)?, b(&y.tensor)?);
        x.keep(c.where_cond(&a, &o).map_err(&e)?)
    }
}

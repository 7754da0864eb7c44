//! ElementwiseOps of [`XlaTensor`]: element-wise ops.

use super::*;

impl ElementwiseOps for XlaTensor {
    fn unary(&self, op: UnaryOp) -> Result<Self> {
        self.unary_prog(op)
    }
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Result<Self> {
        use BinaryOp::*;
        let name = op.name();
        let d0 = self.dtype;
        exec1(name, &[op as i64], &[self, rhs], |p, x| {
            // Computed only when the program is built (a cache miss): on a
            // hit the shapes, part of the key, were checked when it was
            // compiled. Shapes that do not broadcast never compile.
            let s = eager_core::shape::broadcast_shapes(name, &self.shape, &rhs.shape)?;
            let a = p.bcast(&x[0], d0, &self.shape, &s);
            let b = p.bcast(&x[1], d0, &rhs.shape, &s);
            let (a, d) = p.widen(&a, d0, &s);
            let (b, _) = p.widen(&b, d0, &s);
            let boolean = d == DType::Bool;
            let (r, out_d) = match op {
                Add => (p.bin("add", &a, &b, d, &s), d),
                Sub => (p.bin("subtract", &a, &b, d, &s), d),
                Mul => (p.bin("multiply", &a, &b, d, &s), d),
                Div if rhs.shape[..] != s[..] && d.is_float() => {
                    // XLA rewrites `a / broadcast(b)` as `a * broadcast(1 / b)`:
                    // one more rounding, and 1 / b flushes to 0 for |b| near
                    // the maximum (`f32::MAX / f32::MAX` came out 0). A
                    // barrier keeps the broadcast divisor opaque, so the
                    // division stays IEEE's.
                    let opaque = p.barrier(&b, d, &s);
                    (p.bin("divide", &a, &opaque, d, &s), d)
                }
                Div => (p.bin("divide", &a, &b, d, &s), d),
                FloorDiv => (p.divmod(&a, &b, d, &s, true), d),
                Rem => (p.divmod(&a, &b, d, &s, false), d),
                Pow if d.is_int() => (p.int_pow(&a, &b, d, &s), d),
                Pow => (p.bin("power", &a, &b, d, &s), d),
                Minimum | LogicalAnd if boolean => (p.bin("and", &a, &b, d, &s), d),
                Maximum | LogicalOr if boolean => (p.bin("or", &a, &b, d, &s), d),
                Minimum | Maximum if d.is_float() => {
                    // Of two equal values (0.0, -0.0) the second, as NumPy's
                    // minimum/maximum; NaN propagates (this XLA's own
                    // min/max drop it).
                    let first = p.cmp(if op == Minimum { "LT" } else { "GT" }, &a, &b, d, &s);
                    let m = p.select(&first, &a, &b, d, &s);
                    let an = p.cmp("NE", &a, &a, d, &s);
                    let bn = p.cmp("NE", &b, &b, d, &s);
                    let nan = p.bin("or", &an, &bn, DType::Bool, &s);
                    let sum = p.bin("add", &a, &b, d, &s);
                    (p.select(&nan, &sum, &m, d, &s), d)
                }
                Minimum => (p.bin("minimum", &a, &b, d, &s), d),
                Maximum => (p.bin("maximum", &a, &b, d, &s), d),
                LogicalAnd => (p.bin("and", &a, &b, d, &s), d),
                LogicalOr => (p.bin("or", &a, &b, d, &s), d),
                Lt => (p.cmp("LT", &a, &b, d, &s), DType::Bool),
                Le => (p.cmp("LE", &a, &b, d, &s), DType::Bool),
                Gt => (p.cmp("GT", &a, &b, d, &s), DType::Bool),
                Ge => (p.cmp("GE", &a, &b, d, &s), DType::Bool),
                Eq => (p.cmp("EQ", &a, &b, d, &s), DType::Bool),
                Ne => (p.cmp("NE", &a, &b, d, &s), DType::Bool),
            };
            let (r, out_d) = p.narrow(&r, out_d, d0, &s);
            Ok((r, out_d, s.clone()))
        })
    }
    /// The scalar is a 0-d device buffer kept per (dtype, bits) in a small
    /// cache (least recently used out first), so the op runs the very
    /// program of [`binary`](Self::binary) with a 0-d operand without an
    /// upload per call. (A constant folded into the program would compile
    /// one program per distinct value, and let XLA's simplifier rewrite
    /// `x + 0.0` or `x / c`, changing results.)
    fn binary_scalar(&self, op: BinaryOp, value: Scalar) -> Result<Self> {
        let s = if self.is_traced_by_jit() {
            self.full(&[], value, self.dtype)?
        } else {
            scalar(value, self.dtype)?
        };
        self.binary(op, &s)
    }
    fn where_cond(&self, x: &Self, y: &Self) -> Result<Self> {
        let op = "where_cond";
        let s = eager_core::shape::broadcast_shapes(op, &self.shape, &x.shape)?;
        let s = eager_core::shape::broadcast_shapes(op, &s, &y.shape)?;
        let d = x.dtype;
        exec1(op, &[], &[self, x, y], |p, a| {
            let c = p.bcast(&a[0], DType::Bool, &self.shape, &s);
            let xb = p.bcast(&a[1], d, &x.shape, &s);
            let yb = p.bcast(&a[2], d, &y.shape, &s);
            Ok((p.select(&c, &xb, &yb, d, &s), d, s.clone()))
        })
    }
}

//! ReduceOps of [`XlaTensor`]: reductions, arg-reductions, sorting, cumulative sums.

use super::*;

impl ReduceOps for XlaTensor {
    fn reduce(&self, op: ReduceOp, axes: &[usize], keepdims: bool) -> Result<Self> {
        if axes.is_empty() {
            return Ok(self.clone());
        }
        let (d, s) = (self.dtype, &self.shape);
        let boolean = d == DType::Bool;
        let (body, init) = match op {
            ReduceOp::Sum | ReduceOp::Mean => ("add", 0.0),
            ReduceOp::Prod => ("multiply", 1.0),
            ReduceOp::Min | ReduceOp::All if boolean => ("and", 1.0),
            ReduceOp::Max | ReduceOp::Any if boolean => ("or", 0.0),
            ReduceOp::Min => ("minimum", max_of(d)),
            ReduceOp::Max => ("maximum", min_of(d)),
            ReduceOp::All => ("and", 1.0),
            ReduceOp::Any => ("or", 0.0),
        };
        let mut attrs = smallvec::SmallVec::<[i64; 8]>::new();
        attrs.extend([op as i64, keepdims as i64]);
        attrs.extend(axes.iter().map(|&a| a as i64));
        exec1("reduce", &attrs, &[self], |p, a| {
            let out: Vec<usize> = (0..s.len())
                .filter(|i| !axes.contains(i))
                .map(|i| s[i])
                .collect();
            // 16-bit floats accumulate in f32 and round once.
            let (x, d) = p.widen(&a[0], self.dtype, s);
            let x = &x;
            let mut r = p.reduce_by(x, body, init, d, s, axes);
            if matches!(op, ReduceOp::Min | ReduceOp::Max) && d.is_float() {
                // Put NaN back where a reduced slice had one (NumPy propagates it).
                let isnan = p.cmp("NE", x, x, d, s);
                let anynan = p.reduce_by(&isnan, "or", 0.0, DType::Bool, s, axes);
                let nan = p.full(d, f64::NAN, &out);
                r = p.select(&anynan, &nan, &r, d, &out);
            }
            if op == ReduceOp::Mean {
                let count: usize = axes.iter().map(|&a| s[a]).product();
                let c = p.full(d, count as f64, &out);
                r = p.bin("divide", &r, &c, d, &out);
            }
            let (mut r, d) = p.narrow(&r, d, self.dtype, &out);
            let mut final_shape = out.clone();
            if keepdims {
                final_shape = (0..s.len())
                    .map(|i| if axes.contains(&i) { 1 } else { s[i] })
                    .collect();
                r = p.reshape(&r, d, &out, &final_shape);
            }
            Ok((r, d, final_shape))
        })
    }
    fn arg_reduce(&self, op: ArgReduceOp, axis: usize) -> Result<Self> {
        let (d, s) = (self.dtype, &self.shape);
        let max = op == ArgReduceOp::ArgMax;
        exec1("arg_reduce", &[max as i64, axis as i64], &[self], |p, a| {
            Ok((
                p.arg_best(&a[0], d, s, axis, max),
                DType::I64,
                without(s, axis),
            ))
        })
    }
    fn sort(&self, axis: usize, descending: bool) -> Result<Self> {
        self.sort_prog(axis, descending, false)
    }
    fn argsort(&self, axis: usize, descending: bool) -> Result<Self> {
        self.sort_prog(axis, descending, true)
    }
    fn cumsum(&self, axis: usize) -> Result<Self> {
        let s = &self.shape;
        let n = s[axis];
        if n <= 1 {
            return Ok(self.clone());
        }
        // A Hillis-Steele scan (JAX's associative scan on CPU): log2(n)
        // steps of "add a copy shifted by k along the axis".
        exec1("cumsum", &[axis as i64], &[self], |p, a| {
            // 16-bit floats accumulate in f32 and round once.
            let (mut x, d) = p.widen(&a[0], self.dtype, s);
            let zero = p.full(d, 0.0, &[]);
            let mut k = 1;
            while k < n {
                let shifted = p.shift(&x, &zero, axis, k, d, s);
                x = p.bin("add", &x, &shifted, d, s);
                k *= 2;
            }
            let (x, d) = p.narrow(&x, d, self.dtype, s);
            Ok((x, d, s.to_vec()))
        })
    }
}

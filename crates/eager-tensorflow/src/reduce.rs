//! ReduceOps of [`TfTensor`]: reductions, arg-reductions, sorting, cumulative sums.

use super::*;

impl ReduceOps for TfTensor {
    fn reduce(&self, op: ReduceOp, axes: &[usize], keepdims: bool) -> Result<Self> {
        let d = self.dtype();
        let work = compute_dtype(Work::Elementwise, d);
        if work != d {
            return self
                .widen("reduce", work)?
                .reduce(op, axes, keepdims)?
                .narrow("reduce", work, d);
        }
        let ctx = context()?;
        let e = fw("reduce");
        let idx = Self::axes("reduce", axes)?;
        let (x, i) = (self.h(), idx.h());
        let boolean = x.data_type() == DataType::Bool;
        let r = match op {
            ReduceOp::Sum => ops::Sum::new().keep_dims(keepdims).call(ctx, x, i),
            ReduceOp::Mean => ops::Mean::new().keep_dims(keepdims).call(ctx, x, i),
            ReduceOp::Prod => ops::Prod::new().keep_dims(keepdims).call(ctx, x, i),
            ReduceOp::Min | ReduceOp::All if boolean => {
                ops::All::new().keep_dims(keepdims).call(ctx, x, i)
            }
            ReduceOp::Max | ReduceOp::Any if boolean => {
                ops::Any::new().keep_dims(keepdims).call(ctx, x, i)
            }
            ReduceOp::Min | ReduceOp::Max => {
                // TF's Min/Max skip NaN; NumPy's propagate it: put NaN back where any was reduced.
                let r = if op == ReduceOp::Min {
                    ops::Min::new().keep_dims(keepdims).call(ctx, x, i)
                } else {
                    ops::Max::new().keep_dims(keepdims).call(ctx, x, i)
                }
                .map_err(&e)?;
                if !self.is_float() {
                    return Ok(wrap(r));
                }
                let nan = ops::is_nan(ctx, x).map_err(&e)?;
                let any = ops::Any::new()
                    .keep_dims(keepdims)
                    .call(ctx, &nan, i)
                    .map_err(&e)?;
                let n = self.scalar_of("reduce", f64::NAN)?;
                ops::select_v2(ctx, &any, n.h(), &r)
            }
            ReduceOp::All => ops::All::new().keep_dims(keepdims).call(ctx, x, i),
            ReduceOp::Any => ops::Any::new().keep_dims(keepdims).call(ctx, x, i),
        };
        Ok(wrap(r.map_err(e)?))
    }
    fn arg_reduce(&self, op: ArgReduceOp, axis: usize) -> Result<Self> {
        // TF's ArgMax skips NaN and lacks bool; the host gives NumPy's answer.
        let host = eager_host(self)?;
        let out = host.arg_reduce(op, axis)?;
        from_host_tensor(&out)
    }
    fn sort(&self, axis: usize, descending: bool) -> Result<Self> {
        from_host_tensor(&eager_host(self)?.sort(axis, descending)?)
    }
    fn argsort(&self, axis: usize, descending: bool) -> Result<Self> {
        from_host_tensor(&eager_host(self)?.argsort(axis, descending)?)
    }
    fn cumsum(&self, axis: usize) -> Result<Self> {
        let d = self.dtype();
        let work = compute_dtype(Work::Elementwise, d);
        if work != d {
            return self
                .widen("cumsum", work)?
                .cumsum(axis)?
                .narrow("cumsum", work, d);
        }
        let a = host_tensor("cumsum", &[axis as i32], &[])?;
        Ok(wrap(
            ops::cumsum(context()?, self.h(), a.h()).map_err(fw("cumsum"))?,
        ))
    }
}

//! ReduceOps of [`CandleTensor`]: reductions, arg-reductions, sorting, cumulative sums.

use super::*;

impl ReduceOps for CandleTensor {
    fn reduce(&self, op: ReduceOp, axes: &[usize], keepdims: bool) -> Result<Self> {
        if axes.is_empty() {
            // No axes: nothing is reduced (NumPy's `axis=()`).
            return Ok(self.clone());
        }
        let d = self.dtype();
        let name = match op {
            ReduceOp::Sum => "sum",
            ReduceOp::Mean => "mean",
            ReduceOp::Prod => "prod",
            ReduceOp::Min => "min",
            ReduceOp::Max => "max",
            ReduceOp::All => "all",
            ReduceOp::Any => "any",
        };
        let e = fw(name);
        if self.tensor.elem_count() == 0 {
            // Candle refuses to reduce an empty tensor ("empty tensor for
            // reduce"); an empty input is cheap to copy.
            return self.host(|t| t.reduce(op, axes, keepdims));
        }
        let out = reduced_shape(self.tensor.dims(), axes, keepdims);
        match op {
            ReduceOp::Sum | ReduceOp::Mean if d.is_half() => {
                backprop::uncovered_if(&[&self.tensor]);
                via_f32(self, |t| t.reduce(op, axes, keepdims))
            }
            ReduceOp::Sum if d.is_float() => {
                let s = self.float_sum(axes, name)?;
                let s = s
                    .to_dtype(store(d))
                    .and_then(|s| s.reshape(out))
                    .map_err(e)?;
                Self::ok(s)
            }
            ReduceOp::Mean if d.is_float() => {
                let s = self.float_sum(axes, name)?;
                let count: usize = axes.iter().map(|&a| self.tensor.dims()[a]).product();
                let c = filled(name, count as f64, s.dtype(), s.dims())?;
                let m = s
                    .div(&c)
                    .and_then(|m| m.to_dtype(store(d)))
                    .and_then(|m| m.reshape(out))
                    .map_err(e)?;
                Self::ok(m)
            }
            ReduceOp::All | ReduceOp::Any | ReduceOp::Min | ReduceOp::Max
                if d == DType::Bool || (d.is_int() && d != DType::U64) =>
            {
                let min = matches!(op, ReduceOp::All | ReduceOp::Min);
                let mut r = self.tensor.clone();
                for &a in axes.iter().rev() {
                    r = if min {
                        r.min_keepdim(a)
                    } else {
                        r.max_keepdim(a)
                    }
                    .map_err(&e)?;
                }
                self.keep(r.reshape(out).map_err(e)?)
            }
            ReduceOp::Min | ReduceOp::Max
                if matches!(d, DType::F32 | DType::F64) && backprop::tracked(&self.tensor) =>
            {
                self.min_max_tracked(op, axes, keepdims, out)
            }
            _ => self.host(|t| t.reduce(op, axes, keepdims)),
        }
    }
    fn arg_reduce(&self, op: ArgReduceOp, axis: usize) -> Result<Self> {
        // Integer results carry no gradient: no need to watch Candle's graph.
        self.detach().host(|t| t.arg_reduce(op, axis))
    }
    fn sort(&self, axis: usize, descending: bool) -> Result<Self> {
        self.host(|t| t.sort(axis, descending))
    }
    fn argsort(&self, axis: usize, descending: bool) -> Result<Self> {
        self.detach().host(|t| t.argsort(axis, descending))
    }
    fn cumsum(&self, axis: usize) -> Result<Self> {
        self.host(|t| t.cumsum(axis))
    }
}

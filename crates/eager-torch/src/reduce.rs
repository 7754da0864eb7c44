//! ReduceOps of [`TorchTensor`]: reductions, arg-reductions, sorting, cumulative sums.

use super::*;

impl ReduceOps for TorchTensor {
    fn reduce(&self, op: ReduceOp, axes: &[usize], keepdims: bool) -> Result<Self> {
        let e = fw("reduce");
        if axes.is_empty() {
            // libtorch reads an empty list of dims as "all dims".
            return Ok(self.clone());
        }
        if self.unsigned == Some(DType::U64) && matches!(op, ReduceOp::Min | ReduceOp::Max) {
            return unsigned::ordered(self, |k| k.reduce(op, axes, keepdims));
        }
        if self.is_half() && matches!(op, ReduceOp::Prod) {
            // libtorch's f16 prod rounds every step; accumulate in f32.
            return self.via_f32(|t| t.reduce(op, axes, keepdims));
        }
        let d = dims(axes);
        let t = self.t();
        // Every axis into a 0-d result: libtorch's all-element sum and mean
        // (the `dim` variants spend ~650 more instructions on the list).
        let all = !keepdims && axes.len() == self.meta().shape.len();
        let r = match op {
            ReduceOp::Sum if all => t.f_sum(None::<Kind>),
            ReduceOp::Mean if all => t.f_mean(None::<Kind>),
            ReduceOp::Sum => t.f_sum_dim_intlist(d.as_slice(), keepdims, None::<Kind>),
            ReduceOp::Mean => t.f_mean_dim(d.as_slice(), keepdims, None::<Kind>),
            ReduceOp::Min if self.stored() == Some(DType::Bool) => {
                t.f_all_dims(d.as_slice(), keepdims)
            }
            ReduceOp::Max if self.stored() == Some(DType::Bool) => {
                t.f_any_dims(d.as_slice(), keepdims)
            }
            ReduceOp::Min => t.f_amin(d.as_slice(), keepdims),
            ReduceOp::Max => t.f_amax(d.as_slice(), keepdims),
            ReduceOp::All => t.f_all_dims(d.as_slice(), keepdims),
            ReduceOp::Any => t.f_any_dims(d.as_slice(), keepdims),
            ReduceOp::Prod => {
                // libtorch's prod takes one dim at a time.
                let mut r = t.shallow_clone();
                for &a in axes.iter().rev() {
                    r = r.f_prod_dim_int(a as i64, true, None::<Kind>).map_err(&e)?;
                }
                if !keepdims {
                    let shape: Vec<i64> = self
                        .shape()
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !axes.contains(i))
                        .map(|(_, &n)| n as i64)
                        .collect();
                    r = r.f_reshape(shape).map_err(&e)?;
                }
                Ok(r)
            }
        };
        self.keep(r.map_err(e)?)
    }
    fn arg_reduce(&self, op: ArgReduceOp, axis: usize) -> Result<Self> {
        let e = fw("argmax");
        if self.unsigned == Some(DType::U64) {
            return unsigned::order_key(self)?.arg_reduce(op, axis);
        }
        let t = self.orderable(&e)?;
        let r = match op {
            ArgReduceOp::ArgMin => t.f_argmin(axis as i64, false),
            ArgReduceOp::ArgMax => t.f_argmax(axis as i64, false),
        };
        Self::ok(r.map_err(e)?)
    }
    fn sort(&self, axis: usize, descending: bool) -> Result<Self> {
        let e = fw("sort");
        if self.unsigned == Some(DType::U64) {
            return unsigned::ordered(self, |k| k.sort(axis, descending));
        }
        if self.stored() == Some(DType::Bool) {
            let u = self.tensor.f_to_kind(Kind::Uint8).map_err(&e)?;
            let (v, _) = u.f_sort_stable(true, axis as i64, descending).map_err(&e)?;
            return Self::ok(v.f_to_kind(Kind::Bool).map_err(&e)?);
        }
        self.keep(
            self.tensor
                .f_sort_stable(true, axis as i64, descending)
                .map_err(e)?
                .0,
        )
    }
    fn argsort(&self, axis: usize, descending: bool) -> Result<Self> {
        let e = fw("argsort");
        if self.unsigned == Some(DType::U64) {
            return unsigned::order_key(self)?.argsort(axis, descending);
        }
        let t = self.orderable(&e)?;
        Self::ok(
            t.f_argsort_stable(true, axis as i64, descending)
                .map_err(e)?,
        )
    }
    fn cumsum(&self, axis: usize) -> Result<Self> {
        if self.is_half() {
            // Accumulate in f32, round once (libtorch rounds every step).
            return self.via_f32(|t| t.cumsum(axis));
        }
        let r = self
            .tensor
            .f_cumsum(axis as i64, None::<Kind>)
            .map_err(fw("cumsum"))?;
        unsigned::wrap(self, r)
    }
}

impl TorchTensor {
    /// The tensor in a kind libtorch orders (sorts, arg-reduces): bool as
    /// uint8.
    fn orderable(&self, e: &impl Fn(tch::TchError) -> Error) -> Result<Tensor> {
        if self.stored() == Some(DType::Bool) {
            self.tensor.f_to_kind(Kind::Uint8).map_err(e)
        } else {
            Ok(self.tensor.shallow_clone())
        }
    }
}

//! Reductions, arg-reductions, sorting and cumulative sums: the axes and
//! dtype rules, then one backend call.

use super::*;

impl EagerTensor {
    pub(super) fn reduce_impl(
        &self,
        name: &'static str,
        op: Option<ReduceOp>,
        axes: Option<&[isize]>,
        keepdims: bool,
    ) -> Result<EagerTensor> {
        /// Every axis of a tensor of up to 16 dimensions, without allocating.
        const ALL_AXES: [usize; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
        let shape = self.shape_cow();
        let axes: Cow<[usize]> = match axes {
            Some(a) => Cow::Owned(normalize_axes(name, a, shape.len())?),
            None if shape.len() <= ALL_AXES.len() => Cow::Borrowed(&ALL_AXES[..shape.len()]),
            None => Cow::Owned((0..shape.len()).collect()),
        };
        let count: usize = axes.iter().map(|&a| shape[a]).product();
        let d = self.dtype();
        let out_dtype = match op {
            Some(ReduceOp::Sum | ReduceOp::Prod) => d.sum_dtype(),
            _ => d,
        };
        if count == 0 || out_dtype.size_of() > d.size_of() {
            // The only reductions whose result can be larger than their
            // input: over an empty axis (`[0, 2^40]` summed over axis 0 is
            // 2^40 zeros) or into a wider dtype.
            let out: Vec<usize> = (0..shape.len())
                .filter_map(|i| match axes.contains(&i) {
                    false => Some(shape[i]),
                    true => keepdims.then_some(1),
                })
                .collect();
            shape::check_size(name, &out, out_dtype)?;
        }
        match op {
            // Already the sum's dtype: no cast and no handle clone
            // (`dyn_reduce` checks the native dtype as `cast_to` would).
            Some(ReduceOp::Sum) | Some(ReduceOp::Prod) if d.sum_dtype() == d => {
                self.dyn_reduce(op.unwrap_or(ReduceOp::Sum), &axes, keepdims)
            }
            Some(ReduceOp::Sum) | Some(ReduceOp::Prod) => self.cast_to(d.sum_dtype())?.dyn_reduce(
                op.unwrap_or(ReduceOp::Sum),
                &axes,
                keepdims,
            ),
            Some(r @ (ReduceOp::Min | ReduceOp::Max)) => {
                if count == 0 {
                    return Err(Error::invalid(name, "zero-size reduction has no identity"));
                }
                self.dyn_reduce(r, &axes, keepdims)
            }
            Some(r @ (ReduceOp::All | ReduceOp::Any)) => {
                if d != DType::Bool {
                    return Err(Error::dtype(name, format!("needs a bool tensor, got {d}")));
                }
                self.dyn_reduce(r, &axes, keepdims)
            }
            Some(ReduceOp::Mean) | None => {
                if !d.is_float() {
                    return Err(Error::dtype(
                        name,
                        format!("needs a float tensor, got {d}; cast with astype first"),
                    ));
                }
                self.dyn_reduce(ReduceOp::Mean, &axes, keepdims)
            }
        }
    }
    pub(super) fn arg_impl(
        &self,
        name: &'static str,
        op: ArgReduceOp,
        axis: Option<isize>,
    ) -> Result<EagerTensor> {
        let (t, axis) = match axis {
            None => (self.dyn_reshape(&[self.numel()])?, 0),
            Some(a) => (self.clone(), normalize_axis(name, a, self.ndim())?),
        };
        if t.shape()[axis] == 0 {
            return Err(Error::invalid(
                name,
                "attempt to get the arg of an empty sequence",
            ));
        }
        t.dyn_arg_reduce(op, axis)
    }
}

methods_and_fns! {
    /// Flat index of the minimum (first of ties; the first NaN if any).
    pub fn argmin(&self) -> Result<EagerTensor> {
        self.arg_impl("argmin", ArgReduceOp::ArgMin, None)
    }
    /// Flat index of the maximum (first of ties; the first NaN if any).
    pub fn argmax(&self) -> Result<EagerTensor> {
        self.arg_impl("argmax", ArgReduceOp::ArgMax, None)
    }
    /// Index of the minimum along `axis`.
    pub fn argmin_axis(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        self.arg_impl("argmin", ArgReduceOp::ArgMin, Some(axis))
    }
    /// Index of the maximum along `axis` (negative from the end), as `i64`.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let logits = ep::astensor(ep::ndarray::arr2(&[[0.1f32, 0.7, 0.2], [0.9, 0.0, 0.1]]));
    /// let pred = logits.argmax_axis(-1)?;
    /// assert_eq!((pred.dtype(), pred.to_vec::<i64>()?), (ep::DType::I64, vec![1, 0]));
    /// assert_eq!(ep::argmax_axis(&logits, 0)?.to_vec::<i64>()?, vec![1, 0, 0]);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn argmax_axis(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        self.arg_impl("argmax", ArgReduceOp::ArgMax, Some(axis))
    }
    /// Indices that sort along `axis` (stable; NaN last).
    pub fn argsort(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        let axis = normalize_axis("argsort", axis, self.ndim())?;
        self.dyn_argsort(axis, false)
    }
    /// Sorts along `axis` (stable; NaN last).
    pub fn sort(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        let axis = normalize_axis("sort", axis, self.ndim())?;
        self.dyn_sort(axis, false)
    }
    /// The `k` largest elements along the last axis and their indices,
    /// largest first; ties keep the lower index first; NaN counts as the
    /// largest. Results are always sorted, whatever `sorted` says.
    pub fn topk(&self, k: usize, sorted: bool) -> Result<(EagerTensor, EagerTensor)> {
        let _ = sorted;
        let op = "topk";
        let nd = self.ndim();
        if nd == 0 {
            return Err(Error::Axis {
                op,
                axis: -1,
                ndim: 0,
            });
        }
        let n = self.shape()[nd - 1];
        if k > n {
            return Err(Error::invalid(
                op,
                format!("k = {k} is larger than the last axis ({n})"),
            ));
        }
        let order = self.dyn_argsort(nd - 1, true)?;
        let mut ranges: Vec<_> = self
            .shape()
            .iter()
            .map(|&d| shape::SliceRange::full(d))
            .collect();
        ranges[nd - 1].len = k;
        let idx = order.dyn_slice(&ranges)?;
        let values = crate::prim::pick(op, crate::prim::Pick::Gather, self, nd - 1, &idx)?;
        Ok((values, idx))
    }
    /// Cumulative sum of the flattened tensor (bool/u8/i32 accumulate in i64).
    pub fn cumsum(&self) -> Result<EagerTensor> {
        self.dyn_reshape(&[self.numel()])?
            .cast_to(self.dtype().sum_dtype())?
            .dyn_cumsum(0)
    }
    /// Cumulative sum along `axis`.
    pub fn cumsum_axis(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        let axis = normalize_axis("cumsum", axis, self.ndim())?;
        self.cast_to(self.dtype().sum_dtype())?.dyn_cumsum(axis)
    }
}

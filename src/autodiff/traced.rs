//! The single-tensor ops on traced tensors ([`DynOps`] for [`Traced`]):
//! each computes its value on the plain tensor and records its backward
//! rule.

use super::*;

/// The traced tensor as an `EagerTensor` again.
pub(super) fn wrap(t: &Traced) -> EagerTensor {
    EagerTensor::Traced(t.clone())
}

/// Re-inserts reduced axes (size 1) so that `g` broadcasts against the input.
pub(super) fn keep(
    g: &EagerTensor,
    axes: &[usize],
    keepdims: bool,
    in_shape: &[usize],
) -> Result<EagerTensor> {
    // Without the leading axes `g` already broadcasts against the input.
    if keepdims || axes.iter().enumerate().all(|(i, &a)| i == a) {
        return Ok(g.clone());
    }
    let mut s = in_shape.to_vec();
    for &a in axes {
        s[a] = 1;
    }
    g.reshape_exact(&s)
}

impl Traced {
    /// Records `out`, an op of this tensor alone, with `f(g)` as its
    /// input's gradient.
    fn record1(
        &self,
        op: &'static str,
        out: EagerTensor,
        f: impl Fn(&EagerTensor) -> Result<EagerTensor> + Send + Sync + 'static,
    ) -> Result<EagerTensor> {
        record(op, &[&wrap(self)], out, one(f))
    }
}

impl DynOps for Traced {
    fn dyn_backend(&self) -> crate::Backend {
        self.value().backend()
    }
    fn dyn_native_dtype_ok(&self) -> Result<()> {
        self.value().dyn_native_dtype_ok()
    }
    fn dyn_shape(&self) -> Vec<usize> {
        self.value().shape()
    }
    fn dyn_dtype(&self) -> DType {
        self.value().dtype()
    }
    fn dyn_device(&self) -> Device {
        self.value().device()
    }
    fn dyn_to_device(&self, device: Device) -> Result<EagerTensor> {
        let from = self.value().device();
        let out = self.value().dyn_to_device(device)?;
        self.record1("to_device", out, move |g| g.to_device(from))
    }
    fn dyn_to_host(&self) -> Result<HostData> {
        self.value().dyn_to_host()
    }
    fn dyn_lend_host(&self) -> Result<Option<HostBuffer>> {
        self.value().dyn_lend_host()
    }
    fn dyn_from_host_like(&self, data: HostData, shape: &[usize]) -> Result<EagerTensor> {
        self.value().dyn_from_host_like(data, shape)
    }
    fn dyn_full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<EagerTensor> {
        self.value().dyn_full(shape, value, dtype)
    }
    fn dyn_random(&self, dist: Distribution, shape: &[usize], dtype: DType) -> Result<EagerTensor> {
        self.value().dyn_random(dist, shape, dtype)
    }
    fn dyn_unary(&self, op: UnaryOp) -> Result<EagerTensor> {
        let x = self.value().clone();
        let y = x.dyn_unary(op)?;
        record(
            op.name(),
            &[&wrap(self)],
            y.clone(),
            unary_backward(op, x, y),
        )
    }
    fn dyn_binary_scalar(&self, op: BinaryOp, value: Scalar) -> Result<EagerTensor> {
        let s = self.value().dyn_full(&[], value, self.value().dtype())?;
        prim::binary(op, &wrap(self), &s)
    }
    fn dyn_cast(&self, dtype: DType) -> Result<EagerTensor> {
        let from = self.value().dtype();
        let out = self.value().dyn_cast(dtype)?;
        self.record1("astype", out, move |g| g.cast_to(from))
    }
    fn dyn_reduce(&self, op: ReduceOp, axes: &[usize], keepdims: bool) -> Result<EagerTensor> {
        let x = self.value().clone();
        let y = x.dyn_reduce(op, axes, keepdims)?;
        let shape = x.shape();
        let axes = axes.to_vec();
        let yv = y.clone();
        let backward: Backward = match op {
            ReduceOp::Sum => one(move |g| keep(g, &axes, keepdims, &shape)?.broadcast_to(&shape)),
            ReduceOp::Mean => one(move |g| {
                let count: usize = axes.iter().map(|&a| shape[a]).product();
                keep(
                    &g.div(float_scalar(g, count as f64))?,
                    &axes,
                    keepdims,
                    &shape,
                )?
                .broadcast_to(&shape)
            }),
            ReduceOp::Min | ReduceOp::Max => one(move |g| {
                // Ties share the gradient evenly (JAX's rule).
                let yk = keep(&yv, &axes, keepdims, &shape)?;
                let hit = x.eq(&yk)?.astype(x.dtype())?;
                let ax: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
                let count = hit.sum_axes(&ax, true)?;
                keep(g, &axes, keepdims, &shape)?.mul(&hit)?.div(&count)
            }),
            ReduceOp::Prod => one(move |g| {
                // The product of the other elements, also where x has zeros.
                let ax: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
                let zero = x.eq(float_scalar(&x, 0.0))?;
                let zeros = zero.astype(DType::I64)?.sum_axes(&ax, true)?;
                let nonzero_prod = zero
                    .where_cond(float_scalar(&x, 1.0), &x)?
                    .prod_axes(&ax, true)?;
                let no_zero = nonzero_prod.div(&x)?;
                let one_zero = zero.where_cond(&nonzero_prod, float_scalar(&x, 0.0))?;
                let share = zeros.eq(0i64)?.where_cond(
                    &no_zero,
                    &zeros
                        .eq(1i64)?
                        .where_cond(&one_zero, float_scalar(&x, 0.0))?,
                )?;
                keep(g, &axes, keepdims, &shape)?.mul(&share)
            }),
            ReduceOp::All | ReduceOp::Any => none(),
        };
        record("reduce", &[&wrap(self)], y, backward)
    }
    fn dyn_arg_reduce(&self, op: ArgReduceOp, axis: usize) -> Result<EagerTensor> {
        self.value().dyn_arg_reduce(op, axis)
    }
    fn dyn_sort(&self, axis: usize, descending: bool) -> Result<EagerTensor> {
        let idx = self.value().dyn_argsort(axis, descending)?;
        prim::pick("sort", crate::prim::Pick::Gather, &wrap(self), axis, &idx)
    }
    fn dyn_argsort(&self, axis: usize, descending: bool) -> Result<EagerTensor> {
        self.value().dyn_argsort(axis, descending)
    }
    fn dyn_cumsum(&self, axis: usize) -> Result<EagerTensor> {
        let out = self.value().dyn_cumsum(axis)?;
        self.record1("cumsum", out, move |g| {
            g.dyn_flip(&[axis])?.dyn_cumsum(axis)?.dyn_flip(&[axis])
        })
    }
    fn dyn_reshape(&self, shape: &[usize]) -> Result<EagerTensor> {
        let from = self.value().shape();
        let out = self.value().dyn_reshape(shape)?;
        self.record1("reshape", out, move |g| g.reshape_exact(&from))
    }
    fn dyn_permute(&self, axes: &[usize]) -> Result<EagerTensor> {
        let mut inverse = vec![0; axes.len()];
        for (i, &a) in axes.iter().enumerate() {
            inverse[a] = i;
        }
        let out = self.value().dyn_permute(axes)?;
        self.record1("permute", out, move |g| g.dyn_permute(&inverse))
    }
    fn dyn_broadcast_to(&self, shape: &[usize]) -> Result<EagerTensor> {
        let from = self.value().shape();
        let out = self.value().dyn_broadcast_to(shape)?;
        self.record1("broadcast_to", out, move |g| unbroadcast(g.clone(), &from))
    }
    fn dyn_slice(&self, ranges: &[SliceRange]) -> Result<EagerTensor> {
        let x = self.value().clone();
        let out = x.dyn_slice(ranges)?;
        let ranges = ranges.to_vec();
        let backward = one(move |g| {
            // Scatter the gradient back through the flat positions of the slice.
            let shape = x.shape();
            let n = x.numel();
            let pos = crate::arange(&x, 0, n as i64, 1)?
                .reshape_exact(&shape)?
                .dyn_slice(&ranges)?;
            let m = pos.numel();
            let flat = x.zeros_like()?.reshape_exact(&[n])?;
            prim::scatter_add(&flat, 0, &pos.reshape_exact(&[m])?, &g.reshape_exact(&[m])?)?
                .reshape_exact(&shape)
        });
        record("slice", &[&wrap(self)], out, backward)
    }
    fn dyn_flip(&self, axes: &[usize]) -> Result<EagerTensor> {
        let out = self.value().dyn_flip(axes)?;
        let axes = axes.to_vec();
        self.record1("flip", out, move |g| g.dyn_flip(&axes))
    }
    fn dyn_nonzero(&self) -> Result<EagerTensor> {
        self.value().dyn_nonzero()
    }
    fn dyn_inv(&self) -> Result<EagerTensor> {
        let y = self.value().dyn_inv()?;
        let yv = y.clone();
        // -Yᵀ g Yᵀ, the transposes folded into the products.
        let backward = one(move |g| {
            prim::matmul_t(&prim::matmul_t(&yv, g, true, false)?, &yv, false, true)?.neg()
        });
        record("inv", &[&wrap(self)], y, backward)
    }
    fn dyn_slogdet(&self) -> Result<(EagerTensor, EagerTensor)> {
        let x = self.value().clone();
        let (sign, logdet) = x.dyn_slogdet()?;
        let backward = one(move |g| {
            let mut s = g.shape();
            s.extend([1, 1]);
            g.reshape_exact(&s)?.mul(&swap_last2(&x.dyn_inv()?)?)
        });
        Ok((sign, record("slogdet", &[&wrap(self)], logdet, backward)?))
    }
}

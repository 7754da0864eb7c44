//! Linear algebra: `matmul` (batched, broadcast), `inv` and `slogdet`.

use super::*;

impl EagerTensor {
    /// True when every element is finite (no NaN, no ±inf).
    pub(super) fn isfinite_all(&self) -> Result<bool> {
        if self.in_jit() {
            // No values inside jit: a non-finite matrix gives what the
            // elimination gives (NaN/inf), as in `jax.jit`.
            return Ok(true);
        }
        let bad = self.isnan()?.logical_or(&self.isinf()?)?;
        Ok(!bad.any()?.item::<bool>()?)
    }
    pub(super) fn check_square(&self, op: &'static str) -> Result<EagerTensor> {
        let s = self.shape();
        if s.len() < 2 || s[s.len() - 1] != s[s.len() - 2] {
            return Err(Error::shape(
                op,
                format!("needs square matrices [..., n, n], got {s:?}"),
            ));
        }
        if self.dtype() == DType::Bool {
            return Err(Error::dtype(op, "not defined for bool tensors"));
        }
        self.cast_to(self.dtype().to_float())
    }
}

methods_and_fns! {
    /// Matrix product with NumPy's rules: 1-D operands are promoted to
    /// matrices and the added axis removed again; batch axes broadcast.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let a = ep::astensor(ep::ndarray::arr2(&[[1.0f32, 2.0], [3.0, 4.0]]));
    /// let v = ep::astensor(ep::ndarray::arr1(&[1.0f32, -1.0]));
    /// assert_eq!(a.matmul(&a)?.to_vec::<f32>()?, vec![7.0, 10.0, 15.0, 22.0]);
    /// assert_eq!(ep::matmul(&a, &v)?.to_vec::<f32>()?, vec![-1.0, -1.0]); // shape [2]
    /// assert_eq!(a.matmul(&a.index(ep::s![0])?.reshape([1, 2])?).unwrap_err().op(), "matmul");
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn matmul(&self, rhs: &EagerTensor) -> Result<EagerTensor> {
        let op = "matmul";
        let (sa, sb) = (self.shape_cow(), rhs.shape_cow());
        if sa.is_empty() || sb.is_empty() {
            return Err(Error::shape(
                op,
                "0-d tensors cannot be matrix-multiplied; use mul",
            ));
        }
        if self.backend() != rhs.backend() {
            return Err(crate::tensor::mismatch(op, &[self, rhs]));
        }
        let dtype = self.dtype().promote(rhs.dtype());
        if dtype == DType::Bool {
            return Err(Error::dtype(op, "not defined for bool tensors"));
        }
        let plain_2d =
            sa.len() == 2 && sb.len() == 2 && self.dtype() == dtype && rhs.dtype() == dtype;
        if plain_2d {
            // The common case: no promotion, reshape or broadcast to do.
            if sa[1] != sb[0] {
                return Err(Error::shape(
                    op,
                    format!(
                        "shapes {sa:?} and {sb:?}: inner dimensions {} and {} differ",
                        sa[1], sb[0]
                    ),
                ));
            }
            shape::check_size(op, &[sa[0], sb[1]], dtype)?;
            return crate::prim::matmul(self, rhs);
        }
        let a2 = if sa.len() == 1 {
            vec![1, sa[0]]
        } else {
            sa.to_vec()
        };
        let b2 = if sb.len() == 1 {
            vec![sb[0], 1]
        } else {
            sb.to_vec()
        };
        let (m, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
        let (k2, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
        if k != k2 {
            return Err(Error::shape(
                op,
                format!("shapes {sa:?} and {sb:?}: inner dimensions {k} and {k2} differ"),
            ));
        }
        let batch = shape::broadcast_shapes(op, &a2[..a2.len() - 2], &b2[..b2.len() - 2])?;
        let with_batch = |r: usize, c: usize| {
            let mut s = batch.clone();
            s.extend([r, c]);
            s
        };
        let (fa, fb) = (with_batch(m, k), with_batch(k, n));
        for s in [&fa, &fb, &with_batch(m, n)] {
            shape::check_size(op, s, dtype)?;
        }
        let a = self.cast_to(dtype)?.reshape_exact(&a2)?;
        let b = rhs.cast_to(dtype)?.reshape_exact(&b2)?;
        let a = if a2 == fa {
            a
        } else {
            a.dyn_broadcast_to(&fa)?
        };
        let b = if b2 == fb {
            b
        } else {
            b.dyn_broadcast_to(&fb)?
        };
        let out = crate::prim::matmul(&a, &b)?;
        let mut out_shape = batch;
        if sa.len() > 1 {
            out_shape.push(m);
        }
        if sb.len() > 1 {
            out_shape.push(n);
        }
        if out_shape == out.shape() {
            Ok(out)
        } else {
            out.dyn_reshape(&out_shape)
        }
    }
    /// Inverse of a square matrix or a batch of them (integers compute in
    /// f64); a singular matrix is an error.
    pub fn inv(&self) -> Result<EagerTensor> {
        let x = self.check_square("inv")?;
        if x.numel() == 0 {
            // No matrix, or 0×0 ones (each its own inverse): nothing to
            // compute, and no loop over a batch of empty matrices.
            return Ok(x);
        }
        // One rule where the frameworks' LU kernels disagree (NumPy calls a
        // matrix with NaN singular, PyTorch returns NaN, ...): a matrix with
        // NaN or ±inf is an `invalid` error, as a singular one is.
        if x.dtype().is_float() && x.numel() > 0 && !x.isfinite_all()? {
            return Err(Error::invalid(
                "inv",
                "the matrix has NaN or infinite entries (treated as singular)",
            ));
        }
        x.dyn_inv()
    }
    /// Sign and natural log of the absolute determinant (NumPy's `slogdet`).
    /// A matrix with NaN or ±inf gives NaN for both.
    pub fn slogdet(&self) -> Result<(EagerTensor, EagerTensor)> {
        let x = self.check_square("slogdet")?;
        let s = x.shape();
        let batch = &s[..s.len() - 2];
        shape::check_size("slogdet", batch, x.dtype())?;
        if x.numel() == 0 {
            // No matrix, or 0×0 ones, whose determinant is 1 (NumPy's
            // answer): sign 1, log 0, without a loop over the batch.
            let ones = crate::full(&x, batch.to_vec(), 1.0)?;
            return Ok((ones, crate::full(&x, batch.to_vec(), 0.0)?));
        }
        let (sign, logdet) = x.dyn_slogdet()?;
        if !x.dtype().is_float() {
            return Ok((sign, logdet));
        }
        // The frameworks disagree on a matrix with NaN or inf (NumPy: sign
        // -1 or 1, PyTorch: 0, TensorFlow: (0, -inf), ...); one rule here
        // for all.
        let bad = x
            .isnan()?
            .logical_or(&x.isinf()?)?
            .any_axes([-2, -1], false)?;
        Ok((
            bad.where_cond(f64::NAN, &sign)?,
            bad.where_cond(f64::NAN, &logdet)?,
        ))
    }
}

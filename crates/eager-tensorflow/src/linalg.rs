//! LinalgOps of [`TfTensor`]: matrix products, inverse, log-determinant.

use super::*;

impl LinalgOps for TfTensor {
    fn matmul(&self, rhs: &Self) -> Result<Self> {
        self.matmul_t(rhs, false, false)
    }
    fn matmul_t(&self, rhs: &Self, transpose_a: bool, transpose_b: bool) -> Result<Self> {
        let d = self.dtype();
        let work = compute_dtype(Work::Matmul, d);
        if work != d {
            let (a, b) = (self.widen("matmul", work)?, rhs.widen("matmul", work)?);
            return a
                .matmul_t(&b, transpose_a, transpose_b)?
                .narrow("matmul", work, d);
        }
        let ctx = context()?;
        // Plain 2-D products go to `MatMul`, whose eager call is cheaper;
        // its CPU kernels cover f32, f64, i32 and i64 of the dtypes left
        // after widening (i16 stays on `BatchMatMulV2`). Its f32 sums may
        // round differently from `BatchMatMulV2`'s (matrix-vector shapes),
        // as they would for a TensorFlow user calling `MatMul`.
        let plain = matches!(d, DType::F32 | DType::F64 | DType::I32 | DType::I64)
            && self.dims().len() == 2
            && rhs.dims().len() == 2;
        if plain {
            let op = ops::MatMul::new()
                .transpose_a(transpose_a)
                .transpose_b(transpose_b);
            return Ok(wrap(op.call(ctx, self.h(), rhs.h()).map_err(fw("matmul"))?));
        }
        // adj_x / adj_y (the adjoint is the transpose for real dtypes).
        let op = ops::BatchMatMulV2::new()
            .adj_x(transpose_a)
            .adj_y(transpose_b);
        Ok(wrap(op.call(ctx, self.h(), rhs.h()).map_err(fw("matmul"))?))
    }
    fn inv(&self) -> Result<Self> {
        let d = self.dtype();
        let work = compute_dtype(Work::Linalg, d);
        if work != d {
            return self.widen("inv", work)?.inv()?.narrow("inv", work, d);
        }
        ops::matrix_inverse(context()?, self.h())
            .map(wrap)
            .map_err(|e| {
                let msg = e.to_string();
                if msg.contains("not invertible") {
                    Error::invalid("inv", "the matrix is singular")
                } else {
                    Error::Framework {
                        op: "inv",
                        backend: Backend::TensorFlow,
                        msg,
                    }
                }
            })
    }
    fn slogdet(&self) -> Result<(Self, Self)> {
        let d = self.dtype();
        let work = compute_dtype(Work::Linalg, d);
        if work != d {
            let (s, l) = self.widen("slogdet", work)?.slogdet()?;
            return Ok((s.narrow("slogdet", work, d)?, l.narrow("slogdet", work, d)?));
        }
        let [s, l] = ops::log_matrix_determinant(context()?, self.h()).map_err(fw("slogdet"))?;
        Ok((wrap(s), wrap(l)))
    }
}

//! LinalgOps of [`TorchTensor`]: matrix products, inverse, log-determinant.

use super::*;

impl LinalgOps for TorchTensor {
    fn matmul(&self, rhs: &Self) -> Result<Self> {
        let r = self.tensor.f_matmul(rhs.t()).map_err(fw("matmul"))?;
        unsigned::wrap(self, r)
    }
    fn inv(&self) -> Result<Self> {
        if self.is_half() {
            // libtorch has no f16/bf16 LAPACK kernels.
            return self.via_f32(|t| t.inv());
        }
        let e = fw("inv");
        let (inv, info) = Tensor::f_linalg_inv_ex(self.t(), false).map_err(&e)?;
        let singular = scalar_call("inv", || info.f_ne(0)?.f_any()?.f_int64_value(&[]))? != 0;
        if singular {
            return Err(Error::invalid("inv", "the matrix is singular"));
        }
        Self::ok(inv)
    }
    fn slogdet(&self) -> Result<(Self, Self)> {
        if self.is_half() {
            let d = self.dtype();
            let (s, l) = self.cast(DType::F32)?.slogdet()?;
            return Ok((s.cast(d)?, l.cast(d)?));
        }
        let (s, l) = Tensor::f_linalg_slogdet(self.t()).map_err(fw("slogdet"))?;
        Ok((TorchTensor::wrap(s), TorchTensor::wrap(l)))
    }
}

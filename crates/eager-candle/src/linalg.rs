//! LinalgOps of [`CandleTensor`]: matrix products, inverse, log-determinant.

use super::*;

impl LinalgOps for CandleTensor {
    fn matmul(&self, rhs: &Self) -> Result<Self> {
        let d = self.dtype();
        let empty = self.tensor.elem_count() == 0 || rhs.tensor.elem_count() == 0;
        match d {
            DType::F32 | DType::F64 if !empty => {
                let e = fw("matmul");
                let r = self.tensor.matmul(&rhs.tensor).or_else(|_| {
                    // Candle's gemm takes only some strided layouts.
                    self.tensor.contiguous()?.matmul(&rhs.tensor.contiguous()?)
                });
                Self::ok(r.map_err(e)?)
            }
            DType::F16 | DType::BF16 if !empty => {
                backprop::uncovered_if(&[&self.tensor, &rhs.tensor]);
                // f32 accumulation, one rounding.
                let r = rhs.cast(DType::F32)?;
                via_f32(self, |t| t.matmul(&r))
            }
            _ => self.host2(rhs, |a, b| a.matmul(b)),
        }
    }
    fn inv(&self) -> Result<Self> {
        self.host(|t| t.inv())
    }
    fn slogdet(&self) -> Result<(Self, Self)> {
        let (s, l) = self.nd()?.slogdet()?;
        Ok((Self::from_nd(s)?, Self::from_nd(l)?))
    }
}

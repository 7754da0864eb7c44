//! CastOps of [`CandleTensor`]: dtype conversion.

use super::*;

impl CastOps for CandleTensor {
    fn cast(&self, dtype: DType) -> Result<Self> {
        let from = self.dtype();
        if from == dtype {
            return Ok(self.clone());
        }
        let e = fw("astype");
        if dtype == DType::Bool {
            // Non-zero is true (NaN too); the u64 bit pattern is non-zero
            // exactly when the value is.
            return Self::boolean(self.tensor.ne(0.0).map_err(e)?);
        }
        if from == DType::Bool && !dtype.is_half() {
            // 0/1 fit every storage dtype exactly.
            return Ok(CandleTensor {
                tensor: self.tensor.to_dtype(store(dtype)).map_err(e)?,
                tag: tag(dtype),
            });
        }
        if self.tag.is_some() || tag(dtype).is_some() {
            // Emulated dtypes are integers or bool: no gradient flows.
            return self.detach().host(|t| t.cast(dtype));
        }
        // A pair Candle has no kernel for falls back to the host.
        self.candle_cast(dtype)
            .or_else(|_| self.host(|t| t.cast(dtype)))
    }
}

//! CreateOps of [`CandleTensor`]: new tensors like another: filled, random.

use super::*;

impl CreateOps for CandleTensor {
    fn full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<Self> {
        let n = eager_core::shape::numel(shape);
        Self::from_host(HostData::filled("full", value, dtype, n)?, shape)
    }
    /// Drawn on the host by this backend's generator (see [`seed`]).
    fn random(&self, dist: Distribution, shape: &[usize], dtype: DType) -> Result<Self> {
        Self::from_host(
            random::sample(dist, eager_core::shape::numel(shape), dtype)?,
            shape,
        )
    }
}

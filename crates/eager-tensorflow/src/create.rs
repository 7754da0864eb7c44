//! CreateOps of [`TfTensor`]: new tensors like another: filled, random.

use super::*;

impl CreateOps for TfTensor {
    fn full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<Self> {
        let op = "full";
        let v = upload(op, &HostData::filled(op, value, dtype, 1)?, &[])?;
        if shape.is_empty() {
            return Ok(v);
        }
        let dims = sizes(op, shape)?;
        Ok(wrap(
            ops::fill(context()?, dims.h(), v.h()).map_err(fw(op))?,
        ))
    }
    fn random(&self, dist: Distribution, shape: &[usize], dtype: DType) -> Result<Self> {
        Self::from_host(
            random::sample(dist, eager_core::shape::numel(shape), dtype)?,
            shape,
        )
    }
}

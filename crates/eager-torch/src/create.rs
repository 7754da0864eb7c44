//! CreateOps of [`TorchTensor`]: new tensors like another: filled, random.

use super::*;

impl CreateOps for TorchTensor {
    fn full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<Self> {
        let value = value.cast("full", dtype)?;
        let t = scalar_call("full", || {
            Tensor::f_full(
                dims(shape).as_slice(),
                scalar(value),
                (kind(dtype), self.opts()),
            )
        })?;
        Ok(TorchTensor::new(t, tag(dtype)))
    }
    fn random(&self, dist: Distribution, shape: &[usize], dtype: DType) -> Result<Self> {
        let opts = (kind(dtype), self.opts());
        Self::ok(scalar_call("random", || match dist {
            Distribution::Uniform { low, high } => Tensor::f_rand(dims(shape).as_slice(), opts)?
                .f_mul_scalar(high - low)?
                .f_add_scalar(low),
            Distribution::Normal { mean, std } => Tensor::f_randn(dims(shape).as_slice(), opts)?
                .f_mul_scalar(std)?
                .f_add_scalar(mean),
        })?)
    }
}

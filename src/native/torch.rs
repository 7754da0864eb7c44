//! `tch::Tensor` as a native.

use crate::{EagerTensor, Native, NativeRef, Result, TorchTensor};
use eager_torch::tch;

impl From<tch::Tensor> for EagerTensor {
    /// Wraps without copying. A kind eager-tensor lacks (complex,
    /// quantized, float8) makes every op an error naming the kind.
    fn from(t: tch::Tensor) -> Self {
        EagerTensor::Torch(TorchTensor::wrap(t))
    }
}
impl Native for tch::Tensor {
    type AnyDType = tch::Tensor;
    fn from_eager(t: EagerTensor) -> Result<Self> {
        TorchTensor::from_eager(t).and_then(TorchTensor::into_tch)
    }
}
impl NativeRef for tch::Tensor {
    fn ref_from_eager(t: &EagerTensor) -> Result<&Self> {
        TorchTensor::ref_from_eager(t).and_then(TorchTensor::as_tch)
    }
}

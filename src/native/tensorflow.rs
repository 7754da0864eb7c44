//! TensorFlow's `TensorHandle` as a native.

use crate::{EagerTensor, Native, Result, TfTensor};
use eager_tensorflow::tensorflow::eager::TensorHandle;

impl From<TensorHandle<'static>> for EagerTensor {
    /// Wraps a handle of the backend's context ([`eager_tensorflow::context`]) without copying.
    fn from(h: TensorHandle<'static>) -> Self {
        EagerTensor::TensorFlow(TfTensor::from_handle(h))
    }
}
impl Native for TensorHandle<'static> {
    type AnyDType = TensorHandle<'static>;
    /// The handle itself when this tensor is its only owner, else a new
    /// handle sharing the same buffer (`copy_sharing_tensor`: no copy).
    fn from_eager(t: EagerTensor) -> Result<Self> {
        TfTensor::from_eager(t)?.into_handle()
    }
}

//! TensorFlow's `TensorHandle` as a native: a handle of the backend's
//! context ([`eager_tensorflow::context`]) wraps without copying; taken
//! out, it is the handle itself when this tensor is its only owner, else a
//! new handle sharing the same buffer (`copy_sharing_tensor`: no copy).

use crate::TfTensor;
use eager_tensorflow::tensorflow::eager::TensorHandle;

super::framework_native!(
    TensorHandle<'static>,
    TfTensor,
    any: TensorHandle<'static>,
    wrap: TfTensor::from_handle,
    share: TfTensor::sharing,
    into: TfTensor::into_handle
);

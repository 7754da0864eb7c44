//! `tch::Tensor` as a native: wrapped without copying. A kind eager-tensor
//! lacks (complex, quantized, float8) makes every op an error naming the
//! kind; taking out or borrowing a u16/u32/u64 tensor, which tch has no
//! kind for, is a `dtype` error.

use crate::TorchTensor;
use eager_torch::tch;

super::framework_native!(
    tch::Tensor,
    TorchTensor,
    wrap: TorchTensor::wrap,
    into: TorchTensor::into_tch,
    as: TorchTensor::as_tch
);

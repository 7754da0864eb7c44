//! `tch::Tensor` as a native: wrapped without copying. A kind eager-tensor
//! lacks (complex, quantized, float8) makes every op an error naming the
//! kind; taking out or borrowing a u16/u32/u64 tensor, which tch has no
//! kind for, is a `dtype` error.

use crate::TorchTensor;
use eager_torch::tch;

super::framework_native!(
    tch::Tensor,
    TorchTensor,
    // libtorch has no u16/u32/u64 kinds: the backend's tensor holds them.
    any: TorchTensor,
    wrap: TorchTensor::wrap,
    share: |t| TorchTensor::wrap(t.shallow_clone()),
    into: TorchTensor::into_tch,
    as: TorchTensor::as_tch
);

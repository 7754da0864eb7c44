//! `candle_core::Tensor` as a native.

use crate::{EagerTensor, Native, NativeRef, Result, CandleTensor};
use eager_candle::candle_core;

impl From<candle_core::Tensor> for EagerTensor {
    /// Wraps without copying (the `Tensor` handle is shared). A Candle
    /// dtype eager-tensor lacks (the 8-, 6- and 4-bit floats) makes
    /// every op an error naming it.
    fn from(t: candle_core::Tensor) -> Self {
        EagerTensor::Candle(CandleTensor::wrap(t))
    }
}
impl Native for candle_core::Tensor {
    type AnyDType = candle_core::Tensor;
    /// The `Tensor` itself, without copying; a `dtype` error for the
    /// dtypes Candle has no type for (bool, i8, u16, u64), which the
    /// backend emulates (cast with `astype` first).
    fn from_eager(t: EagerTensor) -> Result<Self> {
        CandleTensor::from_eager(t).and_then(CandleTensor::into_candle)
    }
}
impl NativeRef for candle_core::Tensor {
    fn ref_from_eager(t: &EagerTensor) -> Result<&Self> {
        CandleTensor::ref_from_eager(t).and_then(CandleTensor::as_candle)
    }
}

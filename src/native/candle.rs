//! `candle_core::Tensor` as a native: wrapped without copying (the
//! `Tensor` handle is shared). A Candle dtype eager-tensor lacks (the 8-,
//! 6- and 4-bit floats) makes every op an error naming it; taking out or
//! borrowing a tensor of a dtype Candle has no type for (bool, i8, u16,
//! u64), which the backend emulates, is a `dtype` error (cast with
//! `astype` first).

use crate::CandleTensor;
use eager_candle::candle_core;

super::framework_native!(
    candle_core::Tensor,
    CandleTensor,
    // Candle has no bool, i8, u16 or u64: the backend's tensor holds them.
    any: CandleTensor,
    wrap: CandleTensor::wrap,
    share: |t| CandleTensor::wrap(t.clone()),
    into: CandleTensor::into_candle,
    as: CandleTensor::as_candle
);

//! CastOps of [`TfTensor`]: dtype conversion.

use super::*;

impl CastOps for TfTensor {
    fn cast(&self, dtype: DType) -> Result<Self> {
        let op = "astype";
        let ctx = context()?;
        let e = fw(op);
        if self.dtype().is_half() && dtype.is_int() {
            // f16/bf16 widen to f32 exactly and saturate there.
            return self.cast_tf(op, DataType::Float)?.cast(dtype);
        }
        if let Some((lo, hi, above)) = self.dtype().saturating_cast_bounds(dtype) {
            // NaN and out-of-range floats saturate (NaN -> 0), as on every
            // backend: clip to bounds the float dtype holds exactly, cast,
            // and put the maximum where the value reached 2^bits.
            let nan = ops::is_nan(ctx, self.h()).map_err(&e)?;
            let zero = self.scalar_of(op, 0.0)?;
            let clean = ops::select_v2(ctx, &nan, zero.h(), self.h()).map_err(&e)?;
            let (lo, hi) = (self.scalar_of(op, lo)?, self.scalar_of(op, hi)?);
            let clipped = ops::clip_by_value(ctx, &clean, lo.h(), hi.h()).map_err(&e)?;
            let cast = ops::Cast::new()
                .DstT(tf_type(dtype))
                .call(ctx, &clipped)
                .map_err(&e)?;
            let top =
                ops::greater_equal(ctx, self.h(), self.scalar_of(op, above)?.h()).map_err(&e)?;
            let max = dtype
                .max_scalar()
                .ok_or_else(|| Error::dtype(op, format!("{dtype} has no saturation bound")))?;
            let max = self.full(&[], max, dtype)?;
            return Ok(wrap(ops::select_v2(ctx, &top, max.h(), &cast).map_err(&e)?));
        }
        let from = self.dtype();
        if from == DType::F64 && dtype == DType::F16 {
            // TF's f64 -> f16 Cast goes through f32 and rounds twice (a
            // value just above a tie rounds as the tie); NumPy rounds once,
            // as the host does (`eager_core::round`). (f64 -> bf16 through
            // f32 is ml_dtypes' and JAX's rule: TF's Cast is right there.)
            return from_host_tensor(&eager_host(self)?.cast(dtype)?);
        }
        if dtype == DType::Bool {
            // TF's Cast to bool is `x != 0`, as NumPy's, but not for every type: compare.
            let zero = self.scalar_of(op, 0.0)?;
            return Ok(wrap(ops::not_equal(ctx, self.h(), zero.h()).map_err(&e)?));
        }
        self.cast_tf(op, tf_type(dtype))
    }
}

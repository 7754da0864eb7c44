//! CastOps of [`TorchTensor`]: dtype conversion.

use super::*;

impl CastOps for TorchTensor {
    fn cast(&self, dtype: DType) -> Result<Self> {
        let t = self.t();
        if self.dtype() == dtype {
            return Ok(self.clone());
        }
        if self.unsigned.is_some() || tag(dtype).is_some() {
            return unsigned::cast(self, dtype);
        }
        if self.dtype() == DType::F64 && dtype == DType::F16 {
            return Self::ok(scalar_call("astype", || f64_to_f16(t))?);
        }
        if self.is_half() && dtype.is_int() {
            // Exactly through f32, whose saturating bounds apply.
            return self.cast(DType::F32)?.cast(dtype);
        }
        let Some((lo, hi, above)) = self.dtype().saturating_cast_bounds(dtype) else {
            return Self::ok(t.f_to_kind(kind(dtype)).map_err(fw("astype"))?);
        };
        // NaN and out-of-range floats saturate (NaN -> 0), as on every
        // backend: clamp to bounds the float dtype holds exactly, cast, and
        // put the maximum where the value reached 2^bits.
        let max = dtype
            .max_scalar()
            .map(scalar)
            .ok_or_else(|| Error::dtype("astype", format!("{dtype} has no saturation bound")))?;
        Self::ok(scalar_call("astype", || {
            let clean = t.f_nan_to_num(0.0, hi, lo)?.f_clamp(lo, hi)?;
            let cast = clean.f_to_kind(kind(dtype))?;
            let top = t.f_ge(above)?;
            cast.f_masked_fill(&top, max)
        })?)
    }
}

//! CastOps of [`XlaTensor`]: dtype conversion.

use super::*;

impl CastOps for XlaTensor {
    fn cast(&self, dtype: DType) -> Result<Self> {
        if dtype == self.dtype {
            return Ok(self.clone());
        }
        let (d, s) = (self.dtype, &self.shape);
        exec1("astype", &[dtype as i64], &[self], |p, a| {
            let x = &a[0];
            let r = if dtype == DType::Bool {
                let z = p.full(d, 0.0, s);
                p.cmp("NE", x, &z, d, s)
            } else if let Some((lo, hi, above)) = compute_dtype(d).saturating_cast_bounds(dtype) {
                // NaN and out-of-range floats saturate (NaN -> 0), as on
                // every backend: clamp to bounds the float dtype holds
                // exactly, convert, and put the maximum where the value
                // reached 2^bits. A 16-bit float widens to f32 first
                // (exactly).
                let (x, d) = p.widen(x, d, s);
                let x = &x;
                let lo = p.full(d, lo, s);
                let hi = p.full(d, hi, s);
                let c = p.clamp(&lo, x, &hi, d, s);
                let nan = p.cmp("NE", x, x, d, s);
                let z = p.full(d, 0.0, s);
                let clean = p.select(&nan, &z, &c, d, s);
                let conv = p.convert(&clean, d, dtype, s);
                let above = p.full(d, above, s);
                let top = p.cmp("GE", x, &above, d, s);
                let max = p.full(dtype, max_of(dtype), s);
                p.select(&top, &max, &conv, dtype, s)
            } else {
                p.convert_float(x, d, dtype, s)
            };
            Ok((r, dtype, s.to_vec()))
        })
    }
}

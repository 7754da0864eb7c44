//! CreateOps of [`XlaTensor`]: new tensors like another: filled, random.

use super::*;

impl CreateOps for XlaTensor {
    fn full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<Self> {
        // One element goes up; the device broadcasts it.
        let v = upload("full", &HostData::filled("full", value, dtype, 1)?, &[])?;
        v.broadcast_to(shape)
    }
    fn random(&self, dist: Distribution, shape: &[usize], dtype: DType) -> Result<Self> {
        if self.is_traced_by_jit() {
            // Drawn on the host side at trace time, the numbers would be
            // frozen into the program: draw outside and pass them in.
            return Err(jit::not_inside("random"));
        }
        random::draw(dist, shape, dtype)
    }
}

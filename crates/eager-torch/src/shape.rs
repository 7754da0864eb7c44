//! ShapeOps of [`TorchTensor`]: reshape, permute, broadcast, slice, flip, concatenate.

use super::*;

impl ShapeOps for TorchTensor {
    fn reshape(&self, shape: &[usize]) -> Result<Self> {
        self.apply("reshape", |t| t.f_reshape(dims(shape).as_slice()))
    }
    fn permute(&self, axes: &[usize]) -> Result<Self> {
        self.apply("permute", |t| t.f_permute(dims(axes).as_slice()))
    }
    fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        self.apply("broadcast_to", |t| t.f_broadcast_to(dims(shape).as_slice()))
    }
    fn slice(&self, ranges: &[SliceRange]) -> Result<Self> {
        let e = fw("slice");
        let mut t = self.tensor.shallow_clone();
        for (ax, (r, n)) in ranges.iter().zip(self.shape()).enumerate() {
            if *r != SliceRange::full(n) {
                t = t
                    .f_slice(ax as i64, r.start as i64, r.end() as i64, r.step as i64)
                    .map_err(&e)?;
            }
        }
        self.keep(t)
    }
    fn flip(&self, axes: &[usize]) -> Result<Self> {
        self.apply("flip", |t| t.f_flip(dims(axes).as_slice()))
    }
    fn concat(tensors: &[&Self], axis: usize) -> Result<Self> {
        let ts: Vec<&Tensor> = tensors.iter().map(|t| t.t()).collect();
        let first = tensors
            .first()
            .ok_or_else(|| Error::invalid("concatenate", "no tensors"))?;
        first.keep(Tensor::f_cat(&ts, axis as i64).map_err(fw("concatenate"))?)
    }
}

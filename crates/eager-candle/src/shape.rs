//! ShapeOps of [`CandleTensor`]: reshape, permute, broadcast, slice, flip, concatenate.

use super::*;

impl ShapeOps for CandleTensor {
    fn reshape(&self, shape: &[usize]) -> Result<Self> {
        self.keep(self.tensor.reshape(shape.to_vec()).map_err(fw("reshape"))?)
    }
    fn permute(&self, axes: &[usize]) -> Result<Self> {
        if axes.len() < 2 {
            return Ok(self.clone());
        }
        self.keep(self.tensor.permute(axes.to_vec()).map_err(fw("permute"))?)
    }
    fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        self.keep(
            self.tensor
                .broadcast_as(shape)
                .map_err(fw("broadcast_to"))?,
        )
    }
    fn slice(&self, ranges: &[SliceRange]) -> Result<Self> {
        let e = fw("slice");
        if ranges.iter().any(|r| r.len == 0) {
            // A fresh empty tensor: an empty Candle view keeps an offset
            // that some of Candle's kernels index with.
            let shape: Vec<usize> = ranges.iter().map(|r| r.len).collect();
            return self.keep(Tensor::zeros(shape, self.tensor.dtype(), &CPU).map_err(e)?);
        }
        let mut t = self.tensor.clone();
        for (ax, (r, n)) in ranges.iter().zip(self.shape()).enumerate() {
            if *r == SliceRange::full(n) {
                continue;
            }
            t = if r.step == 1 || r.len <= 1 {
                t.narrow(ax, r.start, r.len)
            } else {
                let idx: Vec<i64> = (0..r.len).map(|i| (r.start + i * r.step) as i64).collect();
                // Candle's index_select takes contiguous operands only.
                Tensor::from_vec(idx, r.len, &CPU)
                    .and_then(|i| t.contiguous()?.index_select(&i, ax))
            }
            .map_err(&e)?;
        }
        self.keep(t)
    }
    /// A copy (Candle has no negative strides): `index_select` with
    /// reversed indices along each axis, as Candle's own `flip`, on a
    /// contiguous operand (which Candle's `index_select` needs).
    fn flip(&self, axes: &[usize]) -> Result<Self> {
        let e = fw("flip");
        if self.tensor.elem_count() == 0 || axes.is_empty() {
            return Ok(self.clone());
        }
        self.keep(contiguous(&self.tensor, &e)?.flip(axes).map_err(e)?)
    }
    fn concat(tensors: &[&Self], axis: usize) -> Result<Self> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::invalid("concatenate", "no tensors"))?;
        let ts: Vec<&Tensor> = tensors.iter().map(|t| &t.tensor).collect();
        first.keep(Tensor::cat(&ts, axis).map_err(fw("concatenate"))?)
    }
}

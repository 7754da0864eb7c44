//! IndexOps of [`TorchTensor`]: index select, gather, scatter, nonzero.

use super::*;

impl IndexOps for TorchTensor {
    fn index_select(&self, axis: usize, index: &Self) -> Result<Self> {
        self.apply("index_select", |t| t.f_index_select(axis as i64, index.t()))
    }
    fn gather(&self, axis: usize, index: &Self) -> Result<Self> {
        self.apply("take_along_axis", |t| {
            t.f_gather(axis as i64, index.t(), false)
        })
    }
    fn scatter(&self, positions: &Self, values: &Self) -> Result<Self> {
        self.keep(
            self.tensor
                .f_index_put(&[Some(positions.t())], values.t(), false)
                .map_err(fw("index_update"))?,
        )
    }
    fn scatter_add(&self, axis: usize, index: &Self, src: &Self) -> Result<Self> {
        let r = self
            .tensor
            .f_scatter_add(axis as i64, index.t(), src.t())
            .map_err(fw("scatter_add"))?;
        unsigned::wrap(self, r)
    }
    fn nonzero(&self) -> Result<Self> {
        Self::ok(self.tensor.f_nonzero().map_err(fw("nonzero"))?)
    }
}

//! IndexOps of [`CandleTensor`]: index select, gather, scatter, nonzero.

use super::*;

impl IndexOps for CandleTensor {
    fn index_select(&self, axis: usize, index: &Self) -> Result<Self> {
        self.pick("index_select", index, |x, i| x.index_select(i, axis))
    }
    fn gather(&self, axis: usize, index: &Self) -> Result<Self> {
        self.pick("take_along_axis", index, |x, i| x.gather(i, axis))
    }
    fn scatter(&self, positions: &Self, values: &Self) -> Result<Self> {
        if positions.tensor.elem_count() == 0 {
            return Ok(self.clone());
        }
        let e = fw("index_update");
        // Candle's Scatter rule gives the overwritten positions of `self`
        // the gradient too: the tape differentiates it.
        backprop::uncovered_if(&[&self.tensor, &values.tensor]);
        let (x, p, v) = (
            contiguous(&self.tensor, &e)?,
            contiguous(&positions.tensor, &e)?,
            contiguous(&values.tensor, &e)?,
        );
        self.keep(x.scatter(&p, &v, 0).map_err(e)?)
    }
    fn scatter_add(&self, axis: usize, index: &Self, src: &Self) -> Result<Self> {
        if !self.is_float() || index.tensor.elem_count() == 0 {
            // Integer sums wrap (Candle's `+=` would panic in debug builds).
            return Self::from_nd(self.nd()?.scatter_add(axis, &index.nd()?, &src.nd()?)?);
        }
        let e = fw("scatter_add");
        // Candle's ScatterAdd rule zeroes the gradient of `self` at the
        // indexed positions: the tape differentiates it.
        backprop::uncovered_if(&[&self.tensor, &src.tensor]);
        let (x, i, s) = (
            contiguous(&self.tensor, &e)?,
            contiguous(&index.tensor, &e)?,
            contiguous(&src.tensor, &e)?,
        );
        self.keep(x.scatter_add(&i, &s, axis).map_err(e)?)
    }
    fn nonzero(&self) -> Result<Self> {
        self.detach().host(|t| t.nonzero())
    }
}

impl CandleTensor {
    /// `pick(x, index)` on contiguous operands: Candle's index kernels take
    /// contiguous operands only.
    fn pick(
        &self,
        op: &'static str,
        index: &Self,
        pick: impl FnOnce(&Tensor, &Tensor) -> candle_core::Result<Tensor>,
    ) -> Result<Self> {
        let e = fw(op);
        let (x, i) = (
            contiguous(&self.tensor, &e)?,
            contiguous(&index.tensor, &e)?,
        );
        self.keep(pick(&x, &i).map_err(e)?)
    }
}

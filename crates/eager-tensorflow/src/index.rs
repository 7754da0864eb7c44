//! IndexOps of [`TfTensor`]: index select, gather, scatter, nonzero.

use super::*;

impl IndexOps for TfTensor {
    fn index_select(&self, axis: usize, index: &Self) -> Result<Self> {
        let a = host_tensor("index_select", &[axis as i64], &[])?;
        Ok(wrap(
            ops::gather_v2(context()?, self.h(), index.h(), a.h()).map_err(fw("index_select"))?,
        ))
    }
    fn gather(&self, axis: usize, index: &Self) -> Result<Self> {
        // Flat positions of the picked elements, built on the host from the index.
        let op = "take_along_axis";
        let ishape = index.shape();
        let idx = to_vec::<i64>(op, index.h())?;
        let pos = axis_positions(&self.shape(), axis, &idx, &ishape);
        let flat = self.reshape(&[eager_core::shape::numel(&self.shape())])?;
        let p = host_tensor(op, &pos, &ishape)?;
        let z = host_tensor(op, &[0i64], &[])?;
        Ok(wrap(
            ops::gather_v2(context()?, flat.h(), p.h(), z.h()).map_err(fw(op))?,
        ))
    }
    fn scatter(&self, positions: &Self, values: &Self) -> Result<Self> {
        let op = "index_update";
        let n = positions.shape().first().copied().unwrap_or(0);
        let p = positions.reshape(&[n, 1])?;
        Ok(wrap(
            ops::tensor_scatter_update(context()?, self.h(), p.h(), values.h()).map_err(fw(op))?,
        ))
    }
    fn scatter_add(&self, axis: usize, index: &Self, src: &Self) -> Result<Self> {
        let op = "scatter_add";
        let shape = self.shape();
        let ishape = index.shape();
        let idx = to_vec::<i64>(op, index.h())?;
        let pos = axis_positions(&shape, axis, &idx, &ishape);
        let n = pos.len();
        let total = eager_core::shape::numel(&shape);
        let p = host_tensor(op, &pos, &[n, 1])?;
        let flat = self.reshape(&[total])?;
        let vals = src.reshape(&[n])?;
        let out = ops::tensor_scatter_add(context()?, flat.h(), p.h(), vals.h()).map_err(fw(op))?;
        wrap(out).reshape(&shape)
    }
    fn nonzero(&self) -> Result<Self> {
        Ok(wrap(
            ops::where_(context()?, self.h()).map_err(fw("nonzero"))?,
        ))
    }
}

//! ShapeOps of [`TfTensor`]: reshape, permute, broadcast, slice, flip, concatenate.

use super::*;

impl ShapeOps for TfTensor {
    fn reshape(&self, shape: &[usize]) -> Result<Self> {
        let s = sizes("reshape", shape)?;
        Ok(wrap(
            ops::reshape(context()?, self.h(), s.h()).map_err(fw("reshape"))?,
        ))
    }
    fn permute(&self, axes: &[usize]) -> Result<Self> {
        let p = sizes("permute", axes)?;
        Ok(wrap(
            ops::transpose(context()?, self.h(), p.h()).map_err(fw("permute"))?,
        ))
    }
    fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        let s = sizes("broadcast_to", shape)?;
        Ok(wrap(
            ops::broadcast_to(context()?, self.h(), s.h()).map_err(fw("broadcast_to"))?,
        ))
    }
    fn slice(&self, ranges: &[SliceRange]) -> Result<Self> {
        if ranges.is_empty() {
            return Ok(self.clone());
        }
        let op = "slice";
        let begin = i64s(
            op,
            &ranges.iter().map(|r| r.start as i64).collect::<Vec<_>>(),
        )?;
        let end = i64s(
            op,
            &ranges.iter().map(|r| r.end() as i64).collect::<Vec<_>>(),
        )?;
        let step = i64s(
            op,
            &ranges.iter().map(|r| r.step as i64).collect::<Vec<_>>(),
        )?;
        Ok(wrap(
            ops::strided_slice(context()?, self.h(), begin.h(), end.h(), step.h())
                .map_err(fw(op))?,
        ))
    }
    fn flip(&self, axes: &[usize]) -> Result<Self> {
        if axes.is_empty() {
            return Ok(self.clone());
        }
        let a = sizes("flip", axes)?;
        Ok(wrap(
            ops::reverse_v2(context()?, self.h(), a.h()).map_err(fw("flip"))?,
        ))
    }
    fn concat(tensors: &[&Self], axis: usize) -> Result<Self> {
        let hs: Vec<&TensorHandle<'static>> = tensors.iter().map(|t| t.h()).collect();
        let a = host_tensor("concatenate", &[axis as i32], &[])?;
        Ok(wrap(
            ops::concat_v2(context()?, &hs, a.h()).map_err(fw("concatenate"))?,
        ))
    }
}

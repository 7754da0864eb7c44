//! ShapeOps of [`XlaTensor`]: reshape, permute, broadcast, slice, flip, concatenate.

use super::*;

impl ShapeOps for XlaTensor {
    fn reshape(&self, shape: &[usize]) -> Result<Self> {
        self.to_shape("reshape", shape, Prog::reshape)
    }
    fn permute(&self, axes: &[usize]) -> Result<Self> {
        if axes.iter().enumerate().all(|(i, &a)| i == a) {
            return Ok(self.clone());
        }
        let d = self.dtype;
        let s: Vec<usize> = axes.iter().map(|&a| self.shape[a]).collect();
        let attrs: Vec<i64> = axes.iter().map(|&n| n as i64).collect();
        exec1("permute", &attrs, &[self], |p, a| {
            Ok((p.transpose(&a[0], axes, d, &self.shape), d, s.clone()))
        })
    }
    fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        self.to_shape("broadcast_to", shape, Prog::bcast)
    }
    fn slice(&self, ranges: &[SliceRange]) -> Result<Self> {
        if ranges.is_empty()
            || ranges
                .iter()
                .zip(&self.shape)
                .all(|(r, &n)| *r == SliceRange::full(n))
        {
            return Ok(self.clone());
        }
        let d = self.dtype;
        let s: Vec<usize> = ranges.iter().map(|r| r.len).collect();
        let attrs: Vec<i64> = ranges
            .iter()
            .flat_map(|r| [r.start as i64, r.len as i64, r.step as i64])
            .collect();
        exec1("slice", &attrs, &[self], |p, a| {
            Ok((p.slice(&a[0], ranges, d, &self.shape), d, s.clone()))
        })
    }
    fn flip(&self, axes: &[usize]) -> Result<Self> {
        if axes.is_empty() {
            return Ok(self.clone());
        }
        let d = self.dtype;
        let attrs: Vec<i64> = axes.iter().map(|&n| n as i64).collect();
        exec1("flip", &attrs, &[self], |p, a| {
            Ok((
                p.reverse(&a[0], axes, d, &self.shape),
                d,
                self.shape.to_vec(),
            ))
        })
    }
    fn concat(tensors: &[&Self], axis: usize) -> Result<Self> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::invalid("concatenate", "no tensors"))?;
        let d = first.dtype;
        let mut s = first.shape.clone();
        s[axis] = tensors.iter().map(|t| t.shape[axis]).sum();
        exec1("concatenate", &[axis as i64], tensors, |p, a| {
            let shapes: Vec<&[usize]> = tensors.iter().map(|t| t.shape.as_slice()).collect();
            Ok((p.concatenate(a, axis, d, &shapes), d, s.to_vec()))
        })
    }
}

impl XlaTensor {
    /// The tensor as `shape` by `emit` (a reshape or a broadcast); itself
    /// when it has that shape already.
    fn to_shape(
        &self,
        op: &'static str,
        shape: &[usize],
        emit: fn(&mut Prog, &str, DType, &[usize], &[usize]) -> String,
    ) -> Result<Self> {
        if shape == self.shape.as_slice() {
            return Ok(self.clone());
        }
        let d = self.dtype;
        let attrs: Vec<i64> = shape.iter().map(|&n| n as i64).collect();
        exec1(op, &attrs, &[self], |p, a| {
            Ok((emit(p, &a[0], d, &self.shape, shape), d, shape.to_vec()))
        })
    }
}

//! IndexOps of [`XlaTensor`]: index select, gather, scatter, nonzero.

use super::*;

impl IndexOps for XlaTensor {
    fn index_select(&self, axis: usize, index: &Self) -> Result<Self> {
        let (d, s) = (self.dtype, &self.shape);
        let m = index.shape[0];
        let mut out = s.clone();
        out[axis] = m;
        if eager_core::shape::numel(&out) == 0 {
            return self.full(&out, Scalar::I64(0), d);
        }
        exec1("index_select", &[axis as i64], &[self, index], |p, a| {
            Ok((p.take(&a[0], &a[1], axis, m, d, s), d, out.to_vec()))
        })
    }
    fn gather(&self, axis: usize, index: &Self) -> Result<Self> {
        let (d, s, is) = (self.dtype, &self.shape, &index.shape);
        if eager_core::shape::numel(is) == 0 {
            return self.full(is, Scalar::I64(0), d);
        }
        exec1("gather", &[axis as i64], &[self, index], |p, a| {
            let coords = p.along_axis_coords(&a[1], is, axis);
            Ok((p.gather_points(&a[0], d, s, &coords, is), d, is.to_vec()))
        })
    }
    fn scatter(&self, positions: &Self, values: &Self) -> Result<Self> {
        let (d, n, m) = (self.dtype, self.shape[0], positions.shape[0]);
        if m == 0 {
            return Ok(self.clone());
        }
        exec1("scatter", &[], &[self, positions, values], |p, a| {
            // The last write wins: each position takes the largest `i`
            // that writes it (a scatter-max of 0..m), then reads values[i].
            let none = p.full(DType::I64, -1.0, &[n]);
            let pos = p.reshape(&a[1], DType::I64, &[m], &[m, 1]);
            let ids = p.iota(0, DType::I64, &[m]);
            let winner = p.scatter_points(&none, DType::I64, &[n], &pos, &[m], &ids, "maximum");
            let zero = p.full(DType::I64, 0.0, &[n]);
            let written = p.cmp("GE", &winner, &zero, DType::I64, &[n]);
            let at = p.bin("maximum", &winner, &zero, DType::I64, &[n]);
            let at = p.reshape(&at, DType::I64, &[n], &[n, 1]);
            let v = p.gather_points(&a[2], d, &[m], &at, &[n]);
            Ok((p.select(&written, &v, &a[0], d, &[n]), d, vec![n]))
        })
    }
    fn scatter_add(&self, axis: usize, index: &Self, src: &Self) -> Result<Self> {
        let (d, s, is) = (self.dtype, &self.shape, &index.shape);
        if eager_core::shape::numel(is) == 0 {
            return Ok(self.clone());
        }
        exec1(
            "scatter_add",
            &[axis as i64],
            &[self, index, src],
            |p, a| {
                let coords = p.along_axis_coords(&a[1], is, axis);
                let add = if d == DType::Bool { "or" } else { "add" };
                Ok((
                    p.scatter_points(&a[0], d, s, &coords, is, &a[2], add),
                    d,
                    s.to_vec(),
                ))
            },
        )
    }
    fn nonzero(&self) -> Result<Self> {
        linalg::nonzero(self)
    }
}

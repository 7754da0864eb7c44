//! The index select, gather, scatter, nonzero of [`HostTensor`].

use super::*;

/// The ops of the contract ([`BackendTensor`](eager_core::BackendTensor)),
/// with its names and meanings, for the backends that run them on the host.
impl HostTensor {
    /// [`IndexOps::index_select`](eager_core::IndexOps::index_select) on the host.
    pub fn index_select(&self, axis: usize, index: &Self) -> Result<Self> {
        let idx = index_vec("index_select", index)?;
        Ok(each!(self, a => HostElem::wrap(a.select(Axis(axis), &idx).into_shared())))
    }
    /// [`IndexOps::gather`](eager_core::IndexOps::gather) on the host.
    pub fn gather(&self, axis: usize, index: &Self) -> Result<Self> {
        let HostTensor::I64(idx) = index else {
            return Err(internal("take_along_axis", "index tensors must be i64"));
        };
        Ok(each!(self, a => {
            let mut pos = vec![0usize; a.ndim()];
            let mut out = Vec::with_capacity(idx.len());
            for (p, &i) in idx.indexed_iter() {
                pos.copy_from_slice(p.slice());
                pos[axis] = i as usize;
                out.push(a[IxDyn(&pos)]);
            }
            from_vec("take_along_axis", out, idx.shape())?
        }))
    }
    /// [`IndexOps::scatter`](eager_core::IndexOps::scatter) on the host.
    pub fn scatter(&self, positions: &Self, values: &Self) -> Result<Self> {
        let pos = index_vec("index_update", positions)?;
        fn run<T: HostElem>(a: &Arr<T>, pos: &[usize], values: &HostTensor) -> Result<HostTensor> {
            let vals = T::peek(values)
                .ok_or_else(|| internal("index_update", "values of another dtype"))?;
            let mut out = a.to_owned();
            for (&p, &v) in pos.iter().zip(vals.iter()) {
                out[IxDyn(&[p])] = v;
            }
            Ok(T::wrap(out.into_shared()))
        }
        each!(self, a => run(a, &pos, values))
    }
    /// [`IndexOps::scatter_add`](eager_core::IndexOps::scatter_add) on the host.
    pub fn scatter_add(&self, axis: usize, index: &Self, src: &Self) -> Result<Self> {
        let op = "scatter_add";
        let HostTensor::I64(idx) = index else {
            return Err(internal(op, "index tensors must be i64"));
        };
        fn run<T: Num + HostElem>(
            a: &Arr<T>,
            axis: usize,
            idx: &Arr<i64>,
            src: &HostTensor,
        ) -> Result<HostTensor> {
            let s = T::peek(src).ok_or_else(|| internal("scatter_add", "src of another dtype"))?;
            let mut out = a.to_owned();
            let mut pos = vec![0usize; a.ndim()];
            for ((p, &i), &v) in idx.indexed_iter().zip(s.iter()) {
                pos.copy_from_slice(p.slice());
                pos[axis] = i as usize;
                let cell = &mut out[IxDyn(&pos)];
                *cell = cell.add_(v);
            }
            Ok(T::wrap(out.into_shared()))
        }
        each_num!(self, a => run(a, axis, idx, src), _b => Err(internal(op, "not defined for bool")))
    }
    /// [`IndexOps::nonzero`](eager_core::IndexOps::nonzero) on the host.
    pub fn nonzero(&self) -> Result<Self> {
        let ndim = self.ndim_();
        let mut coords = Vec::new();
        let mut count = 0;
        each!(self, a => {
            for (p, v) in a.indexed_iter() {
                if v.to_bool() {
                    coords.extend(p.slice().iter().map(|&i| i as i64));
                    count += 1;
                }
            }
        });
        from_vec("nonzero", coords, &[count, ndim])
    }
}

//! The reshape, permute, broadcast, slice, flip, concatenate of [`HostTensor`].

use super::*;

/// The ops of the contract ([`BackendTensor`](eager_core::BackendTensor)),
/// with its names and meanings, for the backends that run them on the host.
impl HostTensor {
    /// [`ShapeOps::reshape`](eager_core::ShapeOps::reshape) on the host.
    pub fn reshape(&self, shape: &[usize]) -> Result<Self> {
        Ok(each!(self, a => {
            let r = if a.is_standard_layout() {
                a.clone().into_shape_with_order(IxDyn(shape))
            } else {
                a.as_standard_layout().into_owned().into_shared().into_shape_with_order(IxDyn(shape))
            };
            HostElem::wrap(r.map_err(|e| internal("reshape", e.to_string()))?)
        }))
    }
    /// [`ShapeOps::permute`](eager_core::ShapeOps::permute) on the host.
    pub fn permute(&self, axes: &[usize]) -> Result<Self> {
        Ok(each!(self, a => HostElem::wrap(a.clone().permuted_axes(IxDyn(axes)))))
    }
    /// [`ShapeOps::broadcast_to`](eager_core::ShapeOps::broadcast_to) on the host.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        Ok(each!(self, a => {
            let v = a.broadcast(IxDyn(shape)).ok_or_else(|| internal("broadcast_to", "cannot broadcast"))?;
            HostElem::wrap(v.to_owned().into_shared())
        }))
    }
    /// [`ShapeOps::slice`](eager_core::ShapeOps::slice) on the host.
    pub fn slice(&self, ranges: &[SliceRange]) -> Result<Self> {
        Ok(each!(self, a => {
            let mut r = a.clone();
            for (ax, s) in ranges.iter().enumerate() {
                r.slice_axis_inplace(Axis(ax), Slice::new(s.start as isize, Some(s.end() as isize), s.step as isize));
            }
            HostElem::wrap(r)
        }))
    }
    /// [`ShapeOps::flip`](eager_core::ShapeOps::flip) on the host.
    pub fn flip(&self, axes: &[usize]) -> Result<Self> {
        Ok(each!(self, a => {
            let mut r = a.clone();
            for &ax in axes {
                r.invert_axis(Axis(ax));
            }
            HostElem::wrap(r)
        }))
    }
    /// [`ShapeOps::concat`](eager_core::ShapeOps::concat) on the host.
    pub fn concat(tensors: &[&Self], axis: usize) -> Result<Self> {
        let op = "concatenate";
        fn run<T: HostElem>(ts: &[&HostTensor], axis: usize) -> Result<HostTensor> {
            let views = ts
                .iter()
                .map(|t| {
                    T::peek(t)
                        .map(|a| a.view())
                        .ok_or_else(|| internal("concatenate", "mixed dtypes"))
                })
                .collect::<Result<Vec<_>>>()?;
            ndarray::concatenate(Axis(axis), &views)
                .map(|a| T::wrap(a.into_shared()))
                .map_err(|e| internal("concatenate", e.to_string()))
        }
        fn like<T: HostElem>(_: &Arr<T>, ts: &[&HostTensor], axis: usize) -> Result<HostTensor> {
            run::<T>(ts, axis)
        }
        let first = tensors.first().ok_or_else(|| internal(op, "no tensors"))?;
        each!(first, a => like(a, tensors, axis))
    }
}

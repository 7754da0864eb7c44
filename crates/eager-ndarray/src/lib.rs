//! The ndarray backend of eager-tensor: pure Rust, NumPy's role, the default.
//!
//! Its native tensor is [`NdTensor`], a [`HostTensor`] of eager-host (the
//! host engine: one `ArcArray` per dtype, so that cloning shares the
//! buffer, as a framework handle does, and views — slices, flips,
//! transposes — share it too) exposed as a backend, with a random
//! generator of its own. Users never need this crate directly: the facade
//! converts `ndarray::ArrayD<T>` and `ArcArray<T, IxDyn>` to and from
//! `EagerTensor` without copying.
#![warn(missing_docs)]

pub use eager_host::{Arr, Elem, Flt, HostElem as NdElem, HostTensor, Num};

use eager_core::ops::prelude::*;
use eager_core::shape::SliceRange;
use eager_core::{
    ArgReduceOp, Backend, BinaryOp, Capabilities, DType, Distribution, HostBuffer, HostData,
    ReduceOp, Result, Scalar, UnaryOp,
};

/// The ndarray backend's own generator, one per thread: `seed` and `sample`.
mod random {
    eager_host::generator!("ndarray");
}
pub use random::seed;

/// The native tensor of the ndarray backend: a [`HostTensor`] (an
/// `ArcArray` of one dtype; [`host`](Self::host) borrows it to match on
/// the dtype).
#[derive(Clone, Debug)]
#[repr(transparent)]
pub struct NdTensor(HostTensor);

impl NdTensor {
    /// The host tensor, whose variants name the dtype.
    ///
    /// ```
    /// # use eager_ndarray::{HostTensor, NdTensor};
    /// let t = NdTensor::from(ndarray::arr1(&[1i32, 2]).into_dyn());
    /// assert!(matches!(t.host(), HostTensor::I32(a) if a.len() == 2));
    /// ```
    #[inline]
    pub fn host(&self) -> &HostTensor {
        &self.0
    }
    /// The host tensor, taken out.
    #[inline]
    pub fn into_host(self) -> HostTensor {
        self.0
    }
    /// Address of the first element (for zero-copy checks).
    pub fn data_ptr(&self) -> *const u8 {
        self.0.data_ptr()
    }
}

impl From<HostTensor> for NdTensor {
    #[inline]
    fn from(t: HostTensor) -> Self {
        NdTensor(t)
    }
}

impl<T: NdElem> From<Arr<T>> for NdTensor {
    #[inline]
    fn from(a: Arr<T>) -> Self {
        NdTensor(T::wrap(a))
    }
}

impl<T: NdElem> From<ndarray::ArrayD<T>> for NdTensor {
    #[inline]
    fn from(a: ndarray::ArrayD<T>) -> Self {
        NdTensor(T::wrap(a.into_shared()))
    }
}

/// Every op is the host engine's kernel; only `random` draws from this
/// backend's own generator.
impl TensorBase for NdTensor {
    const BACKEND: Backend = Backend::NdArray;
    #[inline]
    fn shape(&self) -> Vec<usize> {
        self.0.shape().to_vec()
    }
    #[inline]
    fn shape_ref(&self) -> Option<&[usize]> {
        Some(self.0.shape())
    }
    #[inline]
    fn dtype(&self) -> DType {
        self.0.dtype()
    }
    fn from_host(data: HostData, shape: &[usize]) -> Result<Self> {
        HostTensor::from_host(data, shape).map(NdTensor)
    }
    fn to_host(&self) -> Result<HostData> {
        self.0.to_host()
    }
    fn lend_host(&self) -> Result<Option<HostBuffer>> {
        self.0.lend_host()
    }
}

impl Capabilities for NdTensor {
    fn seed(seed: u64) {
        random::seed(seed);
    }
}
impl CreateOps for NdTensor {
    fn full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<Self> {
        self.0.full(shape, value, dtype).map(NdTensor)
    }
    fn random(&self, dist: Distribution, shape: &[usize], dtype: DType) -> Result<Self> {
        let n = eager_core::shape::numel(shape);
        Self::from_host(random::sample(dist, n, dtype)?, shape)
    }
}

impl ElementwiseOps for NdTensor {
    #[inline]
    fn unary(&self, op: UnaryOp) -> Result<Self> {
        self.0.unary(op).map(NdTensor)
    }
    #[inline]
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Result<Self> {
        self.0.binary(op, &rhs.0).map(NdTensor)
    }
    fn where_cond(&self, x: &Self, y: &Self) -> Result<Self> {
        self.0.where_cond(&x.0, &y.0).map(NdTensor)
    }
}

impl CastOps for NdTensor {
    fn cast(&self, dtype: DType) -> Result<Self> {
        self.0.cast(dtype).map(NdTensor)
    }
}

impl ReduceOps for NdTensor {
    fn reduce(&self, op: ReduceOp, axes: &[usize], keepdims: bool) -> Result<Self> {
        self.0.reduce(op, axes, keepdims).map(NdTensor)
    }
    fn arg_reduce(&self, op: ArgReduceOp, axis: usize) -> Result<Self> {
        self.0.arg_reduce(op, axis).map(NdTensor)
    }
    fn sort(&self, axis: usize, descending: bool) -> Result<Self> {
        self.0.sort(axis, descending).map(NdTensor)
    }
    fn argsort(&self, axis: usize, descending: bool) -> Result<Self> {
        self.0.argsort(axis, descending).map(NdTensor)
    }
    fn cumsum(&self, axis: usize) -> Result<Self> {
        self.0.cumsum(axis).map(NdTensor)
    }
}

impl ShapeOps for NdTensor {
    fn reshape(&self, shape: &[usize]) -> Result<Self> {
        self.0.reshape(shape).map(NdTensor)
    }
    fn permute(&self, axes: &[usize]) -> Result<Self> {
        self.0.permute(axes).map(NdTensor)
    }
    fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        self.0.broadcast_to(shape).map(NdTensor)
    }
    fn slice(&self, ranges: &[SliceRange]) -> Result<Self> {
        self.0.slice(ranges).map(NdTensor)
    }
    fn flip(&self, axes: &[usize]) -> Result<Self> {
        self.0.flip(axes).map(NdTensor)
    }
    fn concat(tensors: &[&Self], axis: usize) -> Result<Self> {
        let hosts: Vec<&HostTensor> = tensors.iter().map(|t| &t.0).collect();
        HostTensor::concat(&hosts, axis).map(NdTensor)
    }
}

impl IndexOps for NdTensor {
    fn index_select(&self, axis: usize, index: &Self) -> Result<Self> {
        self.0.index_select(axis, &index.0).map(NdTensor)
    }
    fn gather(&self, axis: usize, index: &Self) -> Result<Self> {
        self.0.gather(axis, &index.0).map(NdTensor)
    }
    fn scatter(&self, positions: &Self, values: &Self) -> Result<Self> {
        self.0.scatter(&positions.0, &values.0).map(NdTensor)
    }
    fn scatter_add(&self, axis: usize, index: &Self, src: &Self) -> Result<Self> {
        self.0.scatter_add(axis, &index.0, &src.0).map(NdTensor)
    }
    fn nonzero(&self) -> Result<Self> {
        self.0.nonzero().map(NdTensor)
    }
}

impl LinalgOps for NdTensor {
    fn matmul(&self, rhs: &Self) -> Result<Self> {
        self.0.matmul(&rhs.0).map(NdTensor)
    }
    fn inv(&self) -> Result<Self> {
        self.0.inv().map(NdTensor)
    }
    fn slogdet(&self) -> Result<(Self, Self)> {
        self.0.slogdet().map(|(s, l)| (NdTensor(s), NdTensor(l)))
    }
}

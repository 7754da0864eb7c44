//! `DynOps`, the routing trait of the single-tensor ops: `enum_dispatch`
//! generates its `match` over `EagerTensor`'s variants, and one blanket
//! impl covers every backend.

use super::EagerTensor;
use crate::{Backend, DType, Error, HostBuffer, HostData, Result, Scalar};
use eager_core::ops::prelude::*;
use eager_core::ops::{ArgReduceOp, BinaryOp, Device, Distribution, ReduceOp, UnaryOp};
use eager_core::shape::SliceRange;
use eager_core::Capabilities;
use enum_dispatch::enum_dispatch;

/// The routing trait: every single-tensor op of the backend contract, with
/// results wrapped back into [`EagerTensor`]. One blanket impl covers every
/// backend; `enum_dispatch` generates the `match` over the variants.
#[enum_dispatch]
pub(crate) trait DynOps {
    fn dyn_backend(&self) -> Backend;
    fn dyn_native_dtype_ok(&self) -> Result<()>;
    fn dyn_shape(&self) -> Vec<usize>;
    /// The shape without allocating, where the backend keeps it
    /// ([`TensorBase::shape_ref`]); `None` otherwise.
    fn dyn_shape_ref(&self) -> Option<&[usize]> {
        None
    }
    fn dyn_dtype(&self) -> DType;
    fn dyn_device(&self) -> Device;
    fn dyn_to_device(&self, device: Device) -> Result<EagerTensor>;
    fn dyn_to_host(&self) -> Result<HostData>;
    fn dyn_lend_host(&self) -> Result<Option<HostBuffer>>;
    fn dyn_from_host_like(&self, data: HostData, shape: &[usize]) -> Result<EagerTensor>;
    fn dyn_full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<EagerTensor>;
    fn dyn_random(&self, dist: Distribution, shape: &[usize], dtype: DType) -> Result<EagerTensor>;
    fn dyn_unary(&self, op: UnaryOp) -> Result<EagerTensor>;
    fn dyn_binary_scalar(&self, op: BinaryOp, value: Scalar) -> Result<EagerTensor>;
    fn dyn_cast(&self, dtype: DType) -> Result<EagerTensor>;
    fn dyn_reduce(&self, op: ReduceOp, axes: &[usize], keepdims: bool) -> Result<EagerTensor>;
    fn dyn_arg_reduce(&self, op: ArgReduceOp, axis: usize) -> Result<EagerTensor>;
    fn dyn_sort(&self, axis: usize, descending: bool) -> Result<EagerTensor>;
    fn dyn_argsort(&self, axis: usize, descending: bool) -> Result<EagerTensor>;
    fn dyn_cumsum(&self, axis: usize) -> Result<EagerTensor>;
    fn dyn_reshape(&self, shape: &[usize]) -> Result<EagerTensor>;
    fn dyn_permute(&self, axes: &[usize]) -> Result<EagerTensor>;
    fn dyn_broadcast_to(&self, shape: &[usize]) -> Result<EagerTensor>;
    fn dyn_slice(&self, ranges: &[SliceRange]) -> Result<EagerTensor>;
    fn dyn_flip(&self, axes: &[usize]) -> Result<EagerTensor>;
    fn dyn_nonzero(&self) -> Result<EagerTensor>;
    fn dyn_inv(&self) -> Result<EagerTensor>;
    fn dyn_slogdet(&self) -> Result<(EagerTensor, EagerTensor)>;
    /// Whether the framework's own autograd tracks this tensor outside any
    /// trace of ours ([`NativeAutograd::tracks`](eager_core::NativeAutograd::tracks)).
    fn dyn_tracked_by_autograd(&self) -> bool {
        false
    }
    /// The tensor cut from its framework's autograd graph, where the
    /// framework has one.
    fn dyn_detach(&self) -> Option<EagerTensor> {
        None
    }
    /// Whether this is a placeholder of a function being compiled.
    fn dyn_in_jit(&self) -> bool {
        false
    }
    /// The error for `op` reading the value of a placeholder on the host.
    fn dyn_no_value(&self, op: &'static str) -> Option<Error> {
        let _ = op;
        None
    }
}

/// The routing methods that check the native dtype (and, where they make
/// a shape, the rank) and call the contract's method of the same name.
macro_rules! routed {
    ($($name:ident($($arg:ident: $ty:ty),*) => $method:ident $(; rank($shape:ident, $op:literal))?,)*) => {$(
        fn $name(&self, $($arg: $ty),*) -> Result<EagerTensor> {
            self.native_dtype_ok()?;
            $(B::check_rank($op, $shape)?;)?
            B::$method(self, $($arg),*).map(Into::into)
        }
    )*};
}

impl<B: Capabilities + Into<EagerTensor>> DynOps for B {
    fn dyn_tracked_by_autograd(&self) -> bool {
        B::autograd().is_some_and(|a| a.tracks(self))
    }
    fn dyn_detach(&self) -> Option<EagerTensor> {
        B::autograd()?.detach(self).map(Into::into)
    }
    fn dyn_in_jit(&self) -> bool {
        B::compiler().is_some_and(|c| c.is_placeholder(self))
    }
    fn dyn_no_value(&self, op: &'static str) -> Option<Error> {
        B::compiler()
            .filter(|c| c.is_placeholder(self))
            .map(|c| c.no_value(op))
    }
    fn dyn_backend(&self) -> Backend {
        B::BACKEND
    }
    fn dyn_native_dtype_ok(&self) -> Result<()> {
        self.native_dtype_ok()
    }
    fn dyn_shape(&self) -> Vec<usize> {
        TensorBase::shape(self)
    }
    fn dyn_shape_ref(&self) -> Option<&[usize]> {
        TensorBase::shape_ref(self)
    }
    fn dyn_dtype(&self) -> DType {
        TensorBase::dtype(self)
    }
    fn dyn_device(&self) -> Device {
        TensorBase::device(self)
    }
    fn dyn_to_device(&self, device: Device) -> Result<EagerTensor> {
        self.native_dtype_ok()?;
        TensorBase::to_device(self, device).map(Into::into)
    }
    fn dyn_to_host(&self) -> Result<HostData> {
        self.native_dtype_ok()?;
        self.to_host()
    }
    fn dyn_lend_host(&self) -> Result<Option<HostBuffer>> {
        self.native_dtype_ok()?;
        self.lend_host()
    }
    fn dyn_from_host_like(&self, data: HostData, shape: &[usize]) -> Result<EagerTensor> {
        self.native_dtype_ok()?;
        B::check_rank("from_host_like", shape)?;
        self.from_host_like(data, shape).map(Into::into)
    }
    fn dyn_full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<EagerTensor> {
        self.native_dtype_ok()?;
        B::check_rank("full", shape)?;
        self.full(shape, value, dtype).map(Into::into)
    }
    fn dyn_random(&self, dist: Distribution, shape: &[usize], dtype: DType) -> Result<EagerTensor> {
        self.native_dtype_ok()?;
        B::check_rank("random", shape)?;
        self.random(dist, shape, dtype).map(Into::into)
    }
    routed! {
        dyn_unary(op: UnaryOp) => unary,
        dyn_binary_scalar(op: BinaryOp, value: Scalar) => binary_scalar,
        dyn_cast(dtype: DType) => cast,
        dyn_reduce(op: ReduceOp, axes: &[usize], keepdims: bool) => reduce,
        dyn_arg_reduce(op: ArgReduceOp, axis: usize) => arg_reduce,
        dyn_sort(axis: usize, descending: bool) => sort,
        dyn_argsort(axis: usize, descending: bool) => argsort,
        dyn_cumsum(axis: usize) => cumsum,
        dyn_reshape(shape: &[usize]) => reshape; rank(shape, "reshape"),
        dyn_permute(axes: &[usize]) => permute,
        dyn_broadcast_to(shape: &[usize]) => broadcast_to; rank(shape, "broadcast_to"),
        dyn_slice(ranges: &[SliceRange]) => slice,
        dyn_flip(axes: &[usize]) => flip,
        dyn_nonzero() => nonzero,
        dyn_inv() => inv,
    }
    fn dyn_slogdet(&self) -> Result<(EagerTensor, EagerTensor)> {
        self.native_dtype_ok()?;
        LinalgOps::slogdet(self).map(|(s, l)| (s.into(), l.into()))
    }
}

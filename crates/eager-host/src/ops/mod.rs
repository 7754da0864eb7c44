//! The kernels of [`HostTensor`]: each op of the contract as ndarray calls.

use crate::elem::{Elem, Flt, Num};
use crate::{each, each_num, Arr, HostElem, HostTensor};
use eager_core::shape::SliceRange;
use eager_core::{
    ArgReduceOp, BinaryOp, DType, Error, HostBuffer, HostData, ReduceOp, Result, Scalar, UnaryOp,
};
use ndarray::{Array, ArrayD, ArrayView2, Axis, Dimension, IxDyn, Slice, Zip};
use std::cmp::Ordering;

/// An error the facade's checks make unreachable (the host engine has no
/// framework of its own to blame).
fn internal(op: &'static str, msg: impl Into<String>) -> Error {
    Error::invalid(op, format!("host kernel: {}", msg.into()))
}

fn from_vec<T: HostElem>(op: &'static str, v: Vec<T>, shape: &[usize]) -> Result<HostTensor> {
    Array::from_shape_vec(IxDyn(shape), v)
        .map(|a| T::wrap(a.into_shared()))
        .map_err(|e| internal(op, e.to_string()))
}

fn map<T: Elem, U: HostElem>(a: &Arr<T>, f: impl Fn(T) -> U) -> HostTensor {
    U::wrap(a.mapv(f).into_shared())
}

/// Element-wise `f` over two broadcast arrays.
fn zip<T: Elem, U: HostElem>(
    op: &'static str,
    a: &Arr<T>,
    b: &Arr<T>,
    f: impl Fn(T, T) -> U,
) -> Result<HostTensor> {
    if a.shape() == b.shape() {
        if let (Some(x), Some(y)) = (a.as_slice(), b.as_slice()) {
            // Both row-major and contiguous (the common case): one pass
            // over the two slices into the result's `Vec`, without Zip's
            // layout bookkeeping; the result is row-major, as Zip makes it
            // from row-major inputs.
            let v: Vec<U> = x.iter().zip(y).map(|(&x, &y)| f(x, y)).collect();
            return Ok(U::wrap(standard(a.raw_dim(), v)));
        }
        return Ok(U::wrap(
            Zip::from(a)
                .and(b)
                .map_collect(|&x, &y| f(x, y))
                .into_shared(),
        ));
    }
    if b.ndim() == 0 {
        let y = b[IxDyn(&[])];
        return Ok(map(a, |x| f(x, y)));
    }
    if a.ndim() == 0 {
        let x = a[IxDyn(&[])];
        return Ok(map(b, |y| f(x, y)));
    }
    // A row-major operand repeated along the leading axes of the other
    // (a bias added to every row): one pass over slices, as above.
    if let (Some(x), Some(y)) = (a.as_slice(), b.as_slice()) {
        if repeats_in(a.shape(), b.shape()) && !y.is_empty() {
            let mut v = Vec::with_capacity(x.len());
            for c in x.chunks_exact(y.len()) {
                v.extend(c.iter().zip(y).map(|(&x, &y)| f(x, y)));
            }
            return Ok(U::wrap(standard(a.raw_dim(), v)));
        }
        if repeats_in(b.shape(), a.shape()) && !x.is_empty() {
            let mut v = Vec::with_capacity(y.len());
            for c in y.chunks_exact(x.len()) {
                v.extend(x.iter().zip(c).map(|(&x, &y)| f(x, y)));
            }
            return Ok(U::wrap(standard(b.raw_dim(), v)));
        }
    }
    eager_core::shape::with_broadcast_shape(op, a.shape(), b.shape(), |shape| {
        let av = a
            .broadcast(IxDyn(shape))
            .ok_or_else(|| internal(op, "broadcast"))?;
        let bv = b
            .broadcast(IxDyn(shape))
            .ok_or_else(|| internal(op, "broadcast"))?;
        Ok(U::wrap(
            Zip::from(&av)
                .and(&bv)
                .map_collect(|&x, &y| f(x, y))
                .into_shared(),
        ))
    })
}

/// Whether `small` broadcast against `big` gives `big`'s shape by
/// repeating `small`'s elements whole: without its leading 1s, `small` is
/// `big`'s trailing dimensions, and it has no more dimensions than `big`.
fn repeats_in(big: &[usize], small: &[usize]) -> bool {
    let lead = small.iter().take_while(|&&d| d == 1).count();
    let rest = &small[lead..];
    small.len() <= big.len() && big.ends_with(rest)
}

/// A row-major `ArcArray` of shape `dim` holding `v`: the `Vec` becomes
/// the array's buffer as it is (no copy; the one allocation besides it is
/// the `Arc` that `ArcArray` keeps its buffer in).
fn standard<U>(dim: IxDyn, v: Vec<U>) -> Arr<U> {
    debug_assert_eq!(dim.size(), v.len());
    // SAFETY: `v` has exactly `dim.size()` elements (it was collected from
    // a row-major slice of an array of this shape, checked in debug
    // builds), and row-major strides for `dim` address only those.
    unsafe { Arr::from_shape_vec_unchecked(dim, v) }
}

mod cast;
mod elementwise;
mod index;
mod linalg;
mod reduce;
mod shape;

fn index_vec(op: &'static str, t: &HostTensor) -> Result<Vec<usize>> {
    match t {
        HostTensor::I64(a) => Ok(a.iter().map(|&i| i as usize).collect()),
        _ => Err(internal(op, "index tensors must be i64")),
    }
}

fn host<T: HostElem>(a: &Arr<T>) -> HostData {
    let v = match a.as_slice() {
        Some(s) => s.to_vec(),
        None => a.iter().copied().collect(),
    };
    T::into_host(v)
}

fn full_arr<T: HostElem>(shape: &[usize], v: T) -> HostTensor {
    T::wrap(ArrayD::from_elem(IxDyn(shape), v).into_shared())
}

/// The ops of the contract ([`BackendTensor`](eager_core::BackendTensor)),
/// with its names and meanings, for the backends that run them on the host.
impl HostTensor {
    /// [`TensorBase::from_host`](eager_core::TensorBase::from_host) on the host.
    pub fn from_host(data: HostData, shape: &[usize]) -> Result<Self> {
        eager_core::each_host!(data, v => from_vec("from_vec", v, shape))
    }
    /// [`TensorBase::to_host`](eager_core::TensorBase::to_host) on the host.
    pub fn to_host(&self) -> Result<HostData> {
        Ok(each!(self, a => host(a)))
    }
    /// Lends a standard-layout array: the owner is a clone (one `Arc`
    /// reference), so the memory stays alive and, `ArcArray` being
    /// copy-on-write, unchanged. Receiving, ndarray copies (an `ArcArray`
    /// owns its `Vec`; it cannot borrow foreign memory), except a lent
    /// `HostData`, which it takes over (the default `adopt_host`).
    pub fn lend_host(&self) -> Result<Option<HostBuffer>> {
        let standard = each!(self, a => a.is_standard_layout());
        if !standard {
            return Ok(None);
        }
        let (ptr, dtype, shape) = (self.data_ptr(), self.dtype(), self.shape().to_vec());
        // SAFETY: a standard-layout view is `len` contiguous elements from
        // `as_ptr`, kept alive by the clone the buffer owns.
        Ok(Some(unsafe {
            HostBuffer::new(ptr, dtype, shape, Box::new(self.clone()))
        }))
    }
    /// [`CreateOps::full`](eager_core::CreateOps::full) on the host.
    pub fn full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<Self> {
        let one = HostData::filled("full", value, dtype, 1)?;
        Ok(eager_core::each_host!(one, v => full_arr(shape, v[0])))
    }
    /// The number of dimensions.
    fn ndim_(&self) -> usize {
        HostTensor::shape(self).len()
    }
}

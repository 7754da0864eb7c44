//! `EagerTensor`: its variants (from the backend table), its host reads
//! and constructors, and its formatting.

mod dyn_ops;
pub(crate) use dyn_ops::DynOps;

use crate::{Native, NativeRef};

use crate::args::{dims, IntoShape};
use crate::{Backend, DType, Element, Error, HostBuffer, HostData, Result, Scalar};
use eager_core::ops::prelude::*;
use eager_core::ops::{ArgReduceOp, BinaryOp, Device, Distribution, ReduceOp, UnaryOp};
use eager_core::shape::SliceRange;

eager_core::for_each_backend!(eager_tensor);

/// The error for tensors of different backends in one op.
pub(crate) fn mismatch(op: &'static str, ts: &[&EagerTensor]) -> Error {
    let left = ts[0].backend();
    let right = ts
        .iter()
        .map(|t| t.backend())
        .find(|&b| b != left)
        .unwrap_or(left);
    Error::BackendMismatch { op, left, right }
}

/// The error of `op` on a backend whose feature is not compiled in (what
/// `with_backend!` gives for one).
pub(crate) fn not_enabled(op: &'static str, backend: Backend) -> Error {
    Error::Unsupported {
        op,
        backend,
        msg: format!("the `{backend}` feature is not enabled in this build"),
    }
}

impl EagerTensor {
    /// The backend that owns this tensor.
    pub fn backend(&self) -> Backend {
        self.dyn_backend()
    }
    /// The shape.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::zeros(ep::Backend::NdArray, [2, 3], ep::DType::F32)?;
    /// assert_eq!(t.shape(), vec![2, 3]);
    /// assert_eq!(t.reshape(t.shape())?.shape(), vec![2, 3]); // a shape argument as it is
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn shape(&self) -> Vec<usize> {
        self.dyn_shape()
    }
    /// The shape, borrowed where the backend keeps it (no allocation).
    pub(crate) fn shape_cow(&self) -> std::borrow::Cow<'_, [usize]> {
        match self.dyn_shape_ref() {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => std::borrow::Cow::Owned(self.dyn_shape()),
        }
    }
    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape_cow().len()
    }
    /// Length of the first axis (EagerPy's `len(t)`); 0 for a 0-d tensor.
    pub fn len(&self) -> usize {
        self.shape_cow().first().copied().unwrap_or(0)
    }
    /// True when the first axis is empty or the tensor is 0-d.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape_cow().iter().product()
    }
    /// The element type.
    ///
    /// For a native tensor of a dtype eager-tensor does not have (a torch
    /// complex, quantized or float8 tensor, a TensorFlow string, complex or
    /// quantized handle, a Candle `F8E4M3`/`F6E2M3`/`F6E3M2`/`F4` tensor,
    /// wrapped by the infallible [`astensor`](crate::astensor)) this reads [`DType::F32`]
    /// on the torch, tensorflow and candle backends, and means nothing:
    /// every operation on such a tensor, a cast to `f32` included, is a
    /// `dtype` error naming its real dtype. [`try_astensor`](crate::try_astensor) is the check
    /// to use when wrapping a tensor of unknown origin; `dtype()` itself
    /// never fails. (ndarray, xla and DLPack have no such tensors: every
    /// dtype they can hold is one of eager-tensor's, or refused on entry.)
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1i32, 2], &[2])?;
    /// assert_eq!(t.dtype(), ep::DType::I32);
    /// assert_eq!(t.float32()?.dtype(), ep::DType::F32);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn dtype(&self) -> DType {
        self.dyn_dtype()
    }
    /// Where the data lives (`Device::Cpu` on backends without devices).
    pub fn device(&self) -> Device {
        self.dyn_device()
    }
    /// A copy on `device` (the tensor itself if it is there already); a
    /// device the backend does not have (CUDA without a GPU, or on ndarray)
    /// is an `unsupported` error.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f32], &[1])?;
    /// assert_eq!(t.to_device(ep::Device::Cpu)?.to_vec::<f32>()?, vec![1.0]);
    /// let e = t.to_device(ep::Device::Cuda(0)).unwrap_err();
    /// assert_eq!((e.kind(), e.op()), ("unsupported", "to_device"));
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn to_device(&self, device: Device) -> Result<EagerTensor> {
        if device == self.device() {
            return Ok(self.clone());
        }
        self.dyn_to_device(device)
    }

    /// The tensor owned by another framework (not in EagerPy), on
    /// `backend`'s default device, or the tensor itself if `backend` owns it
    /// already. The result shares the source's host memory where the pair
    /// of frameworks allows it (see [`host_ptr`](Self::host_ptr) and the
    /// guide's "Exchange and files" chapter for which pairs) and is one copy
    /// through host memory otherwise. A backend that is
    /// not compiled in is an `unsupported` error; a tensor being
    /// differentiated (inside `value_and_grad`, or a torch tensor that
    /// requires grad) is an `invalid` one: gradients do not cross
    /// frameworks, so convert the inputs before `value_and_grad`.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1i32, 2], &[2])?;
    /// for b in ep::Backend::enabled() {
    ///     let u = t.to_backend(b)?;
    ///     assert_eq!((u.backend(), u.to_vec::<i32>()?), (b, vec![1, 2]));
    /// }
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn to_backend(&self, backend: Backend) -> Result<EagerTensor> {
        // A framework's own autograd (torch's requires_grad) tracks it?
        if self.is_traced() || self.dyn_tracked_by_autograd() {
            return Err(Error::invalid(
                "to_backend",
                "a tensor being differentiated cannot change framework (the \
                 gradient would be lost); convert the inputs before \
                 value_and_grad, or detach",
            ));
        }
        if backend == self.backend() {
            return Ok(self.clone());
        }
        crate::jit::no_host_read("to_backend", self)?;
        let buf = self.lend_host()?;
        on_backend!("to_backend", backend, |B| B::adopt_host(buf))
    }

    /// The tensor's memory as a [`HostBuffer`]: lent without a copy where
    /// the backend can (the buffer keeps this tensor's memory alive), else
    /// a row-major host copy. What [`to_backend`](Self::to_backend) and
    /// [`to_dlpack`](Self::to_dlpack) hand to the receiving side.
    pub fn lend_host(&self) -> Result<HostBuffer> {
        crate::jit::no_host_read("lend_host", self)?;
        match self.dyn_lend_host()? {
            Some(buf) => Ok(buf),
            None => HostBuffer::from_host_data(self.dyn_to_host()?, &self.shape()),
        }
    }

    /// The address of the tensor's host memory when the backend can lend
    /// it without a copy (see [`to_backend`](Self::to_backend)), `None`
    /// otherwise: for checking that two tensors share memory.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1f32, 2.0], &[2])?;
    /// let u = t.to_backend(ep::Backend::NdArray)?;
    /// assert_eq!(t.host_ptr()?, u.host_ptr()?);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn host_ptr(&self) -> Result<Option<usize>> {
        Ok(self.dyn_lend_host()?.map(|b| b.ptr() as usize))
    }

    /// A row-major host copy of the elements as `Vec<E>`. `E` is the dtype,
    /// or any dtype the values convert to without loss
    /// ([`DType::can_cast_losslessly`]: f32 → f64, i32 → i64, i32 → f64,
    /// ...); anything lossy is a `dtype` error (cast with
    /// [`astype`](Self::astype) first, which rounds and saturates).
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1i32, 2, 3], &[3])?;
    /// assert_eq!(t.to_vec::<i32>()?, vec![1, 2, 3]);
    /// assert_eq!(t.to_vec::<f64>()?, vec![1.0, 2.0, 3.0]); // lossless
    /// assert!(t.to_vec::<f32>().is_err()); // i32 does not fit f32 exactly
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn to_vec<E: Element>(&self) -> Result<Vec<E>> {
        self.to_vec_op("to_vec")
    }
    fn to_vec_op<E: Element>(&self, op: &'static str) -> Result<Vec<E>> {
        let dtype = self.dtype();
        if dtype != E::DTYPE {
            if !dtype.can_cast_losslessly(E::DTYPE) {
                return Err(Error::dtype(
                    op,
                    format!(
                        "the tensor is {dtype}, which does not convert to {} without loss; \
                         use astype({}) first, or item_scalar()",
                        E::DTYPE,
                        E::DTYPE
                    ),
                ));
            }
            return self.cast_to(E::DTYPE)?.to_vec_op(op);
        }
        crate::jit::no_host_read(op, self)?;
        let host = self.dyn_to_host()?;
        E::from_host(host).ok_or_else(|| Error::dtype(op, format!("the tensor is not {dtype}")))
    }
    /// A row-major host copy of the elements in their own dtype, whatever it
    /// is (for code that handles every dtype, such as printers and savers).
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![ep::f16::from_f32(1.5)], &[1])?;
    /// let h = t.to_host_data()?;
    /// assert_eq!(h.dtype(), ep::DType::F16);
    /// assert_eq!(h.get(0).unwrap().to_f64(), 1.5);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn to_host_data(&self) -> Result<HostData> {
        crate::jit::no_host_read("to_host_data", self)?;
        self.dyn_to_host()
    }
    /// A host copy as an `ndarray::ArrayD<E>` (EagerPy's `numpy()`); `E`
    /// as for [`to_vec`](Self::to_vec).
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1i32, 2, 3, 4], &[2, 2])?;
    /// assert_eq!(t.to_ndarray::<i64>()?, ep::ndarray::arr2(&[[1i64, 2], [3, 4]]).into_dyn());
    /// let e = t.to_ndarray::<f32>().unwrap_err();
    /// assert_eq!((e.kind(), e.op()), ("dtype", "to_ndarray"));
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn to_ndarray<E: Element>(&self) -> Result<ndarray::ArrayD<E>> {
        let v = self.to_vec_op::<E>("to_ndarray")?;
        ndarray::ArrayD::from_shape_vec(self.shape(), v)
            .map_err(|e| Error::shape("to_ndarray", e.to_string()))
    }
    /// The only element (errors unless the tensor has exactly one), as `E`:
    /// the dtype or one it widens to without loss, so generic code can read
    /// any float tensor as `f64` and any integer one up to 32 bits as `i64`
    /// (or use [`item_scalar`](Self::item_scalar) and `Scalar::to_f64`).
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![0.5f32], &[])?;
    /// assert_eq!(t.item::<f32>()?, 0.5);
    /// assert_eq!(t.item::<f64>()?, 0.5);
    /// let e = t.item::<i64>().unwrap_err();
    /// assert_eq!((e.kind(), e.op()), ("dtype", "item"));
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn item<E: Element>(&self) -> Result<E> {
        let n = self.numel();
        if n != 1 {
            return Err(Error::shape(
                "item",
                format!("needs exactly one element, the tensor has {n}"),
            ));
        }
        Ok(self.to_vec_op::<E>("item")?[0])
    }
    /// The only element as a [`Scalar`] of the tensor's dtype: reads any
    /// dtype without naming it (`.to_f64()` for a number).
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![7u16], &[])?;
    /// assert_eq!(t.item_scalar()?, ep::Scalar::U16(7));
    /// assert_eq!(t.item_scalar()?.to_f64(), 7.0);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn item_scalar(&self) -> Result<Scalar> {
        let n = self.numel();
        if n != 1 {
            return Err(Error::shape(
                "item",
                format!("needs exactly one element, the tensor has {n}"),
            ));
        }
        crate::jit::no_host_read("item_scalar", self)?;
        self.dyn_to_host()?
            .get(0)
            .ok_or_else(|| Error::shape("item", "no element"))
    }

    /// A tensor of `backend` from row-major data; `shape` is any
    /// [`IntoShape`] (`&[2, 2]`, `[2, 2]`, `&x.shape()`, `vec![2, 2]`).
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// assert_eq!(t.shape(), vec![2, 2]);
    /// assert_eq!(t.index(ep::s![1, 0])?.item::<f32>()?, 3.0);
    /// let s = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![5i64], &[])?; // 0-d
    /// assert_eq!(s.item::<i64>()?, 5);
    /// let e = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f32; 3], [2, 2]).unwrap_err();
    /// assert_eq!((e.kind(), e.op()), ("shape", "from_vec"));
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn from_vec<E: Element>(
        backend: Backend,
        data: Vec<E>,
        shape: impl IntoShape,
    ) -> Result<EagerTensor> {
        let shape = dims("from_vec", shape)?;
        Self::from_host_op("from_vec", backend, E::into_host(data), &shape)
    }

    /// A tensor of `backend` from a host buffer.
    pub fn from_host(
        backend: Backend,
        data: HostData,
        shape: impl IntoShape,
    ) -> Result<EagerTensor> {
        let shape = dims("from_host", shape)?;
        Self::from_host_op("from_host", backend, data, &shape)
    }
    fn from_host_op(
        op: &'static str,
        backend: Backend,
        data: HostData,
        shape: &[usize],
    ) -> Result<EagerTensor> {
        check_len(op, &data, shape)?;
        on_backend!(op, backend, |B| {
            B::check_rank(op, shape)?;
            B::from_host(data, shape)
        })
    }

    /// A tensor of `backend` that adopts lent memory without a copy where
    /// the backend can borrow it, else one copy (see
    /// [`to_backend`](Self::to_backend)).
    pub fn adopt_host(backend: Backend, buf: HostBuffer) -> Result<EagerTensor> {
        eager_core::shape::check_size("adopt_host", buf.shape(), buf.dtype())?;
        on_backend!("adopt_host", backend, |B| {
            B::check_rank("adopt_host", buf.shape())?;
            B::adopt_host(buf)
        })
    }

    /// A tensor on the backend and device of `self` from a host buffer.
    pub fn from_host_like(&self, data: HostData, shape: impl IntoShape) -> Result<EagerTensor> {
        let shape = dims("from_host_like", shape)?;
        self.host_like("from_host_like", data, &shape)
    }
    /// [`from_host_like`](Self::from_host_like) with a checked shape, its
    /// errors naming `op`.
    pub(crate) fn host_like(
        &self,
        op: &'static str,
        data: HostData,
        shape: &[usize],
    ) -> Result<EagerTensor> {
        check_len(op, &data, shape)?;
        self.dyn_from_host_like(data, shape)
    }

    /// Borrows the native tensor (no copy): `t.as_raw::<NdTensor>()`,
    /// `t.as_raw::<ndarray::ArcArray<f32, IxDyn>>()`, ...
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::astensor(ep::ndarray::arr1(&[1.0f32, 2.0]));
    /// let a = t.as_raw::<ep::ndarray::ArcArray<f32, ep::ndarray::IxDyn>>()?;
    /// assert_eq!(a.len(), 2);
    /// assert!(t.as_raw::<ep::ndarray::ArcArray<f64, ep::ndarray::IxDyn>>().is_err());
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn as_raw<T: NativeRef>(&self) -> Result<&T> {
        T::ref_from_eager(self)
    }
    /// Takes the native tensor out (no copy): `t.into_raw::<ndarray::ArrayD<f32>>()`.
    pub fn into_raw<T: Native>(self) -> Result<T> {
        T::from_eager(self)
    }
}

pub(crate) fn check_len(op: &'static str, data: &HostData, shape: &[usize]) -> Result<()> {
    let n = eager_core::shape::check_size(op, shape, data.dtype())?;
    if data.len() != n {
        return Err(Error::shape(
            op,
            format!("{} elements do not fill shape {shape:?}", data.len()),
        ));
    }
    Ok(())
}

impl std::fmt::Debug for EagerTensor {
    /// Backend, dtype, shape and the values (as ndarray prints them; long
    /// axes elided), so `dbg!(x)` and `assert_eq!` failures show the data.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1i64, 2], &[2])?;
    /// assert_eq!(format!("{t:?}"), "EagerTensor(ndarray, i64, [2], [1, 2])");
    /// # Ok::<(), ep::Error>(())
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let traced = if self.is_traced() { ", traced" } else { "" };
        write!(
            f,
            "EagerTensor({}, {}, {:?}{traced}, ",
            self.backend(),
            self.dtype(),
            self.shape()
        )?;
        self.fmt_values(f)?;
        f.write_str(")")
    }
}

impl EagerTensor {
    /// The values as ndarray prints them, with `f`'s flags (`{:.3}`).
    fn fmt_values(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = match self.dyn_to_host() {
            Ok(h) => h,
            Err(e) => return write!(f, "<values unavailable: {e}>"),
        };
        fn show<E: std::fmt::Display>(
            f: &mut std::fmt::Formatter<'_>,
            v: Vec<E>,
            shape: Vec<usize>,
        ) -> std::fmt::Result {
            match ndarray::ArrayD::from_shape_vec(shape, v) {
                Ok(a) => std::fmt::Display::fmt(&a, f),
                Err(e) => write!(f, "<{e}>"),
            }
        }
        let shape = self.shape();
        eager_core::each_host!(host, v => show(f, v, shape))
    }
}

impl std::fmt::Display for EagerTensor {
    /// Backend, dtype, shape, then the values as ndarray prints them; the
    /// formatter's precision applies to the values (`{:.3}`).
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f64 / 3.0], &[1])?;
    /// assert!(format!("{t:.3}").ends_with("[0.333]"));
    /// # Ok::<(), ep::Error>(())
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "EagerTensor({}, {}, {:?})",
            self.backend(),
            self.dtype(),
            self.shape()
        )?;
        self.fmt_values(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What every op gives on a backend this build lacks (reachable only in
    /// builds without some backend feature, so tested here directly).
    #[test]
    fn a_backend_not_compiled_in_is_unsupported_naming_the_op() {
        for b in Backend::ALL {
            let e = not_enabled("to_backend", b);
            assert_eq!((e.kind(), e.op()), ("unsupported", "to_backend"));
            let msg = e.to_string();
            assert!(
                msg.contains("to_backend") && msg.contains(&format!("`{b}` feature")),
                "{msg}"
            );
        }
    }
}

//! # eager-tensor: EagerPy for Rust
//!
//! One chainable tensor type, [`EagerTensor`], over the native tensors of
//! ndarray (the default, NumPy's role), PyTorch, TensorFlow, XLA and
//! Candle, each behind its cargo feature. Each
//! operation runs in the framework that owns the tensor, without copies.
//! Wrap a native tensor with [`astensor`], chain operations, and take the
//! native tensor back with [`EagerTensor::into_raw`]; generic code takes and
//! returns any [`Native`] type.
//!
//! ```
//! use eager_tensor as ep;
//!
//! let x = ep::astensor(ndarray::arr1(&[1.0f32, 2.0, 3.0, 4.0]).into_dyn());
//! let norm = x.square()?.sum()?.sqrt()?;
//! assert!((norm.item::<f32>()? - 30f32.sqrt()).abs() < 1e-6);
//! let y = (&x * 2.0)?.index(ep::s![1..;2])?;
//! assert_eq!(y.to_vec::<f32>()?, vec![4.0, 8.0]);
//! # Ok::<(), ep::Error>(())
//! ```
//!
//! Thirteen dtypes ([`DType`]): bool, u8/u16/u32/u64, i8/i16/i32/i64 and
//! f16/bf16/f32/f64 ([`f16`](struct@f16) and [`bf16`] from the `half` crate). A native
//! tensor keeps its dtype through every op (f16 in, f16 out):
//!
//! ```
//! use eager_tensor as ep;
//!
//! let x = ep::astensor(ep::ndarray::arr1(&[ep::f16::from_f32(1.5), ep::f16::from_f32(2.0)]));
//! let y = x.mul(2.0)?.sum()?; // computed in f32, rounded once to f16
//! assert_eq!(y.dtype(), ep::DType::F16);
//! assert_eq!(y.item::<ep::f16>()?, ep::f16::from_f32(7.0));
//! let back: ep::ndarray::Array1<ep::f16> = x.into_raw()?;
//! # Ok::<(), ep::Error>(())
//! ```
//!
//! The semantics every backend follows where frameworks differ (dtype
//! promotion, integer division, rounding, NaN, sorting, ...) are in
//! `docs/semantics.md`.
#![warn(missing_docs)]
#![allow(clippy::should_implement_trait)]

#[macro_use]
mod table;
pub mod args;
mod autodiff;
mod create;
mod dlpack;
mod free;
mod index;
mod io;
mod jit;
mod native;
pub mod norms;
mod operand;
mod ops;
mod prim;
mod shape_ops;
mod tensor;

pub use args::{IntoAxes, IntoAxis, IntoShape};
pub use autodiff::{
    value_and_grad, value_and_grad_fn, value_and_grads, value_and_grads_with, value_aux_and_grad,
    value_aux_and_grad_fn, Engine, Traced,
};
pub use create::{
    arange, from_ndarray, from_vec, full, full_like, max_rank, normal, ones, ones_like, seed,
    set_num_threads, uniform, zeros, zeros_like, CreateLike,
};
pub use dlpack::from_dlpack;
/// The `dlpark` crate this build uses (DLPack's C ABI), for
/// `SafeManagedTensor::from_raw` / `into_raw`.
pub use dlpark;
pub use eager_core::limits::{max_tensor_bytes, set_max_tensor_bytes};
pub use eager_core::ops::{ArgReduceOp, BinaryOp, Device, Distribution, ReduceOp, UnaryOp};
pub use eager_core::{
    bf16, f16, half, Backend, BackendTensor, CastOps, CreateOps, DType, Element, ElementwiseOps,
    Error, HostBuffer, HostData, IndexOps, Kind, LinalgOps, ReduceOps, Result, Scalar, ShapeOps,
    TensorBase,
};
pub use free::*;
pub use index::{Ellipsis, IndexItem, NewAxis};
pub use io::{
    load, load_npy, load_npz, load_safetensors, save, save_npy, save_npz, save_safetensors,
};
/// `ep::jit(f)` wraps a function of several tensors; its
/// [`call`](Jit::call) runs one compiled program per input signature on
/// xla and `f` itself elsewhere, with the same results:
///
/// ```
/// use eager_tensor as ep;
/// let f = ep::jit(|xs: &[ep::EagerTensor]| Ok(vec![xs[0].add(&xs[1])?, xs[0].mul(&xs[1])?]));
/// let a = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f32, 2.0], &[2])?;
/// let b = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![3.0f32, 4.0], &[2])?;
/// let out = f.call(&[&a, &b])?;
/// assert_eq!(out[0].to_vec::<f32>()?, vec![4.0, 6.0]);
/// assert_eq!(out[1].to_vec::<f32>()?, vec![3.0, 8.0]);
/// # Ok::<(), ep::Error>(())
/// ```
pub use jit::jit;
pub use jit::{jit1, Jit, Jit1};
pub use native::{astensor, try_astensor, Native, NativeRef};
/// The `ndarray` crate this build uses, for naming the ndarray natives
/// (`ep::ndarray::arr2`, `ep::ndarray::ArrayD`) without a version clash.
pub use ndarray;
pub use operand::Operand;
pub use ops::{allclose, concatenate, stack};
pub use shape_ops::{meshgrid, Indexing, PadMode, Rows};
pub use tensor::EagerTensor;

eager_core::for_each_backend!(reexports);

/// `use eager_tensor::prelude::*` brings the method traits into scope.
pub mod prelude {
    pub use crate::CreateLike;
}

/// The user guide's chapters, compiled and run as doctests.
#[cfg(doctest)]
pub mod guide;

//! The ndarray backend of eager-tensor: pure Rust, NumPy's role, the default.
//!
//! Its native tensor is [`NdTensor`], one variant per dtype, each an
//! [`ArcArray`] so that cloning shares the buffer (as a framework handle
//! does) and views (slices, flips, transposes) share it too. Users never need
//! this crate directly: the facade converts `ndarray::ArrayD<T>` and
//! `ArcArray<T, IxDyn>` to and from `EagerTensor` without copying.
#![warn(missing_docs)]

mod elem;
mod linalg;
mod ops;
mod random;

pub use elem::{Elem, Flt, Num};
pub use random::{sample, seed};

use eager_core::{DType, Element};
use ndarray::{ArcArray, IxDyn};

/// The array type the backend stores: shared, dynamic-dimensional.
pub type Arr<T> = ArcArray<T, IxDyn>;

/// The native tensor of the ndarray backend: an [`ArcArray`] of one dtype.
#[derive(Clone, Debug)]
#[allow(missing_docs)]
pub enum NdTensor {
    Bool(Arr<bool>),
    U8(Arr<u8>),
    I32(Arr<i32>),
    I64(Arr<i64>),
    F32(Arr<f32>),
    F64(Arr<f64>),
}

/// The element types an [`NdTensor`] can hold, with access to the variant.
pub trait NdElem: Elem {
    /// Wraps an array into its variant.
    fn wrap(a: Arr<Self>) -> NdTensor;
    /// Borrows the array if the variant matches.
    fn peek(t: &NdTensor) -> Option<&Arr<Self>>;
    /// Takes the array if the variant matches, else gives the tensor back.
    fn take(t: NdTensor) -> Result<Arr<Self>, NdTensor>;
}

macro_rules! nd_elem {
    ($($t:ty => $v:ident),*) => {$(
        impl NdElem for $t {
            fn wrap(a: Arr<Self>) -> NdTensor { NdTensor::$v(a) }
            fn peek(t: &NdTensor) -> Option<&Arr<Self>> {
                match t { NdTensor::$v(a) => Some(a), _ => None }
            }
            fn take(t: NdTensor) -> Result<Arr<Self>, NdTensor> {
                match t { NdTensor::$v(a) => Ok(a), other => Err(other) }
            }
        }
        impl From<Arr<$t>> for NdTensor {
            fn from(a: Arr<$t>) -> Self { NdTensor::$v(a) }
        }
        impl From<ndarray::ArrayD<$t>> for NdTensor {
            fn from(a: ndarray::ArrayD<$t>) -> Self { NdTensor::$v(a.into_shared()) }
        }
    )*};
}
nd_elem!(bool => Bool, u8 => U8, i32 => I32, i64 => I64, f32 => F32, f64 => F64);

/// Runs `$body` with `$a` bound to the array of whichever variant `$t` is.
#[macro_export]
#[doc(hidden)]
macro_rules! each {
    ($t:expr, $a:ident => $body:expr) => {
        match $t {
            $crate::NdTensor::Bool($a) => $body,
            $crate::NdTensor::U8($a) => $body,
            $crate::NdTensor::I32($a) => $body,
            $crate::NdTensor::I64($a) => $body,
            $crate::NdTensor::F32($a) => $body,
            $crate::NdTensor::F64($a) => $body,
        }
    };
}

impl NdTensor {
    /// The dtype.
    pub fn dtype(&self) -> DType {
        match self {
            NdTensor::Bool(_) => bool::DTYPE,
            NdTensor::U8(_) => u8::DTYPE,
            NdTensor::I32(_) => i32::DTYPE,
            NdTensor::I64(_) => i64::DTYPE,
            NdTensor::F32(_) => f32::DTYPE,
            NdTensor::F64(_) => f64::DTYPE,
        }
    }
    /// The shape.
    pub fn shape(&self) -> &[usize] {
        each!(self, a => a.shape())
    }
    /// Address of the first element (for zero-copy checks).
    pub fn data_ptr(&self) -> *const u8 {
        each!(self, a => a.as_ptr().cast::<u8>())
    }
}

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
pub use random::{sample, seed, Generator};

use eager_core::{bf16, f16, DType, Element};
use ndarray::{ArcArray, IxDyn};

/// The array type the backend stores: shared, dynamic-dimensional.
pub type Arr<T> = ArcArray<T, IxDyn>;

/// The native tensor of the ndarray backend: an [`ArcArray`] of one dtype.
#[derive(Clone, Debug)]
#[allow(missing_docs)]
pub enum NdTensor {
    Bool(Arr<bool>),
    U8(Arr<u8>),
    I8(Arr<i8>),
    I16(Arr<i16>),
    U16(Arr<u16>),
    I32(Arr<i32>),
    U32(Arr<u32>),
    I64(Arr<i64>),
    U64(Arr<u64>),
    F16(Arr<f16>),
    BF16(Arr<bf16>),
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
            #[inline]
            fn wrap(a: Arr<Self>) -> NdTensor { NdTensor::$v(a) }
            #[inline]
            fn peek(t: &NdTensor) -> Option<&Arr<Self>> {
                match t { NdTensor::$v(a) => Some(a), _ => None }
            }
            #[inline]
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
nd_elem!(
    bool => Bool, u8 => U8, i8 => I8, i16 => I16, u16 => U16, i32 => I32, u32 => U32,
    i64 => I64, u64 => U64, f16 => F16, bf16 => BF16, f32 => F32, f64 => F64
);

/// Runs `$body` with `$a` bound to the array of whichever variant `$t` is.
#[macro_export]
#[doc(hidden)]
macro_rules! each {
    ($t:expr, $a:ident => $body:expr) => {
        match $t {
            $crate::NdTensor::Bool($a) => $body,
            $crate::NdTensor::U8($a) => $body,
            $crate::NdTensor::I8($a) => $body,
            $crate::NdTensor::I16($a) => $body,
            $crate::NdTensor::U16($a) => $body,
            $crate::NdTensor::I32($a) => $body,
            $crate::NdTensor::U32($a) => $body,
            $crate::NdTensor::I64($a) => $body,
            $crate::NdTensor::U64($a) => $body,
            $crate::NdTensor::F16($a) => $body,
            $crate::NdTensor::BF16($a) => $body,
            $crate::NdTensor::F32($a) => $body,
            $crate::NdTensor::F64($a) => $body,
        }
    };
}

/// Runs `$body` with `$a` bound to the array of a numeric variant whose
/// element type implements `Num` (every variant but bool, which gives
/// `$other`). The 16-bit floats are included: their `Num` computes each
/// element in f32.
#[macro_export]
#[doc(hidden)]
macro_rules! each_num {
    ($t:expr, $a:ident => $body:expr, $b:ident => $other:expr) => {
        match $t {
            $crate::NdTensor::U8($a) => $body,
            $crate::NdTensor::I8($a) => $body,
            $crate::NdTensor::I16($a) => $body,
            $crate::NdTensor::U16($a) => $body,
            $crate::NdTensor::I32($a) => $body,
            $crate::NdTensor::U32($a) => $body,
            $crate::NdTensor::I64($a) => $body,
            $crate::NdTensor::U64($a) => $body,
            $crate::NdTensor::F16($a) => $body,
            $crate::NdTensor::BF16($a) => $body,
            $crate::NdTensor::F32($a) => $body,
            $crate::NdTensor::F64($a) => $body,
            $crate::NdTensor::Bool($b) => $other,
        }
    };
}

impl NdTensor {
    /// The dtype.
    pub fn dtype(&self) -> DType {
        fn of<T: Element>(_: &Arr<T>) -> DType {
            T::DTYPE
        }
        each!(self, a => of(a))
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

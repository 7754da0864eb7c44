//! eager-tensor's host engine: [`HostTensor`], a tensor of `ndarray`
//! arrays with the kernels of every op of the contract, and a seedable
//! random [`Generator`].
//!
//! The ndarray backend is this engine exposed as a backend; TensorFlow and
//! Candle run on it the ops their frameworks lack for some dtypes (their
//! host fallbacks), and every backend that draws random numbers on the host
//! declares its own generator with [`generator!`]. This crate is not a
//! backend: it names none, and no backend crate depends on another.
#![warn(missing_docs)]

mod elem;
mod linalg;
mod ops;
mod random;

pub use elem::{Elem, Flt, Num};
pub use random::Generator;

use eager_core::{bf16, f16, DType, Element, Result};
use ndarray::{ArcArray, IxDyn};

/// The array type the engine stores: shared, dynamic-dimensional.
pub type Arr<T> = ArcArray<T, IxDyn>;

/// A tensor on the host: an [`ArcArray`] of one dtype (cloning shares the
/// buffer; views share it too).
#[derive(Clone, Debug)]
#[allow(missing_docs)]
pub enum HostTensor {
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

/// The element types a [`HostTensor`] can hold, with access to the variant.
pub trait HostElem: Elem {
    /// Wraps an array into its variant.
    fn wrap(a: Arr<Self>) -> HostTensor;
    /// Borrows the array if the variant matches.
    fn peek(t: &HostTensor) -> Option<&Arr<Self>>;
    /// Takes the array if the variant matches, else gives the tensor back.
    fn take(t: HostTensor) -> Result<Arr<Self>, HostTensor>;
}

macro_rules! nd_elem {
    ($($t:ty => $v:ident),*) => {$(
        impl HostElem for $t {
            #[inline]
            fn wrap(a: Arr<Self>) -> HostTensor { HostTensor::$v(a) }
            #[inline]
            fn peek(t: &HostTensor) -> Option<&Arr<Self>> {
                match t { HostTensor::$v(a) => Some(a), _ => None }
            }
            #[inline]
            fn take(t: HostTensor) -> Result<Arr<Self>, HostTensor> {
                match t { HostTensor::$v(a) => Ok(a), other => Err(other) }
            }
        }
        impl From<Arr<$t>> for HostTensor {
            fn from(a: Arr<$t>) -> Self { HostTensor::$v(a) }
        }
        impl From<ndarray::ArrayD<$t>> for HostTensor {
            fn from(a: ndarray::ArrayD<$t>) -> Self { HostTensor::$v(a.into_shared()) }
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
            $crate::HostTensor::Bool($a) => $body,
            $crate::HostTensor::U8($a) => $body,
            $crate::HostTensor::I8($a) => $body,
            $crate::HostTensor::I16($a) => $body,
            $crate::HostTensor::U16($a) => $body,
            $crate::HostTensor::I32($a) => $body,
            $crate::HostTensor::U32($a) => $body,
            $crate::HostTensor::I64($a) => $body,
            $crate::HostTensor::U64($a) => $body,
            $crate::HostTensor::F16($a) => $body,
            $crate::HostTensor::BF16($a) => $body,
            $crate::HostTensor::F32($a) => $body,
            $crate::HostTensor::F64($a) => $body,
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
            $crate::HostTensor::U8($a) => $body,
            $crate::HostTensor::I8($a) => $body,
            $crate::HostTensor::I16($a) => $body,
            $crate::HostTensor::U16($a) => $body,
            $crate::HostTensor::I32($a) => $body,
            $crate::HostTensor::U32($a) => $body,
            $crate::HostTensor::I64($a) => $body,
            $crate::HostTensor::U64($a) => $body,
            $crate::HostTensor::F16($a) => $body,
            $crate::HostTensor::BF16($a) => $body,
            $crate::HostTensor::F32($a) => $body,
            $crate::HostTensor::F64($a) => $body,
            $crate::HostTensor::Bool($b) => $other,
        }
    };
}

impl HostTensor {
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
    /// `f` computed in f32 for a 16-bit float tensor, rounded back once:
    /// how the engine runs the float ops on f16 and bf16.
    fn via_f32(&self, f: impl FnOnce(&HostTensor) -> Result<HostTensor>) -> Result<HostTensor> {
        eager_core::ops::via_f32_with(self, HostTensor::dtype, HostTensor::cast, f)
    }
}

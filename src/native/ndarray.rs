//! ndarray's own arrays as natives: `ArrayD<E>`, `ArcArray<E, IxDyn>` and
//! the fixed-rank `Array1`…`Array6` convert to and from `EagerTensor`
//! without copying (the typed arrays' `AnyDType` is `NdTensor`).

use crate::native::wrong_native;
use crate::{EagerTensor, Error, Native, NativeRef, NdTensor, Result};
use eager_ndarray::NdElem;
use ::ndarray::{ArcArray, ArrayD, IxDyn};

impl<E: NdElem> From<ArcArray<E, IxDyn>> for EagerTensor {
    fn from(a: ArcArray<E, IxDyn>) -> Self {
        EagerTensor::NdArray(NdTensor::from(E::wrap(a)))
    }
}
impl<E: NdElem> From<ArrayD<E>> for EagerTensor {
    fn from(a: ArrayD<E>) -> Self {
        EagerTensor::NdArray(NdTensor::from(E::wrap(a.into_shared())))
    }
}
/// The array of element type `E` out of `t` without copying; an error
/// naming `what` (the type the caller asked for) if `t` holds another
/// backend or dtype.
fn take<E: NdElem>(t: EagerTensor, what: impl FnOnce() -> String) -> Result<ArcArray<E, IxDyn>> {
    match t {
        EagerTensor::NdArray(nd) => E::take(nd.into_host())
            .map_err(|nd| wrong_native(&EagerTensor::NdArray(nd.into()), &what())),
        other => Err(wrong_native(&other, &what())),
    }
}

impl<E: NdElem> Native for ArcArray<E, IxDyn> {
    type AnyDType = NdTensor;
    #[inline]
    fn from_eager(t: EagerTensor) -> Result<Self> {
        // The type's name is formatted only for the error.
        take(t, || format!("ArcArray<{}, IxDyn>", E::DTYPE))
    }
    fn to_eager(&self) -> EagerTensor {
        self.clone().into()
    }
}
impl<E: NdElem> NativeRef for ArcArray<E, IxDyn> {
    fn ref_from_eager(t: &EagerTensor) -> Result<&Self> {
        let nd = NdTensor::ref_from_eager(t)?;
        E::peek(nd.host()).ok_or_else(|| wrong_native(t, &format!("ArcArray<{}, IxDyn>", E::DTYPE)))
    }
}
/// Moves the buffer out without copying when this tensor is its only
/// owner and covers it whole; otherwise copies.
impl<E: NdElem> Native for ArrayD<E> {
    type AnyDType = NdTensor;
    fn from_eager(t: EagerTensor) -> Result<Self> {
        Ok(take(t, || format!("ArrayD<{}>", E::DTYPE))?.into_owned())
    }
    /// A copy: an owned array cannot be shared without moving it.
    fn to_eager(&self) -> EagerTensor {
        self.to_shared().into()
    }
}

/// The rank check of a fixed-dimension native, before anything is
/// taken (`what` names the type, formatted only for the error).
fn check_rank(t: &EagerTensor, ndim: usize, what: impl FnOnce() -> String) -> Result<()> {
    if t.ndim() == ndim {
        Ok(())
    } else {
        Err(Error::shape(
            "into_raw",
            format!(
                "the tensor has {} dimensions (shape {:?}), not {ndim} as {} needs",
                t.ndim(),
                t.shape(),
                what()
            ),
        ))
    }
}

/// `Array1<E>` … `Array6<E>` and their `ArcArray` forms: `astensor`
/// takes them without copying (`into_dyn`), `into_raw` checks the rank.
macro_rules! fixed_dim_native {
    ($($ix:ident $n:literal),*) => {$(
        impl<E: NdElem> From<::ndarray::Array<E, ::ndarray::$ix>> for EagerTensor {
            fn from(a: ::ndarray::Array<E, ::ndarray::$ix>) -> Self {
                EagerTensor::NdArray(NdTensor::from(E::wrap(a.into_dyn().into_shared())))
            }
        }
        impl<E: NdElem> From<ArcArray<E, ::ndarray::$ix>> for EagerTensor {
            fn from(a: ArcArray<E, ::ndarray::$ix>) -> Self {
                EagerTensor::NdArray(NdTensor::from(E::wrap(a.into_dyn())))
            }
        }
        impl<E: NdElem> Native for ArcArray<E, ::ndarray::$ix> {
            type AnyDType = NdTensor;
            fn from_eager(t: EagerTensor) -> Result<Self> {
                let what = || format!("ArcArray<{}, {}>", E::DTYPE, stringify!($ix));
                check_rank(&t, $n, what)?;
                take(t, what)?
                    .into_dimensionality()
                    .map_err(|e| Error::shape("into_raw", e.to_string()))
            }
            fn to_eager(&self) -> EagerTensor {
                self.clone().into()
            }
        }
        impl<E: NdElem> Native for ::ndarray::Array<E, ::ndarray::$ix> {
            type AnyDType = NdTensor;
            fn from_eager(t: EagerTensor) -> Result<Self> {
                let what = || format!("Array{}<{}>", $n, E::DTYPE);
                check_rank(&t, $n, what)?;
                Ok(take(t, what)?
                    .into_dimensionality()
                    .map_err(|e| Error::shape("into_raw", e.to_string()))?
                    .into_owned())
            }
            /// A copy: an owned array cannot be shared without moving it.
            fn to_eager(&self) -> EagerTensor {
                self.to_shared().into()
            }
        }
    )*};
}
fixed_dim_native!(Ix0 0, Ix1 1, Ix2 2, Ix3 3, Ix4 4, Ix5 5, Ix6 6);

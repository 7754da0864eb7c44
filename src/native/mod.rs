//! The native-type bridge: `astensor`, the `Native` and `NativeRef` traits,
//! and the frameworks' own tensor types as natives (`tch::Tensor`, ndarray's
//! arrays, ...), one file per backend, named as its row in the backend
//! table. (The backends' tensor types themselves, `TorchTensor` and the
//! rest, are converted by the table.) These conversions live in the
//! facade because Rust's orphan rule puts `From<tch::Tensor> for
//! EagerTensor` in the crate of `EagerTensor`.

use crate::tensor::DynOps;
use crate::{EagerTensor, Error, Result};

/// Wraps a native tensor (or an `EagerTensor`) without copying.
///
/// It cannot fail: a native tensor of a dtype eager-tensor does not have
/// (complex, quantized, float8, string) wraps too. Its
/// [`dtype`](EagerTensor::dtype) then reads [`DType::F32`](crate::DType::F32) and means
/// nothing, and every operation on it is a `dtype` error naming the real
/// dtype. Use [`try_astensor`] to get that error at once instead.
///
/// ```
/// use eager_tensor as ep;
/// let a = ndarray::ArrayD::<f32>::zeros(ndarray::IxDyn(&[2, 3]));
/// let t = ep::astensor(a);
/// assert_eq!(t.shape(), vec![2, 3]);
/// ```
pub fn astensor(x: impl Into<EagerTensor>) -> EagerTensor {
    x.into()
}

/// [`astensor`] that checks the native dtype: a native tensor of a dtype
/// eager-tensor does not support (a torch complex or quantized tensor, a
/// TensorFlow string tensor) is a `dtype` error naming it, here instead of
/// at the first operation. (`astensor` itself cannot fail: such a tensor
/// wraps, and every operation on it returns that error.)
///
/// ```
/// use eager_tensor as ep;
/// let t = ep::try_astensor(ndarray::arr1(&[1.0f32]).into_dyn())?;
/// assert_eq!(t.dtype(), ep::DType::F32);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn try_astensor(x: impl Into<EagerTensor>) -> Result<EagerTensor> {
    let t = x.into();
    t.dyn_native_dtype_ok()?;
    Ok(t)
}

/// A native tensor type of an enabled backend, or `EagerTensor` itself.
///
/// Generic functions take and return a `T: Native`, so a caller gets back
/// the type it passed in (EagerPy's `astensor_` / `restore`):
///
/// ```
/// use eager_tensor as ep;
/// fn l2<T: ep::Native>(x: T) -> ep::Result<T> {
///     ep::astensor(x).square()?.sum()?.sqrt()?.into_raw()
/// }
/// let a = ndarray::arr1(&[3.0f64, 4.0]).into_dyn();
/// let n: ndarray::ArrayD<f64> = l2(a)?;
/// assert_eq!(n[[]], 5.0);
/// # Ok::<(), ep::Error>(())
/// ```
///
/// Not every native type holds every dtype: an `ArrayD<f32>` can only come
/// back as f32, a `candle_core::Tensor` has no bool, i8, u16 or u64 and a
/// `tch::Tensor` no u16, u32 or u64. A function whose result has another
/// dtype than its input (`argmax`, a comparison, a cast, the sum of `u8`)
/// returns [`Native::AnyDType`] — the same framework's native type that
/// holds every dtype — and so works, checked by the compiler, for every
/// input type:
///
/// ```
/// use eager_tensor as ep;
/// fn predict<T: ep::Native>(logits: T) -> ep::Result<T::AnyDType> {
///     ep::astensor(logits).argmax_axis(-1)?.into_raw()
/// }
/// let logits = ep::ndarray::arr2(&[[0.1f32, 0.9], [0.8, 0.2]]);
/// let classes: ep::NdTensor = predict(logits)?; // i64: not an Array2<f32>
/// assert_eq!(ep::astensor(classes).to_vec::<i64>()?, vec![1, 0]);
/// # Ok::<(), ep::Error>(())
/// ```
pub trait Native: Into<EagerTensor> + Sized {
    /// The same framework's native type that holds every dtype: `Self` for
    /// a TensorFlow handle, `XlaTensor`, `EagerTensor` and each backend's
    /// tensor type; [`NdTensor`](crate::NdTensor) for the typed ndarray
    /// arrays (`ArrayD<E>`, `Array2<E>`, `ArcArray<E, D>`);
    /// `TorchTensor` for `tch::Tensor` and
    /// `CandleTensor` for `candle_core::Tensor`, which
    /// hold the dtypes those frameworks lack (their `into_tch` /
    /// `into_candle` give the framework's tensor where it has the dtype).
    type AnyDType: Native;
    /// Takes the native value out of an `EagerTensor` without copying; an
    /// error if the tensor belongs to another backend or dtype.
    fn from_eager(t: EagerTensor) -> Result<Self>;
    /// A new `EagerTensor` sharing this tensor's storage, leaving `self` to
    /// the caller: what `ep::astensor(&x)` does. No copy for `tch::Tensor`
    /// (`shallow_clone`), a TensorFlow handle (a new handle sharing the
    /// buffer), `candle_core::Tensor`, `XlaTensor`, `ArcArray`, `NdTensor`
    /// and every backend's tensor type; an owned ndarray array (`ArrayD`,
    /// `Array2`, ...) cannot be shared without moving it, so it is copied.
    fn to_eager(&self) -> EagerTensor;
}

/// `ep::astensor(&x)`: wraps a native tensor without consuming it, sharing
/// its storage as [`Native::to_eager`] says (an owned ndarray array is
/// copied), so generic code can take `&T` and the caller keeps its tensor:
///
/// ```
/// use eager_tensor as ep;
/// fn norm<T: ep::Native>(x: &T) -> ep::Result<f64> {
///     ep::astensor(x).square()?.sum()?.sqrt()?.item()
/// }
/// let x = ep::ndarray::arr1(&[3.0f64, 4.0]).into_dyn().into_shared();
/// assert_eq!(norm(&x)?, 5.0);
/// assert_eq!(norm(&x)?, 5.0); // x is still the caller's
/// # Ok::<(), ep::Error>(())
/// ```
impl<T: Native> From<&T> for EagerTensor {
    fn from(t: &T) -> EagerTensor {
        t.to_eager()
    }
}

/// A native type that an `EagerTensor` holds directly, so it can be borrowed.
pub trait NativeRef {
    /// Borrows it; an error if the tensor holds something else.
    fn ref_from_eager(t: &EagerTensor) -> Result<&Self>;
}

impl Native for EagerTensor {
    type AnyDType = EagerTensor;
    fn from_eager(t: EagerTensor) -> Result<Self> {
        Ok(t)
    }
    fn to_eager(&self) -> EagerTensor {
        self.clone()
    }
}
impl NativeRef for EagerTensor {
    fn ref_from_eager(t: &EagerTensor) -> Result<&Self> {
        Ok(t)
    }
}

/// The error for taking a native tensor of the wrong kind out.
pub(crate) fn wrong_native(t: &EagerTensor, want: &str) -> Error {
    if t.is_traced() {
        return Error::invalid(
            "into_raw",
            format!("the tensor is traced (inside value_and_grad), not {want}; detach() it first"),
        );
    }
    Error::invalid(
        "into_raw",
        format!(
            "the tensor is a {} {} tensor, not {want}",
            t.backend(),
            t.dtype()
        ),
    )
}

macro_rules! native_modules {
    (; $([$feature:tt $module:ident $variant:ident $krate:ident $tensor:ident [$($reexport:ident)*] $what:tt [$($name:tt)+] $doc:tt $holds:tt])*) => {
        $(
            #[cfg(feature = $feature)]
            mod $module;
        )*
    };
}
eager_core::for_each_backend!(native_modules);

/// `From<$native> for EagerTensor`, `Native` and (with `as`) `NativeRef`
/// for a framework's own tensor type held inside the backend's tensor
/// type `$tensor`: `wrap` wraps one without copying, `into` takes it back
/// out, `as` borrows it, `share` wraps a borrowed one sharing its storage,
/// and `any` is its `AnyDType` (the native type itself, or `$tensor` where
/// the framework lacks some of eager-tensor's dtypes).
#[allow(unused_macros)] // builds without torch, tensorflow and candle
macro_rules! framework_native {
    ($native:ty, $tensor:ty, any: $any:ty, wrap: $wrap:path, share: $share:expr, into: $into:path $(, as: $as:path)?) => {
        impl From<$native> for crate::EagerTensor {
            fn from(t: $native) -> Self {
                crate::EagerTensor::from($wrap(t))
            }
        }
        impl crate::Native for $native {
            type AnyDType = $any;
            fn from_eager(t: crate::EagerTensor) -> crate::Result<Self> {
                <$tensor as crate::Native>::from_eager(t).and_then($into)
            }
            fn to_eager(&self) -> crate::EagerTensor {
                let share: fn(&$native) -> $tensor = $share;
                crate::EagerTensor::from(share(self))
            }
        }
        $(
            impl crate::NativeRef for $native {
                fn ref_from_eager(t: &crate::EagerTensor) -> crate::Result<&Self> {
                    <$tensor as crate::NativeRef>::ref_from_eager(t).and_then($as)
                }
            }
        )?
    };
}
#[allow(unused_imports)]
use framework_native;

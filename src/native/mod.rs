//! The frameworks' own tensor types as natives (`tch::Tensor`, ndarray's
//! arrays, ...), one file per backend, named as its row in the backend
//! table. (The backends' tensor types themselves, `TorchTensor` and the
//! rest, are converted by the table.) These conversions live in the
//! facade because Rust's orphan rule puts `From<tch::Tensor> for
//! EagerTensor` in the crate of `EagerTensor`.

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
/// out, `as` borrows it.
macro_rules! framework_native {
    ($native:ty, $tensor:ty, wrap: $wrap:path, into: $into:path $(, as: $as:path)?) => {
        impl From<$native> for crate::EagerTensor {
            fn from(t: $native) -> Self {
                crate::EagerTensor::from($wrap(t))
            }
        }
        impl crate::Native for $native {
            type AnyDType = $native;
            fn from_eager(t: crate::EagerTensor) -> crate::Result<Self> {
                <$tensor as crate::Native>::from_eager(t).and_then($into)
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
use framework_native;

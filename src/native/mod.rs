//! The frameworks' own tensor types as natives (`tch::Tensor`, ndarray's
//! arrays, ...), one file per backend, named as its row in the backend
//! table. (The backends' tensor types themselves, `TorchTensor` and the
//! rest, are converted by the table.) These conversions live in the
//! facade because Rust's orphan rule puts `From<tch::Tensor> for
//! EagerTensor` in the crate of `EagerTensor`.

macro_rules! native_modules {
    (; $({
        feature: $feature:tt, module: $module:ident, variant: $variant:ident,
        krate: $krate:ident, tensor: $tensor:ident, reexport: [$($reexport:ident),*],
        what: $what:tt, names: [$($name:tt),+], doc: $doc:tt, holds: $holds:tt,
    })*) => {
        $(
            #[cfg(feature = $feature)]
            mod $module;
        )*
    };
}
eager_core::for_each_backend!(native_modules);

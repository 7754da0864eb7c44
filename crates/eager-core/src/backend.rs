//! The frameworks eager-tensor can run on, and the one table that lists them.

use crate::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// **The backend table**: one row per backend, the only place that lists
/// them. It calls `$callback! { $($arg)* ; rows }`, each row a group
/// `[feature module variant krate tensor [reexport*] what [name+] doc holds]`
/// of the fields below, and each crate that needs
/// something per backend generates it from the rows with a callback macro:
/// eager-core the [`Backend`] enum below, the facade the `EagerTensor`
/// variants, the routing of every op, the native conversions, the
/// re-exports, `ep::seed` and the check that a build has a backend.
///
/// A row's fields:
/// - `feature`: the cargo feature (of the facade and of eager-core) that
///   compiles the backend in; also its name (`Display`, `backends::<name>`);
/// - `module`: the same name as an identifier;
/// - `variant`: the variant of [`Backend`] and of `EagerTensor`;
/// - `krate`: the backend crate, which implements
///   [`BackendTensor`](crate::BackendTensor) and
///   [`Capabilities`](crate::Capabilities) for
/// - `tensor`: its tensor type;
/// - `reexport`: the framework crates it re-exports (`ep::tch`, ...);
/// - `what`: how an error names one of its tensors;
/// - `names`: the strings `Backend::from_str` accepts;
/// - `doc`: the documentation of its `Backend` variant;
/// - `holds`: the documentation of its `EagerTensor` variant.
///
/// Adding a backend is its crate, one row here, its cargo features, and
/// its conformance run (see ARCHITECTURE.md, "Adding a backend").
#[macro_export]
macro_rules! for_each_backend {
    ($callback:ident $($arg:tt)*) => {
        $crate::for_each_backend! { @rows [$callback $($arg)*]
            { feature: "ndarray", module: ndarray, variant: NdArray, krate: eager_ndarray, tensor: NdTensor, reexport: [HostTensor], what: "an ndarray tensor", names: ["ndarray", "numpy"], doc: "`ndarray`: pure Rust, NumPy's role. The default.", holds: "An ndarray tensor (`ArcArray<T, IxDyn>` of one of the dtypes).", }
            { feature: "torch", module: torch, variant: Torch, krate: eager_torch, tensor: TorchTensor, reexport: [tch], what: "a torch tensor", names: ["torch", "pytorch"], doc: "`torch`: PyTorch through tch / libtorch.", holds: "A PyTorch tensor (`tch::Tensor`, shared on clone).", }
            { feature: "tensorflow", module: tensorflow, variant: TensorFlow, krate: eager_tensorflow, tensor: TfTensor, reexport: [tensorflow], what: "a tensorflow tensor", names: ["tensorflow", "tf"], doc: "`tensorflow`: TensorFlow's eager C API.", holds: "A TensorFlow eager tensor handle (shared on clone).", }
            { feature: "xla", module: xla, variant: Xla, krate: eager_xla, tensor: XlaTensor, reexport: [], what: "an xla tensor", names: ["xla", "jax"], doc: "`xla`: XLA through the PJRT C API (JAX's compiler).", holds: "An XLA device buffer of a PJRT client (shared on clone).", }
            { feature: "candle", module: candle, variant: Candle, krate: eager_candle, tensor: CandleTensor, reexport: [candle_core], what: "a candle tensor", names: ["candle"], doc: "`candle`: Hugging Face's Candle (`candle-core`, pure Rust CPU kernels).", holds: "A Candle tensor (`candle_core::Tensor`, shared on clone).", }
        }
    };
    // The rows, passed on with their fields in order, one group per row.
    (@rows [$callback:ident $($arg:tt)*] $({
        feature: $feature:tt, module: $module:ident, variant: $variant:ident,
        krate: $krate:ident, tensor: $tensor:ident, reexport: [$($reexport:ident),*],
        what: $what:tt, names: [$($name:tt),+], doc: $doc:tt, holds: $holds:tt,
    })*) => {
        $callback! { $($arg)* ; $([
            $feature $module $variant $krate $tensor [$($reexport)*] $what [$($name)+] $doc $holds
        ])* }
    };
}

/// Generates [`Backend`] from the table's rows.
macro_rules! backend_enum {
    (; $([$feature:tt $module:ident $variant:ident $krate:ident $tensor:ident [$($reexport:ident)*] $what:tt [$($name:tt)+] $doc:tt $holds:tt])*) => {
        /// The frameworks eager-tensor can run on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Backend {
            $(#[doc = $doc] $variant,)*
        }

        impl Backend {
            /// Every backend, compiled in or not.
            pub const ALL: [Backend; [$($feature),*].len()] = [$(Backend::$variant),*];

            /// Whether this backend is compiled in.
            pub fn is_enabled(self) -> bool {
                match self {
                    $(Backend::$variant => cfg!(feature = $feature),)*
                }
            }

            /// The backend's name: its cargo feature.
            pub fn name(self) -> &'static str {
                match self {
                    $(Backend::$variant => $feature,)*
                }
            }
        }

        impl FromStr for Backend {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($($name)|+ => Ok(Backend::$variant),)*
                    _ => Err(Error::invalid(
                        "Backend::from_str",
                        format!("unknown backend {s:?}"),
                    )),
                }
            }
        }
    };
}
for_each_backend!(backend_enum);

impl Backend {
    /// The backends compiled into this build (by cargo features).
    ///
    /// ```
    /// # use eager_core::Backend;
    /// # #[cfg(feature = "ndarray")]
    /// assert!(Backend::enabled().contains(&Backend::NdArray));
    /// ```
    pub fn enabled() -> Vec<Backend> {
        Backend::ALL
            .into_iter()
            .filter(|b| b.is_enabled())
            .collect()
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_and_the_aliases_too() {
        for b in Backend::ALL {
            assert_eq!(b.to_string().parse::<Backend>().unwrap(), b);
        }
        for (alias, b) in [
            ("numpy", Backend::NdArray),
            ("pytorch", Backend::Torch),
            ("tf", Backend::TensorFlow),
            ("jax", Backend::Xla),
        ] {
            assert_eq!(alias.parse::<Backend>().unwrap(), b);
        }
        let e = "mxnet".parse::<Backend>().unwrap_err();
        assert_eq!((e.kind(), e.op()), ("invalid", "Backend::from_str"));
    }
}

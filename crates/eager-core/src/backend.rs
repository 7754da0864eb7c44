//! The frameworks eager-tensor can run on.

use crate::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// The frameworks eager-tensor can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `ndarray`: pure Rust, NumPy's role. The default.
    NdArray,
    /// `torch`: PyTorch through tch / libtorch.
    Torch,
    /// `tensorflow`: TensorFlow's eager C API.
    TensorFlow,
    /// `xla`: XLA through the PJRT C API (JAX's compiler).
    Xla,
    /// `candle`: Hugging Face's Candle (`candle-core`, pure Rust CPU kernels).
    Candle,
}

impl Backend {
    /// Every backend, compiled in or not.
    pub const ALL: [Backend; 5] = [
        Backend::NdArray,
        Backend::Torch,
        Backend::TensorFlow,
        Backend::Xla,
        Backend::Candle,
    ];

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

    /// Whether this backend is compiled in.
    pub fn is_enabled(self) -> bool {
        match self {
            Backend::NdArray => cfg!(feature = "ndarray"),
            Backend::Torch => cfg!(feature = "torch"),
            Backend::TensorFlow => cfg!(feature = "tensorflow"),
            Backend::Xla => cfg!(feature = "xla"),
            Backend::Candle => cfg!(feature = "candle"),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::NdArray => "ndarray",
            Backend::Torch => "torch",
            Backend::TensorFlow => "tensorflow",
            Backend::Xla => "xla",
            Backend::Candle => "candle",
        })
    }
}

impl FromStr for Backend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "ndarray" | "numpy" => Backend::NdArray,
            "torch" | "pytorch" => Backend::Torch,
            "tensorflow" | "tf" => Backend::TensorFlow,
            "xla" | "jax" => Backend::Xla,
            "candle" => Backend::Candle,
            _ => {
                return Err(Error::invalid(
                    "Backend::from_str",
                    format!("unknown backend {s:?}"),
                ))
            }
        })
    }
}

//! The one error type of eager-tensor.

use crate::{Backend, DType};

/// Everything that can go wrong in an eager-tensor call.
///
/// Every variant names the operation that failed, so a message read far from
/// the call site still says where it came from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Shapes that do not fit together (broadcasting, matmul, reshape, ...).
    #[error("{op}: shape error: {msg}")]
    Shape {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// A dtype the operation does not accept.
    #[error("{op}: dtype error: {msg}")]
    DType {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// An axis outside `-ndim..ndim`, or repeated.
    #[error("{op}: axis {axis} is out of range for a tensor with {ndim} dimensions")]
    Axis {
        /// The operation.
        op: &'static str,
        /// The axis as given.
        axis: isize,
        /// The number of dimensions of the tensor.
        ndim: usize,
    },
    /// An index that does not address the tensor.
    #[error("{op}: index error: {msg}")]
    Index {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// Tensors of two different backends in one operation.
    #[error("{op}: tensors from different backends ({left} and {right}); convert one with to_backend first")]
    BackendMismatch {
        /// The operation.
        op: &'static str,
        /// Backend of the first tensor.
        left: Backend,
        /// Backend of the other tensor.
        right: Backend,
    },
    /// Any other argument that is not valid.
    #[error("{op}: invalid argument: {msg}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// The backend cannot do this (yet).
    #[error("{op}: not supported by the {backend} backend: {msg}")]
    Unsupported {
        /// The operation.
        op: &'static str,
        /// The backend.
        backend: Backend,
        /// Why.
        msg: String,
    },
    /// The framework itself failed; its message is kept.
    #[error("{op}: {backend} error: {msg}")]
    Framework {
        /// The operation.
        op: &'static str,
        /// The backend.
        backend: Backend,
        /// The framework's message.
        msg: String,
    },
}

impl Error {
    /// A short, stable name of the error's kind: `shape`, `dtype`, `axis`,
    /// `index`, `backend_mismatch`, `invalid`, `unsupported` or `framework`.
    /// The conformance suite compares expected errors by this name.
    ///
    /// ```
    /// use eager_core::Error;
    /// let e = Error::shape("matmul", "inner dimensions 3 and 4 differ");
    /// assert_eq!((e.kind(), e.op()), ("shape", "matmul"));
    /// assert_eq!(e.to_string(), "matmul: shape error: inner dimensions 3 and 4 differ");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Shape { .. } => "shape",
            Error::DType { .. } => "dtype",
            Error::Axis { .. } => "axis",
            Error::Index { .. } => "index",
            Error::BackendMismatch { .. } => "backend_mismatch",
            Error::InvalidArgument { .. } => "invalid",
            Error::Unsupported { .. } => "unsupported",
            Error::Framework { .. } => "framework",
        }
    }

    /// The operation that failed.
    pub fn op(&self) -> &'static str {
        match self {
            Error::Shape { op, .. }
            | Error::DType { op, .. }
            | Error::Axis { op, .. }
            | Error::Index { op, .. }
            | Error::BackendMismatch { op, .. }
            | Error::InvalidArgument { op, .. }
            | Error::Unsupported { op, .. }
            | Error::Framework { op, .. } => op,
        }
    }

    /// Shorthand for [`Error::Shape`].
    pub fn shape(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Shape {
            op,
            msg: msg.into(),
        }
    }
    /// Shorthand for [`Error::DType`].
    pub fn dtype(op: &'static str, msg: impl Into<String>) -> Self {
        Error::DType {
            op,
            msg: msg.into(),
        }
    }
    /// Shorthand for [`Error::Index`].
    pub fn index(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Index {
            op,
            msg: msg.into(),
        }
    }
    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(op: &'static str, msg: impl Into<String>) -> Self {
        Error::InvalidArgument {
            op,
            msg: msg.into(),
        }
    }
    /// A dtype error saying that `op` does not accept `dtype`.
    pub fn dtype_not_allowed(op: &'static str, dtype: DType) -> Self {
        Error::dtype(op, format!("{dtype} tensors are not accepted"))
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

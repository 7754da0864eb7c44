//! The backend-independent core of [eager-tensor](https://docs.rs/eager-tensor):
//! dtypes and NumPy 2's promotion rules, scalars, host buffers, the error
//! type, the shape helpers that validate every call once, and the op contract
//! ([`BackendTensor`]) that each backend crate implements.
#![warn(missing_docs)]

mod dtype;
mod error;
pub mod exchange;
pub mod limits;
pub mod ops;
pub mod round;
pub mod shape;
pub mod sum;

pub use dtype::{bf16, f16, Backend, DType, Element, HostData, Kind, Scalar};
pub use error::{Error, Result};
pub use exchange::HostBuffer;
pub use half;
pub use ops::{ArgReduceOp, BackendTensor, BinaryOp, Device, Distribution, ReduceOp, UnaryOp};

//! The backend-independent core of [eager-tensor](https://docs.rs/eager-tensor):
//! dtypes and NumPy 2's promotion rules, scalars, host buffers, the error
//! type, the shape helpers that validate every call once, and the op contract
//! ([`BackendTensor`]) that each backend crate implements.
#![warn(missing_docs)]

mod backend;
pub mod capability;
mod dtype;
mod error;
pub mod exchange;
mod host;
pub mod limits;
pub mod ops;
pub mod round;
mod scalar;
pub mod shape;
pub mod sum;
pub mod threads;

pub use backend::Backend;
pub use capability::{AutogradTrace, Capabilities, Compiler, NativeAutograd, ProgramCache};
pub use dtype::{bf16, f16, DType, Element, Kind};
pub use error::{Error, Result};
pub use exchange::HostBuffer;
pub use half;
pub use host::HostData;
pub use ops::{
    ArgReduceOp, BackendTensor, BinaryOp, CastOps, CreateOps, Device, Distribution, ElementwiseOps,
    IndexOps, LinalgOps, ReduceOp, ReduceOps, ShapeOps, TensorBase, UnaryOp,
};
pub use scalar::Scalar;

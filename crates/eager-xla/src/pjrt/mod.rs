//! A small, safe layer over the PJRT C API (the plugin interface XLA and
//! JAX use), loaded at run time with `libloading`: no headers, no bindgen.
//!
//! Only what eager-tensor needs: plugin loading, one client and its first
//! device, host↔device buffers, compiling StableHLO text, executing, events
//! and errors. Every handle has a `Drop`. The `#[repr(C)]` argument structs
//! follow PJRT C API 0.114/0.115; each call passes its `struct_size`, and a
//! plugin accepts structs at least as new as its own.

mod buffer;
mod client;
mod executable;
mod ffi;

pub use buffer::{Buffer, ElementType, Lend, ZERO_COPY_ALIGN};
pub use client::{plugin_path, Client, OptionValue};
pub use executable::Executable;
pub use ffi::{Api, OnDone};

/// An error from the plugin (or from loading it).
#[derive(Debug, Clone, PartialEq)]
pub struct PjrtError(pub String);

impl std::fmt::Display for PjrtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type Result<T> = std::result::Result<T, PjrtError>;

//! Shape and axis arguments, one trait each, accepted everywhere:
//!
//! - [`IntoShape`] (`zeros`, `ones`, `full`, `uniform`, `normal`,
//!   `broadcast_to`, `tile`): `&[2, 3]`, `&[]`, `&[n, 1]`, `&y.shape()`,
//!   `vec![..]`, slices or `Vec`s of any integer type, and one integer for
//!   a 1-D shape (`ep::zeros(&t, 5)`, EagerPy's `ShapeOrScalar`). Arrays
//!   are `usize` only: with more than one array impl, `&[]` (a 0-d shape)
//!   could not infer its element type.
//! - [`IntoAxes`] (every `*_axes` reduction, `permute`, `squeeze_axes`,
//!   `flip_axes`, the norms) — and `reshape`, whose shape may hold one `-1`:
//!   one axis or arrays, slices and `Vec`s of `usize`, `isize`, `i32`, `i64`
//!   or `u32` (`-1`, `&[0, -1]`, `&y.shape()`, `vec![1usize]`). An empty
//!   list needs its type: `&[0isize; 0]` or `Vec::<isize>::new()`.
//! - [`IntoAxis`] (one axis: `softmax`, `sort`, `argmax_axis`,
//!   `concatenate`, `expand_dims`, ...): any integer.
//!
//! Negative axes count from the end wherever an axis is taken.
//!
//! ```
//! # use eager_tensor as ep;
//! let x = ep::arange(&ep::EagerTensor::zeros(ep::Backend::NdArray, &[], ep::DType::I64)?, 0, 6, 1)?;
//! let y = x.reshape([2, -1])?;                // i32 literals, -1 inferred
//! let z = x.reshape(y.shape())?;              // Vec<usize> from shape()
//! assert_eq!(z.shape(), vec![2, 3]);
//! assert_eq!(y.permute([-1, 0])?.shape(), vec![3, 2]);
//! assert_eq!(y.sum_axes(-1, false)?.to_vec::<i64>()?, vec![3, 12]);
//! assert_eq!(ep::zeros(&x, 5)?.shape(), vec![5]);   // one integer: 1-D
//! # Ok::<(), ep::Error>(())
//! ```

use crate::{Error, Result};

/// A shape argument: a list of dimensions (`reshape` also takes one `-1`).
pub trait IntoShape {
    /// The dimensions as `isize` (negative ones are checked by the op).
    fn into_shape(self) -> Vec<isize>;
}

/// An axes argument: one axis or a list of them, negative from the end.
pub trait IntoAxes {
    /// The axes as `isize`, not yet normalized.
    fn into_axes(self) -> Vec<isize>;
}

/// One axis, negative from the end.
pub trait IntoAxis: Copy {
    /// The axis as `isize`, not yet normalized.
    fn into_axis(self) -> isize;
}

macro_rules! int_args {
    ($($t:ty),*) => {$(
        impl IntoAxis for $t {
            fn into_axis(self) -> isize {
                // Saturating: an absurd axis stays absurd (an `axis` error).
                isize::try_from(self).unwrap_or(isize::MAX)
            }
        }
        impl IntoAxes for $t {
            fn into_axes(self) -> Vec<isize> {
                vec![self.into_axis()]
            }
        }
        impl IntoAxes for &[$t] {
            fn into_axes(self) -> Vec<isize> {
                self.iter().map(|&d| d.into_axis()).collect()
            }
        }
        impl<const N: usize> IntoAxes for [$t; N] {
            fn into_axes(self) -> Vec<isize> {
                self.as_slice().into_axes()
            }
        }
        impl<const N: usize> IntoAxes for &[$t; N] {
            fn into_axes(self) -> Vec<isize> {
                self.as_slice().into_axes()
            }
        }
        impl IntoAxes for Vec<$t> {
            fn into_axes(self) -> Vec<isize> {
                self.as_slice().into_axes()
            }
        }
        impl IntoAxes for &Vec<$t> {
            fn into_axes(self) -> Vec<isize> {
                self.as_slice().into_axes()
            }
        }
        // Shapes: one integer (a 1-D shape, as EagerPy's `ShapeOrScalar`),
        // slices and vectors of every integer type; arrays only of `usize`
        // (below), so that `&[]` and `&[n, 1]` infer.
        impl IntoShape for $t {
            fn into_shape(self) -> Vec<isize> {
                vec![self.into_axis()]
            }
        }
        impl IntoShape for &[$t] {
            fn into_shape(self) -> Vec<isize> {
                self.into_axes()
            }
        }
        impl IntoShape for Vec<$t> {
            fn into_shape(self) -> Vec<isize> {
                self.as_slice().into_axes()
            }
        }
        impl IntoShape for &Vec<$t> {
            fn into_shape(self) -> Vec<isize> {
                self.as_slice().into_axes()
            }
        }
    )*};
}
int_args!(usize, isize, i32, i64, u32);

impl<const N: usize> IntoShape for [usize; N] {
    fn into_shape(self) -> Vec<isize> {
        self.as_slice().into_axes()
    }
}
impl<const N: usize> IntoShape for &[usize; N] {
    fn into_shape(self) -> Vec<isize> {
        self.as_slice().into_axes()
    }
}

/// A shape of non-negative dimensions (for creating and broadcasting ops).
pub(crate) fn dims(op: &'static str, shape: impl IntoShape) -> Result<Vec<usize>> {
    shape
        .into_shape()
        .into_iter()
        .map(|d| {
            usize::try_from(d)
                .map_err(|_| Error::shape(op, format!("negative dimension {d} in a shape")))
        })
        .collect()
}

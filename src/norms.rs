//! Norms, as in EagerPy's `eagerpy.norms`.
//!
//! ```
//! use eager_tensor as ep;
//! let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![3.0f32, -4.0], &[2])?;
//! assert_eq!(ep::norms::l2(&x, None, false)?.item::<f32>()?, 5.0);
//! assert_eq!(x.norms().linf(None, false)?.item::<f32>()?, 4.0);
//! assert_eq!(ep::norms::l0(&x, &[0], true)?.to_vec::<f32>()?, vec![2.0]);
//! # Ok::<(), ep::Error>(())
//! ```

use crate::{EagerTensor, Result};

/// Which axes to reduce: `None` (all), an axis, or a list of axes (any
/// [`IntoAxes`](crate::IntoAxes): `-1`, `&[0, 1]`, `vec![1usize]`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Axes(pub Option<Vec<isize>>);

impl<A: crate::IntoAxes> From<A> for Axes {
    fn from(a: A) -> Self {
        Axes(Some(a.into_axes()))
    }
}
/// `None`: every axis.
impl From<Option<&[isize]>> for Axes {
    fn from(a: Option<&[isize]>) -> Self {
        Axes(a.map(|a| a.to_vec()))
    }
}

fn reduce(
    x: &EagerTensor,
    axes: &Axes,
    keepdims: bool,
    f: impl Fn(&EagerTensor, &[isize], bool) -> Result<EagerTensor>,
) -> Result<EagerTensor> {
    match &axes.0 {
        Some(a) => f(x, a, keepdims),
        None => {
            let all: Vec<isize> = (0..x.ndim() as isize).collect();
            f(x, &all, keepdims)
        }
    }
}

/// Number of non-zero elements, in the dtype of `x`.
pub fn l0(x: &EagerTensor, axes: impl Into<Axes>, keepdims: bool) -> Result<EagerTensor> {
    let nz = x.ne(0i64)?;
    reduce(&nz, &axes.into(), keepdims, |t, a, k| t.sum_axes(a, k))?.astype(x.dtype())
}
/// Sum of absolute values.
pub fn l1(x: &EagerTensor, axes: impl Into<Axes>, keepdims: bool) -> Result<EagerTensor> {
    reduce(&x.abs()?, &axes.into(), keepdims, |t, a, k| {
        t.sum_axes(a, k)
    })
}
/// Euclidean norm.
pub fn l2(x: &EagerTensor, axes: impl Into<Axes>, keepdims: bool) -> Result<EagerTensor> {
    reduce(&x.square()?, &axes.into(), keepdims, |t, a, k| {
        t.sum_axes(a, k)
    })?
    .sqrt()
}
/// Largest absolute value.
pub fn linf(x: &EagerTensor, axes: impl Into<Axes>, keepdims: bool) -> Result<EagerTensor> {
    reduce(&x.abs()?, &axes.into(), keepdims, |t, a, k| {
        t.max_axes(a, k)
    })
}
/// `(Σ|x|^p)^(1/p)`; `p = 0, 1, 2, ∞` give [`l0`], [`l1`], [`l2`], [`linf`].
pub fn lp(x: &EagerTensor, p: f64, axes: impl Into<Axes>, keepdims: bool) -> Result<EagerTensor> {
    let axes = axes.into();
    if p == 0.0 {
        return l0(x, axes, keepdims);
    }
    if p == 1.0 {
        return l1(x, axes, keepdims);
    }
    if p == 2.0 {
        return l2(x, axes, keepdims);
    }
    if p == f64::INFINITY {
        return linf(x, axes, keepdims);
    }
    let x = x.astype(x.dtype().to_float())?;
    reduce(&x.abs()?.pow(p)?, &axes, keepdims, |t, a, k| {
        t.sum_axes(a, k)
    })?
    .pow(1.0 / p)
}

/// `x.norms().l2(..)`: the norms as methods.
#[derive(Debug, Clone, Copy)]
pub struct Norms<'a>(&'a EagerTensor);

impl Norms<'_> {
    /// See [`l0`].
    pub fn l0(&self, axes: impl Into<Axes>, keepdims: bool) -> Result<EagerTensor> {
        l0(self.0, axes, keepdims)
    }
    /// See [`l1`].
    pub fn l1(&self, axes: impl Into<Axes>, keepdims: bool) -> Result<EagerTensor> {
        l1(self.0, axes, keepdims)
    }
    /// See [`l2`].
    pub fn l2(&self, axes: impl Into<Axes>, keepdims: bool) -> Result<EagerTensor> {
        l2(self.0, axes, keepdims)
    }
    /// See [`linf`].
    pub fn linf(&self, axes: impl Into<Axes>, keepdims: bool) -> Result<EagerTensor> {
        linf(self.0, axes, keepdims)
    }
    /// See [`lp`].
    pub fn lp(&self, p: f64, axes: impl Into<Axes>, keepdims: bool) -> Result<EagerTensor> {
        lp(self.0, p, axes, keepdims)
    }
}

impl EagerTensor {
    /// The norms of this tensor as methods.
    pub fn norms(&self) -> Norms<'_> {
        Norms(self)
    }
}

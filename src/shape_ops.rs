//! Shape operations, gathers and joins built on the contract.

use crate::args::{IntoAxes, IntoAxis, IntoShape};
use crate::free::methods_and_fns;
use crate::tensor::DynOps;
use crate::{DType, EagerTensor, Error, Operand, Result, Scalar};
use eager_core::shape::{self, infer_reshape, normalize_axes, normalize_axis, SliceRange};

/// How [`EagerTensor::pad`] fills the new border.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PadMode {
    /// A constant value (cast to the tensor's dtype; a value the dtype
    /// cannot hold exactly is an error).
    Constant(f64),
    /// NumPy's `reflect`: mirror without repeating the edge; each width must
    /// be smaller than its axis.
    Reflect,
}

/// How [`meshgrid`] orders the first two output axes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indexing {
    /// Cartesian (NumPy's default): the first two axes are swapped.
    Xy,
    /// Matrix indexing.
    Ij,
}

impl EagerTensor {
    pub(crate) fn reshape_exact(&self, shape: &[usize]) -> Result<EagerTensor> {
        if self.shape() == shape {
            Ok(self.clone())
        } else {
            self.dyn_reshape(shape)
        }
    }
    /// EagerPy's `.T`: reverses the axes.
    pub fn t(&self) -> Result<EagerTensor> {
        self.transpose()
    }

    pub(crate) fn take_along_axis_named(
        &self,
        op: &'static str,
        index: &EagerTensor,
        axis: isize,
    ) -> Result<EagerTensor> {
        let (s, si) = (self.shape(), index.shape());
        if s.len() != si.len() {
            return Err(Error::shape(
                op,
                format!("index has {} dimensions, the tensor {}", si.len(), s.len()),
            ));
        }
        let ax = normalize_axis(op, axis, s.len())?;
        let idx = checked_index(op, index, s[ax])?;
        let mut bs = Vec::with_capacity(s.len());
        for i in 0..s.len() {
            bs.push(if i == ax {
                1
            } else {
                shape::broadcast_shapes(op, &[s[i]], &[si[i]])?[0]
            });
        }
        let mut xs = bs.clone();
        xs[ax] = s[ax];
        let mut is = bs;
        is[ax] = si[ax];
        let x = self.broadcast_to(&xs)?;
        let idx = idx.broadcast_to(&is)?;
        crate::prim::pick(op, crate::prim::Pick::Gather, &x, ax, &idx)
    }

    /// The slices along axis 0 (a 0-d tensor yields nothing); `for row in
    /// &x` does the same.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let x = ep::astensor(ep::ndarray::arr2(&[[1i64, 2], [3, 4]]));
    /// let mut sums = vec![];
    /// for row in &x {
    ///     sums.push(row.sum()?.item::<i64>()?);
    /// }
    /// assert_eq!(sums, vec![3, 7]);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn iter(&self) -> Rows<'_> {
        let n = if self.ndim() == 0 { 0 } else { self.len() };
        Rows { t: self, i: 0, n }
    }
    fn select_axis0(&self, i: usize) -> Result<EagerTensor> {
        let s = self.shape();
        let mut ranges: Vec<SliceRange> = s.iter().map(|&d| SliceRange::full(d)).collect();
        ranges[0] = SliceRange {
            start: i,
            len: 1,
            step: 1,
        };
        self.dyn_slice(&ranges)?.dyn_reshape(&s[1..])
    }
}

methods_and_fns! {
    /// Same elements, new shape; one entry may be `-1` (inferred).
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::arange(&ep::EagerTensor::zeros(ep::Backend::NdArray, &[], ep::DType::I64)?, 0, 6, 1)?;
    /// assert_eq!(t.reshape(&[2, -1])?.shape(), vec![2, 3]);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn reshape(&self, shape: impl IntoAxes) -> Result<EagerTensor> {
        let s = infer_reshape("reshape", &self.shape(), &shape.into_axes())?;
        shape::check_size("reshape", &s, self.dtype())?;
        self.reshape_exact(&s)
    }
    /// Merges axes `start..=end` (negative counts from the end) into one;
    /// `flatten(0, -1)` gives a 1-D tensor.
    pub fn flatten(&self, start: impl IntoAxis, end: impl IntoAxis) -> Result<EagerTensor> {
        let op = "flatten";
        let (start, end) = (start.into_axis(), end.into_axis());
        let s = self.shape();
        if s.is_empty() {
            return self.reshape_exact(&[1]);
        }
        let a = normalize_axis(op, start, s.len())?;
        let b = normalize_axis(op, end, s.len())?;
        if a > b {
            return Err(Error::invalid(
                op,
                format!("start axis {start} comes after end axis {end}"),
            ));
        }
        let mut out = s[..a].to_vec();
        out.push(s[a..=b].iter().product());
        out.extend(&s[b + 1..]);
        self.reshape_exact(&out)
    }
    /// Reverses the axes.
    pub fn transpose(&self) -> Result<EagerTensor> {
        let axes: Vec<usize> = (0..self.ndim()).rev().collect();
        self.dyn_permute(&axes)
    }
    /// Reorders the axes; `axes` must be a permutation of the axes
    /// (negative ones count from the end: `permute(&[-1, 0])`).
    pub fn permute(&self, axes: impl IntoAxes) -> Result<EagerTensor> {
        let nd = self.ndim();
        let given = axes.into_axes();
        let axes: Vec<usize> = given
            .iter()
            .map(|&a| normalize_axis("permute", a, nd))
            .collect::<Result<_>>()?;
        let mut seen = vec![false; nd];
        if axes.len() != nd || axes.iter().any(|&a| std::mem::replace(&mut seen[a], true)) {
            return Err(Error::invalid(
                "permute",
                format!("{given:?} is not a permutation of the {nd} axes"),
            ));
        }
        self.dyn_permute(&axes)
    }
    /// Inserts an axis of size 1 at `axis` (in `-(ndim+1)..=ndim`).
    pub fn expand_dims(&self, axis: impl IntoAxis) -> Result<EagerTensor> {
        let mut s = self.shape();
        let a = normalize_axis("expand_dims", axis.into_axis(), s.len() + 1)?;
        s.insert(a, 1);
        self.dyn_reshape(&s)
    }
    /// Removes every axis of size 1.
    pub fn squeeze(&self) -> Result<EagerTensor> {
        let s: Vec<usize> = self.shape().into_iter().filter(|&d| d != 1).collect();
        self.reshape_exact(&s)
    }
    /// Removes the given axes, which must have size 1.
    pub fn squeeze_axes(&self, axes: impl IntoAxes) -> Result<EagerTensor> {
        let op = "squeeze";
        let s = self.shape();
        let axes = normalize_axes(op, &axes.into_axes(), s.len())?;
        if let Some(&a) = axes.iter().find(|&&a| s[a] != 1) {
            return Err(Error::shape(
                op,
                format!("axis {a} has size {}, not 1", s[a]),
            ));
        }
        let out: Vec<usize> = s
            .iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, &d)| d)
            .collect();
        self.reshape_exact(&out)
    }
    /// Repeats the tensor `reps[i]` times along axis `i` (one multiple per
    /// axis).
    pub fn tile(&self, reps: impl IntoShape) -> Result<EagerTensor> {
        let reps = crate::args::dims("tile", reps)?;
        let s = self.shape();
        if reps.len() != s.len() {
            return Err(Error::invalid(
                "tile",
                format!(
                    "needs one multiple per axis ({}), got {}",
                    s.len(),
                    reps.len()
                ),
            ));
        }
        // Each repeated axis `d` becomes `[1, d]` broadcast to `[r, d]`;
        // axes repeated once stay as they are.
        let mut inter = Vec::new();
        let mut big = Vec::new();
        let mut out = Vec::new();
        for (&d, &r) in s.iter().zip(&reps) {
            if r != 1 {
                inter.push(1);
                big.push(r);
            }
            inter.push(d);
            big.push(d);
            out.push(r.saturating_mul(d));
        }
        shape::check_size("tile", &big, self.dtype())?;
        if inter.len() <= 8 {
            return self
                .dyn_reshape(&inter)?
                .dyn_broadcast_to(&big)?
                .dyn_reshape(&out);
        }
        // More than 8 dimensions on the way (TensorFlow and Candle hold at
        // most 8): one repeated axis at a time, as `[before, 1, d, after]`.
        let mut t = self.clone();
        for (ax, (&d, &r)) in s.iter().zip(&reps).enumerate() {
            if r == 1 {
                continue;
            }
            let cur = t.shape();
            let before: usize = cur[..ax].iter().product();
            let after: usize = cur[ax + 1..].iter().product();
            let mut next = cur.clone();
            next[ax] = r * d;
            t = t
                .dyn_reshape(&[before, 1, d, after])?
                .dyn_broadcast_to(&[before, r, d, after])?
                .dyn_reshape(&next)?;
        }
        Ok(t)
    }
    /// Reverses every axis.
    pub fn flip(&self) -> Result<EagerTensor> {
        let axes: Vec<usize> = (0..self.ndim()).collect();
        self.dyn_flip(&axes)
    }
    /// Reverses the given axes.
    pub fn flip_axes(&self, axes: impl IntoAxes) -> Result<EagerTensor> {
        let axes = normalize_axes("flip", &axes.into_axes(), self.ndim())?;
        self.dyn_flip(&axes)
    }
    /// Broadcasts to `shape` (NumPy's rules).
    pub fn broadcast_to(&self, shape: impl IntoShape) -> Result<EagerTensor> {
        let shape = &crate::args::dims("broadcast_to", shape)?;
        shape::check_broadcast_to("broadcast_to", &self.shape(), shape)?;
        shape::check_size("broadcast_to", shape, self.dtype())?;
        if &self.shape() == shape {
            return Ok(self.clone());
        }
        self.dyn_broadcast_to(shape)
    }
    /// Pads each axis with `(before, after)` elements.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1i64, 2, 3], &[3])?;
    /// let r = t.pad(&[(2, 1)], ep::PadMode::Reflect)?;
    /// assert_eq!(r.to_vec::<i64>()?, vec![3, 2, 1, 2, 3, 2]);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn pad(&self, widths: &[(usize, usize)], mode: PadMode) -> Result<EagerTensor> {
        let op = "pad";
        let s = self.shape();
        if widths.len() != s.len() {
            return Err(Error::invalid(
                op,
                format!(
                    "needs one (before, after) pair per axis ({}), got {}",
                    s.len(),
                    widths.len()
                ),
            ));
        }
        let padded: Vec<usize> = s
            .iter()
            .zip(widths)
            .map(|(&d, &(b, a))| {
                d.checked_add(b)
                    .and_then(|x| x.checked_add(a))
                    .unwrap_or(usize::MAX)
            })
            .collect();
        shape::check_size(op, &padded, self.dtype())?;
        let mut t = self.clone();
        match mode {
            PadMode::Constant(v) => {
                let value = Scalar::F64(v).cast(op, self.dtype())?;
                for (ax, &(b, a)) in widths.iter().enumerate() {
                    if b == 0 && a == 0 {
                        continue;
                    }
                    let mut parts = Vec::new();
                    let cur = t.shape();
                    for w in [b, a] {
                        let mut ps = cur.clone();
                        ps[ax] = w;
                        parts.push(t.dyn_full(&ps, value, self.dtype())?);
                    }
                    t = crate::ops::concat_refs(op, &[&parts[0], &t, &parts[1]], ax as isize)?;
                }
            }
            PadMode::Reflect => {
                for (ax, &(b, a)) in widths.iter().enumerate() {
                    if b == 0 && a == 0 {
                        continue;
                    }
                    let n = s[ax];
                    if b >= n || a >= n {
                        return Err(Error::invalid(
                            op,
                            format!("reflect padding ({b}, {a}) must be smaller than axis {ax} of size {n}"),
                        ));
                    }
                    let n = n as i64;
                    let idx: Vec<i64> = (-(b as i64)..n + a as i64)
                        .map(|i| {
                            if i < 0 {
                                -i
                            } else if i >= n {
                                2 * (n - 1) - i
                            } else {
                                i
                            }
                        })
                        .collect();
                    let len = idx.len();
                    let it = t.host_like(op, crate::HostData::I64(idx), &[len])?;
                    t = crate::prim::pick(op, crate::prim::Pick::Select, &t, ax, &it)?;
                }
            }
        }
        Ok(t)
    }
    /// NumPy's `take_along_axis`: picks along `axis` with an integer `index`
    /// of the same number of dimensions (other axes broadcast; negative
    /// indices count from the end; out of range is an error).
    pub fn take_along_axis(&self, index: &EagerTensor, axis: impl IntoAxis) -> Result<EagerTensor> {
        self.take_along_axis_named("take_along_axis", index, axis.into_axis())
    }
    /// A 2-D tensor like `self` (same shape and dtype) that is 0 everywhere
    /// but `value` at `[i, indices[i]]`.
    pub fn onehot_like<'a>(
        &self,
        indices: &EagerTensor,
        value: impl Into<Operand<'a>>,
    ) -> Result<EagerTensor> {
        let op = "onehot_like";
        let (s, si) = (self.shape(), indices.shape());
        if s.len() != 2 || si.len() != 1 || s[0] != si[0] {
            return Err(Error::shape(
                op,
                format!(
                    "needs a 2-D tensor and 1-D indices of matching length, got {s:?} and {si:?}"
                ),
            ));
        }
        let idx = checked_index(op, indices, s[1])?.reshape([-1, 1])?;
        let cols = crate::arange(self, 0, s[1] as i64, 1)?.reshape([1, -1])?;
        let hit = cols.eq(&idx)?;
        let zero = self.dyn_full(&[], Scalar::I64(0).cast(op, self.dtype())?, self.dtype())?;
        let value = match value.into() {
            Operand::Scalar(v) => self.dyn_full(&[], v.cast(op, self.dtype())?, self.dtype())?,
            Operand::Tensor(t) => t.cast_to(self.dtype())?,
        };
        hit.where_cond(&value, &zero)?.broadcast_to(&s)
    }
}

/// Validates an integer index tensor against an axis of length `n` and
/// returns it as `i64` with negative entries wrapped.
pub(crate) fn checked_index(
    op: &'static str,
    index: &EagerTensor,
    n: usize,
) -> Result<EagerTensor> {
    if !index.dtype().is_int() {
        return Err(Error::dtype(
            op,
            format!("indices must be integers, got {}", index.dtype()),
        ));
    }
    if index.dtype() == DType::U64 && index.numel() > 0 {
        // Compared as unsigned: a u64 beyond i64::MAX would become a
        // negative i64 below (u64::MAX is -1) and count from the end.
        if index.in_jit() {
            // No values to check: clamp, as the gather does, before the
            // cast can wrap.
            let clamped = index.minimum(crate::Scalar::U64(n as u64))?;
            return checked_index(op, &clamped.cast_to(DType::I64)?, n);
        }
        let hi = index.max()?.item::<u64>()?;
        if hi >= n as u64 {
            return Err(Error::index(
                op,
                format!("index {hi} is out of bounds for an axis of size {n}"),
            ));
        }
    }
    let idx = index.cast_to(DType::I64)?;
    if idx.numel() == 0 {
        return Ok(idx);
    }
    if idx.in_jit() {
        // Inside jit the indices have no values to check: negative ones
        // wrap, out-of-range ones clamp (XLA's gather), as in `jax.jit`.
        let n = n as i64;
        return idx.lt(0i64)?.where_cond(&idx.add(n)?, &idx);
    }
    let lo = idx.min()?.item::<i64>()?;
    let hi = idx.max()?.item::<i64>()?;
    let n = n as i64;
    if lo < -n || hi >= n {
        let bad = if lo < -n { lo } else { hi };
        return Err(Error::index(
            op,
            format!("index {bad} is out of bounds for an axis of size {n}"),
        ));
    }
    if lo < 0 {
        idx.lt(0i64)?.where_cond(&idx.add(n)?, &idx)
    } else {
        Ok(idx)
    }
}

/// Coordinate grids from 1-D tensors (NumPy's `meshgrid`).
pub fn meshgrid<T: AsRef<EagerTensor>>(
    tensors: &[T],
    indexing: Indexing,
) -> Result<Vec<EagerTensor>> {
    let op = "meshgrid";
    let flat = tensors
        .iter()
        .map(|t| t.as_ref().flatten(0, -1))
        .collect::<Result<Vec<_>>>()?;
    let mut out_shape: Vec<usize> = flat.iter().map(|t| t.numel()).collect();
    let swap = indexing == Indexing::Xy && flat.len() >= 2;
    if swap {
        out_shape.swap(0, 1);
    }
    for t in &flat {
        shape::check_size(op, &out_shape, t.dtype())?;
    }
    if let Some(first) = flat.first() {
        if let Some(t) = flat.iter().find(|t| t.backend() != first.backend()) {
            return Err(crate::tensor::mismatch(op, &[first, t]));
        }
    }
    flat.iter()
        .enumerate()
        .map(|(i, t)| {
            let pos = if swap && i < 2 { 1 - i } else { i };
            let mut s = vec![1; out_shape.len()];
            s[pos] = t.numel();
            t.dyn_reshape(&s)?.broadcast_to(&out_shape)
        })
        .collect()
}

/// The slices of a tensor along axis 0 ([`EagerTensor::iter`], `for row in &x`).
#[derive(Debug)]
pub struct Rows<'a> {
    t: &'a EagerTensor,
    i: usize,
    n: usize,
}

impl Iterator for Rows<'_> {
    type Item = EagerTensor;
    fn next(&mut self) -> Option<EagerTensor> {
        if self.i >= self.n {
            return None;
        }
        self.i += 1;
        // A slice of a valid index of a valid tensor: cannot fail.
        self.t.select_axis0(self.i - 1).ok()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.n - self.i;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Rows<'_> {}

impl<'a> IntoIterator for &'a EagerTensor {
    type Item = EagerTensor;
    type IntoIter = Rows<'a>;
    fn into_iter(self) -> Rows<'a> {
        self.iter()
    }
}

//! Shape rules every backend shares: broadcasting, axes, reshape, slices.
//!
//! The facade validates and normalizes every argument with these helpers
//! before a backend sees it, so all backends get the same clean call and all
//! users the same error for the same mistake.

use crate::{Error, Result};

/// Number of elements of a shape.
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Number of elements of a shape that a caller asked for: an error when the
/// count (or its size in bytes, at 8 bytes an element) overflows, instead of
/// a panic or an abort in the allocator. [`check_size`] also checks the
/// memory limit; use it where the dtype is known.
pub fn checked_numel(op: &'static str, shape: &[usize]) -> Result<usize> {
    check_dims(op, shape, 8)
}

/// The dimension rules every tensor meets, whatever its element count: each
/// dimension fits an `i64` (what the frameworks index with), and the product
/// of the non-zero dimensions times `elem_bytes` fits an `isize` (so a
/// `[0, usize::MAX]` shape, empty but unaddressable, is refused as NumPy
/// refuses it, instead of aborting inside a framework). Returns the number
/// of elements.
fn check_dims(op: &'static str, shape: &[usize], elem_bytes: usize) -> Result<usize> {
    let too_many = || Error::shape(op, format!("shape {shape:?} has too many elements"));
    let mut nonzero = 1usize;
    let mut has_zero = false;
    for &d in shape {
        if d > i64::MAX as usize {
            return Err(too_many());
        }
        if d == 0 {
            has_zero = true;
        } else {
            nonzero = nonzero.checked_mul(d).ok_or_else(too_many)?;
        }
    }
    match nonzero.checked_mul(elem_bytes.max(1)) {
        Some(b) if b <= isize::MAX as usize => Ok(if has_zero { 0 } else { nonzero }),
        _ => Err(too_many()),
    }
}

/// Checks a shape a caller asked for with elements of `dtype`: the rules of
/// every shape (each dimension fits an `i64`, the size fits an `isize`) and
/// the memory limit ([`crate::limits::max_tensor_bytes`]). Every operation
/// whose result can be larger than its inputs calls this before a backend
/// allocates, so a size too large for memory is an `Err`, on every backend
/// alike, never an abort in an allocator. Returns the number of elements.
///
/// ```
/// use eager_core::{shape::check_size, DType};
/// assert_eq!(check_size("zeros", &[2, 3], DType::F32).unwrap(), 6);
/// assert!(check_size("zeros", &[10_000_000_000_000], DType::F32).is_err());
/// assert!(check_size("zeros", &[0, usize::MAX], DType::F32).is_err());
/// assert_eq!(check_size("zeros", &[0, 1 << 40], DType::F32).unwrap(), 0);
/// ```
pub fn check_size(op: &'static str, shape: &[usize], dtype: crate::DType) -> Result<usize> {
    let n = check_dims(op, shape, dtype.size_of())?;
    let bytes = n * dtype.size_of();
    let limit = crate::limits::max_tensor_bytes();
    if bytes > limit {
        return Err(Error::shape(
            op,
            format!(
                "a {dtype} tensor of shape {shape:?} needs {bytes} bytes, more than the \
                 limit of {limit} bytes (the machine's memory by default; raise it with \
                 EAGER_TENSOR_MAX_BYTES or eager_tensor::set_max_tensor_bytes)"
            ),
        ));
    }
    Ok(n)
}

/// NumPy broadcasting of two shapes.
///
/// ```
/// use eager_core::shape::broadcast_shapes;
/// assert_eq!(broadcast_shapes("add", &[2, 1, 3], &[4, 1]).unwrap(), vec![2, 4, 3]);
/// assert!(broadcast_shapes("add", &[2, 3], &[4]).is_err());
/// ```
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let mut out = vec![0; a.len().max(b.len())];
    broadcast_into(op, a, b, &mut out)?;
    Ok(out)
}

/// [`broadcast_shapes`] handed to `f` as a slice, without allocating for
/// up to 8 dimensions (the per-op hot path: binary ops only need the
/// result shape to check its size).
///
/// ```
/// use eager_core::shape::with_broadcast_shape;
/// let n = with_broadcast_shape("add", &[2, 1, 3], &[4, 1], |s| Ok(s.iter().product::<usize>()));
/// assert_eq!(n.unwrap(), 24);
/// assert!(with_broadcast_shape("add", &[2, 3], &[4], |_| Ok(())).is_err());
/// ```
pub fn with_broadcast_shape<R>(
    op: &'static str,
    a: &[usize],
    b: &[usize],
    f: impl FnOnce(&[usize]) -> Result<R>,
) -> Result<R> {
    const INLINE: usize = 8;
    let n = a.len().max(b.len());
    if n <= INLINE {
        let mut buf = [0usize; INLINE];
        broadcast_into(op, a, b, &mut buf[..n])?;
        f(&buf[..n])
    } else {
        f(&broadcast_shapes(op, a, b)?)
    }
}

/// Writes the broadcast of `a` and `b` into `out` (of length
/// `max(a.len(), b.len())`).
fn broadcast_into(op: &'static str, a: &[usize], b: &[usize], out: &mut [usize]) -> Result<()> {
    let n = out.len();
    for (i, o) in out.iter_mut().enumerate() {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        *o = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(Error::shape(
                op,
                format!("shapes {a:?} and {b:?} do not broadcast"),
            ));
        };
    }
    Ok(())
}

/// Whether `from` broadcasts to exactly `to` (NumPy's `broadcast_to` rule).
pub fn check_broadcast_to(op: &'static str, from: &[usize], to: &[usize]) -> Result<()> {
    let ok = from.len() <= to.len()
        && from
            .iter()
            .rev()
            .zip(to.iter().rev())
            .all(|(&f, &t)| f == t || f == 1);
    if ok {
        Ok(())
    } else {
        Err(Error::shape(
            op,
            format!("cannot broadcast shape {from:?} to {to:?}"),
        ))
    }
}

/// Turns a possibly negative axis into `0..ndim`.
///
/// ```
/// use eager_core::shape::normalize_axis;
/// assert_eq!(normalize_axis("sum", -1, 3).unwrap(), 2);
/// assert!(normalize_axis("sum", 3, 3).is_err());
/// ```
pub fn normalize_axis(op: &'static str, axis: isize, ndim: usize) -> Result<usize> {
    let n = ndim as isize;
    if axis < -n || axis >= n {
        Err(Error::Axis { op, axis, ndim })
    } else if axis < 0 {
        Ok((axis + n) as usize)
    } else {
        Ok(axis as usize)
    }
}

/// Normalizes a list of axes, sorted; a repeated axis is an error.
pub fn normalize_axes(op: &'static str, axes: &[isize], ndim: usize) -> Result<Vec<usize>> {
    let mut out = axes
        .iter()
        .map(|&a| normalize_axis(op, a, ndim))
        .collect::<Result<Vec<_>>>()?;
    out.sort_unstable();
    if out.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::invalid(op, format!("repeated axis in {axes:?}")));
    }
    Ok(out)
}

/// Resolves a reshape target with at most one `-1` against `numel` elements.
///
/// ```
/// use eager_core::shape::infer_reshape;
/// assert_eq!(infer_reshape("reshape", &[6], &[3, -1]).unwrap(), vec![3, 2]);
/// ```
pub fn infer_reshape(op: &'static str, from: &[usize], to: &[isize]) -> Result<Vec<usize>> {
    let n = numel(from);
    let mut unknown = None;
    let mut known = 1usize;
    for (i, &d) in to.iter().enumerate() {
        if d == -1 {
            if unknown.replace(i).is_some() {
                return Err(Error::invalid(op, "only one dimension can be -1"));
            }
        } else if d < 0 {
            return Err(Error::invalid(
                op,
                format!("negative dimension {d} in {to:?}"),
            ));
        } else {
            known = known.saturating_mul(d as usize);
        }
    }
    let mut out: Vec<usize> = to.iter().map(|&d| d.max(0) as usize).collect();
    match unknown {
        Some(i) => {
            if known == 0 || n % known != 0 {
                return Err(Error::shape(
                    op,
                    format!("cannot reshape {from:?} into {to:?}"),
                ));
            }
            out[i] = n / known;
        }
        None => {
            if known != n {
                return Err(Error::shape(
                    op,
                    format!("cannot reshape {from:?} ({n} elements) into {to:?}"),
                ));
            }
        }
    }
    Ok(out)
}

/// A normalized slice of one axis: elements `start, start + step, ...`,
/// `len` of them, with `step > 0`. Backends receive only these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceRange {
    /// First element.
    pub start: usize,
    /// Number of elements.
    pub len: usize,
    /// Distance between elements, at least 1.
    pub step: usize,
}

impl SliceRange {
    /// The whole axis of length `dim`.
    pub fn full(dim: usize) -> Self {
        SliceRange {
            start: 0,
            len: dim,
            step: 1,
        }
    }
    /// One past the last element taken (`start + (len - 1) * step + 1`, or
    /// `start` when empty).
    pub fn end(&self) -> usize {
        if self.len == 0 {
            self.start
        } else {
            self.start + (self.len - 1) * self.step + 1
        }
    }
}

/// Python's `slice(start, stop, step).indices(dim)`: clamps out-of-range
/// bounds, counts negative ones from the end. Returns `(start, len, step)`
/// where a negative step walks backwards from `start`. A zero step is an
/// error.
///
/// ```
/// use eager_core::shape::python_slice;
/// assert_eq!(python_slice("index", Some(1), None, 2, 6).unwrap(), (1, 3, 2));
/// assert_eq!(python_slice("index", None, None, -1, 3).unwrap(), (2, 3, -1));
/// assert_eq!(python_slice("index", Some(2), Some(100), 1, 4).unwrap(), (2, 2, 1));
/// ```
pub fn python_slice(
    op: &'static str,
    start: Option<isize>,
    stop: Option<isize>,
    step: isize,
    dim: usize,
) -> Result<(usize, usize, isize)> {
    if step == 0 {
        return Err(Error::index(op, "slice step cannot be zero"));
    }
    let n = dim as isize;
    // A step longer than the axis takes at most one element either way;
    // capping it keeps the arithmetic below from overflowing.
    let step = step.clamp(-n.max(1), n.max(1));
    let clamp = |v: isize, lo: isize, hi: isize| v.max(lo).min(hi);
    let norm = |v: isize, lo: isize, hi: isize| {
        if v < 0 {
            clamp(v.saturating_add(n), lo, hi)
        } else {
            clamp(v, lo, hi)
        }
    };
    let (s, e) = if step > 0 {
        (
            start.map_or(0, |v| norm(v, 0, n)),
            stop.map_or(n, |v| norm(v, 0, n)),
        )
    } else {
        (
            start.map_or(n - 1, |v| norm(v, -1, n - 1)),
            stop.map_or(-1, |v| norm(v, -1, n - 1)),
        )
    };
    let len = if step > 0 {
        if e > s {
            (e - s + step - 1) / step
        } else {
            0
        }
    } else if s > e {
        (s - e + (-step) - 1) / (-step)
    } else {
        0
    };
    Ok((s.max(0) as usize, len as usize, step))
}

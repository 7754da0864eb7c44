//! NumPy-style indexing: `t.index(ep::s![0, .., 1..;2, ep::NewAxis])`.
//!
//! Basic items (integers, ranges with steps, `..`, `NewAxis`, `Ellipsis`)
//! become one strided slice, a flip for negative steps, and a reshape.
//! Tensor items (integer gathers, boolean masks) follow NumPy's advanced
//! indexing: their index arrays broadcast together, and the resulting axes
//! go where the first one stood if they are adjacent, else to the front.

use crate::free::methods_and_fns;
use crate::tensor::DynOps;
use crate::{DType, EagerTensor, Error, Operand, Result};
use eager_core::shape::{python_slice, SliceRange};

/// Inserts a new axis of size 1 (NumPy's `np.newaxis`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAxis;

/// Stands for as many `..` as needed (NumPy's `...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ellipsis;

/// One item of an index. Build lists with [`s!`](crate::s).
#[derive(Debug, Clone)]
pub enum IndexItem {
    /// One position (negative counts from the end); the axis is removed.
    /// Wide enough for every `usize` and `i64`, so an out-of-bounds error
    /// names the index as given (`s![usize::MAX]` says 18446744073709551615).
    Int(i128),
    /// A Python slice; `None` bounds mean the ends; out-of-range bounds clamp.
    Slice {
        /// First position.
        start: Option<isize>,
        /// One past the last position (exclusive).
        stop: Option<isize>,
        /// Step (negative walks backwards; zero is an error).
        step: isize,
    },
    /// A new axis of size 1.
    NewAxis,
    /// As many full slices as needed.
    Ellipsis,
    /// An integer tensor (gather) or a boolean tensor (mask).
    Tensor(EagerTensor),
}

impl IndexItem {
    /// A range with a step: `s![1..;2]` expands to this.
    pub fn stepped(r: impl Into<IndexItem>, step: isize) -> IndexItem {
        match r.into() {
            IndexItem::Slice { start, stop, .. } => IndexItem::Slice { start, stop, step },
            other => other,
        }
    }
}

impl From<NewAxis> for IndexItem {
    fn from(_: NewAxis) -> Self {
        IndexItem::NewAxis
    }
}
impl From<Ellipsis> for IndexItem {
    fn from(_: Ellipsis) -> Self {
        IndexItem::Ellipsis
    }
}
impl From<&EagerTensor> for IndexItem {
    fn from(t: &EagerTensor) -> Self {
        IndexItem::Tensor(t.clone())
    }
}
impl From<EagerTensor> for IndexItem {
    fn from(t: EagerTensor) -> Self {
        IndexItem::Tensor(t)
    }
}
impl From<std::ops::RangeFull> for IndexItem {
    fn from(_: std::ops::RangeFull) -> Self {
        IndexItem::Slice {
            start: None,
            stop: None,
            step: 1,
        }
    }
}

/// An index or bound as `isize`, saturating: a `usize` beyond `isize::MAX`
/// stays out of range (an `index` error, or a bound that clamps) instead of
/// wrapping to a negative position that counts from the end.
fn to_isize<T: TryInto<isize> + PartialOrd + Default>(v: T) -> isize {
    let negative = v < T::default();
    v.try_into()
        .unwrap_or(if negative { isize::MIN } else { isize::MAX })
}

macro_rules! index_ints {
    ($($t:ty),*) => {$(
        impl From<$t> for IndexItem {
            fn from(i: $t) -> Self { IndexItem::Int(i as i128) }
        }
        impl From<std::ops::Range<$t>> for IndexItem {
            fn from(r: std::ops::Range<$t>) -> Self {
                IndexItem::Slice { start: Some(to_isize(r.start)), stop: Some(to_isize(r.end)), step: 1 }
            }
        }
        impl From<std::ops::RangeFrom<$t>> for IndexItem {
            fn from(r: std::ops::RangeFrom<$t>) -> Self {
                IndexItem::Slice { start: Some(to_isize(r.start)), stop: None, step: 1 }
            }
        }
        impl From<std::ops::RangeTo<$t>> for IndexItem {
            fn from(r: std::ops::RangeTo<$t>) -> Self {
                IndexItem::Slice { start: None, stop: Some(to_isize(r.end)), step: 1 }
            }
        }
        impl From<std::ops::RangeInclusive<$t>> for IndexItem {
            fn from(r: std::ops::RangeInclusive<$t>) -> Self {
                let end = to_isize(*r.end());
                // `a..=-1` means "through the last element".
                let stop = if end == -1 { None } else { Some(end.saturating_add(1)) };
                IndexItem::Slice { start: Some(to_isize(*r.start())), stop, step: 1 }
            }
        }
        impl From<std::ops::RangeToInclusive<$t>> for IndexItem {
            fn from(r: std::ops::RangeToInclusive<$t>) -> Self {
                let end = to_isize(r.end);
                let stop = if end == -1 { None } else { Some(end.saturating_add(1)) };
                IndexItem::Slice { start: None, stop, step: 1 }
            }
        }
    )*};
}
index_ints!(i32, i64, isize, usize);

/// Builds an index (a `Vec<IndexItem>`) the way NumPy's `t[...]` reads:
/// integers, ranges (`1..3`, `..`, `2..`, `..=4`) with an optional step
/// after a semicolon (`1..;2`, `..;-1`), `ep::NewAxis`, `ep::Ellipsis`,
/// and tensors (`&idx`, integer gather or boolean mask).
///
/// ```
/// use eager_tensor as ep;
/// let t = ep::arange(&ep::EagerTensor::zeros(ep::Backend::NdArray, &[], ep::DType::I64)?, 0, 12, 1)?
///     .reshape(&[3, 4])?;
/// assert_eq!(t.index(ep::s![1, ..;2])?.to_vec::<i64>()?, vec![4, 6]);
/// assert_eq!(t.index(ep::s![-1, ep::NewAxis])?.shape(), vec![1, 4]);
/// assert_eq!(t.index(ep::s![ep::Ellipsis, 3])?.to_vec::<i64>()?, vec![3, 7, 11]);
/// # Ok::<(), ep::Error>(())
/// ```
#[macro_export]
macro_rules! s {
    (@parse [$($acc:tt)*]) => { ::std::vec![$($acc)*] };
    (@parse [$($acc:tt)*] $r:expr ; $step:expr , $($rest:tt)*) => {
        $crate::s!(@parse [$($acc)* $crate::IndexItem::stepped($r, $step as isize),] $($rest)*)
    };
    (@parse [$($acc:tt)*] $r:expr ; $step:expr) => {
        $crate::s!(@parse [$($acc)* $crate::IndexItem::stepped($r, $step as isize),])
    };
    (@parse [$($acc:tt)*] $e:expr , $($rest:tt)*) => {
        $crate::s!(@parse [$($acc)* $crate::IndexItem::from($e),] $($rest)*)
    };
    (@parse [$($acc:tt)*] $e:expr) => {
        $crate::s!(@parse [$($acc)* $crate::IndexItem::from($e),])
    };
    ($($t:tt)*) => { $crate::s!(@parse [] $($t)*) };
}

/// What the basic part of an index left for the advanced part.
struct Plan {
    view: EagerTensor,
    /// `(axis in view, integer index tensor)`, in order.
    advanced: Vec<(usize, EagerTensor)>,
}

impl EagerTensor {
    fn index_named(&self, op: &'static str, items: &[IndexItem]) -> Result<EagerTensor> {
        let plan = self.basic_index(op, items)?;
        if plan.advanced.is_empty() {
            return Ok(plan.view);
        }
        advanced_index(op, plan)
    }

    fn basic_index(&self, op: &'static str, items: &[IndexItem]) -> Result<Plan> {
        let shape = self.shape();
        let nd = shape.len();
        let mut used = 0usize;
        let mut ellipses = 0;
        for it in items {
            match it {
                IndexItem::Int(_) | IndexItem::Slice { .. } => used += 1,
                IndexItem::Tensor(t) if t.dtype() == DType::Bool => used += t.ndim(),
                IndexItem::Tensor(_) => used += 1,
                IndexItem::NewAxis => {}
                IndexItem::Ellipsis => ellipses += 1,
            }
            if let IndexItem::Tensor(t) = it {
                if t.backend() != self.backend() {
                    return Err(crate::tensor::mismatch(op, &[self, t]));
                }
                if t.dtype().is_float() {
                    return Err(Error::index(
                        op,
                        format!("index tensors must be integer or bool, got {}", t.dtype()),
                    ));
                }
            }
        }
        if ellipses > 1 {
            return Err(Error::index(op, "an index can only have a single ellipsis"));
        }
        if used > nd {
            return Err(Error::index(
                op,
                format!("too many indices: {used} for a tensor with {nd} dimensions"),
            ));
        }
        let full = IndexItem::Slice {
            start: None,
            stop: None,
            step: 1,
        };
        let mut expanded: Vec<&IndexItem> = Vec::with_capacity(items.len() + nd);
        for it in items {
            if let IndexItem::Ellipsis = it {
                expanded.extend(std::iter::repeat(&full).take(nd - used));
            } else {
                expanded.push(it);
            }
        }
        if ellipses == 0 {
            expanded.extend(std::iter::repeat(&full).take(nd - used));
        }

        let mut ranges = Vec::with_capacity(nd);
        let mut flips = Vec::new();
        let mut new_shape = Vec::new();
        let mut advanced = Vec::new();
        let mut ax = 0usize;
        // With tensor items present, integers are advanced indices too (as in
        // NumPy), which decides where the gathered axes go.
        let has_tensor = items.iter().any(|it| matches!(it, IndexItem::Tensor(_)));
        for it in expanded {
            match it {
                IndexItem::Int(i) => {
                    let n = shape[ax] as i128;
                    if *i < -n || *i >= n {
                        return Err(Error::index(
                            op,
                            format!("index {i} is out of bounds for axis {ax} with size {n}"),
                        ));
                    }
                    let p = if *i < 0 { i + n } else { *i } as usize;
                    if has_tensor {
                        ranges.push(SliceRange::full(shape[ax]));
                        let t =
                            self.host_like("index", crate::HostData::I64(vec![p as i64]), &[])?;
                        advanced.push((new_shape.len(), t));
                        new_shape.push(shape[ax]);
                    } else {
                        ranges.push(SliceRange {
                            start: p,
                            len: 1,
                            step: 1,
                        });
                    }
                    ax += 1;
                }
                IndexItem::Slice { start, stop, step } => {
                    let (s, len, st) = python_slice(op, *start, *stop, *step, shape[ax])?;
                    if st > 0 {
                        ranges.push(SliceRange {
                            start: s,
                            len,
                            step: st as usize,
                        });
                    } else {
                        let k = (-st) as usize;
                        let first = if len == 0 { 0 } else { s - (len - 1) * k };
                        ranges.push(SliceRange {
                            start: first,
                            len,
                            step: k,
                        });
                        flips.push(ax);
                    }
                    new_shape.push(len);
                    ax += 1;
                }
                IndexItem::NewAxis => new_shape.push(1),
                IndexItem::Ellipsis => {}
                IndexItem::Tensor(t) if t.dtype() == DType::Bool => {
                    let k = t.ndim();
                    let covered = &shape[ax..ax + k];
                    if t.shape() != covered {
                        return Err(Error::index(
                            op,
                            format!("boolean index of shape {:?} does not match the indexed axes {covered:?}", t.shape()),
                        ));
                    }
                    // The selected count is a value: inside jit, an error
                    // naming the indexing op.
                    crate::jit::no_host_read(op, t)?;
                    let nz = t.dyn_nonzero()?;
                    let count = nz.shape()[0];
                    for j in 0..k {
                        ranges.push(SliceRange::full(shape[ax]));
                        let mut r = vec![SliceRange::full(count), SliceRange::full(k)];
                        r[1] = SliceRange {
                            start: j,
                            len: 1,
                            step: 1,
                        };
                        advanced.push((new_shape.len(), nz.dyn_slice(&r)?.dyn_reshape(&[count])?));
                        new_shape.push(shape[ax]);
                        ax += 1;
                    }
                }
                IndexItem::Tensor(t) => {
                    ranges.push(SliceRange::full(shape[ax]));
                    advanced.push((
                        new_shape.len(),
                        crate::shape_ops::checked_index(op, t, shape[ax])?,
                    ));
                    new_shape.push(shape[ax]);
                    ax += 1;
                }
            }
        }
        let mut view = self.clone();
        if ranges
            .iter()
            .zip(&shape)
            .any(|(r, &d)| *r != SliceRange::full(d))
        {
            view = view.dyn_slice(&ranges)?;
        }
        if !flips.is_empty() {
            view = view.dyn_flip(&flips)?;
        }
        let view = view.reshape_exact(&new_shape)?;
        Ok(Plan { view, advanced })
    }
}

methods_and_fns! {
    /// Indexes as NumPy's `t[...]` does; see [`s!`](crate::s).
    pub fn index(&self, index: impl AsRef<[IndexItem]>) -> Result<EagerTensor> {
        self.index_named("index", index.as_ref())
    }
    /// Returns a copy with `self[index] = values` (EagerPy's `index_update`);
    /// `values` broadcast to the indexed shape and must not need a lossy cast
    /// (float values into an integer tensor are an error).
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::zeros(ep::Backend::NdArray, &[2, 3], ep::DType::F32)?;
    /// let u = t.index_update(ep::s![.., 1], 5.0)?;
    /// assert_eq!(u.to_vec::<f32>()?, vec![0.0, 5.0, 0.0, 0.0, 5.0, 0.0]);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn index_update<'a>(
        &self,
        index: impl AsRef<[IndexItem]>,
        values: impl Into<Operand<'a>>,
    ) -> Result<EagerTensor> {
        let op = "index_update";
        let shape = self.shape();
        let n = self.numel();
        let dtype = self.dtype();
        let positions = crate::arange(self, 0, n as i64, 1)?
            .reshape_exact(&shape)?
            .index_named(op, index.as_ref())?;
        let pshape = positions.shape();
        let values = match values.into() {
            Operand::Scalar(s) => self.dyn_full(&[], s.cast(op, dtype)?, dtype)?,
            Operand::Tensor(t) => {
                if t.backend() != self.backend() {
                    return Err(crate::tensor::mismatch(op, &[self, t]));
                }
                if !crate::ops::kind_allows(t.dtype(), dtype) {
                    return Err(Error::dtype(
                        op,
                        format!("cannot write {} values into a {dtype} tensor", t.dtype()),
                    ));
                }
                t.cast_to(dtype)?
            }
        };
        eager_core::shape::check_broadcast_to(op, &values.shape(), &pshape).map_err(|_| {
            Error::shape(
                op,
                format!(
                    "values of shape {:?} do not broadcast to the indexed shape {pshape:?}",
                    values.shape()
                ),
            )
        })?;
        let m = positions.numel();
        let values = values.broadcast_to(&pshape)?.reshape_exact(&[m])?;
        let positions = positions.reshape_exact(&[m])?;
        let flat = self.reshape_exact(&[n])?;
        let out = crate::prim::scatter(op, &flat, &positions, &values)?;
        out.reshape_exact(&shape)
    }
}

fn advanced_index(op: &'static str, plan: Plan) -> Result<EagerTensor> {
    let Plan { view, advanced } = plan;
    let vshape = view.shape();
    // Broadcast the index arrays together.
    let mut bshape: Vec<usize> = Vec::new();
    for (_, t) in &advanced {
        bshape = eager_core::shape::broadcast_shapes(op, &bshape, &t.shape())
            .map_err(|_| Error::index(op, "index tensors do not broadcast together"))?;
    }
    let axes: Vec<usize> = advanced.iter().map(|(a, _)| *a).collect();
    let contiguous = axes.windows(2).all(|w| w[1] == w[0] + 1);
    let rest: Vec<usize> = (0..vshape.len()).filter(|a| !axes.contains(a)).collect();
    // Move the indexed axes to the front and merge them into one.
    let mut perm = axes.clone();
    perm.extend(&rest);
    let moved = if perm.iter().enumerate().all(|(i, &p)| i == p) {
        view
    } else {
        view.dyn_permute(&perm)?
    };
    let sizes: Vec<usize> = axes.iter().map(|&a| vshape[a]).collect();
    let total: usize = sizes.iter().product();
    let mut merged_shape = vec![total];
    merged_shape.extend(rest.iter().map(|&a| vshape[a]));
    let merged = moved.reshape_exact(&merged_shape)?;
    // Flat position into the merged axis.
    let mut flat: Option<EagerTensor> = None;
    let mut stride = 1i64;
    for (k, (_, idx)) in advanced.iter().enumerate().rev() {
        let term = if stride == 1 {
            idx.clone()
        } else {
            idx.mul(stride)?
        };
        flat = Some(match flat {
            None => term,
            Some(f) => f.add(&term)?,
        });
        stride *= sizes[k] as i64;
    }
    let flat = flat
        .ok_or_else(|| Error::index(op, "no index tensors"))?
        .broadcast_to(&bshape)?;
    let mut out_shape = bshape.clone();
    out_shape.extend(rest.iter().map(|&a| vshape[a]));
    eager_core::shape::check_size(op, &out_shape, merged.dtype())?;
    let count: usize = bshape.iter().product();
    let flat = flat.reshape_exact(&[count])?;
    let picked = crate::prim::pick(op, crate::prim::Pick::Select, &merged, 0, &flat)?;
    let out = picked.reshape_exact(&out_shape)?;
    let first = axes[0];
    if contiguous && first > 0 {
        // Put the broadcast axes back where the first indexed axis stood.
        let nb = bshape.len();
        let nr = rest.len();
        let mut p: Vec<usize> = (nb..nb + first).collect();
        p.extend(0..nb);
        p.extend(nb + first..nb + nr);
        out.dyn_permute(&p)
    } else {
        Ok(out)
    }
}

//! The reductions, arg-reductions, sorting, cumulative sums of [`HostTensor`].

use super::*;

/// Reduces one axis with `f` over each lane.
fn reduce_lanes<T: Elem, U: HostElem>(
    a: &Arr<T>,
    axis: usize,
    f: impl Fn(ndarray::ArrayView1<T>) -> U,
) -> Arr<U> {
    a.map_axis(Axis(axis), f).into_shared()
}

fn reduce_axes<T: HostElem>(
    a: &Arr<T>,
    axes: &[usize],
    keepdims: bool,
    all: impl Fn(&Arr<T>) -> T,
    lane: impl Fn(ndarray::ArrayView1<T>) -> T,
) -> HostTensor {
    let out = if axes.len() == a.ndim() && keepdims {
        let v = all(a);
        Array::from_elem(IxDyn(&vec![1; a.ndim()]), v).into_shared()
    } else if axes.len() == a.ndim() {
        Array::from_elem(IxDyn(&[]), all(a)).into_shared()
    } else {
        let mut r = a.clone();
        for &ax in axes.iter().rev() {
            r = reduce_lanes(&r, ax, &lane);
            if keepdims {
                r.insert_axis_inplace(Axis(ax));
            }
        }
        r
    };
    T::wrap(out)
}

fn reduce_num<T: Num + HostElem>(
    op: ReduceOp,
    a: &Arr<T>,
    axes: &[usize],
    keepdims: bool,
) -> Result<HostTensor> {
    Ok(match op {
        // Float sums take the pairwise path in `reduce` before reaching here.
        ReduceOp::Sum => reduce_axes(
            a,
            axes,
            keepdims,
            |x| x.fold(T::ZERO, |s, &v| s.add_(v)),
            |l| l.fold(T::ZERO, |s, &v| s.add_(v)),
        ),
        ReduceOp::Prod => reduce_axes(
            a,
            axes,
            keepdims,
            |x| x.fold(T::ONE, |s, &v| s.mul_(v)),
            |l| l.fold(T::ONE, |s, &v| s.mul_(v)),
        ),
        ReduceOp::Min => reduce_axes(
            a,
            axes,
            keepdims,
            |x| fold_first(x.iter(), T::min_),
            |l| fold_first(l.iter(), T::min_),
        ),
        ReduceOp::Max => reduce_axes(
            a,
            axes,
            keepdims,
            |x| fold_first(x.iter(), T::max_),
            |l| fold_first(l.iter(), T::max_),
        ),
        ReduceOp::All | ReduceOp::Any => return Err(internal("all/any", "take bool tensors")),
        ReduceOp::Mean => return Err(internal("mean", "takes float tensors")),
    })
}

/// Pairwise summation over a lane (as NumPy's), which keeps f32 sums of a
/// million elements accurate.
fn sum_lane<T: Flt>(l: ndarray::ArrayView1<T>) -> T {
    match l.as_slice() {
        Some(s) => pairwise(s),
        None => pairwise(&l.to_vec()),
    }
}

/// Blocks of 4096 summed in ndarray's own unrolled order, combined
/// pairwise (`eager_core::sum`, shared with Candle's f32 sums).
fn pairwise<T: Flt>(s: &[T]) -> T {
    eager_core::sum::pairwise(s)
}

fn sum_all<T: Flt>(a: &Arr<T>) -> T {
    match a.as_slice_memory_order() {
        Some(s) => pairwise(s),
        None => pairwise(&a.iter().copied().collect::<Vec<_>>()),
    }
}

/// The pairwise sum divided by the count.
fn mean<T: Flt + HostElem>(a: &Arr<T>, axes: &[usize], keepdims: bool) -> Result<HostTensor> {
    let count: usize = axes.iter().map(|&ax| a.shape()[ax]).product();
    let n = T::from_f64(count as f64);
    if axes.len() == a.ndim() {
        // Every axis: one element, divided before it is stored (no second
        // array for the quotient).
        return Ok(reduce_axes(a, axes, keepdims, |x| sum_all(x) / n, sum_lane));
    }
    let s = reduce_axes(a, axes, keepdims, sum_all, sum_lane);
    let s = T::peek(&s).ok_or_else(|| internal("mean", "dtype"))?;
    Ok(map(s, |v| v / n))
}

fn fold_first<'a, T: Copy + 'a>(mut it: impl Iterator<Item = &'a T>, f: impl Fn(T, T) -> T) -> T {
    let first = *it.next().expect("the facade never sends an empty min/max");
    it.fold(first, |acc, &v| f(acc, v))
}

fn arg_reduce<T: Elem + Copy>(op: ArgReduceOp, a: &Arr<T>, axis: usize) -> HostTensor {
    let better = |x: &T, best: &T| match op {
        // NaN counts as the extreme in both directions, so the first NaN wins.
        ArgReduceOp::ArgMin => {
            is_nan(x) && !is_nan(best) || !is_nan(best) && x.total(best) == Ordering::Less
        }
        ArgReduceOp::ArgMax => !is_nan(best) && x.total(best) == Ordering::Greater,
    };
    let out = a.map_axis(Axis(axis), |lane| {
        let mut best = 0usize;
        for (i, x) in lane.iter().enumerate().skip(1) {
            if better(x, &lane[best]) {
                best = i;
            }
        }
        best as i64
    });
    HostTensor::I64(out.into_shared())
}

fn is_nan<T: Elem>(x: &T) -> bool {
    T::FLOAT && x.to_f64().is_nan()
}

/// Applies `f(lane, out_lane)` to every lane along `axis`.
fn lanes_apply<T: Elem, U: HostElem>(
    a: &Arr<T>,
    axis: usize,
    f: impl Fn(&[T], &mut [U]),
) -> HostTensor {
    let last = a.ndim() - 1;
    let mut v = a.view();
    v.swap_axes(axis, last);
    let c = v.as_standard_layout();
    let n = c.shape()[last];
    let data = c.as_slice().expect("standard layout is contiguous");
    let mut out = vec![U::default(); data.len()];
    if n > 0 {
        for (i, o) in data.chunks(n).zip(out.chunks_mut(n)) {
            f(i, o);
        }
    }
    let mut r = ArrayD::from_shape_vec(c.raw_dim(), out)
        .expect("same shape")
        .into_shared();
    r.swap_axes(axis, last);
    U::wrap(r)
}

fn sort_order<T: Elem>(lane: &[T], descending: bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..lane.len()).collect();
    if descending {
        idx.sort_by(|&i, &j| lane[j].total(&lane[i]));
    } else {
        idx.sort_by(|&i, &j| lane[i].total(&lane[j]));
    }
    idx
}

/// The ops of the contract ([`BackendTensor`](eager_core::BackendTensor)),
/// with its names and meanings, for the backends that run them on the host.
impl HostTensor {
    /// [`ReduceOps::reduce`](eager_core::ReduceOps::reduce) on the host.
    pub fn reduce(&self, op: ReduceOp, axes: &[usize], keepdims: bool) -> Result<Self> {
        match self {
            HostTensor::F16(_) | HostTensor::BF16(_) => {
                self.via_f32(|t| t.reduce(op, axes, keepdims))
            }
            HostTensor::F32(a) if op == ReduceOp::Sum => {
                Ok(reduce_axes(a, axes, keepdims, sum_all, sum_lane))
            }
            HostTensor::F64(a) if op == ReduceOp::Sum => {
                Ok(reduce_axes(a, axes, keepdims, sum_all, sum_lane))
            }
            HostTensor::F32(a) if op == ReduceOp::Mean => mean(a, axes, keepdims),
            HostTensor::F64(a) if op == ReduceOp::Mean => mean(a, axes, keepdims),
            other => each_num!(other, a => reduce_num(op, a, axes, keepdims), a => Ok(match op {
                ReduceOp::All | ReduceOp::Min => reduce_axes(
                    a,
                    axes,
                    keepdims,
                    |x| x.iter().all(|&v| v),
                    |l| l.iter().all(|&v| v),
                ),
                ReduceOp::Any | ReduceOp::Max => reduce_axes(
                    a,
                    axes,
                    keepdims,
                    |x| x.iter().any(|&v| v),
                    |l| l.iter().any(|&v| v),
                ),
                _ => return Err(internal("reduce", "sum/prod of bool must be widened first")),
            })),
        }
    }
    /// [`ReduceOps::arg_reduce`](eager_core::ReduceOps::arg_reduce) on the host.
    pub fn arg_reduce(&self, op: ArgReduceOp, axis: usize) -> Result<Self> {
        Ok(each!(self, a => arg_reduce(op, a, axis)))
    }
    /// [`ReduceOps::sort`](eager_core::ReduceOps::sort) on the host.
    pub fn sort(&self, axis: usize, descending: bool) -> Result<Self> {
        Ok(each!(self, a => lanes_apply(a, axis, |lane, out| {
            for (o, i) in out.iter_mut().zip(sort_order(lane, descending)) {
                *o = lane[i];
            }
        })))
    }
    /// [`ReduceOps::argsort`](eager_core::ReduceOps::argsort) on the host.
    pub fn argsort(&self, axis: usize, descending: bool) -> Result<Self> {
        Ok(
            each!(self, a => lanes_apply(a, axis, |lane, out: &mut [i64]| {
                for (o, i) in out.iter_mut().zip(sort_order(lane, descending)) {
                    *o = i as i64;
                }
            })),
        )
    }
    /// [`ReduceOps::cumsum`](eager_core::ReduceOps::cumsum) on the host.
    pub fn cumsum(&self, axis: usize) -> Result<Self> {
        fn run<T: Num + HostElem>(a: &Arr<T>, axis: usize) -> HostTensor {
            lanes_apply(a, axis, |lane, out: &mut [T]| {
                let mut acc = T::ZERO;
                for (o, &v) in out.iter_mut().zip(lane) {
                    acc = acc.add_(v);
                    *o = acc;
                }
            })
        }
        match self {
            HostTensor::F16(_) | HostTensor::BF16(_) => self.via_f32(|t| t.cumsum(axis)),
            other => {
                each_num!(other, a => Ok(run(a, axis)), _b => Err(internal("cumsum", "bool must be widened first")))
            }
        }
    }
}

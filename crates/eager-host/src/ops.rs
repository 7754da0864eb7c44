//! The kernels of [`HostTensor`]: each op of the contract as ndarray calls.

use crate::elem::{Elem, Flt, Num};
use crate::{each, each_num, linalg, Arr, HostElem, HostTensor};
use eager_core::shape::SliceRange;
use eager_core::{
    ArgReduceOp, BinaryOp, DType, Error, HostBuffer, HostData, ReduceOp, Result, Scalar, UnaryOp,
};
use ndarray::{Array, ArrayD, ArrayView2, Axis, Dimension, IxDyn, Slice, Zip};
use std::cmp::Ordering;

/// An error the facade's checks make unreachable (the host engine has no
/// framework of its own to blame).
fn internal(op: &'static str, msg: impl Into<String>) -> Error {
    Error::invalid(op, format!("host kernel: {}", msg.into()))
}

fn from_vec<T: HostElem>(op: &'static str, v: Vec<T>, shape: &[usize]) -> Result<HostTensor> {
    Array::from_shape_vec(IxDyn(shape), v)
        .map(|a| T::wrap(a.into_shared()))
        .map_err(|e| internal(op, e.to_string()))
}

fn map<T: Elem, U: HostElem>(a: &Arr<T>, f: impl Fn(T) -> U) -> HostTensor {
    U::wrap(a.mapv(f).into_shared())
}

/// Element-wise `f` over two broadcast arrays.
fn zip<T: Elem, U: HostElem>(
    op: &'static str,
    a: &Arr<T>,
    b: &Arr<T>,
    f: impl Fn(T, T) -> U,
) -> Result<HostTensor> {
    if a.shape() == b.shape() {
        if let (Some(x), Some(y)) = (a.as_slice(), b.as_slice()) {
            // Both row-major and contiguous (the common case): one pass
            // over the two slices into the result's `Vec`, without Zip's
            // layout bookkeeping; the result is row-major, as Zip makes it
            // from row-major inputs.
            let v: Vec<U> = x.iter().zip(y).map(|(&x, &y)| f(x, y)).collect();
            return Ok(U::wrap(standard(a.raw_dim(), v)));
        }
        return Ok(U::wrap(
            Zip::from(a)
                .and(b)
                .map_collect(|&x, &y| f(x, y))
                .into_shared(),
        ));
    }
    if b.ndim() == 0 {
        let y = b[IxDyn(&[])];
        return Ok(map(a, |x| f(x, y)));
    }
    if a.ndim() == 0 {
        let x = a[IxDyn(&[])];
        return Ok(map(b, |y| f(x, y)));
    }
    // A row-major operand repeated along the leading axes of the other
    // (a bias added to every row): one pass over slices, as above.
    if let (Some(x), Some(y)) = (a.as_slice(), b.as_slice()) {
        if repeats_in(a.shape(), b.shape()) && !y.is_empty() {
            let mut v = Vec::with_capacity(x.len());
            for c in x.chunks_exact(y.len()) {
                v.extend(c.iter().zip(y).map(|(&x, &y)| f(x, y)));
            }
            return Ok(U::wrap(standard(a.raw_dim(), v)));
        }
        if repeats_in(b.shape(), a.shape()) && !x.is_empty() {
            let mut v = Vec::with_capacity(y.len());
            for c in y.chunks_exact(x.len()) {
                v.extend(x.iter().zip(c).map(|(&x, &y)| f(x, y)));
            }
            return Ok(U::wrap(standard(b.raw_dim(), v)));
        }
    }
    eager_core::shape::with_broadcast_shape(op, a.shape(), b.shape(), |shape| {
        let av = a
            .broadcast(IxDyn(shape))
            .ok_or_else(|| internal(op, "broadcast"))?;
        let bv = b
            .broadcast(IxDyn(shape))
            .ok_or_else(|| internal(op, "broadcast"))?;
        Ok(U::wrap(
            Zip::from(&av)
                .and(&bv)
                .map_collect(|&x, &y| f(x, y))
                .into_shared(),
        ))
    })
}

/// Whether `small` broadcast against `big` gives `big`'s shape by
/// repeating `small`'s elements whole: without its leading 1s, `small` is
/// `big`'s trailing dimensions, and it has no more dimensions than `big`.
fn repeats_in(big: &[usize], small: &[usize]) -> bool {
    let lead = small.iter().take_while(|&&d| d == 1).count();
    let rest = &small[lead..];
    small.len() <= big.len() && big.ends_with(rest)
}

/// A row-major `ArcArray` of shape `dim` holding `v`: the `Vec` becomes
/// the array's buffer as it is (no copy; the one allocation besides it is
/// the `Arc` that `ArcArray` keeps its buffer in).
fn standard<U>(dim: IxDyn, v: Vec<U>) -> Arr<U> {
    debug_assert_eq!(dim.size(), v.len());
    // SAFETY: `v` has exactly `dim.size()` elements (it was collected from
    // a row-major slice of an array of this shape, checked in debug
    // builds), and row-major strides for `dim` address only those.
    unsafe { Arr::from_shape_vec_unchecked(dim, v) }
}

fn unary_num<T: Num + HostElem>(a: &Arr<T>, op: UnaryOp) -> Result<HostTensor> {
    use UnaryOp::*;
    Ok(match op {
        Abs => map(a, T::abs_),
        Neg => map(a, T::neg_),
        Sign => map(a, T::sign_),
        Square => map(a, |x| x.mul_(x)),
        Round => map(a, T::round_),
        Ceil => map(a, T::ceil_),
        Floor => map(a, T::floor_),
        IsNan => map(a, T::isnan_),
        IsInf => map(a, T::isinf_),
        // NaN propagates (as in every framework): only numbers below or at 0 become 0.
        Relu => map(a, |x| {
            if x > T::ZERO || x.isnan_() {
                x
            } else {
                T::ZERO
            }
        }),
        _ => {
            return Err(internal(
                op.name(),
                format!("{} is not defined for {}", op.name(), T::DTYPE),
            ))
        }
    })
}

fn unary_float<T: Flt + HostElem>(a: &Arr<T>, op: UnaryOp) -> Result<HostTensor> {
    use UnaryOp::*;
    Ok(match op {
        Sqrt => map(a, T::sqrt),
        Exp => map(a, T::exp),
        Log => map(a, T::ln),
        Log2 => map(a, T::log2),
        Log10 => map(a, T::log10),
        Log1p => map(a, T::ln_1p),
        Sin => map(a, T::sin),
        Cos => map(a, T::cos),
        Tan => map(a, T::tan),
        Sinh => map(a, T::sinh),
        Cosh => map(a, T::cosh),
        Tanh => map(a, T::tanh),
        Arcsin => map(a, T::asin),
        Arccos => map(a, T::acos),
        Arctan => map(a, T::atan),
        // Rust's asinh/acosh overflow to inf for |x| near the maximum; past
        // 1/eps both are ln(2|x|) to the last bit (NumPy's values).
        Arcsinh => map(a, |x| {
            if x.abs() > T::epsilon().recip() {
                (x.abs().ln() + T::from_f64(std::f64::consts::LN_2)).copysign(x)
            } else {
                x.asinh()
            }
        }),
        Arccosh => map(a, |x| {
            if x > T::epsilon().recip() {
                x.ln() + T::from_f64(std::f64::consts::LN_2)
            } else {
                x.acosh()
            }
        }),
        Arctanh => map(a, T::atanh),
        Sigmoid => map(a, |x| {
            // Stable for large |x|.
            if x >= T::ZERO {
                T::ONE / (T::ONE + (-x).exp())
            } else {
                let e = x.exp();
                e / (T::ONE + e)
            }
        }),
        Round => map(a, T::round_even),
        _ => unary_num(a, op)?,
    })
}

fn binary_num<T: Num + HostElem>(op: BinaryOp, a: &Arr<T>, b: &Arr<T>) -> Result<HostTensor> {
    use BinaryOp::*;
    let n = op.name();
    match op {
        Add => zip(n, a, b, T::add_),
        Sub => zip(n, a, b, T::sub_),
        Mul => zip(n, a, b, T::mul_),
        Div => zip(n, a, b, T::div_),
        FloorDiv => zip(n, a, b, T::floordiv_),
        Rem => zip(n, a, b, T::rem_),
        Pow => zip(n, a, b, T::pow_),
        Minimum => zip(n, a, b, T::min_),
        Maximum => zip(n, a, b, T::max_),
        Lt => zip(n, a, b, |x, y| x < y),
        Le => zip(n, a, b, |x, y| x <= y),
        Gt => zip(n, a, b, |x, y| x > y),
        Ge => zip(n, a, b, |x, y| x >= y),
        Eq => zip(n, a, b, |x, y| x == y),
        Ne => zip(n, a, b, |x, y| x != y),
        LogicalAnd | LogicalOr => Err(internal(n, "logical ops take bool tensors")),
    }
}

fn binary_bool(op: BinaryOp, a: &Arr<bool>, b: &Arr<bool>) -> Result<HostTensor> {
    use BinaryOp::*;
    let n = op.name();
    match op {
        LogicalAnd | Minimum => zip(n, a, b, |x, y| x & y),
        LogicalOr | Maximum => zip(n, a, b, |x, y| x | y),
        Lt => zip(n, a, b, |x, y| !x & y),
        Le => zip(n, a, b, |x, y| x <= y),
        Gt => zip(n, a, b, |x, y| x & !y),
        Ge => zip(n, a, b, |x, y| x >= y),
        Eq => zip(n, a, b, |x, y| x == y),
        Ne => zip(n, a, b, |x, y| x != y),
        _ => Err(internal(n, "arithmetic on bool tensors")),
    }
}

fn cast_arr<T: Elem, U: HostElem>(a: &Arr<T>) -> HostTensor {
    map(a, U::cast_from)
}

fn cast_to<T: Elem>(a: &Arr<T>, dtype: DType) -> HostTensor {
    use eager_core::{bf16, f16};
    match dtype {
        DType::Bool => cast_arr::<T, bool>(a),
        DType::U8 => cast_arr::<T, u8>(a),
        DType::I8 => cast_arr::<T, i8>(a),
        DType::I16 => cast_arr::<T, i16>(a),
        DType::U16 => cast_arr::<T, u16>(a),
        DType::I32 => cast_arr::<T, i32>(a),
        DType::U32 => cast_arr::<T, u32>(a),
        DType::I64 => cast_arr::<T, i64>(a),
        DType::U64 => cast_arr::<T, u64>(a),
        DType::F16 => cast_arr::<T, f16>(a),
        DType::BF16 => cast_arr::<T, bf16>(a),
        DType::F32 => cast_arr::<T, f32>(a),
        DType::F64 => cast_arr::<T, f64>(a),
    }
}

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

fn matmul_float<T: Flt + HostElem + ndarray::LinalgScalar>(
    a: &Arr<T>,
    b: &Arr<T>,
) -> Result<HostTensor> {
    if a.ndim() == 2 {
        // The common case without the batch bookkeeping: one `dot`.
        let x = a
            .view()
            .into_dimensionality::<ndarray::Ix2>()
            .map_err(|e| internal("matmul", e.to_string()))?;
        let y = b
            .view()
            .into_dimensionality::<ndarray::Ix2>()
            .map_err(|e| internal("matmul", e.to_string()))?;
        return Ok(T::wrap(x.dot(&y).into_dyn().into_shared()));
    }
    batched_matmul(a, b, |x, y| x.dot(&y))
}

fn matmul_int<T: Num + HostElem>(a: &Arr<T>, b: &Arr<T>) -> Result<HostTensor> {
    batched_matmul(a, b, |x, y| {
        let (m, k) = x.dim();
        let n = y.dim().1;
        let mut out = ndarray::Array2::from_elem((m, n), T::ZERO);
        for i in 0..m {
            for p in 0..k {
                let xv = x[(i, p)];
                for j in 0..n {
                    out[(i, j)] = out[(i, j)].add_(xv.mul_(y[(p, j)]));
                }
            }
        }
        out
    })
}

fn batched_matmul<T: HostElem>(
    a: &Arr<T>,
    b: &Arr<T>,
    f: impl Fn(ArrayView2<T>, ArrayView2<T>) -> ndarray::Array2<T>,
) -> Result<HostTensor> {
    let op = "matmul";
    let nd = a.ndim();
    let (m, k, n) = (a.shape()[nd - 2], a.shape()[nd - 1], b.shape()[nd - 1]);
    let batch: usize = a.shape()[..nd - 2].iter().product();
    let a3 = a
        .as_standard_layout()
        .into_shape_with_order((batch, m, k))
        .map_err(|e| internal(op, e.to_string()))?;
    let b3 = b
        .as_standard_layout()
        .into_shape_with_order((batch, k, n))
        .map_err(|e| internal(op, e.to_string()))?;
    let mut data = Vec::with_capacity(batch * m * n);
    for i in 0..batch {
        let r = f(a3.index_axis(Axis(0), i), b3.index_axis(Axis(0), i));
        data.extend(r.iter().copied());
    }
    let mut shape = a.shape()[..nd - 2].to_vec();
    shape.extend([m, n]);
    from_vec(op, data, &shape)
}

fn square_matrices<T: Elem>(a: &Arr<T>) -> (usize, usize, Vec<f64>) {
    let nd = a.ndim();
    let n = a.shape()[nd - 1];
    let batch = a.shape()[..nd - 2].iter().product();
    (batch, n, a.iter().map(|x| x.to_f64()).collect())
}

fn from_f64s<T: HostElem>(op: &'static str, v: Vec<f64>, shape: &[usize]) -> Result<HostTensor> {
    from_vec(
        op,
        v.into_iter().map(T::from_f64).collect::<Vec<T>>(),
        shape,
    )
}

fn index_vec(op: &'static str, t: &HostTensor) -> Result<Vec<usize>> {
    match t {
        HostTensor::I64(a) => Ok(a.iter().map(|&i| i as usize).collect()),
        _ => Err(internal(op, "index tensors must be i64")),
    }
}

fn host<T: HostElem>(a: &Arr<T>) -> HostData {
    let v = match a.as_slice() {
        Some(s) => s.to_vec(),
        None => a.iter().copied().collect(),
    };
    T::into_host(v)
}

fn full_arr<T: HostElem>(shape: &[usize], v: T) -> HostTensor {
    T::wrap(ArrayD::from_elem(IxDyn(shape), v).into_shared())
}

/// The ops of the contract ([`BackendTensor`](eager_core::BackendTensor)),
/// with its names and meanings, for the backends that run them on the host.
impl HostTensor {
    /// [`TensorBase::from_host`](eager_core::TensorBase::from_host) on the host.
    pub fn from_host(data: HostData, shape: &[usize]) -> Result<Self> {
        eager_core::each_host!(data, v => from_vec("from_vec", v, shape))
    }
    /// [`TensorBase::to_host`](eager_core::TensorBase::to_host) on the host.
    pub fn to_host(&self) -> Result<HostData> {
        Ok(each!(self, a => host(a)))
    }
    /// Lends a standard-layout array: the owner is a clone (one `Arc`
    /// reference), so the memory stays alive and, `ArcArray` being
    /// copy-on-write, unchanged. Receiving, ndarray copies (an `ArcArray`
    /// owns its `Vec`; it cannot borrow foreign memory), except a lent
    /// `HostData`, which it takes over (the default `adopt_host`).
    pub fn lend_host(&self) -> Result<Option<HostBuffer>> {
        let standard = each!(self, a => a.is_standard_layout());
        if !standard {
            return Ok(None);
        }
        let (ptr, dtype, shape) = (self.data_ptr(), self.dtype(), self.shape().to_vec());
        // SAFETY: a standard-layout view is `len` contiguous elements from
        // `as_ptr`, kept alive by the clone the buffer owns.
        Ok(Some(unsafe {
            HostBuffer::new(ptr, dtype, shape, Box::new(self.clone()))
        }))
    }
    /// [`CreateOps::full`](eager_core::CreateOps::full) on the host.
    pub fn full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<Self> {
        let one = HostData::filled("full", value, dtype, 1)?;
        Ok(eager_core::each_host!(one, v => full_arr(shape, v[0])))
    }

    /// [`ElementwiseOps::unary`](eager_core::ElementwiseOps::unary) on the host.
    pub fn unary(&self, op: UnaryOp) -> Result<Self> {
        match self {
            HostTensor::F16(_) | HostTensor::BF16(_) => self.via_f32(|t| t.unary(op)),
            HostTensor::F32(a) => unary_float(a, op),
            HostTensor::F64(a) => unary_float(a, op),
            HostTensor::Bool(a) => match op {
                UnaryOp::LogicalNot => Ok(map(a, |x: bool| !x)),
                _ => Err(internal(op.name(), "not defined for bool")),
            },
            other => each_num!(other, a => unary_num(a, op), _b => unreachable!()),
        }
    }
    /// [`ElementwiseOps::binary`](eager_core::ElementwiseOps::binary) on the host.
    pub fn binary(&self, op: BinaryOp, rhs: &Self) -> Result<Self> {
        if let (HostTensor::Bool(a), HostTensor::Bool(b)) = (self, rhs) {
            return binary_bool(op, a, b);
        }
        each_num!(self, a => {
            let b = HostElem::peek(rhs).ok_or_else(|| internal(op.name(), "operands of different dtypes"))?;
            binary_num(op, a, b)
        }, _b => Err(internal(op.name(), "operands of different dtypes")))
    }
    /// [`ElementwiseOps::where_cond`](eager_core::ElementwiseOps::where_cond) on the host.
    pub fn where_cond(&self, x: &Self, y: &Self) -> Result<Self> {
        let op = "where_cond";
        let HostTensor::Bool(c) = self else {
            return Err(internal(op, "the condition must be bool"));
        };
        let shape = eager_core::shape::broadcast_shapes(op, c.shape(), x.shape())?;
        let shape = eager_core::shape::broadcast_shapes(op, &shape, y.shape())?;
        let cv = c
            .broadcast(IxDyn(&shape))
            .ok_or_else(|| internal(op, "broadcast"))?;
        macro_rules! sel {
            ($($v:ident),*) => {
                match (x, y) {
                    $((HostTensor::$v(a), HostTensor::$v(b)) => {
                        let av = a.broadcast(IxDyn(&shape)).ok_or_else(|| internal(op, "broadcast"))?;
                        let bv = b.broadcast(IxDyn(&shape)).ok_or_else(|| internal(op, "broadcast"))?;
                        Ok(HostTensor::$v(Zip::from(&cv).and(&av).and(&bv).map_collect(|&c, &a, &b| if c { a } else { b }).into_shared()))
                    })*
                    _ => Err(internal(op, "x and y of different dtypes")),
                }
            };
        }
        sel!(Bool, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16, F32, F64)
    }
    /// [`CastOps::cast`](eager_core::CastOps::cast) on the host.
    pub fn cast(&self, dtype: DType) -> Result<Self> {
        if self.dtype() == dtype {
            return Ok(self.clone());
        }
        Ok(each!(self, a => cast_to(a, dtype)))
    }

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
    /// [`LinalgOps::matmul`](eager_core::LinalgOps::matmul) on the host.
    pub fn matmul(&self, rhs: &Self) -> Result<Self> {
        let bad = || internal("matmul", "operands must have one numeric dtype");
        match (self, rhs) {
            (HostTensor::F16(_), HostTensor::F16(_))
            | (HostTensor::BF16(_), HostTensor::BF16(_)) => {
                let r = rhs.cast(DType::F32)?;
                self.via_f32(|t| t.matmul(&r))
            }
            (HostTensor::F32(a), HostTensor::F32(b)) => matmul_float(a, b),
            (HostTensor::F64(a), HostTensor::F64(b)) => matmul_float(a, b),
            (HostTensor::Bool(_), _) => Err(bad()),
            _ => {
                each_num!(self, a => matmul_int(a, HostElem::peek(rhs).ok_or_else(bad)?), _b => Err(bad()))
            }
        }
    }

    /// [`ShapeOps::reshape`](eager_core::ShapeOps::reshape) on the host.
    pub fn reshape(&self, shape: &[usize]) -> Result<Self> {
        Ok(each!(self, a => {
            let r = if a.is_standard_layout() {
                a.clone().into_shape_with_order(IxDyn(shape))
            } else {
                a.as_standard_layout().into_owned().into_shared().into_shape_with_order(IxDyn(shape))
            };
            HostElem::wrap(r.map_err(|e| internal("reshape", e.to_string()))?)
        }))
    }
    /// [`ShapeOps::permute`](eager_core::ShapeOps::permute) on the host.
    pub fn permute(&self, axes: &[usize]) -> Result<Self> {
        Ok(each!(self, a => HostElem::wrap(a.clone().permuted_axes(IxDyn(axes)))))
    }
    /// [`ShapeOps::broadcast_to`](eager_core::ShapeOps::broadcast_to) on the host.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        Ok(each!(self, a => {
            let v = a.broadcast(IxDyn(shape)).ok_or_else(|| internal("broadcast_to", "cannot broadcast"))?;
            HostElem::wrap(v.to_owned().into_shared())
        }))
    }
    /// [`ShapeOps::slice`](eager_core::ShapeOps::slice) on the host.
    pub fn slice(&self, ranges: &[SliceRange]) -> Result<Self> {
        Ok(each!(self, a => {
            let mut r = a.clone();
            for (ax, s) in ranges.iter().enumerate() {
                r.slice_axis_inplace(Axis(ax), Slice::new(s.start as isize, Some(s.end() as isize), s.step as isize));
            }
            HostElem::wrap(r)
        }))
    }
    /// [`ShapeOps::flip`](eager_core::ShapeOps::flip) on the host.
    pub fn flip(&self, axes: &[usize]) -> Result<Self> {
        Ok(each!(self, a => {
            let mut r = a.clone();
            for &ax in axes {
                r.invert_axis(Axis(ax));
            }
            HostElem::wrap(r)
        }))
    }
    /// [`ShapeOps::concat`](eager_core::ShapeOps::concat) on the host.
    pub fn concat(tensors: &[&Self], axis: usize) -> Result<Self> {
        let op = "concatenate";
        fn run<T: HostElem>(ts: &[&HostTensor], axis: usize) -> Result<HostTensor> {
            let views = ts
                .iter()
                .map(|t| {
                    T::peek(t)
                        .map(|a| a.view())
                        .ok_or_else(|| internal("concatenate", "mixed dtypes"))
                })
                .collect::<Result<Vec<_>>>()?;
            ndarray::concatenate(Axis(axis), &views)
                .map(|a| T::wrap(a.into_shared()))
                .map_err(|e| internal("concatenate", e.to_string()))
        }
        fn like<T: HostElem>(_: &Arr<T>, ts: &[&HostTensor], axis: usize) -> Result<HostTensor> {
            run::<T>(ts, axis)
        }
        let first = tensors.first().ok_or_else(|| internal(op, "no tensors"))?;
        each!(first, a => like(a, tensors, axis))
    }
    /// [`IndexOps::index_select`](eager_core::IndexOps::index_select) on the host.
    pub fn index_select(&self, axis: usize, index: &Self) -> Result<Self> {
        let idx = index_vec("index_select", index)?;
        Ok(each!(self, a => HostElem::wrap(a.select(Axis(axis), &idx).into_shared())))
    }
    /// [`IndexOps::gather`](eager_core::IndexOps::gather) on the host.
    pub fn gather(&self, axis: usize, index: &Self) -> Result<Self> {
        let HostTensor::I64(idx) = index else {
            return Err(internal("take_along_axis", "index tensors must be i64"));
        };
        Ok(each!(self, a => {
            let mut pos = vec![0usize; a.ndim()];
            let mut out = Vec::with_capacity(idx.len());
            for (p, &i) in idx.indexed_iter() {
                pos.copy_from_slice(p.slice());
                pos[axis] = i as usize;
                out.push(a[IxDyn(&pos)]);
            }
            from_vec("take_along_axis", out, idx.shape())?
        }))
    }
    /// [`IndexOps::scatter`](eager_core::IndexOps::scatter) on the host.
    pub fn scatter(&self, positions: &Self, values: &Self) -> Result<Self> {
        let pos = index_vec("index_update", positions)?;
        fn run<T: HostElem>(a: &Arr<T>, pos: &[usize], values: &HostTensor) -> Result<HostTensor> {
            let vals = T::peek(values)
                .ok_or_else(|| internal("index_update", "values of another dtype"))?;
            let mut out = a.to_owned();
            for (&p, &v) in pos.iter().zip(vals.iter()) {
                out[IxDyn(&[p])] = v;
            }
            Ok(T::wrap(out.into_shared()))
        }
        each!(self, a => run(a, &pos, values))
    }
    /// [`IndexOps::scatter_add`](eager_core::IndexOps::scatter_add) on the host.
    pub fn scatter_add(&self, axis: usize, index: &Self, src: &Self) -> Result<Self> {
        let op = "scatter_add";
        let HostTensor::I64(idx) = index else {
            return Err(internal(op, "index tensors must be i64"));
        };
        fn run<T: Num + HostElem>(
            a: &Arr<T>,
            axis: usize,
            idx: &Arr<i64>,
            src: &HostTensor,
        ) -> Result<HostTensor> {
            let s = T::peek(src).ok_or_else(|| internal("scatter_add", "src of another dtype"))?;
            let mut out = a.to_owned();
            let mut pos = vec![0usize; a.ndim()];
            for ((p, &i), &v) in idx.indexed_iter().zip(s.iter()) {
                pos.copy_from_slice(p.slice());
                pos[axis] = i as usize;
                let cell = &mut out[IxDyn(&pos)];
                *cell = cell.add_(v);
            }
            Ok(T::wrap(out.into_shared()))
        }
        each_num!(self, a => run(a, axis, idx, src), _b => Err(internal(op, "not defined for bool")))
    }
    /// [`IndexOps::nonzero`](eager_core::IndexOps::nonzero) on the host.
    pub fn nonzero(&self) -> Result<Self> {
        let ndim = self.ndim_();
        let mut coords = Vec::new();
        let mut count = 0;
        each!(self, a => {
            for (p, v) in a.indexed_iter() {
                if v.to_bool() {
                    coords.extend(p.slice().iter().map(|&i| i as i64));
                    count += 1;
                }
            }
        });
        from_vec("nonzero", coords, &[count, ndim])
    }

    /// [`LinalgOps::inv`](eager_core::LinalgOps::inv) on the host.
    pub fn inv(&self) -> Result<Self> {
        fn run<T: HostElem>(a: &Arr<T>) -> Result<HostTensor> {
            let (batch, n, data) = square_matrices(a);
            let mut out = Vec::with_capacity(data.len());
            for b in 0..batch {
                let m = linalg::inv(&data[b * n * n..(b + 1) * n * n], n)
                    .ok_or_else(|| Error::invalid("inv", "the matrix is singular"))?;
                out.extend(m);
            }
            from_f64s::<T>("inv", out, a.shape())
        }
        match self {
            HostTensor::F16(a) => run(a),
            HostTensor::BF16(a) => run(a),
            HostTensor::F32(a) => run(a),
            HostTensor::F64(a) => run(a),
            _ => Err(internal("inv", "takes float tensors")),
        }
    }
    /// [`LinalgOps::slogdet`](eager_core::LinalgOps::slogdet) on the host.
    pub fn slogdet(&self) -> Result<(Self, Self)> {
        fn run<T: HostElem>(a: &Arr<T>) -> Result<(HostTensor, HostTensor)> {
            let (batch, n, data) = square_matrices(a);
            let (signs, logs): (Vec<f64>, Vec<f64>) = (0..batch)
                .map(|b| linalg::slogdet(&data[b * n * n..(b + 1) * n * n], n))
                .unzip();
            let shape = &a.shape()[..a.ndim() - 2];
            Ok((
                from_f64s::<T>("slogdet", signs, shape)?,
                from_f64s::<T>("slogdet", logs, shape)?,
            ))
        }
        match self {
            HostTensor::F16(a) => run(a),
            HostTensor::BF16(a) => run(a),
            HostTensor::F32(a) => run(a),
            HostTensor::F64(a) => run(a),
            _ => Err(internal("slogdet", "takes float tensors")),
        }
    }
}

impl HostTensor {
    /// [`BackendTensor::ndim_`](eager_core::BackendTensor::ndim_) on the host.
    pub fn ndim_(&self) -> usize {
        HostTensor::shape(self).len()
    }
}

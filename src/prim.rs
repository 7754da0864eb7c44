//! The contract's operations over several tensors, in one place: each
//! checks that its operands share a backend, sends traced operands to the
//! autodiff tape, and routes the rest to the backend.

use crate::autodiff;
use crate::{BinaryOp, EagerTensor, Result};

fn traced(ts: &[&EagerTensor]) -> bool {
    ts.iter().any(|t| t.is_traced())
}

/// Element-wise binary op of two tensors of one dtype.
pub(crate) fn binary(op: BinaryOp, a: &EagerTensor, b: &EagerTensor) -> Result<EagerTensor> {
    if traced(&[a, b]) {
        return autodiff::binary(op, a, b);
    }
    same_backend!(op.name(), (a, b), |p, q| p.binary(op, q))
}

/// `cond ? x : y` with a bool condition.
pub(crate) fn where_cond(c: &EagerTensor, x: &EagerTensor, y: &EagerTensor) -> Result<EagerTensor> {
    if traced(&[c, x, y]) {
        return autodiff::where_cond(c, x, y);
    }
    same_backend!("where_cond", (c, x, y), |p, q, r| p.where_cond(q, r))
}

/// `[..., m, k] x [..., k, n]` with equal batch dimensions.
pub(crate) fn matmul(a: &EagerTensor, b: &EagerTensor) -> Result<EagerTensor> {
    if traced(&[a, b]) {
        return autodiff::matmul(a, b);
    }
    same_backend!("matmul", (a, b), |p, q| p.matmul(q))
}

/// [`matmul`] with the last two axes of `a` (`ta`) and/or `b` (`tb`)
/// swapped first, in one framework call where the framework allows it.
pub(crate) fn matmul_t(
    a: &EagerTensor,
    b: &EagerTensor,
    ta: bool,
    tb: bool,
) -> Result<EagerTensor> {
    if traced(&[a, b]) {
        let swap = |t: &EagerTensor, yes: bool| {
            if yes {
                autodiff::swap_last2(t)
            } else {
                Ok(t.clone())
            }
        };
        return autodiff::matmul(&swap(a, ta)?, &swap(b, tb)?);
    }
    same_backend!("matmul", (a, b), |p, q| p.matmul_t(q, ta, tb))
}

/// Joins tensors of one dtype along `axis`.
pub(crate) fn concat(op: &'static str, ts: &[&EagerTensor], axis: usize) -> Result<EagerTensor> {
    if traced(ts) {
        return autodiff::concat(op, ts, axis);
    }
    same_backend_list!(op, ts, |xs| eager_core::ShapeOps::concat(&xs, axis))
}

/// How an index tensor picks along an axis: [`index_select`]'s 1-D index,
/// or [`gather`]'s index of `x`'s rank.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pick {
    /// Whole slices at 1-D `i64` positions.
    Select,
    /// NumPy's `take_along_axis`: one element per index entry.
    Gather,
}

/// Picks along `axis` as `kind` says; `index` is checked and in range.
pub(crate) fn pick(
    op: &'static str,
    kind: Pick,
    x: &EagerTensor,
    axis: usize,
    index: &EagerTensor,
) -> Result<EagerTensor> {
    if traced(&[x]) {
        return autodiff::pick(op, kind, x, axis, index);
    }
    same_backend!(op, (x, index), |p, i| match kind {
        Pick::Select => p.index_select(axis, i),
        Pick::Gather => p.gather(axis, i),
    })
}

/// Writes `values` at `positions` of the 1-D `x`.
pub(crate) fn scatter(
    op: &'static str,
    x: &EagerTensor,
    positions: &EagerTensor,
    values: &EagerTensor,
) -> Result<EagerTensor> {
    if traced(&[x, values]) {
        return autodiff::scatter(op, x, positions, values);
    }
    same_backend!(op, (x, positions, values), |p, i, v| p.scatter(i, v))
}

/// Adds `src` into `x` along `axis` at `index`.
pub(crate) fn scatter_add(
    x: &EagerTensor,
    axis: usize,
    index: &EagerTensor,
    src: &EagerTensor,
) -> Result<EagerTensor> {
    if traced(&[x, src]) {
        return autodiff::scatter_add(x, axis, index, src);
    }
    same_backend!("scatter_add", (x, index, src), |p, i, s| p
        .scatter_add(axis, i, s))
}

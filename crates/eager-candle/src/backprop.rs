//! Which gradients Candle's own backprop (`Tensor::backward`) computes
//! correctly for this backend's ops, and the one op this backend adds to
//! Candle's graph itself.
//!
//! eager-tensor's `value_and_grad` on candle tensors makes its inputs
//! Candle variables (`candle_core::Var`) so that every op Candle computes
//! is recorded in Candle's graph. An op that computes on a host copy
//! (see [`HOST_OPS`](crate::HOST_OPS)) cuts that graph: its result is a new
//! tensor with no history, and Candle would silently give the inputs before
//! it a zero gradient. So every path where a tracked float tensor leaves
//! Candle — [`to_host`](eager_core::TensorBase::to_host) and
//! [`lend_host`](eager_core::TensorBase::lend_host), which all host ops
//! go through — and every op whose Candle backward rule differs from
//! eager-tensor's (float `minimum`/`maximum`: Candle gives a NaN operand
//! the gradient; `sigmoid`: the stable two-branch formula has NaN
//! gradients in Candle's backprop; `scatter`/`scatter_add`: Candle's rules
//! drop the gradient of the overwritten or added-to positions wrongly; the
//! 16-bit floats, computed in f32 and rounded once) marks the current
//! [`Watch`] *uncovered*, and the facade then uses its own tape, which it
//! records alongside. A wrong gradient is never returned.
//!
//! `abs`, `sign`, `ceil`, `floor` and `relu` on tracked tensors are
//! written so that Candle's rules give eager-tensor's gradients
//! (`abs'(0) = 0`, zero for the step functions, `relu'(NaN) = 0`), and the
//! float `min`/`max` reductions, computed on the host, enter Candle's graph
//! as a custom op whose backward splits the gradient between ties.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use std::cell::Cell;
use std::sync::Mutex;

thread_local! {
    /// Whether an op since the innermost [`watch`] cut Candle's graph.
    static UNCOVERED: Cell<bool> = const { Cell::new(false) };
}

/// A scope in which this thread's candle ops report whether Candle's
/// backprop still covers them; from [`watch`].
#[must_use = "a Watch reports through `covered`"]
pub struct Watch {
    outer: bool,
}

/// Starts watching this thread's candle ops (nested watches are
/// independent; an inner one's findings also count for the outer one).
pub fn watch() -> Watch {
    Watch {
        outer: UNCOVERED.with(|c| c.replace(false)),
    }
}

impl Watch {
    /// Whether Candle's graph carries the gradient of every op run on this
    /// thread since [`watch`]: no tracked float tensor went through a host
    /// copy or an op whose Candle backward rule differs from eager-tensor's.
    pub fn covered(self) -> bool {
        !UNCOVERED.with(|c| c.get())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let outer = self.outer;
        UNCOVERED.with(|c| c.set(c.get() | outer));
    }
}

/// Marks the current watch uncovered when any of `ts` is a float tensor
/// Candle's backprop tracks.
pub(crate) fn uncovered_if(ts: &[&Tensor]) {
    if ts.iter().any(|t| t.track_op() && t.dtype().is_float()) {
        UNCOVERED.with(|c| c.set(true));
    }
}

/// Whether `t` is a float tensor Candle's backprop tracks.
pub(crate) fn tracked(t: &Tensor) -> bool {
    t.track_op() && t.dtype().is_float()
}

/// A float `min`/`max` reduction computed on the host, entered into
/// Candle's graph: the forward hands over the host result (no copy), the
/// backward gives `g · hit / count` (ties share the gradient evenly, the
/// tape's and JAX's rule).
pub(crate) struct MinMax {
    pub(crate) out: Mutex<Option<CpuStorage>>,
    pub(crate) shape: Shape,
    /// The input's shape with the reduced axes set to 1.
    pub(crate) kept: Vec<usize>,
    pub(crate) axes: Vec<usize>,
}

impl CustomOp1 for MinMax {
    fn name(&self) -> &'static str {
        "min/max reduction"
    }
    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = self
            .out
            .lock()
            .map_err(|_| candle_core::Error::Msg("min/max: poisoned".into()))?
            .take()
            .ok_or_else(|| candle_core::Error::Msg("min/max: result already taken".into()))?;
        Ok((out, self.shape.clone()))
    }
    fn bwd(
        &self,
        arg: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let x = arg.detach();
        let yk = res.detach().reshape(self.kept.as_slice())?;
        let hit = x.broadcast_eq(&yk)?.to_dtype(x.dtype())?;
        let count = hit.sum_keepdim(self.axes.clone())?;
        let g = grad.detach().reshape(self.kept.as_slice())?;
        Ok(Some(hit.broadcast_mul(&g)?.broadcast_div(&count)?))
    }
}

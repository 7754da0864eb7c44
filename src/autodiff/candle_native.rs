//! Candle's own backprop (`Var`, `Tensor::backward`, `GradStore`) for
//! f32/f64 candle tensors, with the tape recorded alongside as the fallback.
//!
//! The inputs become Candle variables and `f` runs on tape leaves holding
//! them, so Candle records its graph while the tape records its own. After
//! `f`, if every op stayed in Candle's graph with eager-tensor's gradient
//! rules (`eager_candle::backprop::Watch`: no tracked float tensor went
//! through a host copy or an op whose Candle rule differs), the gradients
//! come from `loss.backward()`; otherwise, or if Candle's backward returns
//! an error, from the tape. `f` runs once either way.

use super::*;
use crate::CandleTensor;
use eager_candle::candle_core::{self, Tensor, Var};
use std::cell::Cell;

thread_local! {
    /// How many candle native traces this thread is inside: a nested
    /// call uses the tape only.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// All inputs candle f32/f64 tensors, and not inside another candle
/// native trace. f16/bf16 use the tape: the backend computes them in f32
/// and rounds once per op, which the tape's rules (run through the
/// backend) keep and Candle's half-precision backward would not.
pub(super) fn applies(inputs: &[&EagerTensor]) -> bool {
    DEPTH.with(|d| d.get()) == 0
        && inputs.iter().all(|x| {
            matches!(x, EagerTensor::Candle(_)) && matches!(x.dtype(), DType::F32 | DType::F64)
        })
}

fn fw(e: candle_core::Error) -> Error {
    eager_candle::error("value_and_grad", e)
}

fn candle(op: &'static str, x: &EagerTensor) -> Result<Tensor> {
    match x {
        EagerTensor::Candle(t) => Ok(t.as_candle()?.clone()),
        _ => Err(Error::invalid(
            op,
            "candle's backprop got a tensor of another backend",
        )),
    }
}

pub(super) fn trace<A>(
    op: &'static str,
    inputs: &[&EagerTensor],
    f: impl FnOnce(&[EagerTensor]) -> Result<(EagerTensor, A)>,
) -> Result<(EagerTensor, A, Vec<EagerTensor>)> {
    let mut vars: Vec<Var> = Vec::with_capacity(inputs.len());
    for x in inputs {
        // A copy of the input (Candle's variables own their storage).
        let t = candle(op, x)?;
        vars.push(Var::from_tensor(&t.detach()).map_err(fw)?);
    }
    let tape = Tape::new();
    let leaves = vars
        .iter()
        .map(|v| {
            leaf(
                &tape,
                EagerTensor::Candle(CandleTensor::wrap(v.as_tensor().clone())),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let watch = eager_candle::backprop::watch();
    let (loss, aux) = {
        let _inside = Enter::new(&DEPTH);
        f(&leaves)?
    };
    let covered = watch.covered();
    check_loss(op, &loss)?;
    let value = loss.detach();
    if covered {
        if let Some(grads) = native_grads(&loss, &vars, inputs)? {
            return Ok((value, aux, grads));
        }
    }
    let grads = backward(&loss, &leaves, inputs)?
        .iter()
        .map(EagerTensor::detach)
        .collect();
    Ok((value, aux, grads))
}

/// The gradients from Candle's backward pass; `None` when the loss is
/// not a candle tensor or Candle's backward fails (the tape then runs).
fn native_grads(
    loss: &EagerTensor,
    vars: &[Var],
    inputs: &[&EagerTensor],
) -> Result<Option<Vec<EagerTensor>>> {
    let EagerTensor::Candle(l) = loss.plain() else {
        return Ok(None);
    };
    let Some(store) = l.as_candle().ok().and_then(|t| t.backward().ok()) else {
        return Ok(None);
    };
    vars.iter()
        .zip(inputs)
        .map(|(v, x)| match store.get(v.as_tensor()) {
            Some(g) if g.dims() == x.shape().as_slice() && g.dtype() == v.dtype() => {
                Ok(Some(EagerTensor::Candle(CandleTensor::wrap(g.detach()))))
            }
            Some(_) => Ok(None),
            None => x.zeros_like().map(Some),
        })
        .collect::<Result<Option<Vec<_>>>>()
}

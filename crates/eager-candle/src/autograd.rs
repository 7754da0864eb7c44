//! Candle's own backprop (`Var`, `Tensor::backward`, `GradStore`) as the
//! backend's [`NativeAutograd`], for f32/f64 tensors, with the facade's
//! tape recorded alongside as the fallback.
//!
//! The inputs become Candle variables and the function runs on tape leaves
//! holding them, so Candle records its graph while the tape records its
//! own. After the function, if every op stayed in Candle's graph with
//! eager-tensor's gradient rules ([`backprop::Watch`](crate::backprop::Watch):
//! no tracked float tensor went through a host copy or an op whose Candle
//! rule differs), the gradients come from `loss.backward()`; otherwise, or
//! if Candle's backward returns an error, from the tape. The function runs
//! once either way.

use crate::backprop::{watch, Watch};
use crate::{error, CandleTensor};
use candle_core::Var;
use eager_core::capability::Nested;
use eager_core::ops::prelude::*;
use eager_core::{AutogradTrace, Capabilities, DType, NativeAutograd, Result};
use std::cell::Cell;

thread_local! {
    /// How many candle native traces this thread is inside: a nested call
    /// uses the tape only.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Candle's backprop.
pub(crate) struct Autograd;

impl NativeAutograd<CandleTensor> for Autograd {
    /// Candle tracks only its variables, which exist inside a trace.
    fn tracks(&self, _: &CandleTensor) -> bool {
        false
    }
    fn detach(&self, t: &CandleTensor) -> Option<CandleTensor> {
        Some(CandleTensor::detach(t))
    }
    /// Not inside another candle native trace, and every input f32 or f64:
    /// f16/bf16 use the tape, because the backend computes them in f32 and
    /// rounds once per op, which the tape's rules (run through the backend)
    /// keep and Candle's half-precision backward would not.
    fn applies(&self, inputs: &[&CandleTensor]) -> bool {
        DEPTH.with(|d| d.get()) == 0
            && inputs
                .iter()
                .all(|x| matches!(TensorBase::dtype(*x), DType::F32 | DType::F64))
    }
    fn begin(
        &self,
        op: &'static str,
        inputs: &[&CandleTensor],
    ) -> Result<Box<dyn AutogradTrace<CandleTensor>>> {
        // A copy of each input (Candle's variables own their storage).
        let vars = inputs
            .iter()
            .map(|x| {
                let t = x.as_candle()?.detach();
                Var::from_tensor(&t).map_err(|e| error(op, e))
            })
            .collect::<Result<Vec<Var>>>()?;
        Ok(Box::new(Trace {
            vars,
            watch: Some(watch()),
            inside: Some(Nested::enter(&DEPTH)),
            covered: false,
        }))
    }
}

struct Trace {
    vars: Vec<Var>,
    watch: Option<Watch>,
    inside: Option<Nested>,
    covered: bool,
}

impl AutogradTrace<CandleTensor> for Trace {
    fn leaves(&self) -> Vec<CandleTensor> {
        self.vars
            .iter()
            .map(|v| CandleTensor::wrap(v.as_tensor().clone()))
            .collect()
    }
    fn with_tape(&self) -> bool {
        true
    }
    fn end_function(&mut self) {
        self.inside = None;
        self.covered = self.watch.take().is_some_and(Watch::covered);
    }
    /// The gradients from Candle's backward pass; `None` when the
    /// function left Candle's graph or Candle's backward fails.
    fn gradients(
        self: Box<Self>,
        loss: &CandleTensor,
    ) -> Result<Option<Vec<Option<CandleTensor>>>> {
        if !self.covered {
            return Ok(None);
        }
        let Some(store) = loss.as_candle().ok().and_then(|t| t.backward().ok()) else {
            return Ok(None);
        };
        let mut grads = Vec::with_capacity(self.vars.len());
        for v in &self.vars {
            match store.get(v.as_tensor()) {
                Some(g) if g.dims() == v.dims() && g.dtype() == v.dtype() => {
                    grads.push(Some(CandleTensor::wrap(g.detach())))
                }
                Some(_) => return Ok(None),
                None => grads.push(None),
            }
        }
        Ok(Some(grads))
    }
}

impl Capabilities for CandleTensor {
    fn seed(seed: u64) {
        crate::seed(seed);
    }
    fn set_num_threads(op: &'static str, n: usize) -> Result<()> {
        crate::set_num_threads(op, n)
    }
    fn autograd() -> Option<&'static dyn NativeAutograd<CandleTensor>> {
        Some(&Autograd)
    }
}

//! libtorch's own autograd as the backend's [`NativeAutograd`]: the
//! facade's `value_and_grad` on torch tensors runs the function on leaves
//! that require grad and asks libtorch for the gradients
//! (`torch.autograd.grad`).

use crate::{error, TorchTensor};
use eager_core::capability::Nested;
use eager_core::{AutogradTrace, Capabilities, NativeAutograd, Result};
use std::cell::Cell;
use tch::Tensor;

thread_local! {
    /// How many native traces this thread is inside: a nested call uses
    /// the tape, so that libtorch's graph keeps the outer dependency.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// libtorch's autograd.
pub(crate) struct Autograd;

impl NativeAutograd<TorchTensor> for Autograd {
    fn tracks(&self, t: &TorchTensor) -> bool {
        t.tensor().requires_grad()
    }
    fn detach(&self, t: &TorchTensor) -> Option<TorchTensor> {
        t.detach().ok()
    }
    fn applies(&self, _: &[&TorchTensor]) -> bool {
        DEPTH.with(|d| d.get()) == 0
    }
    fn begin(
        &self,
        op: &'static str,
        inputs: &[&TorchTensor],
    ) -> Result<Box<dyn AutogradTrace<TorchTensor>>> {
        let leaves = inputs
            .iter()
            .map(|x| {
                x.tensor()
                    .f_detach()
                    .and_then(|mut t| t.f_requires_grad_(true))
                    .map_err(|e| error(op, e))
            })
            .collect::<Result<Vec<Tensor>>>()?;
        Ok(Box::new(Trace {
            op,
            leaves,
            inside: Some(Nested::enter(&DEPTH)),
        }))
    }
}

struct Trace {
    op: &'static str,
    leaves: Vec<Tensor>,
    inside: Option<Nested>,
}

impl AutogradTrace<TorchTensor> for Trace {
    fn leaves(&self) -> Vec<TorchTensor> {
        self.leaves
            .iter()
            .map(|l| TorchTensor::wrap(l.shallow_clone()))
            .collect()
    }
    fn with_tape(&self) -> bool {
        false
    }
    fn end_function(&mut self) {
        self.inside = None;
    }
    fn gradients(self: Box<Self>, loss: &TorchTensor) -> Result<Option<Vec<Option<TorchTensor>>>> {
        let grads = if loss.tensor().requires_grad() {
            Tensor::f_run_backward(&[loss.tensor()], &self.leaves, false, false)
                .map_err(|e| error(self.op, e))?
        } else {
            Vec::new()
        };
        // Without `create_graph` the gradients libtorch returns are outside
        // any graph already (no `detach`, which would cost a tensor each).
        let mut grads = grads.into_iter();
        Ok(Some(
            self.leaves
                .iter()
                .map(|_| grads.next().filter(Tensor::defined).map(TorchTensor::wrap))
                .collect(),
        ))
    }
}

impl Capabilities for TorchTensor {
    const ADOPTS_ALIGNED_HOST: bool = true;
    fn seed(seed: u64) {
        crate::seed(seed);
    }
    fn set_num_threads(_op: &'static str, n: usize) -> Result<()> {
        crate::set_num_threads(n);
        Ok(())
    }
    fn autograd() -> Option<&'static dyn NativeAutograd<TorchTensor>> {
        Some(&Autograd)
    }
}

//! libtorch's own autograd for torch tensors.

use super::*;
use crate::TorchTensor;
use eager_torch::tch::Tensor;
use std::cell::Cell;

thread_local! {
    /// How many native traces this thread is inside: a nested call uses
    /// the tape, so that libtorch's graph keeps the outer dependency.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

pub(super) fn requires_grad(x: &EagerTensor) -> bool {
    matches!(x, EagerTensor::Torch(t) if t.tensor().requires_grad())
}

pub(super) fn applies(inputs: &[&EagerTensor]) -> bool {
    DEPTH.with(|d| d.get()) == 0 && inputs.iter().all(|x| matches!(x, EagerTensor::Torch(_)))
}

fn fw(e: eager_torch::tch::TchError) -> Error {
    eager_torch::error("value_and_grad", e)
}

pub(super) fn trace<A>(
    op: &'static str,
    inputs: &[&EagerTensor],
    f: impl FnOnce(&[EagerTensor]) -> Result<(EagerTensor, A)>,
) -> Result<(EagerTensor, A, Vec<EagerTensor>)> {
    let mut leaves: Vec<Tensor> = Vec::with_capacity(inputs.len());
    for x in inputs {
        let EagerTensor::Torch(t) = x else {
            return Err(Error::invalid(
                op,
                "native autograd got a tensor of another backend",
            ));
        };
        leaves.push(
            t.tensor()
                .f_detach()
                .map_err(fw)?
                .f_requires_grad_(true)
                .map_err(fw)?,
        );
    }
    let wrapped: Vec<EagerTensor> = leaves
        .iter()
        .map(|l| EagerTensor::Torch(TorchTensor::wrap(l.shallow_clone())))
        .collect();
    let (loss, aux) = {
        let _inside = Enter::new(&DEPTH);
        f(&wrapped)?
    };
    check_loss(op, &loss)?;
    let EagerTensor::Torch(lt) = &loss else {
        return Err(crate::tensor::mismatch(op, &[inputs[0], &loss]));
    };
    let grads = if lt.tensor().requires_grad() {
        Tensor::f_run_backward(&[lt.tensor()], &leaves, false, false).map_err(fw)?
    } else {
        Vec::new()
    };
    // Without `create_graph` the gradients libtorch returns are outside
    // any graph already (no `detach`, which would cost a tensor each).
    let grads = inputs
        .iter()
        .zip(
            grads
                .into_iter()
                .map(Some)
                .chain(std::iter::repeat_with(|| None)),
        )
        .map(|(x, g)| match g {
            Some(g) if g.defined() => Ok(EagerTensor::Torch(TorchTensor::wrap(g))),
            _ => x.zeros_like(),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((loss.detach(), aux, grads))
}

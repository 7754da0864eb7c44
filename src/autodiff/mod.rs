//! Reverse-mode automatic differentiation on every backend: JAX-style
//! `value_and_grad` over ordinary Rust closures.
//!
//! `value_and_grad(f, &x)` wraps `x` as a *traced* tensor
//! ([`EagerTensor::Traced`]) that belongs to a fresh tape. Every operation of
//! the op contract that receives a traced operand computes its value with the
//! backend as usual and records a node with its backward rule on that tape
//! (the way Burn's autodiff decorates a backend, or JAX wraps values in
//! tracers). Everything the facade composes from those operations —
//! `softmax`, `crossentropy`, norms, indexing, padding, `mean`, ... — is
//! differentiable for free. The backward pass runs the rules in reverse
//! order with plain (untraced) tensors of the same backend.
//!
//! Rules worth knowing (also in `docs/semantics.md`):
//! - Only float tensors are traced. Operations whose result is an integer or
//!   bool (comparisons, `argmax`, `argsort`, `isnan`, casts to integers) pass
//!   no gradient; `sign`, `round`, `ceil`, `floor` and `floor_div` have a zero
//!   gradient, as in JAX.
//! - `min`/`max` reductions and `minimum`/`maximum` split the gradient evenly
//!   between tied elements (JAX's rule).
//! - Tensors captured by `f` from outside are constants.
//! - There is no global state: each call has its own tape, so calls in
//!   parallel threads and repeated calls are independent. A nested
//!   `value_and_grad` inside `f` works when it differentiates its own
//!   inputs; differentiating *through* it (a tensor traced by an outer call
//!   reaching an inner tape, i.e. higher-order derivatives) is an error.

use crate::tensor::DynOps;
use crate::{
    prim, BinaryOp, DType, EagerTensor, Error, HostBuffer, NativeRef, Result, Scalar, UnaryOp,
};
use eager_core::ops::{ArgReduceOp, Device, Distribution, ReduceOp};
use eager_core::shape::SliceRange;
use eager_core::{Capabilities, HostData};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

mod rules;
mod tape;
mod traced;

use rules::*;
pub(crate) use rules::{
    binary, concat, matmul, pick, scatter, scatter_add, swap_last2, where_cond,
};
pub use tape::Traced;
use tape::*;

/// Runs the backward pass from `out` and returns the gradient of each leaf.
fn backward(
    out: &EagerTensor,
    leaves: &[EagerTensor],
    inputs: &[&EagerTensor],
) -> Result<Vec<EagerTensor>> {
    let zeros = || {
        inputs
            .iter()
            .map(|x| x.zeros_like())
            .collect::<Result<Vec<_>>>()
    };
    let Some(o) = out.traced() else {
        return zeros();
    };
    let leaf_tape = match leaves.first().and_then(|l| l.traced()) {
        Some(l) => l.0.tape.clone(),
        None => return zeros(),
    };
    if o.0.tape.id != leaf_tape.id {
        // The result does not depend on these inputs at all.
        return zeros();
    }
    let nodes = leaf_tape
        .nodes
        .lock()
        .map_err(|_| Error::invalid("value_and_grad", "the tape was poisoned"))?;
    let mut grads: Vec<Option<EagerTensor>> = vec![None; nodes.len()];
    grads[o.0.node] = Some(o.value().ones_like()?);
    for i in (0..=o.0.node).rev() {
        let Some(g) = grads[i].take() else { continue };
        let node = &nodes[i];
        let Some(bw) = &node.backward else {
            grads[i] = Some(g);
            continue;
        };
        let gs = bw(&g)?;
        for (input, gi) in node.inputs.iter().zip(gs) {
            if let (Some(j), Some(gi)) = (input, gi) {
                grads[*j] = Some(match grads[*j].take() {
                    Some(acc) => acc.add(&gi)?,
                    None => gi,
                });
            }
        }
    }
    leaves
        .iter()
        .zip(inputs)
        .map(
            |(l, x)| match l.traced().and_then(|t| grads[t.0.node].take()) {
                Some(g) => g.cast_to(x.dtype()),
                None => x.zeros_like(),
            },
        )
        .collect()
}

fn check_input(op: &'static str, x: &EagerTensor) -> Result<()> {
    if x.is_traced() || x.dyn_tracked_by_autograd() {
        return Err(Error::invalid(
            op,
            "the input is already being differentiated (by an outer value_and_grad, or a torch \
             tensor with requires_grad); higher-order derivatives are not supported: detach() it",
        ));
    }
    if !x.dtype().is_float() {
        return Err(Error::dtype(
            op,
            format!("gradients need float inputs, got {}", x.dtype()),
        ));
    }
    Ok(())
}

fn check_loss(op: &'static str, loss: &EagerTensor) -> Result<()> {
    if loss.ndim() != 0 {
        return Err(Error::shape(
            op,
            format!(
                "the function must return a scalar (0-d) tensor, got shape {:?}",
                loss.shape()
            ),
        ));
    }
    if !loss.dtype().is_float() {
        return Err(Error::dtype(
            op,
            format!(
                "the function must return a float tensor, got {}",
                loss.dtype()
            ),
        ));
    }
    Ok(())
}

/// Which reverse-mode engine computes gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The framework's own autograd where it has one (torch; candle where
    /// Candle's backprop covers the function's ops), else the tape.
    Auto,
    /// Always eager-tensor's tape over the op contract.
    Tape,
}

/// The core of all the entry points: traces `f` at `inputs`, with the
/// framework's own autograd where the inputs' backend has one that applies
/// ([`Capabilities::autograd`]) and `engine` allows it, else on the tape.
fn trace<A>(
    op: &'static str,
    engine: Engine,
    inputs: &[&EagerTensor],
    f: impl FnOnce(&[EagerTensor]) -> Result<(EagerTensor, A)>,
) -> Result<(EagerTensor, A, Vec<EagerTensor>)> {
    for x in inputs {
        check_input(op, x)?;
    }
    match one_backend(inputs) {
        Some(backend) if engine == Engine::Auto => {
            with_backend!(op, backend, |B| native_trace::<B, A>(op, inputs, f))
        }
        _ => tape_trace(op, inputs, f),
    }
}

/// The backend of all of `inputs`, if they have one.
fn one_backend(inputs: &[&EagerTensor]) -> Option<crate::Backend> {
    let first = inputs.first()?.backend();
    inputs.iter().all(|x| x.backend() == first).then_some(first)
}

/// [`trace`] on the tape.
fn tape_trace<A>(
    op: &'static str,
    inputs: &[&EagerTensor],
    f: impl FnOnce(&[EagerTensor]) -> Result<(EagerTensor, A)>,
) -> Result<(EagerTensor, A, Vec<EagerTensor>)> {
    let tape = Tape::new();
    let leaves = inputs
        .iter()
        .map(|x| leaf(&tape, (*x).clone()))
        .collect::<Result<Vec<_>>>()?;
    let (loss, aux) = f(&leaves)?;
    check_loss(op, &loss)?;
    let grads = backward(&loss, &leaves, inputs)?;
    Ok((loss.plain(), aux, grads))
}

/// [`trace`] with the native autograd of `B`, the inputs' backend, where it
/// has one that applies to them (the tape otherwise). The function runs on
/// the autograd's leaves (also tape leaves where the autograd keeps the
/// tape as its fallback); a leaf the loss does not depend on gets zeros.
fn native_trace<B, A>(
    op: &'static str,
    inputs: &[&EagerTensor],
    f: impl FnOnce(&[EagerTensor]) -> Result<(EagerTensor, A)>,
) -> Result<(EagerTensor, A, Vec<EagerTensor>)>
where
    B: Capabilities + NativeRef + Into<EagerTensor>,
{
    let xs = inputs
        .iter()
        .map(|x| B::ref_from_eager(x))
        .collect::<Result<Vec<&B>>>()?;
    let Some(autograd) = B::autograd().filter(|a| a.applies(&xs)) else {
        return tape_trace(op, inputs, f);
    };
    let mut trace = autograd.begin(op, &xs)?;
    let tape = trace.with_tape().then(Tape::new);
    let leaves = trace
        .leaves()
        .into_iter()
        .map(|l| match &tape {
            Some(tape) => leaf(tape, l.into()),
            None => Ok(l.into()),
        })
        .collect::<Result<Vec<EagerTensor>>>()?;
    let out = f(&leaves);
    trace.end_function();
    let (loss, aux) = out?;
    check_loss(op, &loss)?;
    let value = loss.detach();
    let native = match B::ref_from_eager(&loss.plain()) {
        Ok(l) => trace.gradients(l)?,
        Err(_) if tape.is_some() => None,
        Err(_) => return Err(crate::tensor::mismatch(op, &[inputs[0], &loss])),
    };
    let grads = match native {
        Some(grads) => grads
            .into_iter()
            .zip(inputs)
            .map(|(g, x)| match g {
                Some(g) => Ok(g.into()),
                None => x.zeros_like(),
            })
            .collect::<Result<Vec<_>>>()?,
        None => backward(&loss, &leaves, inputs)?
            .iter()
            .map(EagerTensor::detach)
            .collect(),
    };
    Ok((value, aux, grads))
}

/// The value of `f(x)` and its gradient with respect to `x` (JAX's
/// `value_and_grad`, EagerPy's `ep.value_and_grad`).
///
/// `f` is an ordinary closure over `&EagerTensor` that returns a scalar
/// (0-d) float tensor; anything else is an error. Tensors `f` captures are
/// constants.
///
/// ```
/// use eager_tensor as ep;
/// let like = ep::EagerTensor::zeros(ep::Backend::NdArray, &[], ep::DType::F32)?;
/// let x = ep::arange(&like, 0, 8, 1)?.float32()?.reshape(&[2, 4])?;
/// let (v, g) = ep::value_and_grad(|x| x.square()?.sum(), &x)?;
/// assert_eq!(v.item::<f32>()?, 140.0);
/// assert_eq!(g.to_vec::<f32>()?, (&x * 2.0)?.to_vec::<f32>()?);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn value_and_grad<F>(f: F, x: &EagerTensor) -> Result<(EagerTensor, EagerTensor)>
where
    F: FnOnce(&EagerTensor) -> Result<EagerTensor>,
{
    let (v, (), mut g) = trace("value_and_grad", Engine::Auto, &[x], |xs| {
        Ok((f(&xs[0])?, ()))
    })?;
    Ok((v, g.remove(0)))
}

/// Like [`value_and_grad`] for a function that returns `(loss, aux)`;
/// `aux` is passed through (EagerPy's `has_aux=True`). Tensors in `aux` may
/// still be traced: [`EagerTensor::detach`] them to keep only the value.
///
/// ```
/// use eager_tensor as ep;
/// let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f32, 2.0], &[2])?;
/// let (loss, pred, g) = ep::value_aux_and_grad(
///     |x| {
///         let y = x.square()?;
///         Ok((y.sum()?, y.argmax()?.detach()))
///     },
///     &x,
/// )?;
/// assert_eq!(loss.item::<f32>()?, 5.0);
/// assert_eq!(pred.item::<i64>()?, 1);
/// assert_eq!(g.to_vec::<f32>()?, vec![2.0, 4.0]);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn value_aux_and_grad<F, A>(f: F, x: &EagerTensor) -> Result<(EagerTensor, A, EagerTensor)>
where
    F: FnOnce(&EagerTensor) -> Result<(EagerTensor, A)>,
{
    let (v, aux, mut g) = trace("value_aux_and_grad", Engine::Auto, &[x], |xs| f(&xs[0]))?;
    Ok((v, aux, g.remove(0)))
}

/// A reusable function computing `value_and_grad(f, x)` (EagerPy's
/// `value_and_grad_fn`).
///
/// ```
/// use eager_tensor as ep;
/// let vg = ep::value_and_grad_fn(|x: &ep::EagerTensor| x.sin()?.sum());
/// let x = ep::EagerTensor::zeros(ep::Backend::NdArray, &[3], ep::DType::F64)?;
/// let (v, g) = vg(&x)?;
/// assert_eq!((v.item::<f64>()?, g.to_vec::<f64>()?), (0.0, vec![1.0; 3]));
/// # Ok::<(), ep::Error>(())
/// ```
pub fn value_and_grad_fn<F>(f: F) -> impl Fn(&EagerTensor) -> Result<(EagerTensor, EagerTensor)>
where
    F: Fn(&EagerTensor) -> Result<EagerTensor>,
{
    move |x| value_and_grad(&f, x)
}

/// A reusable function computing `value_aux_and_grad(f, x)` (EagerPy's
/// `value_and_grad_fn(t, f, has_aux=True)`): `f` returns the value and an
/// auxiliary output, which comes back beside the value, not differentiated.
///
/// ```
/// use eager_tensor as ep;
/// let vag = ep::value_aux_and_grad_fn(|x: &ep::EagerTensor| {
///     let y = x.square()?;
///     Ok((y.sum()?, y.argmax()?.detach()))
/// });
/// let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f32, -3.0], &[2])?;
/// let (loss, pred, g) = vag(&x)?;
/// assert_eq!((loss.item::<f32>()?, pred.item::<i64>()?), (10.0, 1));
/// assert_eq!(g.to_vec::<f32>()?, vec![2.0, -6.0]);
/// let (loss, _, _) = vag(&x.mul(2.0)?)?; // reusable
/// assert_eq!(loss.item::<f32>()?, 40.0);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn value_aux_and_grad_fn<F, A>(
    f: F,
) -> impl Fn(&EagerTensor) -> Result<(EagerTensor, A, EagerTensor)>
where
    F: Fn(&EagerTensor) -> Result<(EagerTensor, A)>,
{
    move |x| value_aux_and_grad(&f, x)
}

/// The value of `f(xs)` and its gradients with respect to every input
/// (JAX's `argnums=(0, 1, ...)`): `f` receives the inputs as a slice.
///
/// ```
/// use eager_tensor as ep;
/// let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f64, 2.0], &[1, 2])?;
/// let w = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![3.0f64, 4.0], &[2, 1])?;
/// let (v, g) = ep::value_and_grads(|t| t[0].matmul(&t[1])?.sum(), &[&x, &w])?;
/// assert_eq!(v.item::<f64>()?, 11.0);
/// assert_eq!(g[0].to_vec::<f64>()?, vec![3.0, 4.0]);
/// assert_eq!(g[1].to_vec::<f64>()?, vec![1.0, 2.0]);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn value_and_grads<F>(f: F, xs: &[&EagerTensor]) -> Result<(EagerTensor, Vec<EagerTensor>)>
where
    F: FnOnce(&[EagerTensor]) -> Result<EagerTensor>,
{
    value_and_grads_with(Engine::Auto, f, xs)
}

/// [`value_and_grads`] with a chosen [`Engine`]: `Engine::Tape` forces
/// eager-tensor's own tape on backends that have a native autograd (used to
/// test that both agree).
///
/// ```
/// use eager_tensor as ep;
/// let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f64, 2.0], &[2])?;
/// let w = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![3.0f64, 4.0], &[2])?;
/// for engine in [ep::Engine::Auto, ep::Engine::Tape] {
///     let (v, g) = ep::value_and_grads_with(engine, |t| t[0].mul(&t[1])?.sum(), &[&x, &w])?;
///     assert_eq!(v.item::<f64>()?, 11.0);
///     assert_eq!((g[0].to_vec::<f64>()?, g[1].to_vec::<f64>()?), (vec![3.0, 4.0], vec![1.0, 2.0]));
/// }
/// let e = ep::value_and_grads_with(ep::Engine::Tape, |t| t[0].sum(), &[]).unwrap_err();
/// assert_eq!(e.op(), "value_and_grads");
/// # Ok::<(), ep::Error>(())
/// ```
pub fn value_and_grads_with<F>(
    engine: Engine,
    f: F,
    xs: &[&EagerTensor],
) -> Result<(EagerTensor, Vec<EagerTensor>)>
where
    F: FnOnce(&[EagerTensor]) -> Result<EagerTensor>,
{
    if xs.is_empty() {
        return Err(Error::invalid(
            "value_and_grads",
            "needs at least one input",
        ));
    }
    let (v, (), g) = trace("value_and_grads", engine, xs, |ts| Ok((f(ts)?, ())))?;
    Ok((v, g))
}

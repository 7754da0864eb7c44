//! `ep::jit`: compile a whole function into one program where the backend
//! can (XLA), and run it as it is everywhere else.
//!
//! On the **xla** backend the first call for an input signature (dtypes and
//! shapes) traces the function into one StableHLO program — every op, and
//! with [`value_and_grads`](crate::value_and_grads) inside it the backward
//! rules too — compiles it once and keeps it; later calls with that
//! signature are one launch, as `jax.jit`. On **ndarray, torch and
//! tensorflow** the function simply runs (eager), so generic code can
//! always call `jit`.
//!
//! Inside a trace, tensors are placeholders without values:
//!
//! - Reading a value on the host (`item`, `to_vec`, printing values),
//!   `nonzero` and boolean-mask indexing (whose shape depends on values),
//!   `inv` (its singular check reads a flag) and random draws are errors
//!   naming the op — JAX's tracers refuse the same. Nothing falls back to
//!   eager silently.
//! - Tensors the function captures from outside, and tensors it makes from
//!   host values (`full`, scalar operands, `from_vec`), are **constants**:
//!   their values at the first trace are compiled in (kept as the program's
//!   own buffers). To vary them, pass them as inputs.
//!
//! ```
//! use eager_tensor as ep;
//! // a * x + b, with `b` captured: a constant of the compiled program.
//! let b = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f32, 2.0], &[2])?;
//! let f = ep::jit(|xs: &[ep::EagerTensor]| Ok(vec![xs[0].mul(&xs[1])?.add(&b)?]));
//! let a = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![3.0f32, 4.0], &[2])?;
//! let y = f.call(&[&a, &a])?;
//! assert_eq!(y[0].to_vec::<f32>()?, vec![10.0, 18.0]);
//! # Ok::<(), ep::Error>(())
//! ```

#[cfg(feature = "xla")]
use crate::{DType, Error};
use crate::{EagerTensor, Result};

/// A jitted function of several tensors to several tensors ([`jit`]).
pub struct Jit<F> {
    f: F,
    #[cfg(feature = "xla")]
    programs: std::sync::Mutex<
        std::collections::HashMap<Signature, std::sync::Arc<eager_xla::jit::Program>>,
    >,
}

#[cfg(feature = "xla")]
type Signature = Vec<(DType, Vec<usize>)>;

/// Compiles `f` on the xla backend, one program per input signature (see
/// the module docs); on the other backends [`Jit::call`] runs `f` as it is.
pub fn jit<F>(f: F) -> Jit<F>
where
    F: Fn(&[EagerTensor]) -> Result<Vec<EagerTensor>>,
{
    Jit {
        f,
        #[cfg(feature = "xla")]
        programs: Default::default(),
    }
}

/// [`jit`] for a function of one tensor to one tensor; call it with
/// [`Jit1::call`].
///
/// ```
/// use eager_tensor as ep;
/// let norm = ep::jit1(|x: &ep::EagerTensor| x.square()?.sum()?.sqrt());
/// let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![3.0f64, 4.0], &[2])?;
/// assert_eq!(norm.call(&x)?.item::<f64>()?, 5.0);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn jit1<F>(f: F) -> Jit1<F>
where
    F: Fn(&EagerTensor) -> Result<EagerTensor>,
{
    Jit1(Jit {
        f: JitOne(f),
        #[cfg(feature = "xla")]
        programs: Default::default(),
    })
}

/// A jitted function of one tensor to one tensor ([`jit1`]).
pub struct Jit1<F>(Jit<JitOne<F>>);

/// Adapts a one-to-one function to the many-to-many form.
#[doc(hidden)]
pub struct JitOne<F>(F);

impl<F: Fn(&EagerTensor) -> Result<EagerTensor>> JitFn for JitOne<F> {
    fn run(&self, xs: &[EagerTensor]) -> Result<Vec<EagerTensor>> {
        Ok(vec![(self.0)(&xs[0])?])
    }
}

/// What [`Jit`] calls: a function of several tensors to several tensors.
#[doc(hidden)]
pub trait JitFn {
    fn run(&self, xs: &[EagerTensor]) -> Result<Vec<EagerTensor>>;
}

impl<F: Fn(&[EagerTensor]) -> Result<Vec<EagerTensor>>> JitFn for F {
    fn run(&self, xs: &[EagerTensor]) -> Result<Vec<EagerTensor>> {
        self(xs)
    }
}

impl<F: Fn(&EagerTensor) -> Result<EagerTensor>> Jit1<F> {
    /// Runs the function (compiled on xla).
    pub fn call(&self, x: &EagerTensor) -> Result<EagerTensor> {
        let mut out = self.0.call(&[x])?;
        out.pop()
            .ok_or_else(|| crate::Error::invalid("jit", "no result"))
    }
}

impl<F: JitFn> Jit<F> {
    /// Runs the function: on xla the program compiled for these inputs'
    /// dtypes and shapes (tracing and compiling it on the first call), on
    /// the other backends `f` itself.
    pub fn call(&self, inputs: &[&EagerTensor]) -> Result<Vec<EagerTensor>> {
        #[cfg(feature = "xla")]
        if !inputs.is_empty()
            && inputs
                .iter()
                .all(|t| matches!(t, EagerTensor::Xla(x) if !x.is_traced_by_jit()))
        {
            return self.call_xla(inputs);
        }
        let xs: Vec<EagerTensor> = inputs.iter().map(|&t| t.clone()).collect();
        self.f.run(&xs)
    }

    /// How many programs are compiled (one per input signature seen; 0
    /// off xla).
    pub fn compiled(&self) -> usize {
        #[cfg(feature = "xla")]
        {
            self.programs.lock().map(|m| m.len()).unwrap_or(0)
        }
        #[cfg(not(feature = "xla"))]
        0
    }

    #[cfg(feature = "xla")]
    fn call_xla(&self, inputs: &[&EagerTensor]) -> Result<Vec<EagerTensor>> {
        use eager_xla::jit::Trace;
        use eager_xla::XlaTensor;
        let xs: Vec<&XlaTensor> = inputs
            .iter()
            .filter_map(|t| match t {
                EagerTensor::Xla(x) => Some(x),
                _ => None,
            })
            .collect();
        let sig: Signature = xs
            .iter()
            .map(|x| {
                (
                    eager_core::BackendTensor::dtype(*x),
                    eager_core::BackendTensor::shape(*x),
                )
            })
            .collect();
        let poisoned = || Error::invalid("jit", "the program cache was poisoned by a panic");
        let known = self
            .programs
            .lock()
            .map_err(|_| poisoned())?
            .get(&sig)
            .cloned();
        let program =
            match known {
                Some(p) => p,
                None => {
                    let trace = Trace::new();
                    let sym = sig
                        .iter()
                        .map(|(d, s)| trace.input(*d, s).map(EagerTensor::Xla))
                        .collect::<Result<Vec<_>>>()?;
                    let outs = self.f.run(&sym)?;
                    let outs =
                        outs.into_iter()
                            .map(|o| match o {
                                EagerTensor::Xla(x) => Ok(x),
                                other => Err(Error::invalid(
                                    "jit",
                                    format!(
                                "the function returned a {} tensor{}; a jitted function on \
                                 xla returns xla tensors",
                                other.backend(),
                                if other.is_traced() { " being differentiated" } else { "" }
                            ),
                                )),
                            })
                            .collect::<Result<Vec<_>>>()?;
                    let p = std::sync::Arc::new(trace.finish(&outs)?);
                    self.programs
                        .lock()
                        .map_err(|_| poisoned())?
                        .insert(sig, p.clone());
                    p
                }
            };
        Ok(program
            .run(&xs)?
            .into_iter()
            .map(EagerTensor::Xla)
            .collect())
    }
}

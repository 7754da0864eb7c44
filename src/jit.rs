//! `ep::jit`: compile a whole function into one program where the backend
//! can (XLA), and run it as it is everywhere else.
//!
//! On the **xla** backend the first call for an input signature (dtypes and
//! shapes) traces the function into one StableHLO program — every op, and
//! with [`value_and_grads`](crate::value_and_grads) inside it the backward
//! rules too — compiles it once and keeps it; later calls with that
//! signature are one launch, as `jax.jit`. On **ndarray, torch, tensorflow
//! and candle** the function simply runs (eager, op by op, every call), so
//! generic code can always call `jit`.
//!
//! Which of the two happens is decided by the inputs, never silently:
//!
//! - All inputs plain xla tensors: compiled (as above).
//! - All inputs of one other backend (differentiated or not): `f` runs as
//!   it is — that backend's rule, not a fallback.
//! - Inputs that are placeholders of an enclosing `jit` (a jitted function
//!   called inside another one): `f`'s ops join the enclosing program, as a
//!   nested `jax.jit` is inlined; nothing is compiled on its own.
//! - xla inputs being differentiated outside a trace
//!   (`value_and_grad(|x| jitted.call(..), x)`): an error naming `jit`.
//!   JAX differentiates through `jit`; here the differentiation goes
//!   inside instead — `jit(|xs| value_and_grads(f, xs))` — which compiles
//!   the forward and backward passes into one program.
//! - Inputs of several backends: a `backend_mismatch` error naming `jit`.
//! - No inputs: an error naming `jit` (the inputs' backend is what decides
//!   how `f` runs; pass a tensor, as `value_and_grads` needs one too).
//!
//! Inside a trace, tensors are placeholders without values:
//!
//! - Reading a value on the host (`item`, `item_scalar`, `to_vec`,
//!   `to_host_data`), the backend's `nonzero` and boolean-mask indexing
//!   (whose shape depends on values) and random draws are errors naming the
//!   op the caller called (`e.op()` is `"item"`, `"index"`, ...) — JAX's
//!   tracers refuse the same. Nothing falls back to eager silently.
//! - Checks that need values are left to the program, as in `jax.jit`:
//!   `inv` of a singular matrix gives inf/NaN instead of an error, gathers
//!   clamp out-of-range indices.
//! - Tensors the function captures from outside, and tensors it makes from
//!   host values (`full`, scalar operands, `from_vec`), are **constants**
//!   on xla: their values at the first trace are compiled in (kept as the
//!   program's own buffers), and a later call with the same signature does
//!   not see a captured tensor replaced by another (through a `Cell` or
//!   `RefCell`, say). On the other backends `f` runs every call and reads
//!   whatever it captures then. To vary a value, pass it as an input.
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

use crate::tensor::DynOps;
use crate::{Backend, EagerTensor, Error, Native, NativeRef, Result};
use eager_core::capability::DEFAULT_PROGRAMS;
use eager_core::{Capabilities, ProgramCache};
use std::any::Any;
use std::sync::OnceLock;

/// A jitted function of several tensors to several tensors ([`jit`]).
pub struct Jit<F> {
    f: F,
    /// Inputs offered for donation ([`Jit::donate`]).
    donate: Vec<usize>,
    /// The most programs kept per backend ([`Jit::max_programs`]).
    capacity: usize,
    /// The programs compiled so far, one cache per backend with a
    /// [`Compiler`] (indexed as `Backend::ALL`), made on first use.
    caches: Caches,
}

type Caches = [OnceLock<Box<dyn AnyCache>>; Backend::ALL.len()];

/// A backend's [`ProgramCache`] with its tensor type erased, so that one
/// `Jit` keeps the caches of every backend it is called with.
trait AnyCache: Send + Sync {
    fn len(&self) -> usize;
    fn as_any(&self) -> &dyn Any;
}

/// The cache of one backend, `B`.
struct CacheOf<B: 'static>(Box<dyn ProgramCache<B>>);

impl<B: 'static> AnyCache for CacheOf<B> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Compiles `f` on the backends with a compiler (xla), one program per
/// input signature (see the module docs); on the other backends
/// [`Jit::call`] runs `f` as it is.
pub fn jit<F>(f: F) -> Jit<F>
where
    F: Fn(&[EagerTensor]) -> Result<Vec<EagerTensor>>,
{
    Jit::new(f)
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
    Jit1(Jit::new(JitOne(f)))
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
    /// How many programs are compiled ([`Jit::compiled`]).
    pub fn compiled(&self) -> usize {
        self.0.compiled()
    }
    /// Keeps at most `n` compiled programs ([`Jit::max_programs`]).
    pub fn max_programs(self, n: usize) -> Self {
        Jit1(self.0.max_programs(n))
    }
}

impl<F: JitFn> Jit<F> {
    /// Runs the function: on xla the program compiled for these inputs'
    /// dtypes and shapes (tracing and compiling it on the first call), on
    /// the other backends `f` itself. See the module docs for inputs that
    /// are placeholders of an enclosing `jit`, inputs being differentiated,
    /// mixed backends and no inputs.
    pub fn call(&self, inputs: &[&EagerTensor]) -> Result<Vec<EagerTensor>> {
        check_donate(&self.donate, inputs.len())?;
        match route(inputs.iter().copied())? {
            Route::Compile(backend) => with_backend!("jit", backend, |B| {
                let xs = inputs
                    .iter()
                    .map(|&t| B::ref_from_eager(t))
                    .collect::<Result<Vec<&B>>>()?;
                let outs = self
                    .cache::<B>()?
                    .call(&xs, &self.donate, &mut |p| self.traced(p))?;
                Ok(outs.into_iter().map(Into::into).collect())
            }),
            Route::RunAsIs => {
                let xs: Vec<EagerTensor> = inputs.iter().map(|&t| t.clone()).collect();
                some_outputs(self.f.run(&xs)?)
            }
        }
    }

    /// Offers the inputs at `indices` for **donation** (xla): each aliases a
    /// result of its dtype and shape, so [`call_donating`](Self::call_donating)
    /// writes that result into the input's buffer instead of allocating —
    /// the `params ← params − lr·grad` step updates in place, as
    /// `jax.jit(donate_argnums=...)`. [`call`](Self::call) never donates.
    ///
    /// ```
    /// use eager_tensor as ep;
    /// let sgd = ep::jit(|xs: &[ep::EagerTensor]| Ok(vec![xs[0].sub(&xs[1].mul(0.1)?)?]))
    ///     .donate(&[0]);
    /// let w = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f32, 2.0], &[2])?;
    /// let g = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![10.0f32, 10.0], &[2])?;
    /// let w = sgd.call_donating(vec![w, g])?.remove(0); // w's buffer reused on xla
    /// assert_eq!(w.to_vec::<f32>()?, vec![0.0, 1.0]);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn donate(mut self, indices: &[usize]) -> Self {
        self.donate = indices.to_vec();
        self
    }

    /// Keeps at most `n` compiled programs (at least 1; 64 by default,
    /// `eager_core::capability::DEFAULT_PROGRAMS`): called with more input
    /// signatures than that, the least recently used program is dropped,
    /// and compiled again (or loaded from the disk cache) if its signature
    /// comes back. Dropping the `Jit` frees its programs. No effect off xla.
    ///
    /// ```
    /// use eager_tensor as ep;
    /// let f = ep::jit(|xs: &[ep::EagerTensor]| Ok(vec![xs[0].square()?])).max_programs(2);
    /// for n in 1..=3 {
    ///     let x = ep::EagerTensor::ones(ep::Backend::NdArray, [n], ep::DType::F32)?;
    ///     f.call(&[&x])?;
    /// }
    /// assert!(f.compiled() <= 2);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn max_programs(self, n: usize) -> Self {
        Jit {
            capacity: n.max(1),
            caches: Default::default(),
            ..self
        }
    }

    /// [`call`](Self::call) taking the inputs, so that the ones offered by
    /// [`donate`](Self::donate) can give their buffers to the results (xla).
    /// An input whose buffer another tensor still holds is not donated (it
    /// is copied), so no live tensor ever loses its data.
    pub fn call_donating(&self, inputs: Vec<EagerTensor>) -> Result<Vec<EagerTensor>> {
        check_donate(&self.donate, inputs.len())?;
        match route(inputs.iter())? {
            Route::Compile(backend) => with_backend!("jit", backend, |B| {
                let xs = inputs
                    .into_iter()
                    .map(B::from_eager)
                    .collect::<Result<Vec<B>>>()?;
                let outs = self
                    .cache::<B>()?
                    .call_donating(xs, &self.donate, &mut |p| self.traced(p))?;
                Ok(outs.into_iter().map(Into::into).collect())
            }),
            Route::RunAsIs => some_outputs(self.f.run(&inputs)?),
        }
    }

    /// How many compiled programs are kept (one per input signature seen,
    /// at most [`max_programs`](Self::max_programs) per backend; 0 off xla).
    pub fn compiled(&self) -> usize {
        self.caches
            .iter()
            .filter_map(OnceLock::get)
            .map(|c| c.len())
            .sum()
    }

    fn new(f: F) -> Jit<F> {
        Jit {
            f,
            donate: Vec::new(),
            capacity: DEFAULT_PROGRAMS,
            caches: Default::default(),
        }
    }

    /// The program cache of `B`, made on first use.
    fn cache<B: Capabilities>(&self) -> Result<&dyn ProgramCache<B>> {
        let compiler = B::compiler()
            .ok_or_else(|| Error::invalid("jit", format!("{} compiles nothing", B::BACKEND)))?;
        let slot = &self.caches[B::BACKEND as usize];
        let cache = slot.get_or_init(|| Box::new(CacheOf(compiler.cache(self.capacity))));
        match cache.as_any().downcast_ref::<CacheOf<B>>() {
            Some(c) => Ok(&*c.0),
            None => Err(Error::invalid("jit", "a program cache of another backend")),
        }
    }

    /// `f` on the placeholders of a trace: its results, which must be
    /// tensors of the same backend (placeholders or constants).
    fn traced<B: Capabilities + Native + Into<EagerTensor>>(
        &self,
        placeholders: Vec<B>,
    ) -> Result<Vec<B>> {
        let sym: Vec<EagerTensor> = placeholders.into_iter().map(Into::into).collect();
        self.f
            .run(&sym)?
            .into_iter()
            .map(|o| {
                if o.backend() == B::BACKEND && !o.is_traced() {
                    B::from_eager(o)
                } else {
                    Err(Error::invalid(
                        "jit",
                        format!(
                            "the function returned a {} tensor{}; a jitted function on {} \
                             returns {} tensors",
                            o.backend(),
                            if o.is_traced() {
                                " being differentiated"
                            } else {
                                ""
                            },
                            B::BACKEND,
                            B::BACKEND,
                        ),
                    ))
                }
            })
            .collect()
    }
}

/// The same checks on every backend, so that a misuse is the same error
/// whether or not the function is compiled: donated inputs exist and are
/// offered once, and the function returns at least one tensor.
fn check_donate(donate: &[usize], inputs: usize) -> Result<()> {
    for (k, &i) in donate.iter().enumerate() {
        if donate[..k].contains(&i) {
            return Err(Error::invalid(
                "jit",
                format!("input {i} is offered for donation twice"),
            ));
        }
        if i >= inputs {
            return Err(Error::invalid(
                "jit",
                format!("donated input {i} does not exist (the function has {inputs} inputs)"),
            ));
        }
    }
    Ok(())
}

/// The function's results, or the error for none.
fn some_outputs(outs: Vec<EagerTensor>) -> Result<Vec<EagerTensor>> {
    if outs.is_empty() {
        return Err(Error::invalid(
            "jit",
            "the function returned no tensors (a jitted function returns at least one)",
        ));
    }
    Ok(outs)
}

/// How [`Jit::call`] runs `f` for its inputs.
enum Route {
    /// One compiled program of this backend's compiler (plain inputs of
    /// a backend with a [`Compiler`]).
    Compile(Backend),
    /// `f` itself: inputs of a backend without compilation, or
    /// placeholders of an enclosing `jit` trace (whose program `f`'s ops
    /// join, as a nested `jax.jit` is inlined).
    RunAsIs,
}

/// The route for `inputs`, or the error for inputs `jit` does not take: no
/// inputs, inputs of several backends, and xla inputs being differentiated
/// outside a trace (`value_and_grad(jit(f))`).
fn route<'a>(inputs: impl Iterator<Item = &'a EagerTensor>) -> Result<Route> {
    let op = "jit";
    let mut first: Option<&EagerTensor> = None;
    let (mut any_in_jit, mut any_traced) = (false, false);
    for t in inputs {
        match first {
            None => first = Some(t),
            Some(f) if f.backend() != t.backend() => {
                return Err(crate::tensor::mismatch(op, &[f, t]))
            }
            _ => {}
        }
        any_in_jit |= t.in_jit();
        any_traced |= t.is_traced();
    }
    let Some(first) = first else {
        return Err(Error::invalid(
            op,
            "needs at least one input: the inputs' backend decides whether the \
             function is compiled (xla) or runs as it is",
        ));
    };
    let backend = first.backend();
    let compiles = with_backend!(op, backend, |B| Ok(B::compiler().is_some()))?;
    if compiles && !any_in_jit {
        if any_traced {
            return Err(Error::invalid(
                op,
                format!(
                    "cannot differentiate through a compiled function on {backend} \
                     (value_and_grad(jit(f))): put the differentiation inside, \
                     jit(|xs| value_and_grads(f, xs)), which compiles the forward and \
                     backward passes into one program"
                ),
            ));
        }
        return Ok(Route::Compile(backend));
    }
    Ok(Route::RunAsIs)
}

/// The error for `op` reading `t`'s value on the host while `t` is a
/// placeholder of a `jit` trace (it has no value yet); `Ok` otherwise.
/// Called by the facade's host reads so the error names the op the user
/// called (`item`, `item_scalar`, boolean-mask `index`), not the backend
/// primitive under it.
pub(crate) fn no_host_read(op: &'static str, t: &EagerTensor) -> Result<()> {
    let plain = match t {
        EagerTensor::Traced(traced) => traced.value(),
        plain => plain,
    };
    match plain.dyn_no_value(op) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

//! What a backend can do beyond the op contract, asked for by the facade
//! through [`Capabilities`] rather than by naming a backend.
//!
//! Every backend crate implements [`Capabilities`] for its tensor type.
//! A capability a framework lacks keeps the trait's default (`None`,
//! `false`), and the facade falls back to its own machinery: the autodiff
//! tape where there is no [`NativeAutograd`], running a function as it is
//! where there is no [`Compiler`].

use crate::{BackendTensor, DType, Error, Result};
use std::cell::Cell;
use std::thread::LocalKey;

/// The capabilities of a backend's tensor type `Self`.
pub trait Capabilities: BackendTensor {
    /// Whether [`TensorBase::adopt_host`](crate::TensorBase::adopt_host) takes 64-byte-aligned host
    /// memory without a copy, so that file readers read into such memory
    /// (torch, TensorFlow, xla) rather than into a plain vector the backend
    /// keeps as it is (ndarray, Candle).
    const ADOPTS_ALIGNED_HOST: bool = false;

    /// Seeds this backend's own random generator, and only it.
    fn seed(seed: u64);

    /// Applies the thread count `n` (already recorded with
    /// [`threads::request`](crate::threads::request)) to this backend's
    /// framework: at once where it can change (libtorch), else at its
    /// start-up, which then must not have happened yet with another count
    /// (an `invalid` error naming `op` if it has). Nothing to do for a
    /// backend that computes on the calling thread (ndarray).
    fn set_num_threads(op: &'static str, n: usize) -> crate::Result<()> {
        let _ = (op, n);
        Ok(())
    }

    /// The framework's own reverse-mode autograd, if it has one that the
    /// facade's `value_and_grad` should use (torch, Candle).
    fn autograd() -> Option<&'static dyn NativeAutograd<Self>> {
        None
    }

    /// The framework's compiler, if `jit` compiles functions of its
    /// tensors into one program (xla).
    fn compiler() -> Option<&'static dyn Compiler<Self>> {
        None
    }
}

/// A framework's own reverse-mode autograd, driven by the facade's
/// `value_and_grad` for inputs of one backend.
///
/// The facade calls [`begin`](Self::begin), runs the user's function on
/// the [`leaves`](AutogradTrace::leaves) (as tape leaves too, where
/// [`with_tape`](AutogradTrace::with_tape) says so), calls
/// [`end_function`](AutogradTrace::end_function), checks the loss, and
/// asks for the [`gradients`](AutogradTrace::gradients).
pub trait NativeAutograd<T>: Sync {
    /// Whether `t` is tracked by the framework's autograd graph outside
    /// any trace of ours (a torch tensor with `requires_grad`), which
    /// `value_and_grad` and `to_backend` refuse.
    fn tracks(&self, t: &T) -> bool;
    /// `t` cut from the framework's graph, or `None` where that fails (the
    /// tensor is then used as it is).
    fn detach(&self, t: &T) -> Option<T>;
    /// Whether a trace of `inputs` runs natively: this thread is not inside
    /// another native trace of this backend (a nested call uses the tape,
    /// so that the framework's graph keeps the outer dependency) and the
    /// dtypes are ones the framework's autograd handles as the tape does.
    fn applies(&self, inputs: &[&T]) -> bool;
    /// Starts a trace over `inputs` (errors naming `op`).
    fn begin(&self, op: &'static str, inputs: &[&T]) -> Result<Box<dyn AutogradTrace<T>>>;
}

/// One trace of a [`NativeAutograd`]: from the leaves to the gradients.
pub trait AutogradTrace<T> {
    /// The tensors the function runs on, one per input.
    fn leaves(&self) -> Vec<T>;
    /// Whether the facade's tape records the function too, as the fallback
    /// for [`gradients`](Self::gradients) returning `None`.
    fn with_tape(&self) -> bool;
    /// Called once the function has returned: the thread leaves this trace.
    fn end_function(&mut self);
    /// The gradient of the scalar `loss` with respect to each leaf (`None`
    /// for a leaf the loss does not depend on: the facade gives zeros), or
    /// `Ok(None)` when the framework's graph does not cover the function
    /// and the tape's gradients are to be used.
    #[allow(clippy::type_complexity)]
    fn gradients(self: Box<Self>, loss: &T) -> Result<Option<Vec<Option<T>>>>;
}

/// How many compiled programs a jitted function keeps by default.
pub const DEFAULT_PROGRAMS: usize = 64;

/// The key of a compiled program: each input's dtype and shape.
pub type Signature = Vec<(DType, Vec<usize>)>;

/// A framework that compiles a traced function into one program (xla).
pub trait Compiler<T>: Sync {
    /// A cache of compiled programs for one jitted function, keeping at
    /// most `capacity` of them (the least recently used goes first).
    fn cache(&self, capacity: usize) -> Box<dyn ProgramCache<T>>;
    /// Whether `t` is a placeholder of a function being compiled: it has
    /// no value yet.
    fn is_placeholder(&self, t: &T) -> bool;
    /// The error for `op` reading a placeholder's value on the host.
    fn no_value(&self, op: &'static str) -> Error;
}

/// The function a [`ProgramCache`] traces: placeholders in, results out.
pub type TraceFn<'a, T> = dyn FnMut(Vec<T>) -> Result<Vec<T>> + 'a;

/// The compiled programs of one jitted function, one per [`Signature`].
pub trait ProgramCache<T>: Send + Sync {
    /// How many programs are kept.
    fn len(&self) -> usize;
    /// Whether none is.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Runs the program for `inputs`' signature; on its first use, `trace`
    /// runs on placeholders of the inputs and its results become the
    /// program, whose results alias the inputs at `donate` where their
    /// dtype and shape allow.
    fn call(&self, inputs: &[&T], donate: &[usize], trace: &mut TraceFn<'_, T>) -> Result<Vec<T>>;
    /// [`call`](Self::call) taking the inputs, so that the donated ones
    /// give their buffers to the results where nothing else holds them.
    fn call_donating(
        &self,
        inputs: Vec<T>,
        donate: &[usize],
        trace: &mut TraceFn<'_, T>,
    ) -> Result<Vec<T>>;
}

/// One level deeper, while alive, in a thread's count of the native traces
/// it is inside (a [`NativeAutograd`] keeps such a count to send nested
/// traces to the tape).
///
/// ```
/// use eager_core::capability::Nested;
/// use std::cell::Cell;
/// thread_local!(static DEPTH: Cell<usize> = const { Cell::new(0) });
/// {
///     let _inside = Nested::enter(&DEPTH);
///     assert_eq!(DEPTH.with(Cell::get), 1);
/// }
/// assert_eq!(DEPTH.with(Cell::get), 0);
/// ```
pub struct Nested(&'static LocalKey<Cell<usize>>);

impl Nested {
    /// Counts one more level in `depth` until the guard drops.
    pub fn enter(depth: &'static LocalKey<Cell<usize>>) -> Nested {
        depth.with(|d| d.set(d.get() + 1));
        Nested(depth)
    }
}

impl Drop for Nested {
    fn drop(&mut self) {
        self.0.with(|d| d.set(d.get() - 1));
    }
}

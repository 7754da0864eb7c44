//! `jit`: a whole function as one StableHLO program, compiled once per
//! input signature — JAX's `jax.jit` for this backend.
//!
//! A [`Trace`] makes symbolic [`XlaTensor`]s for the inputs; every op on
//! them runs the op's usual lowering (the `build` closure every op already
//! hands to `exec`) into the trace's one program instead of compiling and
//! running a program of its own. [`Trace::finish`] compiles the program;
//! [`Program::run`] runs it on buffers. The facade's `ep::jit` keeps one
//! program per input signature, so later calls are one launch.
//!
//! Tensors the function uses that are not its inputs (captured from outside,
//! or made inside from host values: `full`, scalars of binary ops,
//! `from_vec`) become extra parameters whose buffers the compiled program
//! keeps: constants, frozen at the first trace, as closed-over arrays are in
//! `jax.jit`. A value that must come to the host while tracing (`item`,
//! `to_vec`, `nonzero`'s count, a random draw) is an error naming the op, as
//! JAX's tracers raise: it does not exist yet. `inv` reads no flag inside a
//! trace: a singular matrix gives inf/NaN, as `jnp.linalg.inv` does.

use super::{et, fw, rt, Meta, Out, Prog, Val, XlaTensor};
use crate::pjrt::Buffer;
use crate::Compiled;
use eager_core::capability::TraceFn;
use eager_core::{Backend, Capabilities, Compiler, DType, Error, ProgramCache, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The state of one trace, shared by its symbolic tensors.
pub struct TraceInner {
    state: Mutex<State>,
}

struct State {
    prog: Prog,
    /// The function's inputs, the first parameters.
    inputs: Vec<(DType, Vec<usize>)>,
    /// Buffers captured as parameters after the inputs, in order.
    captured: Vec<Arc<Buffer>>,
    /// Parameter name of each captured buffer (by address), so a buffer
    /// used twice is one parameter.
    names: HashMap<usize, String>,
    /// Set once the first op is emitted: inputs must come before.
    started: bool,
}

impl State {
    fn capture(&mut self, b: &Arc<Buffer>, d: DType, shape: &[usize]) -> String {
        let key = Arc::as_ptr(b) as usize;
        if let Some(n) = self.names.get(&key) {
            return n.clone();
        }
        let n = self.prog.arg(d, shape);
        self.captured.push(b.clone());
        self.names.insert(key, n.clone());
        n
    }
}

impl TraceInner {
    fn lock(&self, op: &'static str) -> Result<MutexGuard<'_, State>> {
        self.state.lock().map_err(|_| Error::Framework {
            op,
            backend: Backend::Xla,
            msg: "a jit trace was poisoned by a panic".into(),
        })
    }
}

/// The error for `op` needing a value on the host inside a trace; the
/// facade returns it too, before reaching the backend, so its host reads
/// (`item`, boolean-mask `index`, ...) name the op the user called.
pub fn not_inside(op: &'static str) -> Error {
    Error::invalid(
        op,
        "needs a value that does not exist yet inside jit (the function is being \
         traced into one program): return it from the jitted function and read it \
         afterwards, or call this outside jit",
    )
}

/// Emits an op's lowering into the trace's program (called by `exec` when an
/// input is symbolic).
pub(super) fn emit(
    trace: &Arc<TraceInner>,
    op: &'static str,
    inputs: &[&XlaTensor],
    build: impl Fn(&mut Prog, &[String]) -> Result<Vec<Out>>,
) -> Result<Vec<XlaTensor>> {
    let mut st = trace.lock(op)?;
    st.started = true;
    let mut names = Vec::with_capacity(inputs.len());
    for t in inputs {
        names.push(match &t.val {
            Val::Sym(tr, n) if Arc::ptr_eq(tr, trace) => n.clone(),
            Val::Sym(..) => {
                return Err(Error::invalid(
                    op,
                    "mixes values of two different jit traces",
                ))
            }
            Val::Buf(b) => st.capture(b, t.dtype, &t.shape),
        });
    }
    let outs = build(&mut st.prog, &names)?;
    Ok(outs
        .into_iter()
        .map(|(n, d, s)| XlaTensor {
            val: Val::Sym(trace.clone(), n),
            dtype: d,
            shape: s.into(),
            _exe: None,
        })
        .collect())
}

/// A function being traced into one program.
pub struct Trace(Arc<TraceInner>);

impl Default for Trace {
    fn default() -> Self {
        Self::new()
    }
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Trace {
        Trace(Arc::new(TraceInner {
            state: Mutex::new(State {
                prog: Prog::new(),
                inputs: Vec::new(),
                captured: Vec::new(),
                names: HashMap::new(),
                started: false,
            }),
        }))
    }

    /// The next input of the function: a symbolic tensor of `dtype` and
    /// `shape`. Every input is declared before the first op.
    pub fn input(&self, dtype: DType, shape: &[usize]) -> Result<XlaTensor> {
        let mut st = self.0.lock("jit")?;
        if st.started || !st.captured.is_empty() {
            return Err(Error::invalid(
                "jit",
                "inputs are declared before the traced function runs",
            ));
        }
        let n = st.prog.arg(dtype, shape);
        st.inputs.push((dtype, shape.to_vec()));
        Ok(XlaTensor {
            val: Val::Sym(self.0.clone(), n),
            dtype,
            shape: shape.into(),
            _exe: None,
        })
    }

    /// Compiles the traced program with `outputs` as its results (values of
    /// this trace, its inputs, or tensors from outside, which are returned
    /// as the constants they are).
    pub fn finish(self, outputs: &[XlaTensor]) -> Result<Program> {
        self.finish_donating(outputs, &[])
    }

    /// [`finish`](Self::finish), with the inputs at `donate` offered for
    /// donation: each aliases the first result of its dtype and shape not
    /// taken yet (an input without one is not donated), so
    /// [`Program::run_donating`] can reuse its buffer for that result — the
    /// `params ← params − lr·grad` step updates in place.
    pub fn finish_donating(self, outputs: &[XlaTensor], donate: &[usize]) -> Result<Program> {
        let op = "jit";
        if outputs.is_empty() {
            return Err(Error::invalid(
                op,
                "the function returned no tensors (a jitted function returns at least one)",
            ));
        }
        let mut st = self.0.lock(op)?;
        let mut aliased = Vec::new();
        let mut taken = vec![false; outputs.len()];
        for (k, &i) in donate.iter().enumerate() {
            if donate[..k].contains(&i) {
                return Err(Error::invalid(
                    op,
                    format!("input {i} is offered for donation twice"),
                ));
            }
            let Some((d, s)) = st.inputs.get(i).cloned() else {
                return Err(Error::invalid(
                    op,
                    format!("donated input {i} does not exist"),
                ));
            };
            if let Some(k) = (0..outputs.len())
                .find(|&k| !taken[k] && outputs[k].dtype == d && outputs[k].shape[..] == s[..])
            {
                taken[k] = true;
                st.prog.alias(i, k);
                aliased.push(i as i64);
            }
        }
        let mut outs: Vec<Out> = Vec::with_capacity(outputs.len());
        for t in outputs {
            let name = match &t.val {
                Val::Sym(tr, n) if Arc::ptr_eq(tr, &self.0) => n.clone(),
                Val::Sym(..) => {
                    return Err(Error::invalid(op, "returns a value of another jit trace"))
                }
                Val::Buf(b) => st.capture(b, t.dtype, &t.shape),
            };
            outs.push((name, t.dtype, t.shape.to_vec()));
        }
        let text = st.prog.text(&outs);
        let text_for_program = text.clone();
        let client = rt(op)?;
        let exe = crate::disk::compile(&client, &text).map_err(fw(op))?;
        let meta = Meta {
            pjrt_outs: outs
                .iter()
                .map(|(_, d, s)| (et(*d), s.iter().map(|&x| x as i64).collect()))
                .collect(),
            outs: outs.into_iter().map(|(_, d, s)| (d, s)).collect(),
            #[cfg(debug_assertions)]
            text,
        };
        Ok(Program {
            aliased,
            text: text_for_program,
            exe: Arc::new(Compiled { exe, meta }),
            inputs: std::mem::take(&mut st.inputs),
            captured: std::mem::take(&mut st.captured),
        })
    }
}

/// An input signature of a jitted function: each input's dtype and shape.
pub use eager_core::capability::Signature;

/// How many programs [`Programs::new`] keeps by default: one jitted
/// function called with more input signatures than this recompiles (or
/// loads from the disk cache) the least recently used ones when they come
/// back. About 300 KiB each for a small MLP step.
pub const DEFAULT_JIT_PROGRAMS: usize = eager_core::capability::DEFAULT_PROGRAMS;

/// The programs of one jitted function, one per input signature, bounded:
/// beyond its capacity the least recently used program is dropped. They
/// are freed with it (a program whose results are still alive is freed
/// with the last of them).
pub struct Programs {
    /// Grown as programs come (`LruCache::new` would reserve room for the
    /// whole capacity up front: `usize::MAX` overflowed); the bound is
    /// kept on insertion.
    map: Mutex<lru::LruCache<Signature, Arc<Program>>>,
    capacity: usize,
}

impl Programs {
    /// An empty set that keeps at most `capacity` programs (at least 1).
    pub fn new(capacity: usize) -> Programs {
        Programs {
            map: Mutex::new(lru::LruCache::unbounded()),
            capacity: capacity.max(1),
        }
    }
    fn lock(&self) -> Result<MutexGuard<'_, lru::LruCache<Signature, Arc<Program>>>> {
        self.map
            .lock()
            .map_err(|_| Error::invalid("jit", "the program cache was poisoned by a panic"))
    }
    /// The program of `sig`, made by `make` (tracing and compiling, with no
    /// lock held) when it is not kept.
    pub fn get_or_make(
        &self,
        sig: &Signature,
        make: impl FnOnce() -> Result<Program>,
    ) -> Result<Arc<Program>> {
        if let Some(p) = self.lock()?.get(sig) {
            return Ok(p.clone());
        }
        let p = Arc::new(make()?);
        let mut map = self.lock()?;
        map.put(sig.clone(), p.clone());
        while map.len() > self.capacity {
            map.pop_lru();
        }
        Ok(p)
    }
    /// How many programs are kept.
    pub fn len(&self) -> usize {
        self.lock().map(|m| m.len()).unwrap_or(0)
    }
    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The most programs kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl Default for Programs {
    fn default() -> Self {
        Programs::new(DEFAULT_JIT_PROGRAMS)
    }
}

impl Programs {
    /// The program for `inputs`' signature, traced from `f` and compiled
    /// on its first use.
    fn program(
        &self,
        inputs: &[&XlaTensor],
        donate: &[usize],
        f: &mut TraceFn<'_, XlaTensor>,
    ) -> Result<Arc<Program>> {
        let sig: Signature = inputs.iter().map(|x| (x.dtype, x.shape.to_vec())).collect();
        self.get_or_make(&sig, || {
            let trace = Trace::new();
            let placeholders = sig
                .iter()
                .map(|(d, s)| trace.input(*d, s))
                .collect::<Result<Vec<_>>>()?;
            let outs = f(placeholders)?;
            trace.finish_donating(&outs, donate)
        })
    }
}

impl ProgramCache<XlaTensor> for Programs {
    fn len(&self) -> usize {
        Programs::len(self)
    }
    fn call(
        &self,
        inputs: &[&XlaTensor],
        donate: &[usize],
        f: &mut TraceFn<'_, XlaTensor>,
    ) -> Result<Vec<XlaTensor>> {
        self.program(inputs, donate, f)?.run(inputs)
    }
    fn call_donating(
        &self,
        inputs: Vec<XlaTensor>,
        donate: &[usize],
        f: &mut TraceFn<'_, XlaTensor>,
    ) -> Result<Vec<XlaTensor>> {
        let program = {
            let refs: Vec<&XlaTensor> = inputs.iter().collect();
            self.program(&refs, donate, f)?
        };
        program.run_donating(inputs)
    }
}

/// `jit` as the backend's [`Compiler`]: [`Programs`] of [`Trace`]s.
pub(crate) struct Jit;

impl Compiler<XlaTensor> for Jit {
    fn cache(&self, capacity: usize) -> Box<dyn ProgramCache<XlaTensor>> {
        Box::new(Programs::new(capacity))
    }
    fn is_placeholder(&self, t: &XlaTensor) -> bool {
        t.is_traced_by_jit()
    }
    fn no_value(&self, op: &'static str) -> Error {
        not_inside(op)
    }
}

impl Capabilities for XlaTensor {
    /// PJRT adopts 64-byte-aligned host memory without a copy.
    const ADOPTS_ALIGNED_HOST: bool = true;
    fn seed(seed: u64) {
        super::seed(seed);
    }
    fn set_num_threads(op: &'static str, n: usize) -> Result<()> {
        crate::set_num_threads(op, n)
    }
    fn compiler() -> Option<&'static dyn Compiler<XlaTensor>> {
        Some(&Jit)
    }
}

/// A traced function compiled into one executable.
pub struct Program {
    /// Inputs whose buffers may be donated (aliased to a result).
    aliased: Vec<i64>,
    text: String,
    exe: Arc<Compiled<Meta>>,
    inputs: Vec<(DType, Vec<usize>)>,
    captured: Vec<Arc<Buffer>>,
}

impl Program {
    /// Runs the program: one launch for the whole function. The inputs must
    /// have the dtypes and shapes it was traced with.
    pub fn run(&self, inputs: &[&XlaTensor]) -> Result<Vec<XlaTensor>> {
        // Borrowed inputs are never donated: their buffers stay valid.
        self.run_with(inputs, &self.aliased)
    }

    /// Runs the program taking the inputs: an aliased input whose buffer
    /// nothing else holds is donated (the result reuses its memory); one
    /// shared with another tensor is copied by PJRT instead, so no tensor
    /// is ever left with a donated buffer. Nor is memory another framework
    /// reads ever written: a buffer that is lent (`lend_host`) or adopted
    /// from foreign memory (`adopt_host`) is copied too
    /// ([`Buffer::is_donatable`]).
    pub fn run_donating(&self, inputs: Vec<XlaTensor>) -> Result<Vec<XlaTensor>> {
        let keep: Vec<i64> = self
            .aliased
            .iter()
            .copied()
            .filter(|&i| match inputs.get(i as usize).map(|t| &t.val) {
                Some(Val::Buf(b)) => Arc::strong_count(b) > 1,
                _ => true,
            })
            .collect();
        let refs: Vec<&XlaTensor> = inputs.iter().collect();
        self.run_with(&refs, &keep)
    }

    fn run_with(&self, inputs: &[&XlaTensor], non_donatable: &[i64]) -> Result<Vec<XlaTensor>> {
        let op = "jit";
        if inputs.len() != self.inputs.len()
            || inputs
                .iter()
                .zip(&self.inputs)
                .any(|(t, (d, s))| t.dtype != *d || t.shape[..] != s[..])
        {
            return Err(Error::invalid(
                op,
                "inputs differ from the signature the program was traced for",
            ));
        }
        let mut bufs: Vec<&Buffer> = Vec::with_capacity(inputs.len() + self.captured.len());
        for t in inputs {
            bufs.push(t.buffer()?.as_ref());
        }
        bufs.extend(self.captured.iter().map(|b| b.as_ref()));
        let out = self
            .exe
            .execute_donating(&bufs, &self.exe.meta.pjrt_outs, non_donatable)
            .map_err(fw(op))?;
        Ok(out
            .into_iter()
            .zip(&self.exe.meta.outs)
            .map(|(buf, (d, s))| XlaTensor {
                val: Val::Buf(Arc::new(buf)),
                dtype: *d,
                shape: s.as_slice().into(),
                _exe: Some(self.exe.clone()),
            })
            .collect())
    }
    /// The StableHLO text of the program (its inputs first, then the
    /// captured constants).
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The captured constants' buffers, in parameter order after the inputs.
    pub fn captured(&self) -> &[Arc<Buffer>] {
        &self.captured
    }
    /// Each result's element type and dims, as [`Executable::execute`](crate::pjrt::Executable::execute) takes them.
    pub fn output_types(&self) -> &[(crate::pjrt::ElementType, Vec<i64>)] {
        &self.exe.meta.pjrt_outs
    }
    /// The inputs that alias a result (donatable), by position.
    pub fn aliased(&self) -> Vec<usize> {
        self.aliased.iter().map(|&i| i as usize).collect()
    }
    /// How many tensors the program captured as constants.
    pub fn captured_len(&self) -> usize {
        self.captured.len()
    }
}

//! The per-op programs of the eager path: each op's lowering compiled once
//! per (op, attributes, dtypes, shapes) key and kept in a bounded cache
//! (with a per-thread list of the most recent), then run on the inputs'
//! buffers.

use super::*;

/// What a program depends on besides its text: the op's name (its length,
/// then its bytes packed 8 to a word), its attributes (length-prefixed) and
/// each input's dtype and shape. A flat vector, so that a hit looks the
/// key up as a borrowed slice built in a reused per-thread buffer, and an
/// owned key is made only on a miss.
pub(super) type Key = Vec<i64>;

/// How many of the programs it ran last each thread remembers (see
/// [`Local`]).
pub(super) const RECENT: usize = 8;

/// What each thread keeps between ops: the buffer [`run`] builds each key
/// in, and the last [`RECENT`] programs it ran, looked through before the
/// shared cache, so that the ops of a loop take no lock and no hash. Each
/// thread keeps those few executables alive even after the shared cache
/// evicted them.
#[derive(Default)]
pub(super) struct Local {
    key: Vec<i64>,
    recent: Vec<(Key, Arc<Compiled<Meta>>)>,
}

thread_local! {
    /// This thread's [`Local`] (taken out while in use, so a nested use
    /// gets a fresh one instead of a borrow error).
    static LOCAL: RefCell<Local> = RefCell::new(Local::default());
}

/// Writes the cache key of (`op`, `attrs`, `inputs`) into `v` (cleared
/// first).
pub(super) fn build_key(v: &mut Vec<i64>, op: &str, attrs: &[i64], inputs: &[&XlaTensor]) {
    v.clear();
    v.push(op.len() as i64);
    v.extend(op.as_bytes().chunks(8).map(|c| {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        i64::from_le_bytes(w)
    }));
    v.push(attrs.len() as i64);
    v.extend_from_slice(attrs);
    for t in inputs {
        v.push(t.dtype as i64);
        v.push(t.shape.len() as i64);
        v.extend(t.shape.iter().map(|&n| n as i64));
    }
}

/// Kept with each executable: its results' types, so a hit needs no text.
pub(super) struct Meta {
    pub(super) outs: Vec<(DType, Vec<usize>)>,
    pub(super) pjrt_outs: Vec<(ElementType, Vec<i64>)>,
    #[cfg(debug_assertions)]
    pub(super) text: String,
}

pub(super) fn cache() -> &'static ExecutableCache<Key, Meta> {
    static CACHE: OnceLock<ExecutableCache<Key, Meta>> = OnceLock::new();
    CACHE.get_or_init(|| {
        let n = std::env::var(crate::CACHE_CAPACITY_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(crate::DEFAULT_CACHE_CAPACITY);
        ExecutableCache::with_capacity(n)
    })
}

/// The most compiled programs the backend keeps (least recently used out
/// first): [`DEFAULT_CACHE_CAPACITY`](crate::DEFAULT_CACHE_CAPACITY) unless
/// `EAGER_TENSOR_XLA_CACHE` or [`set_cache_capacity`] says otherwise.
pub fn cache_capacity() -> usize {
    cache().capacity()
}

/// Sets how many compiled programs the backend keeps (at least 1), dropping
/// the least recently used beyond it; returns the previous capacity. A
/// smaller cache bounds memory when shapes keep changing, at the price of
/// compiling again (a few ms a program) when an evicted one comes back.
/// Besides, each thread that runs ops keeps the 8 programs it ran last
/// (looked up there first, without a lock), evicted or not.
pub fn set_cache_capacity(capacity: usize) -> usize {
    cache().set_capacity(capacity)
}

/// How many compiled programs the backend keeps now.
pub fn cache_len() -> usize {
    cache().len()
}

/// Runs the program for (`op`, `attrs`, the inputs' dtypes and shapes),
/// compiling it on first use. `build` gets the argument names (one per
/// input) and emits the body; it must depend on nothing but the key.
pub(super) fn exec(
    op: &'static str,
    attrs: &[i64],
    inputs: &[&XlaTensor],
    build: impl Fn(&mut Prog, &[String]) -> Result<Vec<Out>>,
) -> Result<Vec<XlaTensor>> {
    Ok(match run(op, attrs, inputs, build)? {
        Ran::Traced(ts) => ts,
        Ran::Run(bufs, exe) => bufs
            .into_iter()
            .zip(&exe.meta.outs)
            .map(|(buf, (d, s))| result(buf, *d, Shape::from_slice(s), exe.clone()))
            .collect(),
    })
}

/// What [`run`] gives back: a jit trace's symbolic results, or the
/// executed program's buffers (in the order of `exe.meta.outs`).
pub(super) enum Ran {
    Traced(Vec<XlaTensor>),
    Run(Vec<Buffer>, Arc<Compiled<Meta>>),
}

/// An executed program's result tensor; it keeps `exe` alive.
pub(super) fn result(
    buf: Buffer,
    dtype: DType,
    shape: Shape,
    exe: Arc<Compiled<Meta>>,
) -> XlaTensor {
    XlaTensor {
        val: Val::Buf(Arc::new(buf)),
        dtype,
        shape,
        _exe: Some(exe),
    }
}

/// [`exec`] up to the results: looks up (or compiles) and runs the program.
pub(super) fn run(
    op: &'static str,
    attrs: &[i64],
    inputs: &[&XlaTensor],
    build: impl Fn(&mut Prog, &[String]) -> Result<Vec<Out>>,
) -> Result<Ran> {
    if let Some(trace) = inputs.iter().find_map(|t| match &t.val {
        Val::Sym(tr, _) => Some(tr.clone()),
        Val::Buf(_) => None,
    }) {
        // Inside a jit trace: the same lowering, emitted into the traced
        // program instead of compiled on its own.
        return jit::emit(&trace, op, inputs, build).map(Ran::Traced);
    }
    let mut local = LOCAL
        .try_with(|l| l.try_borrow_mut().map(|mut l| std::mem::take(&mut *l)))
        .ok()
        .and_then(|l| l.ok())
        .unwrap_or_default();
    build_key(&mut local.key, op, attrs, inputs);
    let key = local.key.as_slice();
    let program = || -> Result<(String, Meta)> {
        let mut p = Prog::new();
        let args: Vec<String> = inputs.iter().map(|t| p.arg(t.dtype, &t.shape)).collect();
        let outs = build(&mut p, &args)?;
        let text = p.text(&outs);
        let pjrt_outs = outs
            .iter()
            .map(|(_, d, s)| (et(*d), s.iter().map(|&x| x as i64).collect()))
            .collect();
        Ok((
            text.clone(),
            Meta {
                outs: outs.into_iter().map(|(_, d, s)| (d, s)).collect(),
                pjrt_outs,
                #[cfg(debug_assertions)]
                text,
            },
        ))
    };
    // A hit (here or in the shared cache) needs neither the client nor the
    // program.
    let exe = match local.recent.iter().rev().find(|(k, _)| k.as_slice() == key) {
        Some((_, exe)) => Ok(exe.clone()),
        None => {
            let exe = cache().get_or_compile(|| rt(op), key, program, fw(op));
            if let Ok(exe) = &exe {
                if local.recent.len() == RECENT {
                    local.recent.remove(0);
                }
                local.recent.push((key.to_vec(), exe.clone()));
            }
            exe
        }
    };
    // The buffers go back for the next op (keeping their capacity).
    let _ = LOCAL.try_with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            *l = local;
        }
    });
    let exe: Arc<Compiled<Meta>> = exe?;
    #[cfg(debug_assertions)]
    {
        if program()?.0 != exe.meta.text {
            return Err(Error::Framework {
                op,
                backend: Backend::Xla,
                msg: "internal: the executable cache key misses an attribute".into(),
            });
        }
    }
    // One to three inputs (nearly every op) need no vector of buffers.
    let outs = &exe.meta.pjrt_outs;
    let out = match inputs {
        [a] => exe.execute(&[&**a.buffer()?], outs),
        [a, b] => exe.execute(&[&**a.buffer()?, &**b.buffer()?], outs),
        [a, b, c] => exe.execute(&[&**a.buffer()?, &**b.buffer()?, &**c.buffer()?], outs),
        _ => {
            let bufs = inputs
                .iter()
                .map(|t| t.buffer().map(|b| b.as_ref()))
                .collect::<Result<Vec<&Buffer>>>()?;
            exe.execute(&bufs, outs)
        }
    }
    .map_err(fw(op))?;
    Ok(Ran::Run(out, exe))
}

/// [`exec`] for a program with one result (no list of result tensors on
/// the path every element-wise op takes).
pub(super) fn exec1(
    op: &'static str,
    attrs: &[i64],
    inputs: &[&XlaTensor],
    build: impl Fn(&mut Prog, &[String]) -> Result<Out>,
) -> Result<XlaTensor> {
    let none = || Error::Framework {
        op,
        backend: Backend::Xla,
        msg: "no result".into(),
    };
    match run(op, attrs, inputs, |p, a| Ok(vec![build(p, a)?]))? {
        Ran::Traced(mut ts) => ts.pop().ok_or_else(none),
        Ran::Run(bufs, exe) => {
            let buf = bufs.into_iter().next().ok_or_else(none)?;
            let (d, s) = exe.meta.outs.first().ok_or_else(none)?;
            let (d, s) = (*d, Shape::from_slice(s));
            Ok(result(buf, d, s, exe))
        }
    }
}

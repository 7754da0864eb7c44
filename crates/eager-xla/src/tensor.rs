//! `BackendTensor` for XLA: each op is a small StableHLO program, compiled
//! once per (op, attributes, shapes, dtypes) and executed on device buffers
//! that stay on the device. The cache key is that compact tuple; the program
//! text is built only on a miss (debug builds rebuild it on every hit and
//! check it is the same program, so a key that misses an attribute fails the
//! tests instead of running the wrong program).

use crate::pjrt::{Buffer, Client, ElementType, PjrtError};
use crate::{client, hlo, Compiled, ExecutableCache};
use eager_core::shape::SliceRange;
use eager_core::{
    ArgReduceOp, Backend, BackendTensor, BinaryOp, DType, Distribution, Error, HostData, ReduceOp,
    Result, Scalar, UnaryOp,
};
use std::sync::{Arc, OnceLock};

pub mod jit;
mod linalg;
mod random;

pub use random::seed;

/// The native tensor of the XLA backend: a device buffer of the backend's
/// PJRT client, with its dtype and shape; shared on clone. Inside a
/// [`jit`] trace it is a value of the program being traced instead.
#[derive(Clone)]
pub struct XlaTensor {
    val: Val,
    dtype: DType,
    shape: Vec<usize>,
    /// The executable that computed `buf` (none for uploads): kept alive as
    /// long as its result, so evicting it from the bounded cache never
    /// frees a program whose result may still be computing. Declared after
    /// `buf`, so the buffer (whose drop waits for the computation) goes
    /// first.
    _exe: Option<Arc<Compiled<Meta>>>,
}

impl std::fmt::Debug for XlaTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "XlaTensor({}, {:?})", self.dtype, self.shape)
    }
}

/// What an [`XlaTensor`] holds: a device buffer, or a value (SSA name) of
/// a program being traced by [`jit`].
#[derive(Clone)]
enum Val {
    Buf(Arc<Buffer>),
    Sym(Arc<jit::TraceInner>, String),
}

impl XlaTensor {
    /// The device buffer; an error for a value inside a [`jit`] trace,
    /// which has none until the program runs.
    pub fn buffer(&self) -> Result<&Arc<Buffer>> {
        match &self.val {
            Val::Buf(b) => Ok(b),
            Val::Sym(..) => Err(jit::not_inside("buffer")),
        }
    }
    /// Whether this is a value of a program being traced by [`jit`].
    pub fn is_traced_by_jit(&self) -> bool {
        matches!(self.val, Val::Sym(..))
    }
    /// The host copy, for `op` (an error naming `op` inside a [`jit`]
    /// trace).
    fn host(&self, op: &'static str) -> Result<HostData> {
        let b = self.host_value(op)?;
        fn chunks<const N: usize, T>(b: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
            b.chunks_exact(N)
                .map(|c| f(c.try_into().unwrap_or([0; N])))
                .collect()
        }
        use eager_core::{bf16, f16};
        Ok(match self.dtype {
            DType::Bool => HostData::Bool(b.iter().map(|&x| x != 0).collect()),
            DType::U8 => HostData::U8(b),
            DType::I8 => HostData::I8(chunks(&b, i8::from_ne_bytes)),
            DType::I16 => HostData::I16(chunks(&b, i16::from_ne_bytes)),
            DType::U16 => HostData::U16(chunks(&b, u16::from_ne_bytes)),
            DType::I32 => HostData::I32(chunks(&b, i32::from_ne_bytes)),
            DType::U32 => HostData::U32(chunks(&b, u32::from_ne_bytes)),
            DType::I64 => HostData::I64(chunks(&b, i64::from_ne_bytes)),
            DType::U64 => HostData::U64(chunks(&b, u64::from_ne_bytes)),
            DType::F16 => HostData::F16(chunks(&b, f16::from_ne_bytes)),
            DType::BF16 => HostData::BF16(chunks(&b, bf16::from_ne_bytes)),
            DType::F32 => HostData::F32(chunks(&b, f32::from_ne_bytes)),
            DType::F64 => HostData::F64(chunks(&b, f64::from_ne_bytes)),
        })
    }
    /// The host copy of the value, for `op`; inside a [`jit`] trace an
    /// error naming `op` (the value is not computed yet).
    fn host_value(&self, op: &'static str) -> Result<Vec<u8>> {
        match &self.val {
            Val::Buf(b) => b.to_host().map_err(fw(op)),
            Val::Sym(..) => Err(jit::not_inside(op)),
        }
    }
}

fn fw(op: &'static str) -> impl Fn(PjrtError) -> Error {
    move |e| Error::Framework {
        op,
        backend: Backend::Xla,
        msg: e.0,
    }
}

fn rt(op: &'static str) -> Result<Arc<Client>> {
    client().map_err(fw(op))
}

/// What a program depends on besides its text: the op, its attributes
/// (length-prefixed) and each input's dtype and shape.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    op: &'static str,
    v: Vec<i64>,
}

/// Kept with each executable: its results' types, so a hit needs no text.
struct Meta {
    outs: Vec<(DType, Vec<usize>)>,
    pjrt_outs: Vec<(ElementType, Vec<i64>)>,
    #[cfg(debug_assertions)]
    text: String,
}

fn cache() -> &'static ExecutableCache<Key, Meta> {
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
pub fn set_cache_capacity(capacity: usize) -> usize {
    cache().set_capacity(capacity)
}

/// How many compiled programs the backend keeps now.
pub fn cache_len() -> usize {
    cache().len()
}

/// A program result: SSA name, dtype, shape.
type Out = (String, DType, Vec<usize>);

/// Runs the program for (`op`, `attrs`, the inputs' dtypes and shapes),
/// compiling it on first use. `build` gets the argument names (one per
/// input) and emits the body; it must depend on nothing but the key.
fn exec(
    op: &'static str,
    attrs: &[i64],
    inputs: &[&XlaTensor],
    build: impl Fn(&mut Prog, &[String]) -> Result<Vec<Out>>,
) -> Result<Vec<XlaTensor>> {
    if let Some(trace) = inputs.iter().find_map(|t| match &t.val {
        Val::Sym(tr, _) => Some(tr.clone()),
        Val::Buf(_) => None,
    }) {
        // Inside a jit trace: the same lowering, emitted into the traced
        // program instead of compiled on its own.
        return jit::emit(&trace, op, inputs, build);
    }
    let c = rt(op)?;
    let mut v = Vec::with_capacity(1 + attrs.len() + 4 * inputs.len());
    v.push(attrs.len() as i64);
    v.extend_from_slice(attrs);
    for t in inputs {
        v.push(t.dtype as i64);
        v.push(t.shape.len() as i64);
        v.extend(t.shape.iter().map(|&n| n as i64));
    }
    let key = Key { op, v };
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
    let exe: Arc<Compiled<Meta>> = cache().get_or_compile(&c, &key, program, fw(op))?;
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
    let bufs = inputs
        .iter()
        .map(|t| t.buffer().map(|b| b.as_ref()))
        .collect::<Result<Vec<&Buffer>>>()?;
    let out = exe.execute(&bufs, &exe.meta.pjrt_outs).map_err(fw(op))?;
    Ok(out
        .into_iter()
        .zip(&exe.meta.outs)
        .map(|(buf, (d, s))| XlaTensor {
            val: Val::Buf(Arc::new(buf)),
            dtype: *d,
            shape: s.clone(),
            _exe: Some(exe.clone()),
        })
        .collect())
}

/// [`exec`] for a program with one result.
fn exec1(
    op: &'static str,
    attrs: &[i64],
    inputs: &[&XlaTensor],
    build: impl Fn(&mut Prog, &[String]) -> Result<Out>,
) -> Result<XlaTensor> {
    exec(op, attrs, inputs, |p, a| Ok(vec![build(p, a)?]))?
        .pop()
        .ok_or_else(|| Error::Framework {
            op,
            backend: Backend::Xla,
            msg: "no result".into(),
        })
}

fn et(d: DType) -> ElementType {
    match d {
        DType::Bool => ElementType::Pred,
        DType::U8 => ElementType::U8,
        DType::I8 => ElementType::S8,
        DType::I16 => ElementType::S16,
        DType::U16 => ElementType::U16,
        DType::I32 => ElementType::S32,
        DType::U32 => ElementType::U32,
        DType::I64 => ElementType::S64,
        DType::U64 => ElementType::U64,
        DType::F16 => ElementType::F16,
        DType::BF16 => ElementType::BF16,
        DType::F32 => ElementType::F32,
        DType::F64 => ElementType::F64,
    }
}

/// The dtype a computation on `d` runs in: `f32` for the 16-bit floats
/// (computed in `f32` and rounded once, as XLA's CPU kernels, PyTorch and
/// NumPy's float16 loops do), `d` itself otherwise.
fn compute_dtype(d: DType) -> DType {
    if d.is_half() {
        DType::F32
    } else {
        d
    }
}

fn ty(d: DType, shape: &[usize]) -> String {
    hlo::tensor(et(d), &shape.iter().map(|&x| x as i64).collect::<Vec<_>>())
}

/// A StableHLO program under construction: arguments, lines (a stack: the
/// top is the region being written), results.
struct Prog {
    args: Vec<String>,
    lines: Vec<Vec<String>>,
    n: usize,
}

impl Prog {
    fn new() -> Prog {
        Prog {
            args: Vec::new(),
            lines: vec![Vec::new()],
            n: 0,
        }
    }
    fn arg(&mut self, d: DType, shape: &[usize]) -> String {
        let name = format!("%a{}", self.args.len());
        self.args.push(format!("{name}: {}", ty(d, shape)));
        name
    }
    fn fresh(&mut self) -> String {
        self.n += 1;
        format!("%v{}", self.n - 1)
    }
    fn push(&mut self, line: String) {
        let depth = self.lines.len();
        if let Some(top) = self.lines.last_mut() {
            top.push(format!("{}{line}", "  ".repeat(depth)));
        }
    }
    /// Adds `%vN = <rhs>` and returns `%vN`.
    fn let_(&mut self, rhs: String) -> String {
        let v = self.fresh();
        self.push(format!("{v} = {rhs}"));
        v
    }
    /// Adds `%vN:k = <rhs>` and returns `%vN#0 .. %vN#k-1`.
    fn let_n(&mut self, rhs: String, k: usize) -> Vec<String> {
        let v = self.fresh();
        self.push(format!("{v}:{k} = {rhs}"));
        (0..k).map(|i| format!("{v}#{i}")).collect()
    }
    /// A region `({ ^bb0(params): body; return })` of 0-d `params`; `body`
    /// gets the parameter names and returns the results.
    fn region(
        &mut self,
        params: &[DType],
        body: impl FnOnce(&mut Prog, &[String]) -> Vec<(String, DType)>,
    ) -> String {
        let params: Vec<(DType, Vec<usize>)> = params.iter().map(|&d| (d, vec![])).collect();
        self.region_of(&params, |p, a| {
            body(p, a)
                .into_iter()
                .map(|(n, d)| (n, d, vec![]))
                .collect()
        })
    }
    /// [`region`](Self::region) with parameters of any shape.
    fn region_of(
        &mut self,
        params: &[(DType, Vec<usize>)],
        body: impl FnOnce(&mut Prog, &[String]) -> Vec<Out>,
    ) -> String {
        let names: Vec<String> = params.iter().map(|_| self.fresh()).collect();
        let decl: Vec<String> = names
            .iter()
            .zip(params)
            .map(|(n, (d, s))| format!("{n}: {}", ty(*d, s)))
            .collect();
        self.lines.push(Vec::new());
        let rets = body(self, &names);
        let ret_names: Vec<&str> = rets.iter().map(|r| r.0.as_str()).collect();
        let ret_tys: Vec<String> = rets.iter().map(|r| ty(r.1, &r.2)).collect();
        self.push(format!(
            "stablehlo.return {} : {}",
            ret_names.join(", "),
            ret_tys.join(", ")
        ));
        let body_lines = self.lines.pop().unwrap_or_default();
        let indent = "  ".repeat(self.lines.len());
        format!(
            "({{\n{indent}^bb0({}):\n{}\n{indent}}})",
            decl.join(", "),
            body_lines.join("\n")
        )
    }
    fn un(&mut self, op: &str, x: &str, d: DType, s: &[usize]) -> String {
        let t = ty(d, s);
        self.let_(format!("{op} {x} : {t}"))
    }
    fn chlo(&mut self, op: &str, x: &str, d: DType, s: &[usize]) -> String {
        let t = ty(d, s);
        self.let_(format!("chlo.{op} {x} : {t} -> {t}"))
    }
    fn bin(&mut self, op: &str, a: &str, b: &str, d: DType, s: &[usize]) -> String {
        let t = ty(d, s);
        self.let_(format!("stablehlo.{op} {a}, {b} : {t}"))
    }
    fn cmp(&mut self, dir: &str, a: &str, b: &str, d: DType, s: &[usize]) -> String {
        let kind = if d.is_float() {
            "FLOAT"
        } else if d.is_unsigned() || d == DType::Bool {
            "UNSIGNED"
        } else {
            "SIGNED"
        };
        let (t, tb) = (ty(d, s), ty(DType::Bool, s));
        self.let_(format!(
            "stablehlo.compare {dir}, {a}, {b}, {kind} : ({t}, {t}) -> {tb}"
        ))
    }
    fn select(&mut self, c: &str, a: &str, b: &str, d: DType, s: &[usize]) -> String {
        let (tc, t) = (ty(DType::Bool, s), ty(d, s));
        self.let_(format!("stablehlo.select {c}, {a}, {b} : {tc}, {t}"))
    }
    /// Indices along `dim` of shape `s`.
    fn iota(&mut self, dim: usize, d: DType, s: &[usize]) -> String {
        self.let_(format!("stablehlo.iota dim = {dim} : {}", ty(d, s)))
    }
    /// `op x : (from) -> to`, or `x` itself when the types are equal
    /// (reshape, convert).
    fn retype(&mut self, op: &str, x: &str, from: String, to: String) -> String {
        if from == to {
            return x.to_string();
        }
        self.let_(format!("stablehlo.{op} {x} : ({from}) -> {to}"))
    }
    fn reshape(&mut self, x: &str, d: DType, from: &[usize], to: &[usize]) -> String {
        self.retype("reshape", x, ty(d, from), ty(d, to))
    }
    /// A constant of dtype `d` broadcast to `s`. Floats round to nearest;
    /// integers saturate (so the `f64` nearest a dtype's bound, as
    /// [`max_of`] gives it, is the bound itself, `u64::MAX` included).
    fn full(&mut self, d: DType, v: f64, s: &[usize]) -> String {
        let lit = match d {
            DType::F16 => format!("0x{:04X}", eager_core::f16::from_f64(v).to_bits()),
            DType::BF16 => format!("0x{:04X}", eager_core::bf16::from_f64(v).to_bits()),
            DType::F32 => format!("0x{:08X}", (v as f32).to_bits()),
            DType::F64 => format!("0x{:016X}", v.to_bits()),
            DType::Bool => (if v != 0.0 { "true" } else { "false" }).to_string(),
            _ if d.is_unsigned() => format!("{}", v as u64),
            _ => format!("{}", v as i64),
        };
        let c = self.let_(format!("stablehlo.constant dense<{lit}> : {}", ty(d, &[])));
        self.bcast(&c, d, &[], s)
    }
    /// NumPy broadcasting of `x` from `from` to `to` (trailing axes align).
    fn bcast(&mut self, x: &str, d: DType, from: &[usize], to: &[usize]) -> String {
        if from == to {
            return x.to_string();
        }
        let off = to.len() - from.len();
        let dims: Vec<usize> = (0..from.len()).map(|i| i + off).collect();
        self.bcast_in(x, d, from, to, &dims)
    }
    /// `broadcast_in_dim`: axis `i` of `x` becomes axis `dims[i]` of `to`.
    fn bcast_in(
        &mut self,
        x: &str,
        d: DType,
        from: &[usize],
        to: &[usize],
        dims: &[usize],
    ) -> String {
        self.let_(format!(
            "stablehlo.broadcast_in_dim {x}, dims = [{}] : ({}) -> {}",
            dims_list(dims.iter().copied()),
            ty(d, from),
            ty(d, to)
        ))
    }
    fn convert(&mut self, x: &str, from: DType, to: DType, s: &[usize]) -> String {
        self.retype("convert", x, ty(from, s), ty(to, s))
    }
    /// `x` (dtype `d`, shape `s`) in the dtype computations on `d` run in
    /// ([`compute_dtype`]), and that dtype.
    fn widen(&mut self, x: &str, d: DType, s: &[usize]) -> (String, DType) {
        let cd = compute_dtype(d);
        if cd == d {
            return (x.to_string(), d);
        }
        (self.convert(x, d, cd, s), cd)
    }
    /// A result `r` of dtype `rd` computed for inputs of dtype `d`, back in
    /// `d` when it is `d`'s compute dtype (a 16-bit float rounds once);
    /// other results (bool, indices) stay as they are.
    fn narrow(&mut self, r: &str, rd: DType, d: DType, s: &[usize]) -> (String, DType) {
        if rd != d && rd == compute_dtype(d) {
            (self.convert(r, rd, d, s), d)
        } else {
            (r.to_string(), rd)
        }
    }
    fn text(&self, results: &[Out]) -> String {
        let rets: Vec<&str> = results.iter().map(|r| r.0.as_str()).collect();
        let tys: Vec<String> = results.iter().map(|r| ty(r.1, &r.2)).collect();
        format!(
            "func.func @main({}) -> ({}) {{\n{}\n  return {} : {}\n}}\n",
            self.args.join(", "),
            tys.join(", "),
            self.lines.concat().join("\n"),
            rets.join(", "),
            tys.join(", ")
        )
    }
}

fn upload(op: &'static str, data: &HostData, shape: &[usize]) -> Result<XlaTensor> {
    let c = rt(op)?;
    let d = data.dtype();
    let dims: Vec<i64> = shape.iter().map(|&x| x as i64).collect();
    let buf = c.buffer(data.as_bytes(), et(d), &dims).map_err(fw(op))?;
    Ok(XlaTensor {
        val: Val::Buf(Arc::new(buf)),
        dtype: d,
        shape: shape.to_vec(),
        _exe: None,
    })
}

/// The largest value of `d` (inf for floats), as the nearest `f64`
/// ([`Prog::full`] saturates it back to the exact bound).
fn max_of(d: DType) -> f64 {
    d.int_range().map_or(f64::INFINITY, |(_, hi)| hi as f64)
}

/// The smallest value of `d` (-inf for floats).
fn min_of(d: DType) -> f64 {
    d.int_range().map_or(f64::NEG_INFINITY, |(lo, _)| lo as f64)
}

fn dims_list(v: impl IntoIterator<Item = usize>) -> String {
    v.into_iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `shape` without `axis`.
fn without(shape: &[usize], axis: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    s.remove(axis);
    s
}

impl Prog {
    /// `stablehlo.reduce` of `x` (dtype `d`, shape `s`) over `axes` with a
    /// named body op (`add`, `maximum`, ...) and an initial value.
    fn reduce_by(
        &mut self,
        x: &str,
        body: &str,
        init: f64,
        d: DType,
        s: &[usize],
        axes: &[usize],
    ) -> String {
        let out: Vec<usize> = (0..s.len())
            .filter(|i| !axes.contains(i))
            .map(|i| s[i])
            .collect();
        let i = self.full(d, init, &[]);
        self.let_(format!(
            "stablehlo.reduce({x} init: {i}) applies stablehlo.{body} across dimensions = [{}] : ({}, {}) -> {}",
            dims_list(axes.iter().copied()),
            ty(d, s),
            ty(d, &[]),
            ty(d, &out)
        ))
    }

    /// The comparator "`a` sorts before `b`" on 0-d values of `d`: NaN is
    /// the largest value, -0.0 equals 0.0 (as in the ndarray kernels).
    fn sorts_before(&mut self, a: &str, b: &str, d: DType, descending: bool) -> String {
        let (a, b) = if descending { (b, a) } else { (a, b) };
        let lt = self.cmp("LT", a, b, d, &[]);
        if !d.is_float() {
            return lt;
        }
        let b_nan = self.cmp("NE", b, b, d, &[]);
        let a_num = self.cmp("EQ", a, a, d, &[]);
        let nan_after = self.bin("and", &b_nan, &a_num, DType::Bool, &[]);
        self.bin("or", &lt, &nan_after, DType::Bool, &[])
    }

    /// Row-major coordinates of shape `s`'s positions `0..`: for an `i64`
    /// tensor `idx` of shape `is`, an `is + [ndim]` tensor whose last axis
    /// holds, at each position, the full coordinates into a tensor of
    /// shape `s`, where axis `axis` takes its value from `idx` and every
    /// other axis is the position's own coordinate (a `take_along_axis`).
    fn along_axis_coords(&mut self, idx: &str, is: &[usize], axis: usize) -> String {
        let nd = is.len();
        let mut one = is.to_vec();
        one.push(1);
        let parts: Vec<String> = (0..nd)
            .map(|j| {
                if j == axis {
                    self.reshape(idx, DType::I64, is, &one)
                } else {
                    self.iota(j, DType::I64, &one)
                }
            })
            .collect();
        let mut all = is.to_vec();
        all.push(nd);
        self.let_(format!(
            "stablehlo.concatenate {}, dim = {nd} : ({}) -> {}",
            parts.join(", "),
            vec![ty(DType::I64, &one); nd].join(", "),
            ty(DType::I64, &all)
        ))
    }

    /// Gathers single elements of `x` (`d`, shape `s`) at the coordinates
    /// `coords` (`i64`, shape `cs + [ndim]`); the result has shape `cs`.
    fn gather_points(
        &mut self,
        x: &str,
        d: DType,
        s: &[usize],
        coords: &str,
        cs: &[usize],
    ) -> String {
        let nd = s.len();
        let mut full_cs = cs.to_vec();
        full_cs.push(nd);
        self.let_(format!(
            "\"stablehlo.gather\"({x}, {coords}) {{dimension_numbers = #stablehlo.gather<offset_dims = [], collapsed_slice_dims = [{all}], start_index_map = [{all}], index_vector_dim = {idv}>, slice_sizes = array<i64: {ones}>, indices_are_sorted = false}} : ({}, {}) -> {}",
            ty(d, s),
            ty(DType::I64, &full_cs),
            ty(d, cs),
            all = dims_list(0..nd),
            idv = cs.len(),
            ones = vec!["1"; nd].join(", "),
        ))
    }

    /// Combines `updates` (shape `cs`) into `x` (`d`, shape `s`) at
    /// `coords` (`cs + [ndim]`) with `combine` (`add`, `maximum`).
    #[allow(clippy::too_many_arguments)]
    fn scatter_points(
        &mut self,
        x: &str,
        d: DType,
        s: &[usize],
        coords: &str,
        cs: &[usize],
        updates: &str,
        combine: &str,
    ) -> String {
        let nd = s.len();
        let mut full_cs = cs.to_vec();
        full_cs.push(nd);
        let body = self.region(&[d, d], |p, a| {
            vec![(p.bin(combine, &a[0], &a[1], d, &[]), d)]
        });
        self.let_(format!(
            "\"stablehlo.scatter\"({x}, {coords}, {updates}) {body} {{scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [], inserted_window_dims = [{all}], scatter_dims_to_operand_dims = [{all}], index_vector_dim = {idv}>, indices_are_sorted = false, unique_indices = false}} : ({}, {}, {}) -> {}",
            ty(d, s),
            ty(DType::I64, &full_cs),
            ty(d, cs),
            ty(d, s),
            all = dims_list(0..nd),
            idv = cs.len(),
        ))
    }
}

impl Prog {
    /// The index (`i64`) of the first largest (`max`) or smallest value of
    /// `x` along `axis`; NaN counts as the extreme both ways.
    fn arg_best(&mut self, x: &str, d: DType, s: &[usize], axis: usize, max: bool) -> String {
        let out = without(s, axis);
        let iota = self.iota(axis, DType::I64, s);
        // The identity: the far end of the range at index 0 (a slice whose
        // best value is that end is all that value, so 0 is right).
        let iv = self.full(d, if max { min_of(d) } else { max_of(d) }, &[]);
        let ii = self.full(DType::I64, 0.0, &[]);
        let body = self.region(&[d, DType::I64, d, DType::I64], |p, v| {
            let (av, ai, bv, bi) = (&v[0], &v[1], &v[2], &v[3]);
            let better = p.cmp(if max { "GT" } else { "LT" }, av, bv, d, &[]);
            let eq = p.cmp("EQ", av, bv, d, &[]);
            let first = p.cmp("LT", ai, bi, DType::I64, &[]);
            let tie = p.bin("and", &eq, &first, DType::Bool, &[]);
            let mut pick = p.bin("or", &better, &tie, DType::Bool, &[]);
            if d.is_float() {
                // The first NaN wins.
                let an = p.cmp("NE", av, av, d, &[]);
                let bn = p.cmp("NE", bv, bv, d, &[]);
                let b_num = p.un("stablehlo.not", &bn, DType::Bool, &[]);
                let a_num = p.un("stablehlo.not", &an, DType::Bool, &[]);
                let nums = p.bin("and", &pick, &b_num, DType::Bool, &[]);
                let nums = p.bin("and", &nums, &a_num, DType::Bool, &[]);
                let b_or_first = p.bin("or", &b_num, &first, DType::Bool, &[]);
                let nan_pick = p.bin("and", &an, &b_or_first, DType::Bool, &[]);
                pick = p.bin("or", &nums, &nan_pick, DType::Bool, &[]);
            }
            let v = p.select(&pick, av, bv, d, &[]);
            let i = p.select(&pick, ai, bi, DType::I64, &[]);
            vec![(v, d), (i, DType::I64)]
        });
        let r = self.let_n(
            format!(
                "\"stablehlo.reduce\"({x}, {iota}, {iv}, {ii}) {body} {{dimensions = array<i64: {axis}>}} : ({}, {}, {}, {}) -> ({}, {})",
                ty(d, s),
                ty(DType::I64, s),
                ty(d, &[]),
                ty(DType::I64, &[]),
                ty(d, &out),
                ty(DType::I64, &out)
            ),
            2,
        );
        r[1].clone()
    }
}

impl XlaTensor {
    fn unary_prog(&self, op: UnaryOp) -> Result<XlaTensor> {
        use UnaryOp::*;
        let (d0, s) = (self.dtype, &self.shape);
        let float = d0.is_float();
        if (op == Abs && d0.is_unsigned()) || (matches!(op, Round | Ceil | Floor) && !float) {
            return Ok(self.clone());
        }
        exec1(op.name(), &[op as i64], &[self], |p, a| {
            let (x, d) = p.widen(&a[0], d0, s);
            let x = &x;
            let mut out_d = d;
            let r = match op {
                Abs => p.un("stablehlo.abs", x, d, s),
                Neg if d.is_unsigned() => {
                    let z = p.full(d, 0.0, s);
                    p.bin("subtract", &z, x, d, s)
                }
                Neg => p.un("stablehlo.negate", x, d, s),
                Sign if d.is_unsigned() => {
                    let z = p.full(d, 0.0, s);
                    let one = p.full(d, 1.0, s);
                    let pos = p.cmp("GT", x, &z, d, s);
                    p.select(&pos, &one, &z, d, s)
                }
                // stablehlo.sign(-0.0) is -0.0; NumPy (and every other
                // backend) gives 0.0. (`+ 0.0` would do, but XLA folds it
                // away.)
                Sign if float => {
                    let sg = p.un("stablehlo.sign", x, d, s);
                    let z = p.full(d, 0.0, s);
                    let zero = p.cmp("EQ", x, &z, d, s);
                    p.select(&zero, &z, &sg, d, s)
                }
                Sign => p.un("stablehlo.sign", x, d, s),
                Sqrt => p.un("stablehlo.sqrt", x, d, s),
                Square => p.bin("multiply", x, x, d, s),
                Exp => p.un("stablehlo.exponential", x, d, s),
                Log => p.un("stablehlo.log", x, d, s),
                Log2 | Log10 => {
                    let l = p.un("stablehlo.log", x, d, s);
                    let base = if op == Log2 {
                        std::f64::consts::LN_2
                    } else {
                        std::f64::consts::LN_10
                    };
                    let b = p.full(d, base, s);
                    p.bin("divide", &l, &b, d, s)
                }
                Log1p => p.un("stablehlo.log_plus_one", x, d, s),
                Sin => p.un("stablehlo.sine", x, d, s),
                Cos => p.un("stablehlo.cosine", x, d, s),
                Tan => p.un("stablehlo.tan", x, d, s),
                Sinh => p.chlo("sinh", x, d, s),
                Cosh => p.chlo("cosh", x, d, s),
                Tanh => p.un("stablehlo.tanh", x, d, s),
                Arcsin => p.chlo("asin", x, d, s),
                Arccos => p.chlo("acos", x, d, s),
                Arctan => p.chlo("atan", x, d, s),
                Arcsinh => p.chlo("asinh", x, d, s),
                Arccosh => p.chlo("acosh", x, d, s),
                Arctanh => p.chlo("atanh", x, d, s),
                // XLA's round_nearest_even is NumPy's half-to-even rounding.
                Round => p.un("stablehlo.round_nearest_even", x, d, s),
                Ceil => p.un("stablehlo.ceil", x, d, s),
                Floor => p.un("stablehlo.floor", x, d, s),
                IsNan => {
                    out_d = DType::Bool;
                    p.cmp("NE", x, x, d, s)
                }
                IsInf => {
                    out_d = DType::Bool;
                    let a = p.un("stablehlo.abs", x, d, s);
                    let inf = p.full(d, f64::INFINITY, s);
                    p.cmp("EQ", &a, &inf, d, s)
                }
                LogicalNot => p.un("stablehlo.not", x, d, s),
                Sigmoid => p.un("stablehlo.logistic", x, d, s),
                // NumPy's maximum(x, 0): NaN stays, -0.0 becomes 0.0.
                Relu if float => {
                    let z = p.full(d, 0.0, s);
                    let pos = p.cmp("GT", x, &z, d, s);
                    let nan = p.cmp("NE", x, x, d, s);
                    let keep = p.bin("or", &pos, &nan, DType::Bool, s);
                    p.select(&keep, x, &z, d, s)
                }
                Relu => {
                    let z = p.full(d, 0.0, s);
                    p.bin("maximum", x, &z, d, s)
                }
            };
            let (r, out_d) = p.narrow(&r, out_d, d0, s);
            Ok((r, out_d, s.clone()))
        })
    }

    /// Integer `a ** b` (b >= 0, checked by the facade) wrapping like
    /// NumPy's: square-and-multiply over every bit of the exponent. XLA's
    /// own integer `power` looks at the low 6 bits of the exponent only
    /// (`7 ** 1000` and `0 ** 128` came out wrong).
    fn int_pow(p: &mut Prog, a: &str, b: &str, d: DType, s: &[usize]) -> String {
        // Every bit a non-negative exponent can have set.
        let bits = 8 * d.size_of() - usize::from(!d.is_unsigned());
        let one = p.full(d, 1.0, s);
        let zero = p.full(d, 0.0, s);
        let mut acc = one.clone();
        let mut base = a.to_string();
        for k in 0..bits {
            let kk = p.full(d, k as f64, s);
            let shifted = p.bin("shift_right_logical", b, &kk, d, s);
            let bit = p.bin("and", &shifted, &one, d, s);
            let set = p.cmp("NE", &bit, &zero, d, s);
            let prod = p.bin("multiply", &acc, &base, d, s);
            acc = p.select(&set, &prod, &acc, d, s);
            if k + 1 < bits {
                base = p.bin("multiply", &base, &base, d, s);
            }
        }
        acc
    }

    /// Floor division and Python's remainder with NumPy's edge cases.
    fn divmod(p: &mut Prog, a: &str, b: &str, d: DType, s: &[usize], floor_div: bool) -> String {
        let zero = p.full(d, 0.0, s);
        let one = p.full(d, 1.0, s);
        if d.is_int() {
            let b0 = p.cmp("EQ", b, &zero, d, s);
            let sb = p.select(&b0, &one, b, d, s);
            let q = p.bin("divide", a, &sb, d, s);
            let r = p.bin("remainder", a, &sb, d, s);
            let res = if d.is_unsigned() {
                if floor_div {
                    q
                } else {
                    r
                }
            } else {
                let rnz = p.cmp("NE", &r, &zero, d, s);
                let rneg = p.cmp("LT", &r, &zero, d, s);
                let bneg = p.cmp("LT", &sb, &zero, d, s);
                let differ = p.cmp("NE", &rneg, &bneg, DType::Bool, s);
                let adj = p.bin("and", &rnz, &differ, DType::Bool, s);
                if floor_div {
                    let q1 = p.bin("subtract", &q, &one, d, s);
                    p.select(&adj, &q1, &q, d, s)
                } else {
                    let r1 = p.bin("add", &r, &sb, d, s);
                    p.select(&adj, &r1, &r, d, s)
                }
            };
            return p.select(&b0, &zero, &res, d, s);
        }
        // Floats: NumPy's npy_divmod.
        let m = p.bin("remainder", a, b, d, s);
        let mnz = p.cmp("NE", &m, &zero, d, s);
        let mneg = p.cmp("LT", &m, &zero, d, s);
        let bneg = p.cmp("LT", b, &zero, d, s);
        let differ = p.cmp("NE", &mneg, &bneg, DType::Bool, s);
        let adj = p.bin("and", &mnz, &differ, DType::Bool, s);
        if !floor_div {
            let mb = p.bin("add", &m, b, d, s);
            let r = p.select(&adj, &mb, &m, d, s);
            // A zero remainder takes the divisor's sign.
            let sb = p.un("stablehlo.sign", b, d, s);
            let signed_zero = p.bin("multiply", &sb, &zero, d, s);
            let rz = p.cmp("EQ", &r, &zero, d, s);
            return p.select(&rz, &signed_zero, &r, d, s);
        }
        let am = p.bin("subtract", a, &m, d, s);
        let div = p.bin("divide", &am, b, d, s);
        let div1 = p.bin("subtract", &div, &one, d, s);
        let div = p.select(&adj, &div1, &div, d, s);
        let fl = p.un("stablehlo.floor", &div, d, s);
        let frac = p.bin("subtract", &div, &fl, d, s);
        let half = p.full(d, 0.5, s);
        let up = p.cmp("GT", &frac, &half, d, s);
        let fl1 = p.bin("add", &fl, &one, d, s);
        let fl = p.select(&up, &fl1, &fl, d, s);
        let q = p.bin("divide", a, b, d, s);
        let sq = p.un("stablehlo.sign", &q, d, s);
        let signed_zero = p.bin("multiply", &sq, &zero, d, s);
        let dz = p.cmp("EQ", &div, &zero, d, s);
        let res = p.select(&dz, &signed_zero, &fl, d, s);
        let b0 = p.cmp("EQ", b, &zero, d, s);
        p.select(&b0, &q, &res, d, s)
    }

    /// Sorts along `axis`; with `indices`, the stable sort's permutation
    /// (`i64`) is the result instead of the values.
    fn sort_prog(&self, axis: usize, descending: bool, indices: bool) -> Result<XlaTensor> {
        let (d, s) = (self.dtype, &self.shape);
        if s[axis] <= 1 && !indices {
            return Ok(self.clone());
        }
        let attrs = [axis as i64, descending as i64, indices as i64];
        exec1("sort", &attrs, &[self], |p, a| {
            let x = &a[0];
            let t = ty(d, s);
            if !indices {
                let cmp = p.region(&[d, d], |p, v| {
                    vec![(p.sorts_before(&v[0], &v[1], d, descending), DType::Bool)]
                });
                let r = p.let_(format!(
                    "\"stablehlo.sort\"({x}) {cmp} {{dimension = {axis} : i64, is_stable = true}} : ({t}) -> {t}"
                ));
                return Ok((r, d, s.clone()));
            }
            let iota = p.iota(axis, DType::I64, s);
            let ti = ty(DType::I64, s);
            let cmp = p.region(&[d, d, DType::I64, DType::I64], |p, v| {
                vec![(p.sorts_before(&v[0], &v[1], d, descending), DType::Bool)]
            });
            let r = p.let_n(
                format!(
                    "\"stablehlo.sort\"({x}, {iota}) {cmp} {{dimension = {axis} : i64, is_stable = true}} : ({t}, {ti}) -> ({t}, {ti})"
                ),
                2,
            );
            Ok((r[1].clone(), DType::I64, s.clone()))
        })
    }
}

impl BackendTensor for XlaTensor {
    const BACKEND: Backend = Backend::Xla;

    fn shape(&self) -> Vec<usize> {
        self.shape.clone()
    }
    fn dtype(&self) -> DType {
        self.dtype
    }
    fn from_host(data: HostData, shape: &[usize]) -> Result<Self> {
        upload("from_vec", &data, shape)
    }
    fn to_host(&self) -> Result<HostData> {
        self.host("to_vec")
    }
    fn full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<Self> {
        // One element goes up; the device broadcasts it.
        let v = upload("full", &HostData::filled("full", value, dtype, 1)?, &[])?;
        v.broadcast_to(shape)
    }
    fn random(&self, dist: Distribution, shape: &[usize], dtype: DType) -> Result<Self> {
        if self.is_traced_by_jit() {
            // Drawn on the host side at trace time, the numbers would be
            // frozen into the program: draw outside and pass them in.
            return Err(jit::not_inside("random"));
        }
        random::draw(dist, shape, dtype)
    }

    fn unary(&self, op: UnaryOp) -> Result<Self> {
        self.unary_prog(op)
    }
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Result<Self> {
        use BinaryOp::*;
        let name = op.name();
        let d0 = self.dtype;
        let s = eager_core::shape::broadcast_shapes(name, &self.shape, &rhs.shape)?;
        exec1(name, &[op as i64], &[self, rhs], |p, x| {
            let a = p.bcast(&x[0], d0, &self.shape, &s);
            let b = p.bcast(&x[1], d0, &rhs.shape, &s);
            let (a, d) = p.widen(&a, d0, &s);
            let (b, _) = p.widen(&b, d0, &s);
            let boolean = d == DType::Bool;
            let (r, out_d) = match op {
                Add => (p.bin("add", &a, &b, d, &s), d),
                Sub => (p.bin("subtract", &a, &b, d, &s), d),
                Mul => (p.bin("multiply", &a, &b, d, &s), d),
                Div if rhs.shape != s && d.is_float() => {
                    // XLA rewrites `a / broadcast(b)` as `a * broadcast(1 / b)`:
                    // one more rounding, and 1 / b flushes to 0 for |b| near
                    // the maximum (`f32::MAX / f32::MAX` came out 0). A
                    // barrier keeps the broadcast divisor opaque, so the
                    // division stays IEEE's.
                    let t = ty(d, &s);
                    let opaque = p.let_(format!("stablehlo.optimization_barrier {b} : {t}"));
                    (p.bin("divide", &a, &opaque, d, &s), d)
                }
                Div => (p.bin("divide", &a, &b, d, &s), d),
                FloorDiv => (Self::divmod(p, &a, &b, d, &s, true), d),
                Rem => (Self::divmod(p, &a, &b, d, &s, false), d),
                Pow if d.is_int() => (Self::int_pow(p, &a, &b, d, &s), d),
                Pow => (p.bin("power", &a, &b, d, &s), d),
                Minimum | LogicalAnd if boolean => (p.bin("and", &a, &b, d, &s), d),
                Maximum | LogicalOr if boolean => (p.bin("or", &a, &b, d, &s), d),
                Minimum | Maximum if d.is_float() => {
                    // Of two equal values (0.0, -0.0) the second, as NumPy's
                    // minimum/maximum; NaN propagates (this XLA's own
                    // min/max drop it).
                    let first = p.cmp(if op == Minimum { "LT" } else { "GT" }, &a, &b, d, &s);
                    let m = p.select(&first, &a, &b, d, &s);
                    let an = p.cmp("NE", &a, &a, d, &s);
                    let bn = p.cmp("NE", &b, &b, d, &s);
                    let nan = p.bin("or", &an, &bn, DType::Bool, &s);
                    let sum = p.bin("add", &a, &b, d, &s);
                    (p.select(&nan, &sum, &m, d, &s), d)
                }
                Minimum => (p.bin("minimum", &a, &b, d, &s), d),
                Maximum => (p.bin("maximum", &a, &b, d, &s), d),
                LogicalAnd => (p.bin("and", &a, &b, d, &s), d),
                LogicalOr => (p.bin("or", &a, &b, d, &s), d),
                Lt => (p.cmp("LT", &a, &b, d, &s), DType::Bool),
                Le => (p.cmp("LE", &a, &b, d, &s), DType::Bool),
                Gt => (p.cmp("GT", &a, &b, d, &s), DType::Bool),
                Ge => (p.cmp("GE", &a, &b, d, &s), DType::Bool),
                Eq => (p.cmp("EQ", &a, &b, d, &s), DType::Bool),
                Ne => (p.cmp("NE", &a, &b, d, &s), DType::Bool),
            };
            let (r, out_d) = p.narrow(&r, out_d, d0, &s);
            Ok((r, out_d, s.clone()))
        })
    }
    fn where_cond(&self, x: &Self, y: &Self) -> Result<Self> {
        let op = "where_cond";
        let s = eager_core::shape::broadcast_shapes(op, &self.shape, &x.shape)?;
        let s = eager_core::shape::broadcast_shapes(op, &s, &y.shape)?;
        let d = x.dtype;
        exec1(op, &[], &[self, x, y], |p, a| {
            let c = p.bcast(&a[0], DType::Bool, &self.shape, &s);
            let xb = p.bcast(&a[1], d, &x.shape, &s);
            let yb = p.bcast(&a[2], d, &y.shape, &s);
            Ok((p.select(&c, &xb, &yb, d, &s), d, s.clone()))
        })
    }
    fn cast(&self, dtype: DType) -> Result<Self> {
        if dtype == self.dtype {
            return Ok(self.clone());
        }
        let (d, s) = (self.dtype, &self.shape);
        exec1("astype", &[dtype as i64], &[self], |p, a| {
            let x = &a[0];
            let r = if dtype == DType::Bool {
                let z = p.full(d, 0.0, s);
                p.cmp("NE", x, &z, d, s)
            } else if let Some((lo, hi, above)) = compute_dtype(d).saturating_cast_bounds(dtype) {
                // NaN and out-of-range floats saturate (NaN -> 0), as on
                // every backend: clamp to bounds the float dtype holds
                // exactly, convert, and put the maximum where the value
                // reached 2^bits. A 16-bit float widens to f32 first
                // (exactly).
                let (x, d) = p.widen(x, d, s);
                let x = &x;
                let lo = p.full(d, lo, s);
                let hi = p.full(d, hi, s);
                let ty_ = ty(d, s);
                let c = p.let_(format!("stablehlo.clamp {lo}, {x}, {hi} : {ty_}"));
                let nan = p.cmp("NE", x, x, d, s);
                let z = p.full(d, 0.0, s);
                let clean = p.select(&nan, &z, &c, d, s);
                let conv = p.convert(&clean, d, dtype, s);
                let above = p.full(d, above, s);
                let top = p.cmp("GE", x, &above, d, s);
                let max = p.full(dtype, max_of(dtype), s);
                p.select(&top, &max, &conv, dtype, s)
            } else {
                p.convert(x, d, dtype, s)
            };
            Ok((r, dtype, s.clone()))
        })
    }

    fn reduce(&self, op: ReduceOp, axes: &[usize], keepdims: bool) -> Result<Self> {
        if axes.is_empty() {
            return Ok(self.clone());
        }
        let (d, s) = (self.dtype, &self.shape);
        let boolean = d == DType::Bool;
        let (body, init) = match op {
            ReduceOp::Sum | ReduceOp::Mean => ("add", 0.0),
            ReduceOp::Prod => ("multiply", 1.0),
            ReduceOp::Min | ReduceOp::All if boolean => ("and", 1.0),
            ReduceOp::Max | ReduceOp::Any if boolean => ("or", 0.0),
            ReduceOp::Min => ("minimum", max_of(d)),
            ReduceOp::Max => ("maximum", min_of(d)),
            ReduceOp::All => ("and", 1.0),
            ReduceOp::Any => ("or", 0.0),
        };
        let out: Vec<usize> = (0..s.len())
            .filter(|i| !axes.contains(i))
            .map(|i| s[i])
            .collect();
        let mut attrs = vec![op as i64, keepdims as i64];
        attrs.extend(axes.iter().map(|&a| a as i64));
        exec1("reduce", &attrs, &[self], |p, a| {
            // 16-bit floats accumulate in f32 and round once.
            let (x, d) = p.widen(&a[0], self.dtype, s);
            let x = &x;
            let mut r = p.reduce_by(x, body, init, d, s, axes);
            if matches!(op, ReduceOp::Min | ReduceOp::Max) && d.is_float() {
                // Put NaN back where a reduced slice had one (NumPy propagates it).
                let isnan = p.cmp("NE", x, x, d, s);
                let anynan = p.reduce_by(&isnan, "or", 0.0, DType::Bool, s, axes);
                let nan = p.full(d, f64::NAN, &out);
                r = p.select(&anynan, &nan, &r, d, &out);
            }
            if op == ReduceOp::Mean {
                let count: usize = axes.iter().map(|&a| s[a]).product();
                let c = p.full(d, count as f64, &out);
                r = p.bin("divide", &r, &c, d, &out);
            }
            let (mut r, d) = p.narrow(&r, d, self.dtype, &out);
            let mut final_shape = out.clone();
            if keepdims {
                final_shape = (0..s.len())
                    .map(|i| if axes.contains(&i) { 1 } else { s[i] })
                    .collect();
                r = p.reshape(&r, d, &out, &final_shape);
            }
            Ok((r, d, final_shape))
        })
    }
    fn arg_reduce(&self, op: ArgReduceOp, axis: usize) -> Result<Self> {
        let (d, s) = (self.dtype, &self.shape);
        let out = without(s, axis);
        let max = op == ArgReduceOp::ArgMax;
        exec1("arg_reduce", &[max as i64, axis as i64], &[self], |p, a| {
            Ok((p.arg_best(&a[0], d, s, axis, max), DType::I64, out.clone()))
        })
    }
    fn sort(&self, axis: usize, descending: bool) -> Result<Self> {
        self.sort_prog(axis, descending, false)
    }
    fn argsort(&self, axis: usize, descending: bool) -> Result<Self> {
        self.sort_prog(axis, descending, true)
    }
    fn cumsum(&self, axis: usize) -> Result<Self> {
        let s = &self.shape;
        let n = s[axis];
        if n <= 1 {
            return Ok(self.clone());
        }
        // A Hillis-Steele scan (JAX's associative scan on CPU): log2(n)
        // steps of "add a copy shifted by k along the axis".
        exec1("cumsum", &[axis as i64], &[self], |p, a| {
            // 16-bit floats accumulate in f32 and round once.
            let (mut x, d) = p.widen(&a[0], self.dtype, s);
            let zero = p.full(d, 0.0, &[]);
            let mut k = 1;
            while k < n {
                let low = dims_list((0..s.len()).map(|i| if i == axis { k } else { 0 }));
                let high: Vec<String> = (0..s.len())
                    .map(|i| {
                        if i == axis {
                            format!("-{k}")
                        } else {
                            "0".into()
                        }
                    })
                    .collect();
                let t = ty(d, s);
                let shifted = p.let_(format!(
                    "stablehlo.pad {x}, {zero}, low = [{low}], high = [{}], interior = [{}] : ({t}, {}) -> {t}",
                    high.join(", "),
                    dims_list(vec![0; s.len()]),
                    ty(d, &[])
                ));
                x = p.bin("add", &x, &shifted, d, s);
                k *= 2;
            }
            let (x, d) = p.narrow(&x, d, self.dtype, s);
            Ok((x, d, s.clone()))
        })
    }
    fn matmul(&self, rhs: &Self) -> Result<Self> {
        self.matmul_t(rhs, false, false)
    }
    fn matmul_t(&self, rhs: &Self, transpose_a: bool, transpose_b: bool) -> Result<Self> {
        // dot_general contracts any axis: a transposed operand is just
        // another contracting dimension, no transpose op.
        let d = self.dtype;
        let nd = self.shape.len();
        let (ka, kb) = (
            if transpose_a { nd - 2 } else { nd - 1 },
            if transpose_b { nd - 1 } else { nd - 2 },
        );
        let mut s = self.shape[..nd - 2].to_vec();
        s.extend([self.shape[2 * nd - 3 - ka], rhs.shape[2 * nd - 3 - kb]]);
        let attrs = [transpose_a as i64, transpose_b as i64];
        exec1("matmul", &attrs, &[self, rhs], |p, a| {
            let batching = if nd == 2 {
                String::new()
            } else {
                format!("batching_dims = [{0}] x [{0}], ", dims_list(0..nd - 2))
            };
            // 16-bit floats multiply and accumulate in f32, rounded once.
            let (x, cd) = p.widen(&a[0], d, &self.shape);
            let (y, _) = p.widen(&a[1], d, &rhs.shape);
            let r = p.let_(format!(
                "stablehlo.dot_general {x}, {y}, {batching}contracting_dims = [{ka}] x [{kb}] : ({}, {}) -> {}",
                ty(cd, &self.shape),
                ty(cd, &rhs.shape),
                ty(cd, &s)
            ));
            let (r, d) = p.narrow(&r, cd, d, &s);
            Ok((r, d, s.clone()))
        })
    }

    fn reshape(&self, shape: &[usize]) -> Result<Self> {
        if shape == self.shape.as_slice() {
            return Ok(self.clone());
        }
        let d = self.dtype;
        let attrs: Vec<i64> = shape.iter().map(|&n| n as i64).collect();
        exec1("reshape", &attrs, &[self], |p, a| {
            Ok((p.reshape(&a[0], d, &self.shape, shape), d, shape.to_vec()))
        })
    }
    fn permute(&self, axes: &[usize]) -> Result<Self> {
        if axes.iter().enumerate().all(|(i, &a)| i == a) {
            return Ok(self.clone());
        }
        let d = self.dtype;
        let s: Vec<usize> = axes.iter().map(|&a| self.shape[a]).collect();
        let attrs: Vec<i64> = axes.iter().map(|&n| n as i64).collect();
        exec1("permute", &attrs, &[self], |p, a| {
            let r = p.let_(format!(
                "stablehlo.transpose {}, dims = [{}] : ({}) -> {}",
                a[0],
                dims_list(axes.iter().copied()),
                ty(d, &self.shape),
                ty(d, &s)
            ));
            Ok((r, d, s.clone()))
        })
    }
    fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        if shape == self.shape.as_slice() {
            return Ok(self.clone());
        }
        let d = self.dtype;
        let attrs: Vec<i64> = shape.iter().map(|&n| n as i64).collect();
        exec1("broadcast_to", &attrs, &[self], |p, a| {
            Ok((p.bcast(&a[0], d, &self.shape, shape), d, shape.to_vec()))
        })
    }
    fn slice(&self, ranges: &[SliceRange]) -> Result<Self> {
        if ranges.is_empty()
            || ranges
                .iter()
                .zip(&self.shape)
                .all(|(r, &n)| *r == SliceRange::full(n))
        {
            return Ok(self.clone());
        }
        let d = self.dtype;
        let s: Vec<usize> = ranges.iter().map(|r| r.len).collect();
        let attrs: Vec<i64> = ranges
            .iter()
            .flat_map(|r| [r.start as i64, r.len as i64, r.step as i64])
            .collect();
        exec1("slice", &attrs, &[self], |p, a| {
            let spec: Vec<String> = ranges
                .iter()
                .map(|r| {
                    format!(
                        "{}:{}:{}",
                        r.start,
                        r.start + r.len.saturating_sub(1) * r.step + usize::from(r.len > 0),
                        r.step
                    )
                })
                .collect();
            let r = p.let_(format!(
                "stablehlo.slice {} [{}] : ({}) -> {}",
                a[0],
                spec.join(", "),
                ty(d, &self.shape),
                ty(d, &s)
            ));
            Ok((r, d, s.clone()))
        })
    }
    fn flip(&self, axes: &[usize]) -> Result<Self> {
        if axes.is_empty() {
            return Ok(self.clone());
        }
        let d = self.dtype;
        let attrs: Vec<i64> = axes.iter().map(|&n| n as i64).collect();
        exec1("flip", &attrs, &[self], |p, a| {
            let r = p.let_(format!(
                "stablehlo.reverse {}, dims = [{}] : {}",
                a[0],
                dims_list(axes.iter().copied()),
                ty(d, &self.shape)
            ));
            Ok((r, d, self.shape.clone()))
        })
    }
    fn concat(tensors: &[&Self], axis: usize) -> Result<Self> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::invalid("concatenate", "no tensors"))?;
        let d = first.dtype;
        let mut s = first.shape.clone();
        s[axis] = tensors.iter().map(|t| t.shape[axis]).sum();
        exec1("concatenate", &[axis as i64], tensors, |p, a| {
            let tys: Vec<String> = tensors.iter().map(|t| ty(d, &t.shape)).collect();
            let r = p.let_(format!(
                "stablehlo.concatenate {}, dim = {axis} : ({}) -> {}",
                a.join(", "),
                tys.join(", "),
                ty(d, &s)
            ));
            Ok((r, d, s.clone()))
        })
    }
    fn index_select(&self, axis: usize, index: &Self) -> Result<Self> {
        let (d, s) = (self.dtype, &self.shape);
        let m = index.shape[0];
        let mut out = s.clone();
        out[axis] = m;
        if eager_core::shape::numel(&out) == 0 {
            return self.full(&out, Scalar::I64(0), d);
        }
        exec1("index_select", &[axis as i64], &[self, index], |p, a| {
            let idx = p.reshape(&a[1], DType::I64, &[m], &[m, 1]);
            let offset: Vec<usize> = (0..s.len()).filter(|&i| i != axis).collect();
            let sizes: Vec<usize> = (0..s.len())
                .map(|i| if i == axis { 1 } else { s[i] })
                .collect();
            let r = p.let_(format!(
                "\"stablehlo.gather\"({}, {idx}) {{dimension_numbers = #stablehlo.gather<offset_dims = [{}], collapsed_slice_dims = [{axis}], start_index_map = [{axis}], index_vector_dim = 1>, slice_sizes = array<i64: {}>, indices_are_sorted = false}} : ({}, {}) -> {}",
                a[0],
                dims_list(offset),
                dims_list(sizes),
                ty(d, s),
                ty(DType::I64, &[m, 1]),
                ty(d, &out)
            ));
            Ok((r, d, out.clone()))
        })
    }
    fn gather(&self, axis: usize, index: &Self) -> Result<Self> {
        let (d, s, is) = (self.dtype, &self.shape, &index.shape);
        if eager_core::shape::numel(is) == 0 {
            return self.full(is, Scalar::I64(0), d);
        }
        exec1("gather", &[axis as i64], &[self, index], |p, a| {
            let coords = p.along_axis_coords(&a[1], is, axis);
            Ok((p.gather_points(&a[0], d, s, &coords, is), d, is.clone()))
        })
    }
    fn scatter(&self, positions: &Self, values: &Self) -> Result<Self> {
        let (d, n, m) = (self.dtype, self.shape[0], positions.shape[0]);
        if m == 0 {
            return Ok(self.clone());
        }
        exec1("scatter", &[], &[self, positions, values], |p, a| {
            // The last write wins: each position takes the largest `i`
            // that writes it (a scatter-max of 0..m), then reads values[i].
            let none = p.full(DType::I64, -1.0, &[n]);
            let pos = p.reshape(&a[1], DType::I64, &[m], &[m, 1]);
            let ids = p.iota(0, DType::I64, &[m]);
            let winner = p.scatter_points(&none, DType::I64, &[n], &pos, &[m], &ids, "maximum");
            let zero = p.full(DType::I64, 0.0, &[n]);
            let written = p.cmp("GE", &winner, &zero, DType::I64, &[n]);
            let at = p.bin("maximum", &winner, &zero, DType::I64, &[n]);
            let at = p.reshape(&at, DType::I64, &[n], &[n, 1]);
            let v = p.gather_points(&a[2], d, &[m], &at, &[n]);
            Ok((p.select(&written, &v, &a[0], d, &[n]), d, vec![n]))
        })
    }
    fn scatter_add(&self, axis: usize, index: &Self, src: &Self) -> Result<Self> {
        let (d, s, is) = (self.dtype, &self.shape, &index.shape);
        if eager_core::shape::numel(is) == 0 {
            return Ok(self.clone());
        }
        exec1(
            "scatter_add",
            &[axis as i64],
            &[self, index, src],
            |p, a| {
                let coords = p.along_axis_coords(&a[1], is, axis);
                let add = if d == DType::Bool { "or" } else { "add" };
                Ok((
                    p.scatter_points(&a[0], d, s, &coords, is, &a[2], add),
                    d,
                    s.clone(),
                ))
            },
        )
    }
    fn nonzero(&self) -> Result<Self> {
        linalg::nonzero(self)
    }
    fn inv(&self) -> Result<Self> {
        linalg::inv(self)
    }
    fn slogdet(&self) -> Result<(Self, Self)> {
        linalg::slogdet(self)
    }
}

//! `BackendTensor` for XLA: each op is a small StableHLO program, compiled
//! once per (op, attributes, shapes, dtypes) — the program text is the cache
//! key — and executed on device buffers that stay on the device.

use crate::pjrt::{Buffer, Client, ElementType, PjrtError};
use crate::{client, hlo, ExecutableCache};
use eager_core::shape::SliceRange;
use eager_core::{
    ArgReduceOp, Backend, BackendTensor, BinaryOp, DType, Distribution, Error, HostData, ReduceOp,
    Result, Scalar, UnaryOp,
};
use eager_ndarray::NdTensor;
use std::sync::{Arc, OnceLock};

/// The native tensor of the XLA backend: a device buffer of the backend's
/// PJRT client, with its dtype and shape; shared on clone.
#[derive(Clone)]
pub struct XlaTensor {
    buf: Arc<Buffer>,
    dtype: DType,
    shape: Vec<usize>,
}

impl std::fmt::Debug for XlaTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "XlaTensor({}, {:?})", self.dtype, self.shape)
    }
}

impl XlaTensor {
    /// The device buffer.
    pub fn buffer(&self) -> &Arc<Buffer> {
        &self.buf
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

fn cache() -> &'static ExecutableCache {
    static CACHE: OnceLock<ExecutableCache> = OnceLock::new();
    CACHE.get_or_init(ExecutableCache::default)
}

fn et(d: DType) -> ElementType {
    match d {
        DType::Bool => ElementType::Pred,
        DType::U8 => ElementType::U8,
        DType::I32 => ElementType::S32,
        DType::I64 => ElementType::S64,
        DType::F32 => ElementType::F32,
        DType::F64 => ElementType::F64,
    }
}

fn ty(d: DType, shape: &[usize]) -> String {
    hlo::tensor(et(d), &shape.iter().map(|&x| x as i64).collect::<Vec<_>>())
}

/// Seeds the generator the backend draws from (the ndarray backend's,
/// per thread: values are drawn on the host and uploaded).
pub use eager_ndarray::seed;

/// A StableHLO program under construction: arguments, lines, results.
struct Prog {
    args: Vec<String>,
    lines: Vec<String>,
    n: usize,
}

impl Prog {
    fn new() -> Prog {
        Prog {
            args: Vec::new(),
            lines: Vec::new(),
            n: 0,
        }
    }
    fn arg(&mut self, d: DType, shape: &[usize]) -> String {
        let name = format!("%a{}", self.args.len());
        self.args.push(format!("{name}: {}", ty(d, shape)));
        name
    }
    /// Adds `%vN = <rhs>` and returns `%vN`.
    fn let_(&mut self, rhs: String) -> String {
        let v = format!("%v{}", self.n);
        self.n += 1;
        self.lines.push(format!("  {v} = {rhs}"));
        v
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
        let kind = match d {
            DType::F32 | DType::F64 => "FLOAT",
            DType::I32 | DType::I64 => "SIGNED",
            DType::U8 | DType::Bool => "UNSIGNED",
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
    /// A constant of dtype `d` broadcast to `s`.
    fn full(&mut self, d: DType, v: f64, s: &[usize]) -> String {
        let lit = match d {
            DType::F32 => format!("0x{:08X}", (v as f32).to_bits()),
            DType::F64 => format!("0x{:016X}", v.to_bits()),
            DType::Bool => (if v != 0.0 { "true" } else { "false" }).to_string(),
            _ => format!("{}", v as i64),
        };
        let c = self.let_(format!("stablehlo.constant dense<{lit}> : {}", ty(d, &[])));
        if s.is_empty() {
            return c;
        }
        self.let_(format!(
            "stablehlo.broadcast_in_dim {c}, dims = [] : ({}) -> {}",
            ty(d, &[]),
            ty(d, s)
        ))
    }
    fn bcast(&mut self, x: &str, d: DType, from: &[usize], to: &[usize]) -> String {
        if from == to {
            return x.to_string();
        }
        let off = to.len() - from.len();
        let dims: Vec<String> = (0..from.len()).map(|i| (i + off).to_string()).collect();
        self.let_(format!(
            "stablehlo.broadcast_in_dim {x}, dims = [{}] : ({}) -> {}",
            dims.join(", "),
            ty(d, from),
            ty(d, to)
        ))
    }
    fn convert(&mut self, x: &str, from: DType, to: DType, s: &[usize]) -> String {
        if from == to {
            return x.to_string();
        }
        self.let_(format!(
            "stablehlo.convert {x} : ({}) -> {}",
            ty(from, s),
            ty(to, s)
        ))
    }
    fn text(&self, results: &[(&str, DType, &[usize])]) -> String {
        let rets: Vec<&str> = results.iter().map(|r| r.0).collect();
        let tys: Vec<String> = results.iter().map(|r| ty(r.1, r.2)).collect();
        format!(
            "func.func @main({}) -> ({}) {{\n{}\n  return {} : {}\n}}\n",
            self.args.join(", "),
            tys.join(", "),
            self.lines.join("\n"),
            rets.join(", "),
            tys.join(", ")
        )
    }
}

/// Compiles (once) and runs `prog` on `inputs`; one output of `d`/`s`.
fn run(
    op: &'static str,
    prog: &Prog,
    result: &str,
    inputs: &[&XlaTensor],
    d: DType,
    s: &[usize],
) -> Result<XlaTensor> {
    let c = rt(op)?;
    let text = prog.text(&[(result, d, s)]);
    let exe = cache().get(&c, &text).map_err(fw(op))?;
    let bufs: Vec<&Buffer> = inputs.iter().map(|t| t.buf.as_ref()).collect();
    let dims: Vec<i64> = s.iter().map(|&x| x as i64).collect();
    let mut out = exe.execute(&bufs, &[(et(d), dims)]).map_err(fw(op))?;
    let buf = out.pop().ok_or_else(|| Error::Framework {
        op,
        backend: Backend::Xla,
        msg: "no result".into(),
    })?;
    Ok(XlaTensor {
        buf: Arc::new(buf),
        dtype: d,
        shape: s.to_vec(),
    })
}

fn upload(op: &'static str, data: &HostData, shape: &[usize]) -> Result<XlaTensor> {
    let c = rt(op)?;
    let bytes: Vec<u8> = match data {
        HostData::Bool(v) => v.iter().map(|&b| b as u8).collect(),
        HostData::U8(v) => v.clone(),
        HostData::I32(v) => v.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        HostData::I64(v) => v.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        HostData::F32(v) => v.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        HostData::F64(v) => v.iter().flat_map(|x| x.to_ne_bytes()).collect(),
    };
    let d = data.dtype();
    let dims: Vec<i64> = shape.iter().map(|&x| x as i64).collect();
    let buf = c.buffer(&bytes, et(d), &dims).map_err(fw(op))?;
    Ok(XlaTensor {
        buf: Arc::new(buf),
        dtype: d,
        shape: shape.to_vec(),
    })
}

/// A host copy as an ndarray tensor, for the ops still computed there.
fn host(t: &XlaTensor) -> Result<NdTensor> {
    NdTensor::from_host(t.to_host()?, &t.shape)
}

fn from_nd(t: &NdTensor) -> Result<XlaTensor> {
    upload("host op", &t.to_host()?, t.shape())
}

fn max_of(d: DType) -> f64 {
    match d {
        DType::U8 => 255.0,
        DType::I32 => i32::MAX as f64,
        DType::I64 => i64::MAX as f64,
        DType::Bool => 1.0,
        _ => f64::INFINITY,
    }
}

fn min_of(d: DType) -> f64 {
    match d {
        DType::U8 | DType::Bool => 0.0,
        DType::I32 => i32::MIN as f64,
        DType::I64 => i64::MIN as f64,
        _ => f64::NEG_INFINITY,
    }
}

impl XlaTensor {
    fn unary_prog(&self, op: UnaryOp) -> Result<XlaTensor> {
        use UnaryOp::*;
        let (d, s) = (self.dtype, self.shape.clone());
        let mut p = Prog::new();
        let x = p.arg(d, &s);
        let float = d.is_float();
        let mut out_d = d;
        let r = match op {
            Abs if d == DType::U8 => return Ok(self.clone()),
            Abs => p.un("stablehlo.abs", &x, d, &s),
            Neg if d == DType::U8 => {
                let z = p.full(d, 0.0, &s);
                p.bin("subtract", &z, &x, d, &s)
            }
            Neg => p.un("stablehlo.negate", &x, d, &s),
            Sign if d == DType::U8 => {
                let z = p.full(d, 0.0, &s);
                let one = p.full(d, 1.0, &s);
                let pos = p.cmp("GT", &x, &z, d, &s);
                p.select(&pos, &one, &z, d, &s)
            }
            Sign => p.un("stablehlo.sign", &x, d, &s),
            Sqrt => p.un("stablehlo.sqrt", &x, d, &s),
            Square => p.bin("multiply", &x, &x, d, &s),
            Exp => p.un("stablehlo.exponential", &x, d, &s),
            Log => p.un("stablehlo.log", &x, d, &s),
            Log2 | Log10 => {
                let l = p.un("stablehlo.log", &x, d, &s);
                let base = if op == Log2 {
                    std::f64::consts::LN_2
                } else {
                    std::f64::consts::LN_10
                };
                let b = p.full(d, base, &s);
                p.bin("divide", &l, &b, d, &s)
            }
            Log1p => p.un("stablehlo.log_plus_one", &x, d, &s),
            Sin => p.un("stablehlo.sine", &x, d, &s),
            Cos => p.un("stablehlo.cosine", &x, d, &s),
            Tan => p.un("stablehlo.tan", &x, d, &s),
            Sinh => p.chlo("sinh", &x, d, &s),
            Cosh => p.chlo("cosh", &x, d, &s),
            Tanh => p.un("stablehlo.tanh", &x, d, &s),
            Arcsin => p.chlo("asin", &x, d, &s),
            Arccos => p.chlo("acos", &x, d, &s),
            Arctan => p.chlo("atan", &x, d, &s),
            Arcsinh => p.chlo("asinh", &x, d, &s),
            Arccosh => p.chlo("acosh", &x, d, &s),
            Arctanh => p.chlo("atanh", &x, d, &s),
            // XLA's round_nearest_even is NumPy's half-to-even rounding.
            Round if float => p.un("stablehlo.round_nearest_even", &x, d, &s),
            Ceil if float => p.un("stablehlo.ceil", &x, d, &s),
            Floor if float => p.un("stablehlo.floor", &x, d, &s),
            Round | Ceil | Floor => return Ok(self.clone()),
            IsNan => {
                out_d = DType::Bool;
                p.cmp("NE", &x, &x, d, &s)
            }
            IsInf => {
                out_d = DType::Bool;
                let a = p.un("stablehlo.abs", &x, d, &s);
                let inf = p.full(d, f64::INFINITY, &s);
                p.cmp("EQ", &a, &inf, d, &s)
            }
            LogicalNot => p.un("stablehlo.not", &x, d, &s),
            Sigmoid => p.un("stablehlo.logistic", &x, d, &s),
            Relu => {
                let z = p.full(d, 0.0, &s);
                p.bin("maximum", &x, &z, d, &s)
            }
        };
        run(op.name(), &p, &r, &[self], out_d, &s)
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
            let res = if d == DType::U8 {
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
        let b = self.buf.to_host().map_err(fw("to_vec"))?;
        fn chunks<const N: usize, T>(b: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
            b.chunks_exact(N)
                .map(|c| f(c.try_into().unwrap_or([0; N])))
                .collect()
        }
        Ok(match self.dtype {
            DType::Bool => HostData::Bool(b.iter().map(|&x| x != 0).collect()),
            DType::U8 => HostData::U8(b),
            DType::I32 => HostData::I32(chunks(&b, i32::from_ne_bytes)),
            DType::I64 => HostData::I64(chunks(&b, i64::from_ne_bytes)),
            DType::F32 => HostData::F32(chunks(&b, f32::from_ne_bytes)),
            DType::F64 => HostData::F64(chunks(&b, f64::from_ne_bytes)),
        })
    }
    fn full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<Self> {
        let n = eager_core::shape::numel(shape);
        upload("full", &HostData::filled("full", value, dtype, n)?, shape)
    }
    fn random(&self, dist: Distribution, shape: &[usize], dtype: DType) -> Result<Self> {
        upload(
            "random",
            &eager_ndarray::sample(dist, eager_core::shape::numel(shape), dtype)?,
            shape,
        )
    }

    fn unary(&self, op: UnaryOp) -> Result<Self> {
        self.unary_prog(op)
    }
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Result<Self> {
        use BinaryOp::*;
        let name = op.name();
        let d = self.dtype;
        let s = eager_core::shape::broadcast_shapes(name, &self.shape, &rhs.shape)?;
        let mut p = Prog::new();
        let a0 = p.arg(d, &self.shape);
        let b0 = p.arg(d, &rhs.shape);
        let a = p.bcast(&a0, d, &self.shape, &s);
        let b = p.bcast(&b0, d, &rhs.shape, &s);
        let boolean = d == DType::Bool;
        let (r, out_d) = match op {
            Add => (p.bin("add", &a, &b, d, &s), d),
            Sub => (p.bin("subtract", &a, &b, d, &s), d),
            Mul => (p.bin("multiply", &a, &b, d, &s), d),
            Div => (p.bin("divide", &a, &b, d, &s), d),
            FloorDiv => (Self::divmod(&mut p, &a, &b, d, &s, true), d),
            Rem => (Self::divmod(&mut p, &a, &b, d, &s, false), d),
            Pow => (p.bin("power", &a, &b, d, &s), d),
            Minimum | LogicalAnd if boolean => (p.bin("and", &a, &b, d, &s), d),
            Maximum | LogicalOr if boolean => (p.bin("or", &a, &b, d, &s), d),
            Minimum | Maximum => {
                let m = p.bin(
                    if op == Minimum { "minimum" } else { "maximum" },
                    &a,
                    &b,
                    d,
                    &s,
                );
                if d.is_float() {
                    // This XLA's min/max drop NaN; NumPy's (and ours) propagate it.
                    let an = p.cmp("NE", &a, &a, d, &s);
                    let bn = p.cmp("NE", &b, &b, d, &s);
                    let nan = p.bin("or", &an, &bn, DType::Bool, &s);
                    let sum = p.bin("add", &a, &b, d, &s);
                    (p.select(&nan, &sum, &m, d, &s), d)
                } else {
                    (m, d)
                }
            }
            LogicalAnd => (p.bin("and", &a, &b, d, &s), d),
            LogicalOr => (p.bin("or", &a, &b, d, &s), d),
            Lt => (p.cmp("LT", &a, &b, d, &s), DType::Bool),
            Le => (p.cmp("LE", &a, &b, d, &s), DType::Bool),
            Gt => (p.cmp("GT", &a, &b, d, &s), DType::Bool),
            Ge => (p.cmp("GE", &a, &b, d, &s), DType::Bool),
            Eq => (p.cmp("EQ", &a, &b, d, &s), DType::Bool),
            Ne => (p.cmp("NE", &a, &b, d, &s), DType::Bool),
        };
        run(name, &p, &r, &[self, rhs], out_d, &s)
    }
    fn where_cond(&self, x: &Self, y: &Self) -> Result<Self> {
        let op = "where_cond";
        let s = eager_core::shape::broadcast_shapes(op, &self.shape, &x.shape)?;
        let s = eager_core::shape::broadcast_shapes(op, &s, &y.shape)?;
        let d = x.dtype;
        let mut p = Prog::new();
        let c0 = p.arg(DType::Bool, &self.shape);
        let x0 = p.arg(d, &x.shape);
        let y0 = p.arg(d, &y.shape);
        let c = p.bcast(&c0, DType::Bool, &self.shape, &s);
        let xb = p.bcast(&x0, d, &x.shape, &s);
        let yb = p.bcast(&y0, d, &y.shape, &s);
        let r = p.select(&c, &xb, &yb, d, &s);
        run(op, &p, &r, &[self, x, y], d, &s)
    }
    fn cast(&self, dtype: DType) -> Result<Self> {
        if dtype == self.dtype {
            return Ok(self.clone());
        }
        let (d, s) = (self.dtype, self.shape.clone());
        let mut p = Prog::new();
        let x = p.arg(d, &s);
        let r = if dtype == DType::Bool {
            let z = p.full(d, 0.0, &s);
            p.cmp("NE", &x, &z, d, &s)
        } else if d.is_float() && dtype.is_int() {
            // NaN and out-of-range floats saturate (NaN -> 0), as on every backend.
            let hi = if dtype == DType::I64 {
                9.223_372_036_854_775e18
            } else {
                max_of(dtype)
            };
            let lo = p.full(d, min_of(dtype), &s);
            let hi = p.full(d, hi, &s);
            let ty_ = ty(d, &s);
            let c = p.let_(format!("stablehlo.clamp {lo}, {x}, {hi} : {ty_}"));
            let nan = p.cmp("NE", &x, &x, d, &s);
            let z = p.full(d, 0.0, &s);
            let clean = p.select(&nan, &z, &c, d, &s);
            p.convert(&clean, d, dtype, &s)
        } else {
            p.convert(&x, d, dtype, &s)
        };
        run("astype", &p, &r, &[self], dtype, &s)
    }

    fn reduce(&self, op: ReduceOp, axes: &[usize], keepdims: bool) -> Result<Self> {
        if axes.is_empty() {
            return Ok(self.clone());
        }
        let (d, s) = (self.dtype, self.shape.clone());
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
        let out: Vec<usize> = s
            .iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, &n)| n)
            .collect();
        let mut p = Prog::new();
        let x = p.arg(d, &s);
        let i = p.full(d, init, &[]);
        let dims: Vec<String> = axes.iter().map(|a| a.to_string()).collect();
        let mut r = p.let_(format!(
            "stablehlo.reduce({x} init: {i}) applies stablehlo.{body} across dimensions = [{}] : ({}, {}) -> {}",
            dims.join(", "),
            ty(d, &s),
            ty(d, &[]),
            ty(d, &out)
        ));
        if matches!(op, ReduceOp::Min | ReduceOp::Max) && d.is_float() {
            // Put NaN back where a reduced slice had one (NumPy propagates it).
            let isnan = p.cmp("NE", &x, &x, d, &s);
            let f = p.full(DType::Bool, 0.0, &[]);
            let anynan = p.let_(format!(
                "stablehlo.reduce({isnan} init: {f}) applies stablehlo.or across dimensions = [{}] : ({}, {}) -> {}",
                dims.join(", "),
                ty(DType::Bool, &s),
                ty(DType::Bool, &[]),
                ty(DType::Bool, &out)
            ));
            let nan = p.full(d, f64::NAN, &out);
            r = p.select(&anynan, &nan, &r, d, &out);
        }
        if op == ReduceOp::Mean {
            let count: usize = axes.iter().map(|&a| s[a]).product();
            let c = p.full(d, count as f64, &out);
            r = p.bin("divide", &r, &c, d, &out);
        }
        let mut final_shape = out.clone();
        if keepdims {
            final_shape = s
                .iter()
                .enumerate()
                .map(|(i, &n)| if axes.contains(&i) { 1 } else { n })
                .collect();
            r = p.let_(format!(
                "stablehlo.reshape {r} : ({}) -> {}",
                ty(d, &out),
                ty(d, &final_shape)
            ));
        }
        run("reduce", &p, &r, &[self], d, &final_shape)
    }
    fn arg_reduce(&self, op: ArgReduceOp, axis: usize) -> Result<Self> {
        from_nd(&host(self)?.arg_reduce(op, axis)?)
    }
    fn sort(&self, axis: usize, descending: bool) -> Result<Self> {
        from_nd(&BackendTensor::sort(&host(self)?, axis, descending)?)
    }
    fn argsort(&self, axis: usize, descending: bool) -> Result<Self> {
        from_nd(&BackendTensor::argsort(&host(self)?, axis, descending)?)
    }
    fn cumsum(&self, axis: usize) -> Result<Self> {
        from_nd(&BackendTensor::cumsum(&host(self)?, axis)?)
    }
    fn matmul(&self, rhs: &Self) -> Result<Self> {
        let d = self.dtype;
        let nd = self.shape.len();
        let mut s = self.shape[..nd - 2].to_vec();
        s.extend([self.shape[nd - 2], rhs.shape[nd - 1]]);
        let mut p = Prog::new();
        let a = p.arg(d, &self.shape);
        let b = p.arg(d, &rhs.shape);
        let batch: Vec<String> = (0..nd - 2).map(|i| i.to_string()).collect();
        let batching = if batch.is_empty() {
            String::new()
        } else {
            format!("batching_dims = [{0}] x [{0}], ", batch.join(", "))
        };
        let r = p.let_(format!(
            "stablehlo.dot_general {a}, {b}, {batching}contracting_dims = [{}] x [{}] : ({}, {}) -> {}",
            nd - 1,
            nd - 2,
            ty(d, &self.shape),
            ty(d, &rhs.shape),
            ty(d, &s)
        ));
        run("matmul", &p, &r, &[self, rhs], d, &s)
    }

    fn reshape(&self, shape: &[usize]) -> Result<Self> {
        let d = self.dtype;
        let mut p = Prog::new();
        let x = p.arg(d, &self.shape);
        let r = p.let_(format!(
            "stablehlo.reshape {x} : ({}) -> {}",
            ty(d, &self.shape),
            ty(d, shape)
        ));
        run("reshape", &p, &r, &[self], d, shape)
    }
    fn permute(&self, axes: &[usize]) -> Result<Self> {
        let d = self.dtype;
        let s: Vec<usize> = axes.iter().map(|&a| self.shape[a]).collect();
        let mut p = Prog::new();
        let x = p.arg(d, &self.shape);
        let dims: Vec<String> = axes.iter().map(|a| a.to_string()).collect();
        let r = p.let_(format!(
            "stablehlo.transpose {x}, dims = [{}] : ({}) -> {}",
            dims.join(", "),
            ty(d, &self.shape),
            ty(d, &s)
        ));
        run("permute", &p, &r, &[self], d, &s)
    }
    fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        let d = self.dtype;
        let mut p = Prog::new();
        let x = p.arg(d, &self.shape);
        let r = p.bcast(&x, d, &self.shape, shape);
        if r == x {
            return Ok(self.clone());
        }
        run("broadcast_to", &p, &r, &[self], d, shape)
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
        let mut p = Prog::new();
        let x = p.arg(d, &self.shape);
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
            "stablehlo.slice {x} [{}] : ({}) -> {}",
            spec.join(", "),
            ty(d, &self.shape),
            ty(d, &s)
        ));
        run("slice", &p, &r, &[self], d, &s)
    }
    fn flip(&self, axes: &[usize]) -> Result<Self> {
        if axes.is_empty() {
            return Ok(self.clone());
        }
        let d = self.dtype;
        let mut p = Prog::new();
        let x = p.arg(d, &self.shape);
        let dims: Vec<String> = axes.iter().map(|a| a.to_string()).collect();
        let r = p.let_(format!(
            "stablehlo.reverse {x}, dims = [{}] : {}",
            dims.join(", "),
            ty(d, &self.shape)
        ));
        run("flip", &p, &r, &[self], d, &self.shape)
    }
    fn concat(tensors: &[&Self], axis: usize) -> Result<Self> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::invalid("concatenate", "no tensors"))?;
        let d = first.dtype;
        let mut s = first.shape.clone();
        s[axis] = tensors.iter().map(|t| t.shape[axis]).sum();
        let mut p = Prog::new();
        let names: Vec<String> = tensors.iter().map(|t| p.arg(d, &t.shape)).collect();
        let tys: Vec<String> = tensors.iter().map(|t| ty(d, &t.shape)).collect();
        let r = p.let_(format!(
            "stablehlo.concatenate {}, dim = {axis} : ({}) -> {}",
            names.join(", "),
            tys.join(", "),
            ty(d, &s)
        ));
        run("concatenate", &p, &r, tensors, d, &s)
    }
    fn index_select(&self, axis: usize, index: &Self) -> Result<Self> {
        from_nd(&host(self)?.index_select(axis, &host(index)?)?)
    }
    fn gather(&self, axis: usize, index: &Self) -> Result<Self> {
        from_nd(&host(self)?.gather(axis, &host(index)?)?)
    }
    fn scatter(&self, positions: &Self, values: &Self) -> Result<Self> {
        from_nd(&host(self)?.scatter(&host(positions)?, &host(values)?)?)
    }
    fn scatter_add(&self, axis: usize, index: &Self, src: &Self) -> Result<Self> {
        from_nd(&host(self)?.scatter_add(axis, &host(index)?, &host(src)?)?)
    }
    fn nonzero(&self) -> Result<Self> {
        from_nd(&host(self)?.nonzero()?)
    }
    fn inv(&self) -> Result<Self> {
        from_nd(&host(self)?.inv()?)
    }
    fn slogdet(&self) -> Result<(Self, Self)> {
        let (s, l) = host(self)?.slogdet()?;
        Ok((from_nd(&s)?, from_nd(&l)?))
    }
}

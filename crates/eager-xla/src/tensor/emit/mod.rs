//! The StableHLO emitter: a program under construction ([`Prog`]) and the
//! lowering helpers every op uses (element-wise ops, comparisons, constants,
//! broadcasts, converts, the f16/bf16 widening, reductions, sorting
//! comparators, gathers and scatters, arg-reductions). Both paths build
//! programs with it: the eager path compiles one small program per op
//! (`exec` in `tensor.rs`), and [`jit`](super::jit) emits every op of a
//! traced function into one program. An op's lowering is the `build`
//! closure it hands to `exec`, the same on both paths.

mod arith;
mod reduce;
mod structural;

use crate::hlo;
use crate::pjrt::ElementType;
use eager_core::DType;

/// A program result: SSA name, dtype, shape.
pub(super) type Out = (String, DType, Vec<usize>);

pub(super) fn et(d: DType) -> ElementType {
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
pub(super) fn compute_dtype(d: DType) -> DType {
    if d.is_half() {
        DType::F32
    } else {
        d
    }
}

pub(super) fn ty(d: DType, shape: &[usize]) -> String {
    hlo::tensor(et(d), &shape.iter().map(|&x| x as i64).collect::<Vec<_>>())
}

/// A StableHLO program under construction: arguments, lines (a stack: the
/// top is the region being written), results.
pub(super) struct Prog {
    args: Vec<String>,
    lines: Vec<Vec<String>>,
    n: usize,
}

impl Prog {
    pub(super) fn new() -> Prog {
        Prog {
            args: Vec::new(),
            lines: vec![Vec::new()],
            n: 0,
        }
    }
    pub(super) fn arg(&mut self, d: DType, shape: &[usize]) -> String {
        let name = format!("%a{}", self.args.len());
        self.args.push(format!("{name}: {}", ty(d, shape)));
        name
    }
    /// Marks parameter `arg` as aliasing result `out` (`tf.aliasing_output`):
    /// the executable may write that result into the parameter's buffer
    /// (donation).
    pub(super) fn alias(&mut self, arg: usize, out: usize) {
        if let Some(a) = self.args.get_mut(arg) {
            a.push_str(&format!(" {{tf.aliasing_output = {out} : i32}}"));
        }
    }
    pub(super) fn fresh(&mut self) -> String {
        self.n += 1;
        format!("%v{}", self.n - 1)
    }
    pub(super) fn push(&mut self, line: String) {
        let depth = self.lines.len();
        if let Some(top) = self.lines.last_mut() {
            top.push(format!("{}{line}", "  ".repeat(depth)));
        }
    }
    /// Adds `%vN = <rhs>` and returns `%vN`.
    pub(super) fn let_(&mut self, rhs: String) -> String {
        let v = self.fresh();
        self.push(format!("{v} = {rhs}"));
        v
    }
    /// Adds `%vN:k = <rhs>` and returns `%vN#0 .. %vN#k-1`.
    pub(super) fn let_n(&mut self, rhs: String, k: usize) -> Vec<String> {
        let v = self.fresh();
        self.push(format!("{v}:{k} = {rhs}"));
        (0..k).map(|i| format!("{v}#{i}")).collect()
    }
    /// A region `({ ^bb0(params): body; return })` of 0-d `params`; `body`
    /// gets the parameter names and returns the results.
    pub(super) fn region(
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
    pub(super) fn region_of(
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
    /// `stablehlo.<op>` of one operand (`"tanh"`, `"not"`, ...).
    pub(super) fn un(&mut self, op: &str, x: &str, d: DType, s: &[usize]) -> String {
        let t = ty(d, s);
        self.let_(format!("stablehlo.{op} {x} : {t}"))
    }
    pub(super) fn chlo(&mut self, op: &str, x: &str, d: DType, s: &[usize]) -> String {
        let t = ty(d, s);
        self.let_(format!("chlo.{op} {x} : {t} -> {t}"))
    }
    pub(super) fn bin(&mut self, op: &str, a: &str, b: &str, d: DType, s: &[usize]) -> String {
        let t = ty(d, s);
        self.let_(format!("stablehlo.{op} {a}, {b} : {t}"))
    }
    pub(super) fn cmp(&mut self, dir: &str, a: &str, b: &str, d: DType, s: &[usize]) -> String {
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
    pub(super) fn select(&mut self, c: &str, a: &str, b: &str, d: DType, s: &[usize]) -> String {
        let (tc, t) = (ty(DType::Bool, s), ty(d, s));
        self.let_(format!("stablehlo.select {c}, {a}, {b} : {tc}, {t}"))
    }
    /// Indices along `dim` of shape `s`.
    pub(super) fn iota(&mut self, dim: usize, d: DType, s: &[usize]) -> String {
        self.let_(format!("stablehlo.iota dim = {dim} : {}", ty(d, s)))
    }
    /// `op x : (from) -> to`, or `x` itself when the types are equal
    /// (reshape, convert).
    pub(super) fn retype(&mut self, op: &str, x: &str, from: String, to: String) -> String {
        if from == to {
            return x.to_string();
        }
        self.let_(format!("stablehlo.{op} {x} : ({from}) -> {to}"))
    }
    pub(super) fn reshape(&mut self, x: &str, d: DType, from: &[usize], to: &[usize]) -> String {
        self.retype("reshape", x, ty(d, from), ty(d, to))
    }
    /// A constant of dtype `d` broadcast to `s`. Floats round to nearest;
    /// integers saturate (so the `f64` nearest a dtype's bound, as
    /// [`max_of`] gives it, is the bound itself, `u64::MAX` included).
    pub(super) fn full(&mut self, d: DType, v: f64, s: &[usize]) -> String {
        let lit = match d {
            DType::F16 => format!("0x{:04X}", eager_core::round::f16_from_f64(v).to_bits()),
            DType::BF16 => format!("0x{:04X}", eager_core::round::bf16_from_f64(v).to_bits()),
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
    pub(super) fn bcast(&mut self, x: &str, d: DType, from: &[usize], to: &[usize]) -> String {
        if from == to {
            return x.to_string();
        }
        let off = to.len() - from.len();
        let dims: Vec<usize> = (0..from.len()).map(|i| i + off).collect();
        self.bcast_in(x, d, from, to, &dims)
    }
    /// `broadcast_in_dim`: axis `i` of `x` becomes axis `dims[i]` of `to`.
    pub(super) fn bcast_in(
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
    pub(super) fn convert(&mut self, x: &str, from: DType, to: DType, s: &[usize]) -> String {
        self.retype("convert", x, ty(from, s), ty(to, s))
    }
    /// `convert` to a float with the rounding of `eager_core::round` (the
    /// reference libraries'), the same on every CPU. XLA's CPU compiler
    /// lowers a `convert` to f16 or bf16 for the instruction set it runs
    /// on: f64 → f16 rounds once where the CPU converts directly
    /// (AVX512-FP16) and twice, through f32, elsewhere. So the steps are
    /// spelled out here, each one correctly rounded on any CPU:
    ///
    /// - to f16 from f64: f64 → f32 rounded to odd, then f32 → f16 (one
    ///   correct rounding, as `round::f16_from_f64`);
    /// - to f16 or bf16 from anything but f32: through f32 (integers are
    ///   exact in f32 wherever f16 is finite; bf16 rounds twice from f64
    ///   and integers, as ml_dtypes and JAX do);
    /// - anything else: one `convert`.
    pub(super) fn convert_float(&mut self, x: &str, from: DType, to: DType, s: &[usize]) -> String {
        if !to.is_half() || from == DType::F32 || from == to || from == DType::Bool {
            return self.convert(x, from, to, s);
        }
        let f32 = if from == DType::F64 && to == DType::F16 {
            self.f64_to_f32_odd(x, s)
        } else {
            self.convert(x, from, DType::F32, s)
        };
        self.convert(&f32, DType::F32, to, s)
    }
    /// `x` (f64) rounded to f32 with round-to-odd: exact values are kept;
    /// an inexact one becomes whichever neighbouring f32 has an odd last
    /// bit (see `eager_core::round`).
    fn f64_to_f32_odd(&mut self, x: &str, s: &[usize]) -> String {
        let (f, d, u) = (DType::F32, DType::F64, DType::U32);
        let r = self.convert(x, d, f, s);
        let back = self.convert(&r, f, d, s);
        let inexact = self.cmp("NE", &back, x, d, s);
        let (ab, ax) = (self.un("abs", &back, d, s), self.un("abs", x, d, s));
        let away = self.cmp("GT", &ab, &ax, d, s);
        let bits = self.retype("bitcast_convert", &r, ty(f, s), ty(u, s));
        let one = self.full(u, 1.0, s);
        let low = self.bin("and", &bits, &one, u, s);
        let even = self.cmp("NE", &low, &one, u, s);
        let down = self.bin("subtract", &bits, &one, u, s);
        let up = self.bin("add", &bits, &one, u, s);
        let nudged = self.select(&away, &down, &up, u, s);
        // A NaN is unequal to itself but needs no nudge.
        let not_nan = self.cmp("EQ", x, x, d, s);
        let fix = self.bin("and", &inexact, &even, DType::Bool, s);
        let fix = self.bin("and", &fix, &not_nan, DType::Bool, s);
        let odd = self.select(&fix, &nudged, &bits, u, s);
        self.retype("bitcast_convert", &odd, ty(u, s), ty(f, s))
    }
    /// `x` (dtype `d`, shape `s`) in the dtype computations on `d` run in
    /// ([`compute_dtype`]), and that dtype.
    pub(super) fn widen(&mut self, x: &str, d: DType, s: &[usize]) -> (String, DType) {
        let cd = compute_dtype(d);
        if cd == d {
            return (x.to_string(), d);
        }
        (self.convert(x, d, cd, s), cd)
    }
    /// A result `r` of dtype `rd` computed for inputs of dtype `d`, back in
    /// `d` when it is `d`'s compute dtype (a 16-bit float rounds once);
    /// other results (bool, indices) stay as they are.
    pub(super) fn narrow(&mut self, r: &str, rd: DType, d: DType, s: &[usize]) -> (String, DType) {
        if rd != d && rd == compute_dtype(d) {
            (self.convert(r, rd, d, s), d)
        } else {
            (r.to_string(), rd)
        }
    }
    pub(super) fn text(&self, results: &[Out]) -> String {
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

/// The largest value of `d` (inf for floats), as the nearest `f64`
/// ([`Prog::full`] saturates it back to the exact bound).
pub(super) fn max_of(d: DType) -> f64 {
    d.int_range().map_or(f64::INFINITY, |(_, hi)| hi as f64)
}

/// The smallest value of `d` (-inf for floats).
pub(super) fn min_of(d: DType) -> f64 {
    d.int_range().map_or(f64::NEG_INFINITY, |(lo, _)| lo as f64)
}

pub(super) fn dims_list(v: impl IntoIterator<Item = usize>) -> String {
    v.into_iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `shape` without `axis`.
pub(super) fn without(shape: &[usize], axis: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    s.remove(axis);
    s
}

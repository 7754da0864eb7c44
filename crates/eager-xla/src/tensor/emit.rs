//! The StableHLO emitter: a program under construction ([`Prog`]) and the
//! lowering helpers every op uses (element-wise ops, comparisons, constants,
//! broadcasts, converts, the f16/bf16 widening, reductions, sorting
//! comparators, gathers and scatters, arg-reductions). Both paths build
//! programs with it: the eager path compiles one small program per op
//! (`exec` in `tensor.rs`), and [`jit`](super::jit) emits every op of a
//! traced function into one program. An op's lowering is the `build`
//! closure it hands to `exec`, the same on both paths.

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

impl Prog {
    /// `stablehlo.reduce` of `x` (dtype `d`, shape `s`) over `axes` with a
    /// named body op (`add`, `maximum`, ...) and an initial value.
    pub(super) fn reduce_by(
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
    pub(super) fn sorts_before(&mut self, a: &str, b: &str, d: DType, descending: bool) -> String {
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
    pub(super) fn along_axis_coords(&mut self, idx: &str, is: &[usize], axis: usize) -> String {
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
    pub(super) fn gather_points(
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
    pub(super) fn scatter_points(
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
    pub(super) fn arg_best(
        &mut self,
        x: &str,
        d: DType,
        s: &[usize],
        axis: usize,
        max: bool,
    ) -> String {
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
                let b_num = p.un("not", &bn, DType::Bool, &[]);
                let a_num = p.un("not", &an, DType::Bool, &[]);
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

/// Integer arithmetic lowerings NumPy's rules need.
impl Prog {
    /// Integer `a ** b` (b >= 0, checked by the facade) wrapping like
    /// NumPy's: square-and-multiply over every bit of the exponent. XLA's
    /// own integer `power` looks at the low 6 bits of the exponent only
    /// (`7 ** 1000` and `0 ** 128` came out wrong).
    pub(super) fn int_pow(&mut self, a: &str, b: &str, d: DType, s: &[usize]) -> String {
        let p = self;
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
    pub(super) fn divmod(
        &mut self,
        a: &str,
        b: &str,
        d: DType,
        s: &[usize],
        floor_div: bool,
    ) -> String {
        let p = self;
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
            let sb = p.un("sign", b, d, s);
            let signed_zero = p.bin("multiply", &sb, &zero, d, s);
            let rz = p.cmp("EQ", &r, &zero, d, s);
            return p.select(&rz, &signed_zero, &r, d, s);
        }
        let am = p.bin("subtract", a, &m, d, s);
        let div = p.bin("divide", &am, b, d, s);
        let div1 = p.bin("subtract", &div, &one, d, s);
        let div = p.select(&adj, &div1, &div, d, s);
        let fl = p.un("floor", &div, d, s);
        let frac = p.bin("subtract", &div, &fl, d, s);
        let half = p.full(d, 0.5, s);
        let up = p.cmp("GT", &frac, &half, d, s);
        let fl1 = p.bin("add", &fl, &one, d, s);
        let fl = p.select(&up, &fl1, &fl, d, s);
        let q = p.bin("divide", a, b, d, s);
        let sq = p.un("sign", &q, d, s);
        let signed_zero = p.bin("multiply", &sq, &zero, d, s);
        let dz = p.cmp("EQ", &div, &zero, d, s);
        let res = p.select(&dz, &signed_zero, &fl, d, s);
        let b0 = p.cmp("EQ", b, &zero, d, s);
        p.select(&b0, &q, &res, d, s)
    }
}

/// Structural ops: the program text of the per-op lowerings in `tensor.rs`
/// (sort, transpose, slice, reverse, concatenate, gather along an axis,
/// matmul's `dot_general`, pad as a shift, clamp, barrier), so no program
/// text is written outside this module.
impl Prog {
    /// A stable sort of `x` (dtype `d`, shape `s`) along `axis` by the
    /// comparator region `cmp`.
    pub(super) fn sort(
        &mut self,
        x: &str,
        cmp: &str,
        axis: usize,
        d: DType,
        s: &[usize],
    ) -> String {
        let t = ty(d, s);
        self.let_(format!(
            "\"stablehlo.sort\"({x}) {cmp} {{dimension = {axis} : i64, is_stable = true}} : ({t}) -> {t}"
        ))
    }
    /// A stable sort of `x` with the i64 positions `iota` along `axis` by
    /// `cmp` (a region over both pairs): the positions in sorted order.
    pub(super) fn sort_positions(
        &mut self,
        x: &str,
        iota: &str,
        cmp: &str,
        axis: usize,
        d: DType,
        s: &[usize],
    ) -> String {
        let (t, ti) = (ty(d, s), ty(DType::I64, s));
        let r = self.let_n(
            format!(
                "\"stablehlo.sort\"({x}, {iota}) {cmp} {{dimension = {axis} : i64, is_stable = true}} : ({t}, {ti}) -> ({t}, {ti})"
            ),
            2,
        );
        r[1].clone()
    }
    /// `x` made opaque to XLA's algebraic rewrites.
    pub(super) fn barrier(&mut self, x: &str, d: DType, s: &[usize]) -> String {
        self.let_(format!("stablehlo.optimization_barrier {x} : {}", ty(d, s)))
    }
    /// `x` clamped to `[lo, hi]` (all of dtype `d`, shape `s`).
    pub(super) fn clamp(&mut self, lo: &str, x: &str, hi: &str, d: DType, s: &[usize]) -> String {
        self.let_(format!("stablehlo.clamp {lo}, {x}, {hi} : {}", ty(d, s)))
    }
    /// `x` shifted by `k` places along `axis`, the 0-d `fill` coming in at
    /// the start (a pad with negative high padding); same shape.
    pub(super) fn shift(
        &mut self,
        x: &str,
        fill: &str,
        axis: usize,
        k: usize,
        d: DType,
        s: &[usize],
    ) -> String {
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
        self.let_(format!(
            "stablehlo.pad {x}, {fill}, low = [{low}], high = [{}], interior = [{}] : ({t}, {}) -> {t}",
            high.join(", "),
            dims_list(vec![0; s.len()]),
            ty(d, &[])
        ))
    }
    /// `dot_general` of `x` and `y` (shapes `shapes`, rank `n` each): the
    /// leading `n - 2` axes are batch axes, axis `k.0` of `x` contracts
    /// with axis `k.1` of `y`; the result has shape `out`.
    pub(super) fn dot(
        &mut self,
        x: &str,
        y: &str,
        k: (usize, usize),
        d: DType,
        shapes: (&[usize], &[usize]),
        out: &[usize],
    ) -> String {
        let nd = shapes.0.len();
        let batching = if nd == 2 {
            String::new()
        } else {
            format!("batching_dims = [{0}] x [{0}], ", dims_list(0..nd - 2))
        };
        self.let_(format!(
            "stablehlo.dot_general {x}, {y}, {batching}contracting_dims = [{}] x [{}] : ({}, {}) -> {}",
            k.0,
            k.1,
            ty(d, shapes.0),
            ty(d, shapes.1),
            ty(d, out)
        ))
    }
    /// `x` (shape `s`) with its axes in the order `axes`.
    pub(super) fn transpose(&mut self, x: &str, axes: &[usize], d: DType, s: &[usize]) -> String {
        let to: Vec<usize> = axes.iter().map(|&a| s[a]).collect();
        self.let_(format!(
            "stablehlo.transpose {x}, dims = [{}] : ({}) -> {}",
            dims_list(axes.iter().copied()),
            ty(d, s),
            ty(d, &to)
        ))
    }
    /// The strided `ranges` of `x` (shape `s`), one per axis.
    pub(super) fn slice(
        &mut self,
        x: &str,
        ranges: &[eager_core::shape::SliceRange],
        d: DType,
        s: &[usize],
    ) -> String {
        let spec: Vec<String> = ranges
            .iter()
            .map(|r| {
                let end = r.start + r.len.saturating_sub(1) * r.step + usize::from(r.len > 0);
                format!("{}:{end}:{}", r.start, r.step)
            })
            .collect();
        let to: Vec<usize> = ranges.iter().map(|r| r.len).collect();
        self.let_(format!(
            "stablehlo.slice {x} [{}] : ({}) -> {}",
            spec.join(", "),
            ty(d, s),
            ty(d, &to)
        ))
    }
    /// `x` (shape `s`) reversed along `axes`.
    pub(super) fn reverse(&mut self, x: &str, axes: &[usize], d: DType, s: &[usize]) -> String {
        self.let_(format!(
            "stablehlo.reverse {x}, dims = [{}] : {}",
            dims_list(axes.iter().copied()),
            ty(d, s)
        ))
    }
    /// `xs` (of `shapes`) joined along `axis`.
    pub(super) fn concatenate(
        &mut self,
        xs: &[String],
        axis: usize,
        d: DType,
        shapes: &[&[usize]],
    ) -> String {
        let mut out = shapes[0].to_vec();
        out[axis] = shapes.iter().map(|s| s[axis]).sum();
        let tys: Vec<String> = shapes.iter().map(|s| ty(d, s)).collect();
        self.let_(format!(
            "stablehlo.concatenate {}, dim = {axis} : ({}) -> {}",
            xs.join(", "),
            tys.join(", "),
            ty(d, &out)
        ))
    }
    /// The entries `idx` (`m` i64 positions) of `x` (shape `s`) along
    /// `axis`: a gather whose result has `m` at `axis`.
    pub(super) fn take(
        &mut self,
        x: &str,
        idx: &str,
        axis: usize,
        m: usize,
        d: DType,
        s: &[usize],
    ) -> String {
        let idx = self.reshape(idx, DType::I64, &[m], &[m, 1]);
        let offset: Vec<usize> = (0..s.len()).filter(|&i| i != axis).collect();
        let sizes: Vec<usize> = (0..s.len())
            .map(|i| if i == axis { 1 } else { s[i] })
            .collect();
        let mut out = s.to_vec();
        out[axis] = m;
        self.let_(format!(
            "\"stablehlo.gather\"({x}, {idx}) {{dimension_numbers = #stablehlo.gather<offset_dims = [{}], collapsed_slice_dims = [{axis}], start_index_map = [{axis}], index_vector_dim = 1>, slice_sizes = array<i64: {}>, indices_are_sorted = false}} : ({}, {}) -> {}",
            dims_list(offset),
            dims_list(sizes),
            ty(d, s),
            ty(DType::I64, &[m, 1]),
            ty(d, &out)
        ))
    }
}

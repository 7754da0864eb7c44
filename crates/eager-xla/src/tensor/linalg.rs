//! `nonzero`, `inv` and `slogdet` as XLA programs.
//!
//! `inv` and `slogdet` run Gauss-Jordan elimination with partial pivoting
//! (the first largest pivot, as LAPACK's `getrf`) in one `stablehlo.while`
//! loop over the columns, batched over leading axes. (JAX calls LAPACK
//! through custom calls that the PJRT plugin alone does not provide.)

use super::{compute_dtype, exec, exec1, ty, upload, Prog, XlaTensor};
use eager_core::ops::prelude::*;
use eager_core::{shape::numel, DType, Error, HostData, Result, Scalar};

/// Coordinates of the non-zero elements: the device finds them (a stable
/// sort of the flat positions by "is zero") and counts them; the count
/// comes to the host (the result's shape depends on it — JAX's eager
/// `nonzero` syncs the same way) and the first `count` rows are kept.
pub(super) fn nonzero(x: &XlaTensor) -> Result<XlaTensor> {
    let (d, s) = (x.dtype, x.shape.clone());
    let (n, nd) = (numel(&s), s.len());
    if n == 0 || nd == 0 {
        // Nothing to sort: a 0-d tensor has one element and no axes.
        let count = if nd == 0 && n == 1 && is_true(x)? {
            1
        } else {
            0
        };
        return upload("nonzero", &HostData::I64(vec![]), &[count, nd]);
    }
    let out = exec("nonzero", &[], &[x], |p, a| {
        let flat = p.reshape(&a[0], d, &s, &[n]);
        let mask = if d == DType::Bool {
            flat
        } else {
            let z = p.full(d, 0.0, &[n]);
            p.cmp("NE", &flat, &z, d, &[n])
        };
        let ones = p.convert(&mask, DType::Bool, DType::I64, &[n]);
        let count = p.reduce_by(&ones, "add", 0.0, DType::I64, &[n], &[0]);
        let zero_first = p.un("not", &mask, DType::Bool, &[n]);
        let key = p.convert(&zero_first, DType::Bool, DType::I32, &[n]);
        let iota = p.iota(0, DType::I64, &[n]);
        let cmp = p.region(&[DType::I32, DType::I32, DType::I64, DType::I64], |p, v| {
            vec![(p.sorts_before(&v[0], &v[1], DType::I32, false), DType::Bool)]
        });
        let (ti, tl) = (ty(DType::I32, &[n]), ty(DType::I64, &[n]));
        let sorted = p.let_n(
            format!(
                "\"stablehlo.sort\"({key}, {iota}) {cmp} {{dimension = 0 : i64, is_stable = true}} : ({ti}, {tl}) -> ({ti}, {tl})"
            ),
            2,
        );
        let pos = &sorted[1];
        let mut cols = Vec::new();
        for j in 0..nd {
            let stride: usize = s[j + 1..].iter().product();
            let st = p.full(DType::I64, stride as f64, &[n]);
            let q = p.bin("divide", pos, &st, DType::I64, &[n]);
            let dim = p.full(DType::I64, s[j] as f64, &[n]);
            let c = p.bin("remainder", &q, &dim, DType::I64, &[n]);
            cols.push(p.reshape(&c, DType::I64, &[n], &[n, 1]));
        }
        let coords = p.let_(format!(
            "stablehlo.concatenate {}, dim = 1 : ({}) -> {}",
            cols.join(", "),
            vec![ty(DType::I64, &[n, 1]); nd].join(", "),
            ty(DType::I64, &[n, nd])
        ));
        Ok(vec![
            (coords, DType::I64, vec![n, nd]),
            (count, DType::I64, vec![]),
        ])
    })?;
    let count = match out[1].host("nonzero")? {
        HostData::I64(v) => v.first().copied().unwrap_or(0) as usize,
        _ => 0,
    };
    if count == n {
        return Ok(out[0].clone());
    }
    match out[0].host("nonzero")? {
        HostData::I64(mut v) => {
            v.truncate(count * nd);
            upload("nonzero", &HostData::I64(v), &[count, nd])
        }
        _ => Err(Error::invalid("nonzero", "coordinates are not i64")),
    }
}

fn is_true(x: &XlaTensor) -> Result<bool> {
    // Every value converts to a non-zero f64 exactly when it is non-zero
    // (NaN included).
    Ok(x.host("nonzero")?.to_f64s().iter().any(|&v| v != 0.0))
}

/// The elimination's results: the eliminated `[b, n, w]` matrix, and per
/// matrix the sign and log|det| and whether a pivot was zero or NaN.
struct Eliminated {
    m: String,
    sign: String,
    logdet: String,
    zero: String,
    stop: String,
}

/// Gauss-Jordan on `m` (`[b, n, w]`, `w >= n`): after it the left `n x n`
/// block is the identity (for a regular matrix) and the right part holds
/// the inverse applied to the original right part.
fn eliminate(p: &mut Prog, m: &str, d: DType, b: usize, n: usize, w: usize) -> Eliminated {
    let (bn, bnw) = (vec![b, n], vec![b, n, w]);
    let vb = vec![b];
    let k0 = p.full(DType::I64, 0.0, &[]);
    let sign0 = p.full(d, 1.0, &vb);
    let log0 = p.full(d, 0.0, &vb);
    let f0 = p.full(DType::Bool, 0.0, &vb);
    let carried: Vec<(DType, Vec<usize>)> = vec![
        (DType::I64, vec![]),
        (d, bnw.clone()),
        (d, vb.clone()),
        (d, vb.clone()),
        (DType::Bool, vb.clone()),
        (DType::Bool, vb.clone()),
    ];
    let cond = p.region_of(&carried, |p, v| {
        let end = p.full(DType::I64, n as f64, &[]);
        vec![(
            p.cmp("LT", &v[0], &end, DType::I64, &[]),
            DType::Bool,
            vec![],
        )]
    });
    let body = p.region_of(&carried, |p, v| {
        let (k, m, sign, logdet, zero, stop) = (&v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);
        let z = p.full(DType::I64, 0.0, &[]);
        let colk = p.let_(format!(
            "stablehlo.dynamic_slice {m}, {z}, {z}, {k}, sizes = [{b}, {n}, 1] : ({}, {}, {}, {}) -> {}",
            ty(d, &bnw),
            ty(DType::I64, &[]),
            ty(DType::I64, &[]),
            ty(DType::I64, &[]),
            ty(d, &[b, n, 1])
        ));
        let colk = p.reshape(&colk, d, &[b, n, 1], &bn);
        let rows = p.iota(1, DType::I64, &bn);
        let kb = p.bcast(k, DType::I64, &[], &bn);
        let below = p.cmp("GE", &rows, &kb, DType::I64, &bn);
        let absc = p.un("abs", &colk, d, &bn);
        let neg = p.full(d, -1.0, &bn);
        let cand = p.select(&below, &absc, &neg, d, &bn);
        let piv = p.arg_best(&cand, d, &bn, 1, true);
        let pb = p.bcast_in(&piv, DType::I64, &vb, &bn, &[0]);
        let onep = p.cmp("EQ", &rows, &pb, DType::I64, &bn);
        let onek = p.cmp("EQ", &rows, &kb, DType::I64, &bn);
        let zeros = p.full(d, 0.0, &bn);
        let pc = p.select(&onep, &colk, &zeros, d, &bn);
        let pivot = p.reduce_by(&pc, "add", 0.0, d, &bn, &[1]);
        let to3 = |p: &mut Prog, x: &str, dt: DType, dims: &[usize], from: &[usize]| {
            p.bcast_in(x, dt, from, &bnw, dims)
        };
        let onep3 = to3(p, &onep, DType::Bool, &[0, 1], &bn);
        let onek3 = to3(p, &onek, DType::Bool, &[0, 1], &bn);
        let zeros3 = p.full(d, 0.0, &bnw);
        let sel_p = p.select(&onep3, m, &zeros3, d, &bnw);
        let rowp = p.reduce_by(&sel_p, "add", 0.0, d, &bnw, &[1]);
        let sel_k = p.select(&onek3, m, &zeros3, d, &bnw);
        let rowk = p.reduce_by(&sel_k, "add", 0.0, d, &bnw, &[1]);
        let rowp3 = to3(p, &rowp, d, &[0, 2], &[b, w]);
        let rowk3 = to3(p, &rowk, d, &[0, 2], &[b, w]);
        let swapped = p.select(&onep3, &rowk3, m, d, &bnw);
        let swapped = p.select(&onek3, &rowp3, &swapped, d, &bnw);
        let pivot_bw = p.bcast_in(&pivot, d, &vb, &[b, w], &[0]);
        let newk = p.bin("divide", &rowp, &pivot_bw, d, &[b, w]);
        let newk3 = to3(p, &newk, d, &[0, 2], &[b, w]);
        // The column after the swap: the pivot row's entry moves to row k.
        let colk_at_k = p.select(&onek, &colk, &zeros, d, &bn);
        let ck_k = p.reduce_by(&colk_at_k, "add", 0.0, d, &bn, &[1]);
        let ck_k_b = p.bcast_in(&ck_k, d, &vb, &bn, &[0]);
        let pivot_bn = p.bcast_in(&pivot, d, &vb, &bn, &[0]);
        let f = p.select(&onep, &ck_k_b, &colk, d, &bn);
        let f = p.select(&onek, &pivot_bn, &f, d, &bn);
        let f3 = to3(p, &f, d, &[0, 1], &bn);
        let prod = p.bin("multiply", &f3, &newk3, d, &bnw);
        let elim = p.bin("subtract", &swapped, &prod, d, &bnw);
        let m2 = p.select(&onek3, &newk3, &elim, d, &bnw);
        // sign, log|det| and the zero / NaN pivot flags
        let kvb = p.bcast(k, DType::I64, &[], &vb);
        let moved = p.cmp("NE", &piv, &kvb, DType::I64, &vb);
        let neg_sign = p.un("negate", sign, d, &vb);
        let s1 = p.select(&moved, &neg_sign, sign, d, &vb);
        let sp = p.un("sign", &pivot, d, &vb);
        let s2 = p.bin("multiply", &s1, &sp, d, &vb);
        let ap = p.un("abs", &pivot, d, &vb);
        let lp = p.un("log", &ap, d, &vb);
        let l2 = p.bin("add", logdet, &lp, d, &vb);
        let zb = p.full(d, 0.0, &vb);
        let is0 = p.cmp("EQ", &pivot, &zb, d, &vb);
        let isnan = p.cmp("NE", &pivot, &pivot, d, &vb);
        let go = p.un("not", stop, DType::Bool, &vb);
        let first0 = p.bin("and", &go, &is0, DType::Bool, &vb);
        let zero2 = p.bin("or", zero, &first0, DType::Bool, &vb);
        let bad = p.bin("or", &is0, &isnan, DType::Bool, &vb);
        let stop2 = p.bin("or", stop, &bad, DType::Bool, &vb);
        let one = p.full(DType::I64, 1.0, &[]);
        let k2 = p.bin("add", k, &one, DType::I64, &[]);
        vec![
            (k2, DType::I64, vec![]),
            (m2, d, bnw.clone()),
            (s2, d, vb.clone()),
            (l2, d, vb.clone()),
            (zero2, DType::Bool, vb.clone()),
            (stop2, DType::Bool, vb.clone()),
        ]
    });
    let inner = |r: &str| r[1..r.len() - 1].to_string();
    let tys: Vec<String> = carried.iter().map(|(dt, s)| ty(*dt, s)).collect();
    let r = p.let_n(
        format!(
            "\"stablehlo.while\"({k0}, {m}, {sign0}, {log0}, {f0}, {f0}) ({}, {}) : ({}) -> ({})",
            inner(&cond),
            inner(&body),
            tys.join(", "),
            tys.join(", ")
        ),
        6,
    );
    Eliminated {
        m: r[1].clone(),
        sign: r[2].clone(),
        logdet: r[3].clone(),
        zero: r[4].clone(),
        stop: r[5].clone(),
    }
}

/// `[..., n, n]` as `(batch, n)`.
fn batch_of(x: &XlaTensor) -> (usize, usize) {
    let nd = x.shape.len();
    let n = x.shape[nd - 1];
    (numel(&x.shape[..nd - 2]), n)
}

pub(super) fn inv(x: &XlaTensor) -> Result<XlaTensor> {
    if x.dtype.is_half() {
        // 16-bit floats eliminate in f32 and round once.
        return inv(&x.cast(compute_dtype(x.dtype))?)?.cast(x.dtype);
    }
    let (d, s) = (x.dtype, x.shape.clone());
    let (b, n) = batch_of(x);
    if b == 0 || n == 0 {
        return x.full(&s, Scalar::F64(0.0), d);
    }
    let out = exec("inv", &[], &[x], |p, a| {
        let m = p.reshape(&a[0], d, &s, &[b, n, n]);
        let i0 = p.iota(1, DType::I64, &[b, n, n]);
        let i1 = p.iota(2, DType::I64, &[b, n, n]);
        let eye = p.cmp("EQ", &i0, &i1, DType::I64, &[b, n, n]);
        let eye = p.convert(&eye, DType::Bool, d, &[b, n, n]);
        let aug = p.let_(format!(
            "stablehlo.concatenate {m}, {eye}, dim = 2 : ({0}, {0}) -> {1}",
            ty(d, &[b, n, n]),
            ty(d, &[b, n, 2 * n])
        ));
        let e = eliminate(p, &aug, d, b, n, 2 * n);
        let right = p.let_(format!(
            "stablehlo.slice {} [0:{b}, 0:{n}, {n}:{}] : ({}) -> {}",
            e.m,
            2 * n,
            ty(d, &[b, n, 2 * n]),
            ty(d, &[b, n, n])
        ));
        let r = p.reshape(&right, d, &[b, n, n], &s);
        let any = p.reduce_by(&e.stop, "or", 0.0, DType::Bool, &[b], &[0]);
        Ok(vec![(r, d, s.to_vec()), (any, DType::Bool, vec![])])
    })?;
    if out[1].is_traced_by_jit() {
        // Inside jit the singular flag has no value: a singular matrix
        // gives inf/NaN, as `jnp.linalg.inv` does.
        return Ok(out[0].clone());
    }
    if let HostData::Bool(v) = out[1].host("inv")? {
        if v.first() == Some(&true) {
            return Err(Error::invalid("inv", "the matrix is singular"));
        }
    }
    Ok(out[0].clone())
}

pub(super) fn slogdet(x: &XlaTensor) -> Result<(XlaTensor, XlaTensor)> {
    if x.dtype.is_half() {
        let (sign, logdet) = slogdet(&x.cast(compute_dtype(x.dtype))?)?;
        return Ok((sign.cast(x.dtype)?, logdet.cast(x.dtype)?));
    }
    let (d, s) = (x.dtype, x.shape.clone());
    let batch = s[..s.len() - 2].to_vec();
    let (b, n) = batch_of(x);
    if b == 0 || n == 0 {
        // The determinant of a 0x0 matrix is 1.
        return Ok((
            x.full(&batch, Scalar::F64(1.0), d)?,
            x.full(&batch, Scalar::F64(0.0), d)?,
        ));
    }
    let out = exec("slogdet", &[], &[x], |p, a| {
        let m = p.reshape(&a[0], d, &s, &[b, n, n]);
        let e = eliminate(p, &m, d, b, n, n);
        let zb = p.full(d, 0.0, &[b]);
        let sign = p.select(&e.zero, &zb, &e.sign, d, &[b]);
        let ninf = p.full(d, f64::NEG_INFINITY, &[b]);
        let logdet = p.select(&e.zero, &ninf, &e.logdet, d, &[b]);
        Ok(vec![
            (p.reshape(&sign, d, &[b], &batch), d, batch.clone()),
            (p.reshape(&logdet, d, &[b], &batch), d, batch.clone()),
        ])
    })?;
    let mut it = out.into_iter();
    match (it.next(), it.next()) {
        (Some(s), Some(l)) => Ok((s, l)),
        _ => Err(Error::invalid("slogdet", "the program gave no result")),
    }
}

impl LinalgOps for XlaTensor {
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
            // 16-bit floats multiply and accumulate in f32, rounded once.
            let (x, cd) = p.widen(&a[0], d, &self.shape);
            let (y, _) = p.widen(&a[1], d, &rhs.shape);
            let r = p.dot(&x, &y, (ka, kb), cd, (&self.shape, &rhs.shape), &s);
            let (r, d) = p.narrow(&r, cd, d, &s);
            Ok((r, d, s.clone()))
        })
    }
    fn inv(&self) -> Result<Self> {
        inv(self)
    }
    fn slogdet(&self) -> Result<(Self, Self)> {
        slogdet(self)
    }
}
